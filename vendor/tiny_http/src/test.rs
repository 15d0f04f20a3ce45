use std::net::SocketAddr;

use crate::body::{self, Memory};
use crate::head::{self, Framing};
use crate::headers::Headers;
use crate::method::{Method, Version};
use crate::request::{Parts, Request};
use crate::shared::Options;

/// A [`Request`] built in memory, for tests of code that answers requests:
/// nothing goes to or comes from a socket.
///
/// By default it is `GET /` from 127.0.0.1:23456, with no header fields and no
/// body:
///
/// ```
/// use tiny_http::{Method, Request, TestRequest};
///
/// let request: Request = TestRequest::new()
///     .with_method(Method::Post)
///     .with_path("/login")
///     .with_header("Content-Type", "application/x-www-form-urlencoded")
///     .with_body("username=magigo&password=123456")
///     .into();
/// assert_eq!(request.url(), "/login");
/// assert_eq!(request.body(), Ok(&b"username=magigo&password=123456"[..]));
/// ```
///
/// The body goes through the same reading as a real connection's, with the
/// default [`Options::body_limit`] or the one `with_body_limit` gives (the
/// program's own): a chunked body (with a `Transfer-Encoding: chunked`
/// field) is decoded, and a body over the limit is left unread, as it would
/// be.
pub struct TestRequest {
    body: Vec<u8>,
    body_limit: usize,
    remote_addr: SocketAddr,
    method: Method,
    path: String,
    headers: Vec<(String, String)>,
}

impl From<TestRequest> for Request {
    fn from(test: TestRequest) -> Request {
        let mut headers = Headers::new(&test.path, 0, test.headers.len());
        for (name, value) in &test.headers {
            headers.push(name, value);
        }
        // Without a Content-Length or Transfer-Encoding, the body is as long
        // as given; with one, it is read as that field says (it may be under
        // test).
        let framed = headers.first("Content-Length").is_some()
            || headers.first("Transfer-Encoding").is_some();
        let declared = framed
            .then(|| head::body_framing(&headers, Version::Http11).ok())
            .flatten();
        let framing = declared.unwrap_or(Framing::Length(test.body.len() as u64));
        let body = body::read(&mut Memory::new(&test.body), framing, test.body_limit).unwrap_or(
            body::Body {
                bytes: Vec::new(),
                complete: false,
            },
        );
        let parts = Parts {
            method: test.method,
            headers,
            remote_addr: test.remote_addr,
            body: body.bytes,
            body_read: body.complete,
        };
        Request::new(parts, None)
    }
}

impl Default for TestRequest {
    fn default() -> Self {
        TestRequest {
            body: Vec::new(),
            body_limit: Options::default().body_limit,
            remote_addr: SocketAddr::from(([127, 0, 0, 1], 23456)),
            method: Method::Get,
            path: "/".to_string(),
            headers: Vec::new(),
        }
    }
}

impl TestRequest {
    pub fn new() -> Self {
        TestRequest::default()
    }

    /// Any bytes: a form, a chunked body (with its `Transfer-Encoding`), junk.
    pub fn with_body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// The most of a body read, as `Options::body_limit` says for a server.
    pub fn with_body_limit(mut self, limit: usize) -> Self {
        self.body_limit = limit;
        self
    }

    pub fn with_remote_addr(mut self, remote_addr: SocketAddr) -> Self {
        self.remote_addr = remote_addr;
        self
    }

    pub fn with_method(mut self, method: Method) -> Self {
        self.method = method;
        self
    }

    /// The target, path and query: `/test?token=abc`.
    pub fn with_path(mut self, path: &str) -> Self {
        self.path = path.to_string();
        self
    }

    /// One more header field. Unlike a connection, it takes any text: the
    /// head reader would refuse a name that is not a token, or a control
    /// character in a value, before any request was handed over.
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }
}
