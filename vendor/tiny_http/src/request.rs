use std::io::Error as IoError;
use std::io::{Cursor, Read};

use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::time::Instant;

use crate::{HTTPVersion, Header, Method, Response};

/// Represents an HTTP request made by a client.
///
/// A `Request` object is what is produced by the server, and is your what
/// your code must analyse and answer.
///
/// This object implements the `Send` trait, therefore you can dispatch your requests to
/// worker threads.
///
/// # A whole request, and one at a time (token-server fork)
///
/// The connection's own thread reads the request, head and body, before the
/// `Request` is handed over: reading the body ([`as_reader`](Request::as_reader))
/// never waits on the client. A body larger than the server's body limit is
/// not read (a chunked one is read to one byte past the limit), and the
/// connection is closed after the answer.
///
/// [`respond`](Request::respond) writes the whole answer into a buffer and
/// gives it to the connection's thread, which sends it; it never waits on the
/// client either. The next request on the same connection is read only once
/// that answer is sent, so pipelined requests come one after the other, and
/// their answers go out in order.
///
/// # Automatic cleanup
///
/// If a `Request` object is destroyed without `respond` being called, an empty
/// response with a 500 status code (internal server error) is sent back to the
/// client, and the connection closed.
///
/// # Testing
///
/// If you want to build fake requests to test your server, use [`TestRequest`](crate::test::TestRequest).
pub struct Request {
    method: Method,
    path: String,
    http_version: HTTPVersion,
    headers: Vec<Header>,
    remote_addr: Option<SocketAddr>,
    body: Cursor<Vec<u8>>,
    body_length: Option<usize>,
    /// The connection closes after this request's answer: the client asked,
    /// or its body was left unread.
    closes: bool,
    /// Where the answer goes: `None` once it went (or for a `TestRequest`).
    answer: Option<AnswerSender>,
    received_at: Instant,
}

/// The way back to the connection's thread.
pub(crate) struct AnswerSender {
    pub sender: Sender<Answer>,
    /// The server is stopping: every answer closes its connection.
    pub stopping: Arc<AtomicBool>,
}

/// An answer as the connection's thread sends it.
pub(crate) struct Answer {
    pub bytes: Vec<u8>,
    pub closes: bool,
}

/// What a connection's thread read, to become a `Request`.
pub(crate) struct Parts {
    pub method: Method,
    pub path: String,
    pub http_version: HTTPVersion,
    pub headers: Vec<Header>,
    pub remote_addr: Option<SocketAddr>,
    pub body: Vec<u8>,
    pub body_length: Option<usize>,
    pub closes: bool,
}

impl Request {
    pub(crate) fn new(parts: Parts, answer: Option<AnswerSender>) -> Request {
        Request {
            method: parts.method,
            path: parts.path,
            http_version: parts.http_version,
            headers: parts.headers,
            remote_addr: parts.remote_addr,
            body: Cursor::new(parts.body),
            body_length: parts.body_length,
            closes: parts.closes,
            answer,
            received_at: Instant::now(),
        }
    }

    /// Returns the method requested by the client (eg. `GET`, `POST`, etc.).
    #[inline]
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// Returns the resource requested by the client: its path and query
    /// (token-server fork: also for an absolute-form target,
    /// `GET http://host/path?query`).
    #[inline]
    pub fn url(&self) -> &str {
        &self.path
    }

    /// Returns a list of all headers sent by the client.
    #[inline]
    pub fn headers(&self) -> &[Header] {
        &self.headers
    }

    /// Returns the HTTP version of the request.
    #[inline]
    pub fn http_version(&self) -> &HTTPVersion {
        &self.http_version
    }

    /// Returns the length of the body in bytes, as its `Content-Length` says.
    ///
    /// Returns `None` if the length is unknown (no `Content-Length`: no body,
    /// or a chunked one).
    #[inline]
    pub fn body_length(&self) -> Option<usize> {
        self.body_length
    }

    /// Returns the address of the client that sent this request.
    ///
    /// The address is always `Some` for TCP listeners, but always `None` for UNIX listeners
    /// (as the remote address of a UNIX client is almost always unnamed).
    ///
    /// Note that this is gathered from the socket. If you receive the request from a proxy,
    /// this function will return the address of the proxy and not the address of the actual
    /// user.
    #[inline]
    pub fn remote_addr(&self) -> Option<&SocketAddr> {
        self.remote_addr.as_ref()
    }

    /// token-server fork: when the whole request (head and body) had arrived.
    #[inline]
    pub fn received_at(&self) -> Instant {
        self.received_at
    }

    /// Allows to read the body of the request.
    ///
    /// token-server fork: the body is already in memory (see above), so this
    /// never waits on the client; a body over the server's limit reads as
    /// empty (`Content-Length`) or as its first `limit + 1` bytes (chunked).
    ///
    /// # Example
    ///
    /// ```no_run
    /// # use std::io::Read;
    /// # fn get_content_type(_: &tiny_http::Request) -> &'static str { "" }
    /// # let server = tiny_http::Server::http("0.0.0.0:0").unwrap();
    /// let mut request = server.recv().unwrap();
    ///
    /// if get_content_type(&request) == "text/plain" {
    ///     let mut content = String::new();
    ///     request.as_reader().read_to_string(&mut content).unwrap();
    ///     println!("{}", content);
    /// }
    /// ```
    #[inline]
    pub fn as_reader(&mut self) -> &mut dyn Read {
        &mut self.body
    }

    /// Sends a response to this request.
    ///
    /// token-server fork: the answer is written into a buffer here and sent
    /// by the connection's own thread, so this never waits on the client. An
    /// error reading the response's body is returned (and the client gets an
    /// empty 500); a client that has gone is not an error.
    #[inline]
    pub fn respond<R>(mut self, response: Response<R>) -> Result<(), IoError>
    where
        R: Read,
    {
        self.send(response)
    }

    fn send<R: Read>(&mut self, response: Response<R>) -> Result<(), IoError> {
        let Some(answer) = self.answer.take() else {
            return Ok(());
        };
        let closes = self.closes || answer.stopping.load(Ordering::Relaxed);
        let head_only = self.method == Method::Head;
        let (bytes, closes, result) =
            match response.serialize(&self.http_version, head_only, closes) {
                Ok(bytes) => (bytes, closes, Ok(())),
                Err(error) => {
                    let bytes = Response::empty(500)
                        .serialize(&self.http_version, head_only, true)
                        .unwrap_or_default();
                    (bytes, true, Err(error))
                }
            };
        // The connection's thread has gone only when its client has: there is
        // nobody to tell.
        let _ = answer.sender.send(Answer { bytes, closes });
        result
    }
}

impl fmt::Debug for Request {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> Result<(), fmt::Error> {
        write!(
            formatter,
            "Request({} {} from {:?})",
            self.method, self.path, self.remote_addr
        )
    }
}

impl Drop for Request {
    fn drop(&mut self) {
        if self.answer.is_some() {
            self.closes = true;
            let _ = self.send(Response::empty(500));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Request;

    #[test]
    fn must_be_send() {
        #![allow(dead_code)]
        fn f<T: Send>(_: &T) {}
        fn bar(rq: &Request) {
            f(rq);
        }
    }
}
