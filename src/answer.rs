//! What the server answers: a status, a plain-text body and a few headers,
//! turned into a `tiny_http::Response` at the very end.

use std::io::Cursor;

use tiny_http::{Header, Response};

/// Every body is plain text in UTF-8.
pub const CONTENT_TYPE: &str = "text/plain; charset=utf-8";

#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub status: u16,
    /// Exactly what the client gets: no trailing newline, so that
    /// `TOKEN=$(curl -s ...)` and `r.text == 'data'` work as they are.
    pub body: String,
    pub headers: Vec<(&'static str, &'static str)>,
    /// Why the answer is what it is, for the request log only (say, "token
    /// expired"); the client never sees it.
    pub reason: Option<&'static str>,
    /// Whose login or token this was, for the request log only.
    pub user: Option<String>,
}

impl Answer {
    pub fn new(status: u16, body: &str) -> Answer {
        Answer {
            status,
            body: body.to_string(),
            headers: Vec::new(),
            reason: None,
            user: None,
        }
    }

    pub fn with_header(mut self, name: &'static str, value: &'static str) -> Answer {
        self.headers.push((name, value));
        self
    }

    pub fn because(mut self, reason: &'static str) -> Answer {
        self.reason = Some(reason);
        self
    }

    pub fn for_user(mut self, user: &str) -> Answer {
        self.user = Some(user.to_string());
        self
    }

    /// What the log says in brackets after the status: whose it was, or why
    /// it was refused.
    pub fn log_note(&self) -> Option<&str> {
        self.user.as_deref().or(self.reason)
    }

    pub fn into_response(self) -> Response<Cursor<Vec<u8>>> {
        let mut response =
            Response::from_data(self.body.into_bytes()).with_status_code(self.status);
        let headers = std::iter::once(("Content-Type", CONTENT_TYPE)).chain(self.headers);
        for (name, value) in headers {
            // All names and values are constants of this crate, all ASCII, so
            // this never skips one; a test checks every header the spec names.
            if let Ok(header) = Header::from_bytes(name, value) {
                response.add_header(header);
            }
        }
        response
    }
}
