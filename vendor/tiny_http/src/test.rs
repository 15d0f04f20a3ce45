use crate::body::{self, Memory};
use crate::head::{self, Framing};
use crate::request::Parts;
use crate::{HTTPVersion, Header, Method, Options, Request};
use std::net::SocketAddr;

/// A simpler version of [`Request`] that is useful for testing. No data actually goes anywhere.
///
/// By default, `TestRequest` pretends to be a GET request for the server root (`/`)
/// with no headers. To create a `TestRequest` with different parameters, use the builder pattern:
///
/// ```
/// # use tiny_http::{Method, TestRequest};
/// let request = TestRequest::new()
///     .with_method(Method::Post)
///     .with_path("/api/widgets")
///     .with_body("42");
/// ```
///
/// Then, convert the `TestRequest` into a real `Request` and pass it to the server under test:
///
/// ```
/// # use tiny_http::{Method, Request, Response, Server, StatusCode, TestRequest};
/// # use std::io::Cursor;
/// # let request = TestRequest::new()
/// #     .with_method(Method::Post)
/// #     .with_path("/api/widgets")
/// #     .with_body("42");
/// # struct TestServer {
/// #     listener: Server,
/// # }
/// # let server = TestServer {
/// #     listener: Server::http("0.0.0.0:0").unwrap(),
/// # };
/// # impl TestServer {
/// #     fn handle_request(&self, request: Request) -> Response<Cursor<Vec<u8>>> {
/// #         Response::from_string("test")
/// #     }
/// # }
/// let response = server.handle_request(request.into());
/// assert_eq!(response.status_code(), StatusCode(200));
/// ```
///
/// token-server fork: the body goes through the same reading as a real
/// connection's, with the default [`Options::body_limit`]: a chunked body
/// (with a `Transfer-Encoding: chunked` header) is decoded, and a body over
/// the limit is left unread as it would be.
pub struct TestRequest {
    body: &'static str,
    remote_addr: SocketAddr,
    method: Method,
    path: String,
    http_version: HTTPVersion,
    headers: Vec<Header>,
}

impl From<TestRequest> for Request {
    fn from(mut mock: TestRequest) -> Request {
        // if the user set neither Content-Length nor Transfer-Encoding, then
        // set the length for them; otherwise leave them alone (they may be
        // under test)
        let framed = mock
            .headers
            .iter()
            .any(|h| h.field.equiv("Content-Length") || h.field.equiv("Transfer-Encoding"));
        if !framed {
            let length = mock.body.len().to_string();
            mock.headers
                .push(Header::from_bytes("Content-Length", length).expect("a valid header"));
        }
        // Framing that a connection would refuse is read as the body given.
        let framing = head::body_framing(&mock.headers, &mock.http_version)
            .unwrap_or(Framing::Length(mock.body.len() as u64));
        let limit = Options::default().body_limit;
        let body = body::read(&mut Memory::new(mock.body.as_bytes()), framing, limit).unwrap_or(
            body::Body {
                bytes: Vec::new(),
                complete: false,
            },
        );
        let parts = Parts {
            method: mock.method,
            path: mock.path,
            http_version: mock.http_version,
            headers: mock.headers,
            remote_addr: Some(mock.remote_addr),
            body_length: framing.declared_length(),
            body: body.bytes,
            closes: !body.complete,
        };
        Request::new(parts, None)
    }
}

impl Default for TestRequest {
    fn default() -> Self {
        TestRequest {
            body: "",
            remote_addr: SocketAddr::from(([127, 0, 0, 1], 23456)),
            method: Method::Get,
            path: "/".to_string(),
            http_version: HTTPVersion::from((1, 1)),
            headers: Vec::new(),
        }
    }
}

impl TestRequest {
    pub fn new() -> Self {
        TestRequest::default()
    }
    pub fn with_body(mut self, body: &'static str) -> Self {
        self.body = body;
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
    pub fn with_path(mut self, path: &str) -> Self {
        self.path = path.to_string();
        self
    }
    pub fn with_http_version(mut self, version: HTTPVersion) -> Self {
        self.http_version = version;
        self
    }
    pub fn with_header(mut self, header: Header) -> Self {
        self.headers.push(header);
        self
    }
}
