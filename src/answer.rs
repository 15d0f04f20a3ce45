//! What the server answers: a status, a body (plain text, but for the HTML
//! page of `/`) and a few headers, and, for the request log only, whose it
//! was or why it was refused.

use std::borrow::Cow;

use tiny_http::Response;

/// Every body is plain text in UTF-8, but the HTML page of `/`.
pub(crate) const CONTENT_TYPE: &str = "text/plain; charset=utf-8";
pub(crate) const HTML_CONTENT_TYPE: &str = "text/html; charset=utf-8";
pub(crate) const JSON_CONTENT_TYPE: &str = "application/json";

/// What a token route's answer means, beyond its status and text, for its
/// HTML and JSON forms (`answer_forms`).
#[derive(Debug, Clone, PartialEq)]
pub enum Detail {
    /// A login: the body is the token, valid this many seconds.
    LoggedIn { expires_in: u32 },
    /// A valid token, and when it expires (Unix seconds).
    Valid { expires_at: f64 },
    /// A logout.
    Revoked,
    /// The user's current token, expired at that time.
    Expired { at: f64 },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub status: u16,
    /// Exactly what the client gets: no trailing newline, so that
    /// `TOKEN=$(curl -s ...)` and `r.text == 'data'` work as they are.
    pub body: Cow<'static, str>,
    /// `Content-Type` first.
    pub headers: Vec<(&'static str, Cow<'static, str>)>,
    /// Why the answer is what it is, for the request log only (say, "token
    /// expired"); the client never sees it.
    pub reason: Option<Cow<'static, str>>,
    /// Whose login or token this was, for the request log (and the pages).
    pub user: Option<String>,
    /// What it means, for the HTML and JSON forms of the token routes.
    pub detail: Option<Detail>,
}

impl Answer {
    /// `body` is a constant (`"error"`) or a `String` made for this answer.
    pub fn new(status: u16, body: impl Into<Cow<'static, str>>) -> Answer {
        Answer::of_type(CONTENT_TYPE, status, body.into())
    }

    /// An answer whose body is HTML.
    pub(crate) fn html(status: u16, body: impl Into<Cow<'static, str>>) -> Answer {
        Answer::of_type(HTML_CONTENT_TYPE, status, body.into())
    }

    fn of_type(content_type: &'static str, status: u16, body: Cow<'static, str>) -> Answer {
        // Room for what any answer here has: its Content-Type, and the few
        // more a token route adds (no-store, Vary, the page headers...)
        // (one list, which becomes the Response's own).
        let mut headers = Vec::with_capacity(8);
        headers.push(("Content-Type", Cow::Borrowed(content_type)));
        Answer {
            status,
            body,
            headers,
            reason: None,
            user: None,
            detail: None,
        }
    }

    pub fn with_header(
        mut self,
        name: &'static str,
        value: impl Into<Cow<'static, str>>,
    ) -> Answer {
        self.headers.push((name, value.into()));
        self
    }

    /// What a page and every token route's answer carry: no `Referer` of
    /// this server's (its URLs may hold a token) goes to another site, and
    /// no body is read as another type than it says.
    pub(crate) fn with_headers_of_a_page(self) -> Answer {
        self.with_header("Referrer-Policy", "no-referrer")
            .with_header("X-Content-Type-Options", "nosniff")
    }

    pub(crate) fn because(mut self, reason: impl Into<Cow<'static, str>>) -> Answer {
        self.reason = Some(reason.into());
        self
    }

    pub(crate) fn with_detail(mut self, detail: Detail) -> Answer {
        self.detail = Some(detail);
        self
    }

    /// The same answer with another body, of another type.
    pub(crate) fn retyped(mut self, content_type: &'static str, body: String) -> Answer {
        self.headers[0] = ("Content-Type", Cow::Borrowed(content_type));
        self.body = Cow::Owned(body);
        self
    }

    pub(crate) fn for_user(mut self, user: &str) -> Answer {
        self.user = Some(user.to_string());
        self
    }

    /// What the log says in brackets after the status: whose it was, or why
    /// it was refused.
    #[cfg(test)]
    pub(crate) fn log_note(&self) -> Option<&str> {
        self.user.as_deref().or(self.reason.as_deref())
    }

    /// The same note, taken out for the log (the client never sees it).
    /// A user's name is quoted unless it is plain (`log::line::quoted`): a
    /// name can neither add fields to the line nor close its brackets.
    pub(crate) fn take_log_note(&mut self) -> Option<Cow<'static, str>> {
        match self.user.take() {
            Some(user) => Some(match crate::log::line::quoted(&user) {
                Cow::Borrowed(_) => Cow::Owned(user),
                Cow::Owned(quoted) => Cow::Owned(quoted),
            }),
            None => self.reason.take(),
        }
    }

    /// The answer as tiny_http sends it.
    pub(crate) fn into_response(self) -> Response {
        let body = match self.body {
            Cow::Borrowed(text) => Cow::Borrowed(text.as_bytes()),
            Cow::Owned(text) => Cow::Owned(text.into_bytes()),
        };
        Response::new(self.status, body).with_headers(self.headers)
    }
}
