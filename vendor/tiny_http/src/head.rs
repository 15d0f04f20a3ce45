//! token-server fork: reading a request head, strictly and within bounds
//! (RFC 9112). `httparse` parses the request line and the header fields; this
//! module adds what it leaves to its caller: the size limits, line ends that
//! are CRLF and nothing else, at most one empty line before the request line,
//! the HTTP version (1.x served as 1.1, another major version 505), the known
//! methods (else 501), the request target's form, the `Host` field's syntax,
//! and the message framing rules (`Content-Length`, `Transfer-Encoding`,
//! `Expect`, `Connection`).
//!
//! Everything here is a pure function of the bytes received so far, so that it
//! can be tested without a socket.

use std::borrow::Cow;

use crate::headers::Headers;
use crate::method::{Method, Version};
use crate::refusal::Refusal;

/// The longest request line, CRLF not counted: 8 KiB (nginx's
/// `large_client_header_buffers 4 8k`, Apache's `LimitRequestLine 8190`).
pub(crate) const MAX_REQUEST_LINE: usize = 8 * 1024;
/// The largest head, from the request line to the empty line that ends the
/// head, CRLFs included: 16 KiB.
pub(crate) const MAX_HEAD: usize = 16 * 1024;
/// The most header fields in one head (Apache's `LimitRequestFields 100`).
pub(crate) const MAX_HEADERS: usize = 100;

/// How a request's body is delimited (RFC 9112 6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    /// No body.
    Empty,
    /// `Content-Length` bytes.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
}

/// A request head, read and checked.
#[derive(Debug)]
pub(crate) struct Head {
    pub method: Method,
    pub version: Version,
    /// The target in origin form (`/path?query`: an absolute-form target,
    /// `http://host/path?query`, is served by its path and query), and the
    /// header fields.
    pub headers: Headers,
    pub framing: Framing,
    /// The client sent `Expect: 100-continue` and waits for "100 Continue"
    /// before it sends the body.
    pub expects_continue: bool,
    /// The client may send another request on this connection.
    pub keep_alive: bool,
}

/// What the bytes received so far hold.
#[derive(Debug)]
pub(crate) enum Parsed {
    /// Not a whole head yet, and nothing wrong so far.
    Partial,
    /// A whole head, and how many bytes it took (the empty line before it
    /// included); the body, if any, starts right after.
    Complete(Head, usize),
}

/// Reads the head at the start of `bytes`.
pub(crate) fn parse(bytes: &[u8]) -> Result<Parsed, Refusal> {
    // RFC 9112 2.2: one empty line before a request line is skipped (a client
    // may send one after a POST body). A second one, or a bare CR or LF, is not.
    let start = if bytes.starts_with(b"\r\n") { 2 } else { 0 };
    let head = &bytes[start..];
    match head.first() {
        None => return Ok(Parsed::Partial),
        Some(b'\r') if head.len() == 1 && start == 0 => return Ok(Parsed::Partial),
        Some(b'\r' | b'\n') => return Err(Refusal::new(400, "empty line before the request line")),
        Some(_) => {}
    }

    let Some(line_end) = head.iter().position(|&byte| byte == b'\n') else {
        // No whole request line yet: refuse it now if it is already too long
        // or already wrong (binary, a TLS handshake), rather than wait for more.
        if head.len() > MAX_REQUEST_LINE + 1 {
            return Err(Refusal::new(414, "request line too long"));
        }
        return match httparse_head(head, &mut []) {
            Err(reason) => Err(Refusal::new(400, reason)),
            Ok(_) => Ok(Parsed::Partial),
        };
    };
    let line = request_line(head, line_end)?;
    let Some(head_end) = find_head_end(head, line_end)? else {
        if head.len() > MAX_HEAD {
            return Err(line.refusal(431, "head too large"));
        }
        // The rest of the head is still to come: anything wrong with the
        // request line is refused now rather than after it (httparse stops at
        // the first bad byte).
        if let Err(reason) = httparse_head(&line.as_http_1_1(head)[..=line_end], &mut []) {
            return Err(line.refusal(400, reason));
        }
        return Ok(Parsed::Partial);
    };
    if head_end > MAX_HEAD {
        return Err(line.refusal(431, "head too large"));
    }

    let head = line.as_http_1_1(&head[..head_end]);
    let mut fields = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let parsed = match httparse_head(&head, &mut fields) {
        Ok(parsed) => parsed,
        Err("too many header fields") => {
            return Err(line.refusal(431, "too many header fields"));
        }
        Err(reason) => return Err(line.refusal(400, reason)),
    };
    let version = match parsed.minor_version {
        0 => Version::Http10,
        _ => Version::Http11,
    };
    let head = parsed
        .into_head(version)
        .map_err(|refusal| line.name(refusal))?;
    Ok(Parsed::Complete(head, start + head_end))
}

/// The refusal of a head that did not arrive whole in time (408), with the
/// method and target when its request line had arrived.
pub(crate) fn timed_out(bytes: &[u8]) -> Refusal {
    let head = bytes.strip_prefix(b"\r\n").unwrap_or(bytes);
    let line = head
        .iter()
        .position(|&byte| byte == b'\n')
        .and_then(|line_end| request_line(head, line_end).ok());
    match line {
        Some(line) => line.refusal(408, "request timeout"),
        None => Refusal::new(408, "request timeout"),
    }
}

/// Whether `bytes` can be parsed to another answer than the `Partial` that
/// `parse` gave when it had only the first `parsed` of them. Only a line end
/// can complete a line, a head or a refusal of one (400 or 505 at once, a
/// bare LF), and only more bytes can pass a limit (414, 431). So a client that
/// sends its head a byte at a time gets one parse per line, not one per byte:
/// each parse reads the head from its start. (The very first bytes of a
/// request are always parsed, so that a TLS handshake or other garbage is
/// refused at once; anything else wrong, a bare CR say, is found at the next
/// line end, a limit, or the request's deadline.)
pub(crate) fn worth_parsing_again(bytes: &[u8], parsed: usize) -> bool {
    let passed = |limit: usize| parsed <= limit && bytes.len() > limit;
    // The limits as `parse` applies them, with the leading empty line and the
    // request line's CR counted.
    bytes[parsed.min(bytes.len())..].contains(&b'\n')
        || passed(MAX_REQUEST_LINE + 3)
        || passed(MAX_HEAD + 2)
}

/// How the body is delimited: by `Transfer-Encoding: chunked`, by one valid
/// `Content-Length`, or not at all (RFC 9112 6.3). Also used by `TestRequest`.
pub(crate) fn body_framing(headers: &Headers, version: Version) -> Result<Framing, Refusal> {
    let mut lengths = headers.all("Content-Length");
    let length = lengths.next();
    if lengths.next().is_some() {
        return Err(Refusal::new(400, "more than one Content-Length"));
    }
    let mut encodings = headers.all("Transfer-Encoding").peekable();
    if encodings.peek().is_none() {
        return match length.map(parse_content_length) {
            None | Some(Some(0)) => Ok(Framing::Empty),
            Some(Some(length)) => Ok(Framing::Length(length)),
            Some(None) => Err(Refusal::new(400, "bad Content-Length")),
        };
    }
    if length.is_some() {
        return Err(Refusal::new(400, "Content-Length with Transfer-Encoding"));
    }
    if version == Version::Http10 {
        return Err(Refusal::new(400, "Transfer-Encoding in HTTP/1.0"));
    }
    let codings: Vec<&str> = encodings
        .flat_map(|value| value.split(','))
        .map(|coding| coding.trim_matches([' ', '\t']))
        // RFC 9110 5.6.1: empty list elements are ignored.
        .filter(|coding| !coding.is_empty())
        .collect();
    chunked_framing(&codings)
}

/// The first line, checked before the rest of the head arrives: its length,
/// its line end, and its version (an HTTP/2 client gets its 505 at once). Its
/// method and target are kept for the log of a refusal.
struct RequestLine<'b> {
    method: Option<&'b [u8]>,
    target: Option<&'b [u8]>,
    /// Where the version's minor digit is in the head, when it is above 1.
    minor_above_1_at: Option<usize>,
}

impl RequestLine<'_> {
    fn refusal(&self, status: u16, reason: &'static str) -> Refusal {
        self.name(Refusal::new(status, reason))
    }

    /// `refusal`, naming this line's method and target.
    fn name(&self, refusal: Refusal) -> Refusal {
        // Shown only when they are what they should be: a method is a token,
        // a target has no control bytes.
        fn shown(part: Option<&[u8]>, allowed: fn(u8) -> bool) -> Option<&str> {
            part.filter(|part| !part.is_empty() && part.iter().all(|&byte| allowed(byte)))
                .and_then(|part| std::str::from_utf8(part).ok())
        }
        refusal.of(
            shown(self.method, is_tchar),
            shown(self.target, |byte| byte > 0x20 && byte != 0x7f),
        )
    }

    /// The head with `HTTP/1.x` for x above 1 written `HTTP/1.1`, which is
    /// how it is served (RFC 9110 2.5) and all httparse reads.
    fn as_http_1_1<'h>(&self, head: &'h [u8]) -> Cow<'h, [u8]> {
        match self.minor_above_1_at {
            Some(at) if at < head.len() => {
                let mut head = head.to_vec();
                head[at] = b'1';
                Cow::Owned(head)
            }
            _ => Cow::Borrowed(head),
        }
    }
}

fn request_line(head: &[u8], line_end: usize) -> Result<RequestLine<'_>, Refusal> {
    if line_end == 0 || head[line_end - 1] != b'\r' {
        return Err(Refusal::new(400, "bare LF in the request line"));
    }
    let line = &head[..line_end - 1];
    if line.len() > MAX_REQUEST_LINE {
        return Err(Refusal::new(414, "request line too long"));
    }
    let mut parts = line.split(|&byte| byte == b' ');
    let (method, target, version) = (parts.next(), parts.next(), parts.next());
    let whole = parts.next().is_none();
    let mut line = RequestLine {
        method,
        target,
        minor_above_1_at: None,
    };
    match version.map(http_version) {
        Some(Some((major, _))) if whole && major != 1 => {
            return Err(line.refusal(505, "unsupported HTTP version"));
        }
        Some(Some((_, minor))) if whole && minor > 1 => {
            line.minor_above_1_at = Some(line_end - 2);
        }
        _ => {}
    }
    Ok(line)
}

/// `HTTP/x.y` with one digit each: (x, y).
fn http_version(version: &[u8]) -> Option<(u8, u8)> {
    match version {
        [b'H', b'T', b'T', b'P', b'/', major, b'.', minor]
            if major.is_ascii_digit() && minor.is_ascii_digit() =>
        {
            Some((major - b'0', minor - b'0'))
        }
        _ => None,
    }
}

/// Finds the empty line that ends the head (the offset just after it), and
/// checks on the way that every line ends with CRLF: a bare LF or bare CR is
/// not a line end here, whatever a front proxy may make of it.
fn find_head_end(head: &[u8], line_end: usize) -> Result<Option<usize>, Refusal> {
    let scanned = &head[..head.len().min(MAX_HEAD + 1)];
    let mut line_start = line_end + 1;
    for (index, &byte) in scanned.iter().enumerate().skip(line_start) {
        match byte {
            b'\n' if scanned[index - 1] != b'\r' => {
                return Err(Refusal::new(400, "bare LF in the head"));
            }
            b'\n' if index == line_start + 1 => return Ok(Some(index + 1)),
            b'\n' => line_start = index + 1,
            b'\r' if scanned.get(index + 1).is_some_and(|&next| next != b'\n') => {
                return Err(Refusal::new(400, "bare CR in the head"));
            }
            _ => {}
        }
    }
    Ok(None)
}

/// What httparse read of a head.
struct Fields<'b, 'h> {
    method: &'b str,
    target: &'b str,
    minor_version: u8,
    fields: &'h [httparse::Header<'b>],
}

impl Fields<'_, '_> {
    /// The head these fields make, or the status and reason it is refused with.
    fn into_head(self, version: Version) -> Result<Head, Refusal> {
        let method = Method::from_token(self.method).ok_or(Refusal::new(501, "unknown method"))?;
        let target =
            request_target(method, self.target).map_err(|reason| Refusal::new(400, reason))?;
        let bytes = self
            .fields
            .iter()
            .map(|field| field.name.len() + field.value.len())
            .sum();
        let mut headers = Headers::new(&target, bytes, self.fields.len());
        for field in self.fields {
            headers.push_received(field.name, field.value);
        }
        let (framing, expects_continue, keep_alive) = read_fields(&headers, version)?;
        Ok(Head {
            method,
            version,
            headers,
            framing,
            expects_continue,
            keep_alive,
        })
    }
}

/// Parses `head` with httparse, into `fields`. `Err` says why it is refused.
fn httparse_head<'b, 'h>(
    head: &'b [u8],
    fields: &'h mut [httparse::Header<'b>],
) -> Result<Fields<'b, 'h>, &'static str> {
    let mut request = httparse::Request::new(fields);
    let status = request.parse(head).map_err(|error| match error {
        httparse::Error::HeaderName => "bad header name",
        httparse::Error::HeaderValue => "bad header value",
        httparse::Error::NewLine => "bad line end",
        httparse::Error::Token => "bad request line",
        httparse::Error::Version => "bad HTTP version",
        httparse::Error::TooManyHeaders => "too many header fields",
        httparse::Error::Status => "bad request line",
    })?;
    Ok(Fields {
        method: request.method.unwrap_or(""),
        target: request.path.unwrap_or(""),
        minor_version: request.version.unwrap_or(1),
        fields: if status.is_complete() {
            request.headers
        } else {
            &[]
        },
    })
}

/// The message framing and connection rules of a head's fields (RFC 9112 3.2,
/// 6, 9.3; RFC 9110 7.2, 10.1.1), for the request's HTTP version: how its body
/// is delimited, whether the client waits for "100 Continue", and whether it
/// may send another request on the connection.
fn read_fields(headers: &Headers, version: Version) -> Result<(Framing, bool, bool), Refusal> {
    let mut hosts = headers.all("Host");
    match (hosts.next(), hosts.next()) {
        (None, _) if version == Version::Http11 => return Err(Refusal::new(400, "no Host header")),
        (Some(_), Some(_)) => return Err(Refusal::new(400, "more than one Host header")),
        (Some(host), None) if !is_host(host) => return Err(Refusal::new(400, "bad Host header")),
        _ => {}
    }
    let framing = body_framing(headers, version)?;

    let mut expects_continue = false;
    for expect in headers.all("Expect") {
        if expect.eq_ignore_ascii_case("100-continue") {
            expects_continue = true;
        } else {
            return Err(Refusal::new(417, "unsupported Expect"));
        }
    }

    let connection_says = |option: &str| {
        headers
            .all("Connection")
            .any(|value| has_token(value, option))
    };
    let keep_alive = if connection_says("close") {
        false
    } else {
        version == Version::Http11 || connection_says("keep-alive")
    };
    Ok((framing, expects_continue, keep_alive))
}

/// The target as the path and query a server answers (RFC 9112 3.2): origin
/// form (`/path?query`) as it is; absolute form (`http://host:port/path?query`)
/// by its path and query; `*` for OPTIONS and `host:port` for CONNECT as they
/// are. `Err` says why it is refused.
fn request_target(method: Method, target: &str) -> Result<Cow<'_, str>, &'static str> {
    if target.starts_with('/') {
        return if has_valid_percent_encodings(target) {
            Ok(Cow::Borrowed(target))
        } else {
            Err("bad percent-encoding in the target")
        };
    }
    match (method, target.split_once("://")) {
        (Method::Options, _) if target == "*" => Ok(Cow::Borrowed(target)),
        (Method::Connect, None) if is_host(target) => Ok(Cow::Borrowed(target)),
        (_, Some((scheme, rest))) if is_scheme(scheme) => {
            let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
            let (authority, path_and_query) = rest.split_at(end);
            // RFC 9110 4.2.1: an http URI with an empty host is invalid;
            // 4.2.4: userinfo in one is to be refused.
            if authority.contains('@') {
                return Err("userinfo in the target");
            }
            if authority.is_empty() || authority.starts_with(':') {
                return Err("no host in the target");
            }
            if !is_host(authority) {
                return Err("bad host in the target");
            }
            if !has_valid_percent_encodings(path_and_query) {
                return Err("bad percent-encoding in the target");
            }
            Ok(match path_and_query.strip_prefix('?') {
                Some(_) => Cow::Owned(format!("/{path_and_query}")),
                None if path_and_query.is_empty() => Cow::Borrowed("/"),
                None => Cow::Borrowed(path_and_query),
            })
        }
        _ => Err("bad request target"),
    }
}

/// `scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )` (RFC 3986 3.1).
fn is_scheme(scheme: &str) -> bool {
    scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// `uri-host [ ":" port ]` (RFC 9112 3.2, RFC 3986 3.2.2): an IP literal in
/// brackets, or a name or IPv4 address of unreserved characters,
/// percent-encodings and sub-delimiters (but `,`, which only a list of hosts
/// would hold), then digits for the port. An empty value is allowed (RFC 9112
/// 3.2: a target without an authority).
fn is_host(value: &str) -> bool {
    let (host_ok, rest) = match value.strip_prefix('[') {
        Some(literal) => match literal.split_once(']') {
            Some((inside, rest)) => (
                !inside.is_empty() && inside.bytes().all(|b| is_host_byte(b) || b == b':'),
                rest,
            ),
            None => return false,
        },
        None => {
            let end = value.find(':').unwrap_or(value.len());
            (value[..end].bytes().all(is_host_byte), &value[end..])
        }
    };
    let port_ok = match rest.strip_prefix(':') {
        Some(port) => port.bytes().all(|byte| byte.is_ascii_digit()),
        None => rest.is_empty(),
    };
    host_ok && port_ok && has_valid_percent_encodings(value)
}

/// unreserved / sub-delims but `,` / `%` of a percent-encoding (RFC 3986).
fn is_host_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"-._~%!$&'()*+;=".contains(&byte)
}

/// Every `%` starts a percent-encoding: `%` and two hex digits.
fn has_valid_percent_encodings(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut index = 0;
    while let Some(offset) = bytes[index..].iter().position(|&byte| byte == b'%') {
        let at = index + offset;
        match bytes.get(at + 1..at + 3) {
            Some([high, low]) if high.is_ascii_hexdigit() && low.is_ascii_hexdigit() => {
                index = at + 3;
            }
            _ => return false,
        }
    }
    true
}

/// `Transfer-Encoding`'s codings: the last must be `chunked`, and only once
/// (else the body's end cannot be known: 400); no other coding is supported
/// (501).
fn chunked_framing(codings: &[&str]) -> Result<Framing, Refusal> {
    let is_chunked = |coding: &&str| coding.eq_ignore_ascii_case("chunked");
    match codings.split_last() {
        Some((last, before)) if is_chunked(last) => {
            if before.iter().any(is_chunked) {
                Err(Refusal::new(400, "chunked more than once"))
            } else if !before.is_empty() {
                Err(Refusal::new(501, "unsupported transfer coding"))
            } else {
                Ok(Framing::Chunked)
            }
        }
        _ => Err(Refusal::new(400, "Transfer-Encoding not ending in chunked")),
    }
}

/// `Content-Length`: one or more digits, and a number that fits in 64 bits
/// (not `+5`, `-1`, `5, 5`, `4 2` or an empty value).
fn parse_content_length(value: &str) -> Option<u64> {
    if value.is_empty() || !value.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    value.parse().ok()
}

/// True when the comma-separated `list` holds `token`, in any case.
fn has_token(list: &str, token: &str) -> bool {
    list.split(',')
        .any(|item| item.trim_matches([' ', '\t']).eq_ignore_ascii_case(token))
}

/// A token character (RFC 9110 5.6.2).
pub(crate) fn is_tchar(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn complete(bytes: &[u8]) -> (Head, usize) {
        match parse(bytes) {
            Ok(Parsed::Complete(head, length)) => (head, length),
            other => panic!("expected a whole head, got {:?}", other),
        }
    }

    fn status(bytes: &[u8]) -> u16 {
        match parse(bytes) {
            Err(refusal) => refusal.status.unwrap_or(0),
            Ok(Parsed::Partial) => 0,
            Ok(Parsed::Complete(..)) => 200,
        }
    }

    fn target_of(request: &str) -> Result<String, u16> {
        match parse(request.as_bytes()) {
            Ok(Parsed::Complete(head, _)) => Ok(head.headers.target().to_string()),
            Ok(Parsed::Partial) => panic!("partial: {:?}", request),
            Err(refusal) => Err(refusal.status.unwrap_or(0)),
        }
    }

    #[test]
    fn a_simple_head() {
        let (head, length) = complete(b"GET /test?token=a HTTP/1.1\r\nHost: x\r\n\r\nrest");
        assert_eq!(head.method, Method::Get);
        assert_eq!(head.headers.target(), "/test?token=a");
        assert_eq!(head.version, Version::Http11);
        assert_eq!(head.headers.iter().count(), 1);
        assert_eq!(head.framing, Framing::Empty);
        assert!(head.keep_alive);
        assert_eq!(length, 39);
    }

    #[test]
    fn partial_heads_wait_for_more() {
        for partial in [
            &b""[..],
            b"\r",
            b"\r\n",
            b"GE",
            b"GET /index HTTP/1.1\r",
            b"GET /index HTTP/1.1\r\nHost: x\r\n",
            b"GET /index HTTP/1.1\r\nHost: x\r\n\r",
        ] {
            assert_eq!(status(partial), 0, "{:?}", partial);
        }
    }

    #[test]
    fn one_empty_line_before_the_request_line_is_skipped() {
        let (head, length) = complete(b"\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(head.headers.target(), "/");
        assert_eq!(length, 29);
        assert_eq!(status(b"\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
        assert_eq!(status(b"\nGET / HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
    }

    #[test]
    fn line_ends_are_crlf_only() {
        assert_eq!(status(b"GET / HTTP/1.1\nHost: x\r\n\r\n"), 400);
        assert_eq!(status(b"GET / HTTP/1.1\r\nHost: x\n\r\n"), 400);
        assert_eq!(
            status(b"GET / HTTP/1.1\r\nDummy: x\nContent-Length: 23\r\n\r\n"),
            400
        );
        assert_eq!(status(b"GET / HTTP/1.1\r\nHost: x\r\n\n"), 400);
        assert_eq!(status(b"GET / HTTP/1.1\r\nA: b\rc\r\nHost: x\r\n\r\n"), 400);
        assert_eq!(status(b"GET / HTTP/1.1\rHost: x\r\n\r\n"), 400);
    }

    #[test]
    fn field_syntax_is_strict() {
        let cases: [&[u8]; 9] = [
            b"GET / HTTP/1.1\r\n Content-Length: 38\r\nHost: x\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: x\r\nA: b\r\n c\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost : x\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: x\r\nFo@: b\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: x\r\n: b\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: x\r\nA: b\x00c\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: x\r\nA: b\x0cc\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: x\r\nA: b\x7fc\r\n\r\n",
            b"G(T / HTTP/1.1\r\nHost: x\r\n\r\n",
        ];
        for case in cases {
            assert_eq!(status(case), 400, "{:?}", String::from_utf8_lossy(case));
        }
    }

    #[test]
    fn obs_text_and_tab_in_a_value_are_kept() {
        let (head, _) = complete(b"GET / HTTP/1.1\r\nHost: x\r\nA: caf\xe9\tok\r\n\r\n");
        assert_eq!(head.headers.first("A"), Some("caf\u{e9}\tok"));
    }

    #[test]
    fn other_major_versions_get_505_as_soon_as_the_line_is_in() {
        assert_eq!(status(b"GET /index HTTP/2.0\r\n"), 505);
        assert_eq!(status(b"GET /index HTTP/3.0\r\n"), 505);
        assert_eq!(status(b"GET /index HTTP/0.9\r\n"), 505);
        assert_eq!(status(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), 505);
        assert_eq!(status(b"GET /index HTTP/1.0\r\n\r\n"), 200);
        assert_eq!(status(b"GET /index http/1.1\r\n"), 400);
        assert_eq!(status(b"GET /index\r\n"), 400);
    }

    #[test]
    fn http_1_x_above_1_is_served_as_1_1() {
        let (head, _) = complete(b"GET /index HTTP/1.2\r\nHost: x\r\n\r\n");
        assert_eq!(
            (head.version, head.headers.target()),
            (Version::Http11, "/index")
        );
        let (head, _) = complete(b"GET /index HTTP/1.9\r\nHost: x\r\nConnection: close\r\n\r\n");
        assert!(!head.keep_alive);
        // Still an HTTP/1.1 request: it needs a Host.
        assert_eq!(status(b"GET /index HTTP/1.2\r\n\r\n"), 400);
        assert_eq!(status(b"GET /index HTTP/1.2\r\n"), 0);
    }

    #[test]
    fn unknown_methods_get_501() {
        for method in ["BREW", "get", "Get", "PROPFIND"] {
            let raw = format!("{method} /index HTTP/1.1\r\nHost: x\r\n\r\n");
            let refusal = parse(raw.as_bytes()).unwrap_err();
            assert_eq!(refusal.status, Some(501), "{}", method);
            assert_eq!(refusal.reason, "unknown method");
            assert_eq!(refusal.method.as_deref(), Some(method));
        }
        for method in [
            "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "TRACE", "PATCH",
        ] {
            let raw = format!("{method} /index HTTP/1.1\r\nHost: x\r\n\r\n");
            assert_eq!(status(raw.as_bytes()), 200, "{}", method);
        }
    }

    #[test]
    fn a_wrong_request_line_is_refused_before_its_end() {
        assert_eq!(status(b"\x16\x03\x01\x02\x00\x01\x00\x01"), 400);
        assert_eq!(status(b"\x00\x01\x02\x03\r\n\r\n"), 400);
    }

    #[test]
    fn request_line_limit() {
        let target = "a".repeat(MAX_REQUEST_LINE - "GET / HTTP/1.1".len());
        let line = format!("GET /{target} HTTP/1.1");
        assert_eq!(line.len(), MAX_REQUEST_LINE);
        assert_eq!(status(format!("{line}\r\nHost: x\r\n\r\n").as_bytes()), 200);
        let longer = format!("GET /a{target} HTTP/1.1");
        assert_eq!(
            status(format!("{longer}\r\nHost: x\r\n\r\n").as_bytes()),
            414
        );
        // Without its end, too.
        assert_eq!(status(longer.as_bytes()), 0);
        assert_eq!(status(format!("{longer}  ").as_bytes()), 414);
    }

    #[test]
    fn head_size_limit() {
        let start = "GET / HTTP/1.1\r\nHost: x\r\nA: ";
        let filler = "a".repeat(MAX_HEAD - start.len() - 4);
        let exactly = format!("{start}{filler}\r\n\r\n");
        assert_eq!(exactly.len(), MAX_HEAD);
        assert_eq!(status(exactly.as_bytes()), 200);
        let over = format!("{start}{filler}a\r\n\r\n");
        assert_eq!(status(over.as_bytes()), 431);
        // An endless header line is refused as soon as it passes the limit.
        assert_eq!(status(format!("{start}{filler}aaaaa").as_bytes()), 431);
    }

    #[test]
    fn header_count_limit() {
        let fields = |count: usize| {
            let mut head = "GET / HTTP/1.1\r\nHost: x\r\n".to_string();
            for index in 1..count {
                head.push_str(&format!("X-{index}: y\r\n"));
            }
            head + "\r\n"
        };
        assert_eq!(status(fields(MAX_HEADERS).as_bytes()), 200);
        assert_eq!(status(fields(MAX_HEADERS + 1).as_bytes()), 431);
    }

    #[test]
    fn host_is_required_once_in_http_1_1() {
        assert_eq!(status(b"GET / HTTP/1.1\r\n\r\n"), 400);
        assert_eq!(status(b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), 400);
        assert_eq!(status(b"GET / HTTP/1.0\r\n\r\n"), 200);
    }

    #[test]
    fn host_must_be_a_host_and_a_port() {
        for good in [
            "example.org",
            "127.0.0.1:5000",
            "[::1]:5000",
            "[::1]",
            "[fe80::1%25eth0]",
            "xn--bcher-kva.example",
            "a_b-c~d",
            "host:",
            "",
        ] {
            let raw = format!("GET / HTTP/1.1\r\nHost: {good}\r\n\r\n");
            assert_eq!(status(raw.as_bytes()), 200, "{:?}", good);
        }
        for bad in [
            "a b",
            "a\tb",
            "a/b",
            "a,b",
            "u@host",
            "a?b",
            "a#b",
            "a\\b",
            "[::1",
            "::1]",
            "[::1]x",
            "host:5o00",
            "host:-1",
            "a:1:2",
            "%zz",
            "[]",
        ] {
            let raw = format!("GET / HTTP/1.1\r\nHost: {bad}\r\n\r\n");
            let refusal = parse(raw.as_bytes()).unwrap_err();
            assert_eq!(refusal.status, Some(400), "{:?}", bad);
            assert_eq!(refusal.reason, "bad Host header", "{:?}", bad);
        }
    }

    #[test]
    fn absolute_form_is_served_by_path_and_query() {
        let get = |target: &str| target_of(&format!("GET {target} HTTP/1.1\r\nHost: x\r\n\r\n"));
        assert_eq!(
            get("http://127.0.0.1:5000/test?token=T"),
            Ok("/test?token=T".to_string())
        );
        assert_eq!(get("HTTPS://example.org"), Ok("/".to_string()));
        assert_eq!(get("http://example.org?x=1"), Ok("/?x=1".to_string()));
        assert_eq!(get("http://[::1]:80/a"), Ok("/a".to_string()));
        assert_eq!(get("/a?b=http://c/d"), Ok("/a?b=http://c/d".to_string()));
        // RFC 9110 4.2.1 and 4.2.4: no host, or userinfo, is refused.
        assert_eq!(get("http:///index"), Err(400));
        assert_eq!(get("http://:80/index"), Err(400));
        assert_eq!(get("http://u:p@host/"), Err(400));
        assert_eq!(get("http://host@/"), Err(400));
        assert_eq!(get("http://a b/"), Err(400));
        assert_eq!(get("http://host/%zz"), Err(400));
    }

    #[test]
    fn origin_form_starts_with_a_slash_and_percent_encodes_well() {
        let target = |method: &str, target: &str| {
            target_of(&format!("{method} {target} HTTP/1.1\r\nHost: x\r\n\r\n"))
        };
        assert_eq!(
            target("GET", "/index%20x?a=%2B"),
            Ok("/index%20x?a=%2B".into())
        );
        assert_eq!(target("GET", "/index%zz"), Err(400));
        assert_eq!(target("GET", "/index%"), Err(400));
        assert_eq!(target("GET", "/index%4"), Err(400));
        assert_eq!(target("GET", "index"), Err(400));
        assert_eq!(target("GET", "*"), Err(400));
        assert_eq!(target("GET", "example.org:443"), Err(400));
        // The other two forms, for the methods they belong to.
        assert_eq!(target("OPTIONS", "*"), Ok("*".into()));
        assert_eq!(
            target("CONNECT", "example.org:443"),
            Ok("example.org:443".into())
        );
    }

    fn framing(fields: &str) -> Result<Framing, u16> {
        let raw = format!("POST / HTTP/1.1\r\nHost: x\r\n{fields}\r\n");
        match parse(raw.as_bytes()) {
            Ok(Parsed::Complete(head, _)) => Ok(head.framing),
            Ok(Parsed::Partial) => panic!("partial"),
            Err(refusal) => Err(refusal.status.unwrap_or(0)),
        }
    }

    #[test]
    fn content_length_must_be_one_number() {
        assert_eq!(framing("Content-Length: 35\r\n"), Ok(Framing::Length(35)));
        assert_eq!(framing("Content-Length: 0\r\n"), Ok(Framing::Empty));
        assert_eq!(
            framing("Content-Length: 18446744073709551615\r\n"),
            Ok(Framing::Length(u64::MAX))
        );
        for bad in [
            "-1",
            "+35",
            "abc",
            "4 2",
            "",
            "5, 5",
            "18446744073709551616",
            "0x10",
        ] {
            assert_eq!(
                framing(&format!("Content-Length: {}\r\n", bad)),
                Err(400),
                "{}",
                bad
            );
        }
        assert_eq!(
            framing("Content-Length: 0\r\nContent-Length: 35\r\n"),
            Err(400)
        );
        assert_eq!(
            framing("Content-Length: 5\r\nContent-Length: 5\r\n"),
            Err(400)
        );
    }

    #[test]
    fn transfer_encoding_rules() {
        assert_eq!(
            framing("Transfer-Encoding: chunked\r\n"),
            Ok(Framing::Chunked)
        );
        assert_eq!(
            framing("Transfer-Encoding: CHUNKED\r\n"),
            Ok(Framing::Chunked)
        );
        assert_eq!(
            framing("Transfer-Encoding: , chunked\r\n"),
            Ok(Framing::Chunked)
        );
        assert_eq!(
            framing("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n"),
            Err(400)
        );
        assert_eq!(
            framing("Transfer-Encoding: chunked, identity\r\n"),
            Err(400)
        );
        assert_eq!(framing("Transfer-Encoding: chunked, chunked\r\n"), Err(400));
        assert_eq!(
            framing("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"),
            Err(400)
        );
        assert_eq!(framing("Transfer-Encoding: chunkedchunked\r\n"), Err(400));
        assert_eq!(framing("Transfer-Encoding: \r\n"), Err(400));
        assert_eq!(framing("Transfer-Encoding: gzip\r\n"), Err(400));
        assert_eq!(framing("Transfer-Encoding: gzip, chunked\r\n"), Err(501));
        let raw = b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n";
        assert_eq!(status(raw), 400);
    }

    #[test]
    fn expect_and_connection() {
        let (head, _) = complete(
            b"POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\n",
        );
        assert!(head.expects_continue);
        assert_eq!(
            status(b"GET / HTTP/1.1\r\nHost: x\r\nExpect: 100 continue\r\n\r\n"),
            417
        );
        let (head, _) =
            complete(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, Close\r\n\r\n");
        assert!(!head.keep_alive);
        let (head, _) = complete(b"GET / HTTP/1.0\r\n\r\n");
        assert!(!head.keep_alive);
        let (head, _) = complete(b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
        assert!(head.keep_alive);
        let (head, _) =
            complete(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: foo\r\n\r\n");
        assert!(head.keep_alive);
    }

    #[test]
    fn parsing_again_only_when_a_line_end_or_a_limit_arrives() {
        assert!(!worth_parsing_again(b"GET /index HTTP/1.1", 5));
        assert!(worth_parsing_again(b"GET /index HTTP/1.1\r\n", 19));
        assert!(!worth_parsing_again(b"GET / HTTP/1.1\r\nHost: x", 20));
        assert!(worth_parsing_again(b"GET / HTTP/1.1\r\nHost: x\r\n", 24));
        let line = vec![b'a'; MAX_REQUEST_LINE + 4];
        assert!(worth_parsing_again(&line, MAX_REQUEST_LINE + 3));
        assert!(!worth_parsing_again(&line, MAX_REQUEST_LINE + 4));
        let head = vec![b'a'; MAX_HEAD + 3];
        assert!(worth_parsing_again(&head, MAX_HEAD));
        // A head trickled a byte at a time ends with the same answer as one
        // sent whole, parsed only when worth it.
        let raw = b"GET / HTTP/1.1\r\nHost: x\r\nX: y\r\n\r\n";
        let mut parses = 0;
        let mut parsed = 0;
        for end in 1..=raw.len() {
            if end == 1 || worth_parsing_again(&raw[..end], parsed) {
                parses += 1;
                parsed = end;
                if let Ok(Parsed::Complete(head, length)) = parse(&raw[..end]) {
                    assert_eq!((head.headers.target(), length), ("/", raw.len()));
                }
            }
        }
        assert_eq!(parses, 5);
    }

    #[test]
    fn a_head_late_names_its_request_line_when_it_came() {
        let refusal = timed_out(b"GET /index HTTP/1.1\r\nHost: x\r\n");
        assert_eq!(refusal.status, Some(408));
        assert_eq!(refusal.method.as_deref(), Some("GET"));
        assert_eq!(refusal.target.as_deref(), Some("/index"));
        let refusal = timed_out(b"GET /ind");
        assert_eq!((refusal.method, refusal.target), (None, None));
    }

    #[test]
    fn refusals_name_the_method_and_target_when_known() {
        let refusal = parse(b"GET /index HTTP/2.0\r\n").unwrap_err();
        assert_eq!(refusal.method.as_deref(), Some("GET"));
        assert_eq!(refusal.target.as_deref(), Some("/index"));
        let refusal = parse(b"\x00\x01\x02\r\n\r\n").unwrap_err();
        assert_eq!((refusal.method, refusal.target), (None, None));
    }
}
