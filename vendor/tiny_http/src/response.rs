//! An answer: a status, header fields and a body, as a value. The thread
//! that answers builds it and hands it over ([`Request::respond`]); the
//! connection's own thread writes it out, with the status line, `Date`,
//! `Content-Length` and `Connection` (token-server fork: upstream wrote it on
//! the answering thread, from any `Read`, possibly chunked).
//!
//! [`Request::respond`]: crate::Request::respond

use std::borrow::Cow;
use std::cell::RefCell;
use std::time::SystemTime;

use httpdate::HttpDate;

use crate::head::is_tchar;
use crate::method::Version;

/// An answer to one request.
///
/// Header names are `&'static str` (they are the program's own), values may
/// be built at run time. The server writes `Content-Length`, `Connection`,
/// `Date` and `Server` itself: a `Content-Length`, `Connection`,
/// `Transfer-Encoding`, `Trailer` or `Upgrade` given here is left out, and so
/// is a field whose name is not a token or whose value holds a control
/// character (CR, LF, NUL, ...), which could end the head early.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    status: u16,
    headers: Vec<(&'static str, Cow<'static, str>)>,
    body: Cow<'static, [u8]>,
}

impl Response {
    /// An answer with `status` and `body` (copied by nobody: a constant body
    /// stays borrowed).
    pub fn new(status: u16, body: impl Into<Cow<'static, [u8]>>) -> Response {
        Response {
            status,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    /// The same answer with these header fields after those it has (a list
    /// made beforehand becomes the answer's own, not copied, when it has none
    /// yet).
    pub fn with_headers(mut self, headers: Vec<(&'static str, Cow<'static, str>)>) -> Response {
        if self.headers.is_empty() {
            self.headers = headers;
        } else {
            self.headers.extend(headers);
        }
        self
    }

    /// The same answer with one more header field.
    pub fn with_header(
        mut self,
        name: &'static str,
        value: impl Into<Cow<'static, str>>,
    ) -> Response {
        self.headers.push((name, value.into()));
        self
    }

    pub fn status(&self) -> u16 {
        self.status
    }

    /// The header fields given, in order, as (name, value).
    pub fn headers(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.headers
            .iter()
            .map(|(name, value)| (*name, value.as_ref()))
    }

    /// The value of the first field named `name` (in any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers()
            .find(|(field, _)| field.eq_ignore_ascii_case(name))
            .map(|(_, value)| value)
    }

    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// Writes the whole answer, head and body, into `out` (emptied first), as
    /// the connection's thread sends it. `head_only` (an answer to HEAD)
    /// leaves the body out but keeps its `Content-Length`; `closes` adds
    /// `Connection: close`.
    pub(crate) fn write_to(
        &self,
        out: &mut Vec<u8>,
        version: Version,
        head_only: bool,
        closes: bool,
    ) {
        out.clear();
        // An HTTP/1.0 client gets an HTTP/1.0 answer; everyone else 1.1.
        out.extend_from_slice(match version {
            Version::Http10 => b"HTTP/1.0 ",
            Version::Http11 => b"HTTP/1.1 ",
        });
        push_decimal(out, usize::from(self.status));
        out.push(b' ');
        out.extend_from_slice(reason_phrase(self.status).as_bytes());
        out.extend_from_slice(b"\r\n");
        if self.header("Server").is_none() {
            out.extend_from_slice(b"Server: tiny-http (Rust)\r\n");
        }
        if self.header("Date").is_none() {
            push_date(out);
        }
        for (name, value) in self.headers() {
            if is_written_by_the_server(name) || !is_valid_field(name, value) {
                continue;
            }
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(value.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        // Status codes 1xx, 204 and 304 have no body (RFC 9110 6.4.1).
        let has_body = !matches!(self.status, 100..=199 | 204 | 304);
        if has_body {
            out.extend_from_slice(b"Content-Length: ");
            push_decimal(out, self.body.len());
            out.extend_from_slice(b"\r\n");
        }
        if closes {
            out.extend_from_slice(b"Connection: close\r\n");
        } else if version == Version::Http10 {
            out.extend_from_slice(b"Connection: keep-alive\r\n");
        }
        out.extend_from_slice(b"\r\n");
        if has_body && !head_only {
            out.extend_from_slice(&self.body);
        }
    }
}

/// The fields the server writes itself, whatever the answer says.
fn is_written_by_the_server(name: &str) -> bool {
    [
        "Content-Length",
        "Connection",
        "Transfer-Encoding",
        "Trailer",
        "Upgrade",
    ]
    .iter()
    .any(|own| own.eq_ignore_ascii_case(name))
}

/// A name that is a token, and a value without control characters but tab.
fn is_valid_field(name: &str, value: &str) -> bool {
    !name.is_empty()
        && name.bytes().all(is_tchar)
        && !value
            .bytes()
            .any(|byte| (byte < 0x20 && byte != b'\t') || byte == 0x7f)
}

/// Appends `Date: <now>\r\n`. The date is formatted once a second (it has
/// no finer unit), not once an answer.
fn push_date(out: &mut Vec<u8>) {
    thread_local! {
        static DATE: RefCell<(u64, String)> = const { RefCell::new((u64::MAX, String::new())) };
    }
    let now = SystemTime::now();
    let second = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |since| since.as_secs());
    DATE.with(|date| {
        let mut date = date.borrow_mut();
        if date.0 != second {
            *date = (second, HttpDate::from(now).to_string());
        }
        out.extend_from_slice(b"Date: ");
        out.extend_from_slice(date.1.as_bytes());
        out.extend_from_slice(b"\r\n");
    });
}

/// Appends `number` in decimal.
fn push_decimal(out: &mut Vec<u8>, number: usize) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    let mut rest = number;
    loop {
        start -= 1;
        digits[start] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[start..]);
}

/// The reason phrase of a status code (RFC 9110 15, RFC 6585).
fn reason_phrase(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        413 => "Payload Too Large",
        414 => "URI Too Long",
        415 => "Unsupported Media Type",
        417 => "Expectation Failed",
        422 => "Unprocessable Content",
        426 => "Upgrade Required",
        428 => "Precondition Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ => "Unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(response: &Response, version: Version, head_only: bool, closes: bool) -> String {
        let mut out = Vec::new();
        response.write_to(&mut out, version, head_only, closes);
        let text = String::from_utf8(out).unwrap();
        // The date changes; everything else is fixed.
        let (before, after) = text.split_once("Date: ").unwrap();
        let (_, after) = after.split_once("\r\n").unwrap();
        format!("{before}Date: -\r\n{after}")
    }

    #[test]
    fn an_answer_is_written_whole() {
        let response = Response::new(401, &b"error"[..]).with_header("WWW-Authenticate", "Basic");
        assert_eq!(
            written(&response, Version::Http11, false, false),
            "HTTP/1.1 401 Unauthorized\r\nServer: tiny-http (Rust)\r\nDate: -\r\nWWW-Authenticate: Basic\r\nContent-Length: 5\r\n\r\nerror"
        );
        assert_eq!(
            written(&response, Version::Http10, true, false),
            "HTTP/1.0 401 Unauthorized\r\nServer: tiny-http (Rust)\r\nDate: -\r\nWWW-Authenticate: Basic\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\n"
        );
        assert!(written(&response, Version::Http11, false, true)
            .ends_with("Content-Length: 5\r\nConnection: close\r\n\r\nerror"));
    }

    #[test]
    fn fields_the_server_writes_or_that_could_split_the_head_are_left_out() {
        let response = Response::new(204, &b""[..])
            .with_header("Content-Length", "99")
            .with_header("Connection", "keep-alive")
            .with_header("Transfer-Encoding", "chunked")
            .with_header("X-Split", "a\r\nSet-Cookie: b")
            .with_header("Bad Name", "c")
            .with_header("X-Ok", "tab\tand caf\u{e9}");
        assert_eq!(
            written(&response, Version::Http11, false, false),
            "HTTP/1.1 204 No Content\r\nServer: tiny-http (Rust)\r\nDate: -\r\nX-Ok: tab\tand caf\u{e9}\r\n\r\n"
        );
    }
}
