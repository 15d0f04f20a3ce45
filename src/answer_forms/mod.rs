//! The token routes' answers in the form each client prefers: plain text
//! (curl, scripts: the tutorial's bodies, byte for byte), an HTML page for a
//! browser (the page's forms), or JSON for an API client (HTTPie, `fetch`),
//! in the shapes OAuth 2.0 set. The status and the headers are the same for
//! every client; only the body and its `Content-Type` change, and `Vary:
//! Accept` says so to caches.
//!
//! - `accept`: which form a client prefers, from its `Accept`;
//! - `json`: `access_token`, `active`, `error` and their members (RFC 6749
//!   5.1 and 5.2, RFC 6750 3.1, RFC 7662);
//! - `html`: a small page under the usage page's CSP, no script, with what
//!   happened in words and a way back to `/`.

pub mod accept;
pub mod html;
pub mod json;

use crate::answer::{Answer, Detail};
use crate::answer_forms::accept::Preference;

/// What a refused request gets, in OAuth's words: its `error` code and a
/// description; for a 429 or a 503, when to try again.
pub(crate) struct Refusal {
    pub code: &'static str,
    pub description: &'static str,
    pub retry_after: Option<u64>,
}

/// `answer`, from `path`, as a client that prefers `preference` gets it;
/// `token` is the token a `/test` or `/logout` request carried, if any (the
/// page after a check offers to log it out).
pub(crate) fn render(
    answer: Answer,
    path: &str,
    preference: Preference,
    token: Option<&str>,
) -> Answer {
    let answer = answer.with_header("Vary", "Accept");
    match preference {
        Preference::Text => answer,
        Preference::Json => {
            let body = json::body(&answer, path);
            answer.retyped(crate::answer::JSON_CONTENT_TYPE, body)
        }
        Preference::Html => {
            let body = html::page(&answer, path, token);
            answer
                .retyped(crate::answer::HTML_CONTENT_TYPE, body)
                .with_header(
                    "Content-Security-Policy",
                    crate::pages::CONTENT_SECURITY_POLICY,
                )
        }
    }
}

/// Why a token route refused, from its answer's status and the reason its
/// log line gives.
pub(crate) fn refusal_of(answer: &Answer, path: &str) -> Refusal {
    let reason = answer.reason.as_deref().unwrap_or("");
    let retry_after = answer
        .headers
        .iter()
        .find(|(name, _)| *name == "Retry-After")
        .and_then(|(_, value)| value.parse().ok());
    let (code, description) = match (answer.status, path) {
        (401, "/login") if reason.starts_with("no credentials") => {
            ("invalid_request", "no credentials")
        }
        (401, "/login") if reason == "malformed credentials" => {
            ("invalid_request", "malformed credentials")
        }
        (401, "/login") if reason == "credentials in more than one place" => {
            ("invalid_request", "credentials in more than one place")
        }
        (401, "/login") => ("invalid_client", "wrong user or password"),
        (401, _) if reason == "no token" => ("invalid_request", "no token"),
        (401, _) if matches!(answer.detail, Some(Detail::Expired { .. })) => {
            ("invalid_token", "token expired")
        }
        (401, _) => ("invalid_token", "unknown, replaced or revoked token"),
        (400, _) => ("invalid_request", "token in more than one place"),
        (403, _) => ("invalid_request", "cross-site request"),
        (405, _) => ("invalid_request", "method not allowed"),
        (413, _) => ("invalid_request", "payload too large"),
        (421, _) => ("invalid_request", "misdirected request"),
        (429, _) => ("invalid_request", "too many attempts"),
        (503, _) => ("invalid_request", "busy"),
        _ => ("invalid_request", "error"),
    };
    Refusal {
        code,
        description,
        retry_after,
    }
}
