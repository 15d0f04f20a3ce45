//! token-server fork: a refusal, the server's own answer to a request it does
//! not hand over. The head reader, the body reader and the connection's thread
//! all make this one type, and [`Options::on_refusal`](crate::Options) gets it,
//! for a log.

use std::borrow::Cow;

/// The server's own answer to a request it did not hand over: malformed
/// (400), too long (414, 431), an unknown method or transfer coding (501),
/// another HTTP version (505), an unsupported `Expect` (417), late (408),
/// plain HTTP to an HTTPS port (400); or a connection closed without any
/// answer (a TLS handshake that failed or did not finish, bytes that are not
/// TLS). The connection is closed after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The status answered; `None` when the connection was closed unanswered.
    pub status: Option<u16>,
    /// Why, in a few words ("bare LF in the head", "request timeout").
    pub reason: Cow<'static, str>,
    /// The request's method, when the request line could be read that far.
    pub method: Option<String>,
    /// The request's target, when the request line could be read that far.
    pub target: Option<String>,
}

impl Refusal {
    /// A refusal answered with `status`.
    pub(crate) fn new(status: u16, reason: &'static str) -> Refusal {
        Refusal {
            status: Some(status),
            reason: Cow::Borrowed(reason),
            method: None,
            target: None,
        }
    }

    /// A connection closed without an answer.
    pub(crate) fn unanswered(reason: impl Into<Cow<'static, str>>) -> Refusal {
        Refusal {
            status: None,
            reason: reason.into(),
            method: None,
            target: None,
        }
    }

    /// The same refusal, naming the request's method and target.
    pub(crate) fn of(mut self, method: Option<&str>, target: Option<&str>) -> Refusal {
        self.method = method.map(str::to_string);
        self.target = target.map(str::to_string);
        self
    }

    /// The body of the answer: the status in a few words.
    pub(crate) fn body(&self) -> &'static str {
        match self.status {
            Some(400) => "bad request",
            Some(408) => "request timeout",
            Some(414) => "uri too long",
            Some(417) => "expectation failed",
            Some(431) => "header fields too large",
            Some(501) => "not implemented",
            Some(505) => "http version not supported",
            _ => "error",
        }
    }
}

/// Why reading a request stopped short of a whole one.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ReadError {
    /// It did not arrive before its deadline: 408.
    TimedOut,
    /// The client closed (or the connection failed) first: nobody to answer.
    Closed,
    /// It is refused.
    Refused(Refusal),
}

impl From<Refusal> for ReadError {
    fn from(refusal: Refusal) -> ReadError {
        ReadError::Refused(refusal)
    }
}
