//! token-server fork: reading a request head, strictly and within bounds
//! (RFC 9112). `httparse` parses the request line and the header fields; this
//! module adds what it leaves to its caller: the size limits, line ends that
//! are CRLF and nothing else, at most one empty line before the request line,
//! 505 for another HTTP version, and the message framing rules
//! (`Content-Length`, `Transfer-Encoding`, `Host`, `Expect`, `Connection`).
//!
//! Everything here is a pure function of the bytes received so far, so that it
//! can be tested without a socket.

use std::convert::TryFrom;
use std::str::FromStr;

use crate::common::{HTTPVersion, Header, HeaderField, Method};

/// The longest request line, CRLF not counted: 8 KiB (nginx's
/// `large_client_header_buffers 4 8k`, Apache's `LimitRequestLine 8190`).
pub const MAX_REQUEST_LINE: usize = 8 * 1024;
/// The largest head, from the request line to the empty line that ends the
/// head, CRLFs included: 16 KiB.
pub const MAX_HEAD: usize = 16 * 1024;
/// The most header fields in one head (Apache's `LimitRequestFields 100`).
pub const MAX_HEADERS: usize = 100;

/// How a request's body is delimited (RFC 9112 6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// No body.
    Empty,
    /// `Content-Length` bytes.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
}

impl Framing {
    /// The body's length as its `Content-Length` declares it (`usize::MAX` if
    /// it does not fit), for `Request::body_length`.
    pub fn declared_length(self) -> Option<usize> {
        match self {
            Framing::Length(length) => Some(usize::try_from(length).unwrap_or(usize::MAX)),
            Framing::Empty | Framing::Chunked => None,
        }
    }
}

/// A request head, read and checked.
#[derive(Debug)]
pub struct Head {
    pub method: Method,
    /// The target in origin form (`/path?query`): an absolute-form target
    /// (`http://host/path?query`) is served by its path and query.
    pub target: String,
    pub version: HTTPVersion,
    pub headers: Vec<Header>,
    pub framing: Framing,
    /// The client sent `Expect: 100-continue` and waits for "100 Continue"
    /// before it sends the body.
    pub expects_continue: bool,
    /// The client may send another request on this connection.
    pub keep_alive: bool,
}

/// A head the server refuses, and the answer it gives: the connection is
/// closed after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// 400, 414, 417, 431, 501 or 505.
    pub status: u16,
    /// Why, in a few words, for the server's log.
    pub reason: &'static str,
    /// The method and target, when the request line could be read that far.
    pub method: Option<String>,
    pub target: Option<String>,
}

/// What the bytes received so far hold.
#[derive(Debug)]
pub enum Parsed {
    /// Not a whole head yet, and nothing wrong so far.
    Partial,
    /// A whole head, and how many bytes it took (the empty line before it
    /// included); the body, if any, starts right after.
    Complete(Head, usize),
}

/// Reads the head at the start of `bytes`.
pub fn parse(bytes: &[u8]) -> Result<Parsed, Refused> {
    // RFC 9112 2.2: one empty line before a request line is skipped (a client
    // may send one after a POST body). A second one, or a bare CR or LF, is not.
    let start = if bytes.starts_with(b"\r\n") { 2 } else { 0 };
    let head = &bytes[start..];
    match head.first() {
        None => return Ok(Parsed::Partial),
        Some(b'\r') if head.len() == 1 && start == 0 => return Ok(Parsed::Partial),
        Some(b'\r' | b'\n') => return Err(refused(400, "empty line before the request line")),
        Some(_) => {}
    }

    let Some(line_end) = head.iter().position(|&byte| byte == b'\n') else {
        // No whole request line yet: refuse it now if it is already too long
        // or already wrong (binary, a TLS handshake), rather than wait for more.
        if head.len() > MAX_REQUEST_LINE + 1 {
            return Err(refused(414, "request line too long"));
        }
        return match httparse_head(head, &mut []) {
            Err(error) => Err(refused(400, error)),
            Ok(_) => Ok(Parsed::Partial),
        };
    };
    let line = request_line(head, line_end)?;
    let head_end = find_head_end(head, line_end)?;
    let Some(head_end) = head_end else {
        if head.len() > MAX_HEAD {
            return Err(line.refused(431, "head too large"));
        }
        // The rest of the head is still to come: anything wrong with the
        // request line is refused now rather than after it (httparse stops at
        // the first bad byte).
        if let Err(error) = httparse_head(&head[..=line_end], &mut []) {
            return Err(line.refused(400, error));
        }
        return Ok(Parsed::Partial);
    };
    if head_end > MAX_HEAD {
        return Err(line.refused(431, "head too large"));
    }

    let mut fields = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let parsed = match httparse_head(&head[..head_end], &mut fields) {
        Ok(parsed) => parsed,
        Err("too many header fields") => {
            return Err(line.refused(431, "too many header fields"));
        }
        Err(error) => return Err(line.refused(400, error)),
    };
    let head = parsed.into_head(&line)?;
    Ok(Parsed::Complete(head, start + head_end))
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
pub fn worth_parsing_again(bytes: &[u8], parsed: usize) -> bool {
    let passed = |limit: usize| parsed <= limit && bytes.len() > limit;
    // The limits as `parse` applies them, with the leading empty line and the
    // request line's CR counted.
    bytes[parsed.min(bytes.len())..].contains(&b'\n')
        || passed(MAX_REQUEST_LINE + 3)
        || passed(MAX_HEAD + 2)
}

/// The message framing and connection rules of a head's fields (RFC 9112 6,
/// 9.3; RFC 9110 7.2, 10.1.1), for the request's HTTP version: how its body
/// is delimited, whether the client waits for "100 Continue", and whether it
/// may send another request on the connection.
fn read_fields(
    headers: &[Header],
    version: &HTTPVersion,
) -> Result<(Framing, bool, bool), (u16, &'static str)> {
    let hosts = headers.iter().filter(|h| h.field.equiv("Host")).count();
    if *version == HTTPVersion(1, 1) && hosts == 0 {
        return Err((400, "no Host header"));
    }
    if hosts > 1 {
        return Err((400, "more than one Host header"));
    }
    let framing = body_framing(headers, version)?;

    let mut expects_continue = false;
    for expect in headers.iter().filter(|h| h.field.equiv("Expect")) {
        if expect.value.eq_ignore_ascii_case("100-continue") {
            expects_continue = true;
        } else {
            return Err((417, "unsupported Expect"));
        }
    }

    let connection_says = |option: &str| {
        headers
            .iter()
            .filter(|h| h.field.equiv("Connection"))
            .any(|h| has_token(&h.value, option))
    };
    let keep_alive = if connection_says("close") {
        false
    } else {
        *version == HTTPVersion(1, 1) || connection_says("keep-alive")
    };
    Ok((framing, expects_continue, keep_alive))
}

/// How the body is delimited: by `Transfer-Encoding: chunked`, by one valid
/// `Content-Length`, or not at all (RFC 9112 6.3). Also used by `TestRequest`.
pub fn body_framing(
    headers: &[Header],
    version: &HTTPVersion,
) -> Result<Framing, (u16, &'static str)> {
    let lengths: Vec<&str> = headers
        .iter()
        .filter(|h| h.field.equiv("Content-Length"))
        .map(|h| h.value.as_str())
        .collect();
    let encodings: Vec<&Header> = headers
        .iter()
        .filter(|h| h.field.equiv("Transfer-Encoding"))
        .collect();
    if encodings.is_empty() {
        return match lengths.as_slice() {
            [] => Ok(Framing::Empty),
            [length] => match parse_content_length(length) {
                Some(0) => Ok(Framing::Empty),
                Some(length) => Ok(Framing::Length(length)),
                None => Err((400, "bad Content-Length")),
            },
            _ => Err((400, "more than one Content-Length")),
        };
    }
    if !lengths.is_empty() {
        return Err((400, "Content-Length with Transfer-Encoding"));
    }
    if *version == HTTPVersion(1, 0) {
        return Err((400, "Transfer-Encoding in HTTP/1.0"));
    }
    let codings: Vec<&str> = encodings
        .iter()
        .flat_map(|h| h.value.split(','))
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
}

impl RequestLine<'_> {
    fn refused(&self, status: u16, reason: &'static str) -> Refused {
        // Shown only when they are what they should be: a method is a token,
        // a target has no control bytes.
        let shown = |part: Option<&[u8]>, allowed: fn(u8) -> bool| {
            part.filter(|part| !part.is_empty() && part.iter().all(|&byte| allowed(byte)))
                .and_then(|part| std::str::from_utf8(part).ok())
                .map(str::to_string)
        };
        Refused {
            status,
            reason,
            method: shown(self.method, is_tchar),
            target: shown(self.target, |byte| byte > 0x20 && byte != 0x7f),
        }
    }
}

fn request_line(head: &[u8], line_end: usize) -> Result<RequestLine<'_>, Refused> {
    if line_end == 0 || head[line_end - 1] != b'\r' {
        return Err(refused(400, "bare LF in the request line"));
    }
    let line = &head[..line_end - 1];
    if line.len() > MAX_REQUEST_LINE {
        return Err(refused(414, "request line too long"));
    }
    let mut parts = line.split(|&byte| byte == b' ');
    let (method, target, version) = (parts.next(), parts.next(), parts.next());
    let line = RequestLine { method, target };
    let is_other_version = version.is_some_and(is_other_http_version);
    if parts.next().is_none() && is_other_version {
        return Err(line.refused(505, "unsupported HTTP version"));
    }
    Ok(line)
}

/// `HTTP/x.y` with digits, other than 1.0 and 1.1: HTTP/2.0, HTTP/3.0 (and the
/// HTTP/2 connection preface, `PRI * HTTP/2.0`), HTTP/1.2, HTTP/9.9.
fn is_other_http_version(version: &[u8]) -> bool {
    match version {
        [b'H', b'T', b'T', b'P', b'/', major, b'.', minor]
            if major.is_ascii_digit() && minor.is_ascii_digit() =>
        {
            !(*major == b'1' && (*minor == b'0' || *minor == b'1'))
        }
        _ => false,
    }
}

/// Finds the empty line that ends the head (the offset just after it), and
/// checks on the way that every line ends with CRLF: a bare LF or bare CR is
/// not a line end here, whatever a front proxy may make of it.
fn find_head_end(head: &[u8], line_end: usize) -> Result<Option<usize>, Refused> {
    let scanned = &head[..head.len().min(MAX_HEAD + 1)];
    let mut line_start = line_end + 1;
    for (index, &byte) in scanned.iter().enumerate().skip(line_start) {
        match byte {
            b'\n' if scanned[index - 1] != b'\r' => {
                return Err(refused(400, "bare LF in the head"));
            }
            b'\n' if index == line_start + 1 => return Ok(Some(index + 1)),
            b'\n' => line_start = index + 1,
            b'\r' if scanned.get(index + 1).is_some_and(|&next| next != b'\n') => {
                return Err(refused(400, "bare CR in the head"));
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
    headers: &'h [httparse::Header<'b>],
}

impl Fields<'_, '_> {
    fn into_head(self, line: &RequestLine<'_>) -> Result<Head, Refused> {
        let version = HTTPVersion(1, self.minor_version);
        let method = Method::from_str(self.method).map_err(|()| line.refused(400, "bad method"))?;
        let mut headers = Vec::with_capacity(self.headers.len());
        for field in self.headers {
            let name = HeaderField::from_bytes(field.name.as_bytes())
                .map_err(|_| line.refused(400, "bad header name"))?;
            headers.push(Header {
                field: name,
                value: latin1(field.value),
            });
        }
        let (framing, expects_continue, keep_alive) = read_fields(&headers, &version)
            .map_err(|(status, reason)| line.refused(status, reason))?;
        Ok(Head {
            method,
            target: origin_form(self.target),
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
        headers: if status.is_complete() {
            request.headers
        } else {
            &[]
        },
    })
}

/// `Transfer-Encoding`'s codings: the last must be `chunked`, and only once
/// (else the body's end cannot be known: 400); no other coding is supported
/// (501).
fn chunked_framing(codings: &[&str]) -> Result<Framing, (u16, &'static str)> {
    let is_chunked = |coding: &&str| coding.eq_ignore_ascii_case("chunked");
    match codings.split_last() {
        Some((last, before)) if is_chunked(last) => {
            if before.iter().any(is_chunked) {
                Err((400, "chunked more than once"))
            } else if !before.is_empty() {
                Err((501, "unsupported transfer coding"))
            } else {
                Ok(Framing::Chunked)
            }
        }
        _ => Err((400, "Transfer-Encoding not ending in chunked")),
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

/// An absolute-form target (`http://host:port/path?query`, RFC 9112 3.2.2) as
/// the path and query a server answers; any other form as it is.
fn origin_form(target: &str) -> String {
    let Some((scheme, rest)) = target.split_once("://") else {
        return target.to_string();
    };
    let is_scheme = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !is_scheme {
        return target.to_string();
    }
    match rest.find(['/', '?']) {
        Some(index) if rest[index..].starts_with('/') => rest[index..].to_string(),
        Some(index) => format!("/{}", &rest[index..]),
        None => "/".to_string(),
    }
}

/// A field value's bytes as text: ASCII as it is, and bytes 0x80-0xFF
/// (obs-text, RFC 9110 5.5) as the ISO-8859-1 characters they historically
/// were.
pub fn latin1(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        // ASCII (the usual case) is the same in both.
        Ok(text) if text.is_ascii() => text.to_string(),
        _ => bytes.iter().map(|&byte| char::from(byte)).collect(),
    }
}

/// A token character (RFC 9110 5.6.2).
pub fn is_tchar(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte)
}

fn refused(status: u16, reason: &'static str) -> Refused {
    Refused {
        status,
        reason,
        method: None,
        target: None,
    }
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
            Err(refused) => refused.status,
            Ok(Parsed::Partial) => 0,
            Ok(Parsed::Complete(..)) => 200,
        }
    }

    #[test]
    fn a_simple_head() {
        let (head, length) = complete(b"GET /test?token=a HTTP/1.1\r\nHost: x\r\n\r\nrest");
        assert_eq!(head.method, Method::Get);
        assert_eq!(head.target, "/test?token=a");
        assert_eq!(head.version, HTTPVersion(1, 1));
        assert_eq!(head.headers.len(), 1);
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
        assert_eq!(head.target, "/");
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
        assert_eq!(head.headers[1].value, "caf\u{e9}\tok");
    }

    #[test]
    fn other_versions_get_505_as_soon_as_the_line_is_in() {
        assert_eq!(status(b"GET /index HTTP/2.0\r\n"), 505);
        assert_eq!(status(b"GET /index HTTP/3.0\r\n"), 505);
        assert_eq!(status(b"GET /index HTTP/1.2\r\n"), 505);
        assert_eq!(status(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), 505);
        assert_eq!(status(b"GET /index HTTP/1.0\r\n\r\n"), 200);
        assert_eq!(status(b"GET /index http/1.1\r\n"), 400);
        assert_eq!(status(b"GET /index\r\n"), 400);
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

    fn framing(fields: &str) -> Result<Framing, u16> {
        let raw = format!("POST / HTTP/1.1\r\nHost: x\r\n{fields}\r\n");
        match parse(raw.as_bytes()) {
            Ok(Parsed::Complete(head, _)) => Ok(head.framing),
            Ok(Parsed::Partial) => panic!("partial"),
            Err(refused) => Err(refused.status),
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
                    assert_eq!((head.target.as_str(), length), ("/", raw.len()));
                }
            }
        }
        assert_eq!(parses, 5);
    }

    #[test]
    fn absolute_form_is_served_by_path_and_query() {
        assert_eq!(
            origin_form("http://127.0.0.1:5000/test?token=T"),
            "/test?token=T"
        );
        assert_eq!(origin_form("HTTPS://example.org"), "/");
        assert_eq!(origin_form("http://example.org?x=1"), "/?x=1");
        assert_eq!(origin_form("/a?b=http://c/d"), "/a?b=http://c/d");
        assert_eq!(origin_form("*"), "*");
        assert_eq!(origin_form("example.org:443"), "example.org:443");
    }

    #[test]
    fn refusals_name_the_method_and_target_when_known() {
        let refused = parse(b"GET /index HTTP/2.0\r\n").unwrap_err();
        assert_eq!(refused.method.as_deref(), Some("GET"));
        assert_eq!(refused.target.as_deref(), Some("/index"));
        let refused = parse(b"\x00\x01\x02\r\n\r\n").unwrap_err();
        assert_eq!((refused.method, refused.target), (None, None));
    }
}
