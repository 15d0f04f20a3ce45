use std::fmt;
use std::net::SocketAddr;
use std::sync::mpsc::Sender;
use std::time::Instant;

use crate::headers::Headers;
use crate::method::Method;
use crate::response::Response;

/// A request, read whole: method, target, header fields and body.
///
/// # A whole request, and one at a time (token-server fork)
///
/// The connection's own thread reads the request, head and body, before the
/// `Request` is handed over: nothing here waits on the client. A body larger
/// than the server's body limit is not read ([`body`](Request::body) says
/// so), and the connection is closed after the answer, so that what the
/// client sent of it is never read as a request.
///
/// [`respond`](Request::respond) hands the answer to the connection's thread,
/// which writes it; it never waits on the client either. The next request on
/// the same connection is read only once that answer is sent, so pipelined
/// requests come one after the other, and their answers go out in order.
///
/// A `Request` dropped without an answer gets an empty 500, and its
/// connection is closed. [`TestRequest`](crate::TestRequest) builds one in
/// memory, for tests.
pub struct Request {
    method: Method,
    /// The target and the header fields.
    headers: Headers,
    remote_addr: SocketAddr,
    body: Vec<u8>,
    /// False when the body was over the limit and not read.
    body_read: bool,
    /// Where the answer goes, to the connection's thread: `Some(response)`,
    /// or `None` for a request dropped unanswered. `None` here once it went
    /// (or for a `TestRequest`).
    answer: Option<Sender<Option<Response>>>,
    received_at: Instant,
}

/// What [`Request::body`] says of a body over the server's body limit: it
/// was not read, and the connection closes after the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyTooLarge;

/// What a connection's thread read, to become a `Request`.
pub(crate) struct Parts {
    pub method: Method,
    pub headers: Headers,
    pub remote_addr: SocketAddr,
    pub body: Vec<u8>,
    pub body_read: bool,
}

impl Request {
    pub(crate) fn new(parts: Parts, answer: Option<Sender<Option<Response>>>) -> Request {
        Request {
            method: parts.method,
            headers: parts.headers,
            remote_addr: parts.remote_addr,
            body: parts.body,
            body_read: parts.body_read,
            answer,
            received_at: Instant::now(),
        }
    }

    /// The method: `GET`, `POST`...
    pub fn method(&self) -> Method {
        self.method
    }

    /// The target: the path and query (`/test?token=abc`), also for an
    /// absolute-form target (`GET http://host/test?token=abc`).
    pub fn url(&self) -> &str {
        self.headers.target()
    }

    /// The value of the first header field named `name` (in any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.first(name)
    }

    /// Every header field, as (name, value), in the order sent. Bytes
    /// 0x80-0xFF in a value (obs-text) are the ISO-8859-1 characters of those
    /// numbers.
    pub fn headers(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.headers.iter()
    }

    /// The client's address (a proxy's, behind a proxy).
    pub fn remote_addr(&self) -> SocketAddr {
        self.remote_addr
    }

    /// When the whole request (head and body) had arrived.
    pub fn received_at(&self) -> Instant {
        self.received_at
    }

    /// The body, already in memory; `Err` for a body larger than the
    /// server's body limit, which was not read.
    pub fn body(&self) -> Result<&[u8], BodyTooLarge> {
        if self.body_read {
            Ok(&self.body)
        } else {
            Err(BodyTooLarge)
        }
    }

    /// Answers this request: the connection's own thread writes `response`
    /// out, so this never waits on the client (nor fails: a client that has
    /// gone has nobody left to tell).
    pub fn respond(mut self, response: Response) {
        self.send(Some(response));
    }

    fn send(&mut self, response: Option<Response>) {
        if let Some(answer) = self.answer.take() {
            let _ = answer.send(response);
        }
    }
}

impl fmt::Debug for Request {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "Request({} {} from {})",
            self.method,
            self.url(),
            self.remote_addr
        )
    }
}

impl Drop for Request {
    fn drop(&mut self) {
        // Unanswered: the connection's thread answers an empty 500 and closes.
        self.send(None);
    }
}

#[cfg(test)]
mod tests {
    use super::Request;

    #[test]
    fn must_be_send() {
        fn is_send<T: Send>() {}
        is_send::<Request>();
    }
}
