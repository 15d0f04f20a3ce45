//! JSON answers, in the shapes OAuth 2.0 set for a token endpoint (RFC 6749
//! 5.1 and 5.2), a bearer token's errors (RFC 6750 3.1) and introspection
//! (RFC 7662), written by `serde_json`.

use serde_json::{Value, json};

use super::refusal_of;
use crate::answer::{Answer, Detail};

/// The JSON body of `answer`, from `path`:
/// - a login: `{"access_token", "token_type": "Bearer", "expires_in"}`;
/// - a valid token: `{"active": true, "username", "exp"}`;
/// - a logout: `{"revoked": true}`;
/// - every refusal: `{"error", "error_description"}`, and `retry_after` for
///   a 429 or a 503.
pub(crate) fn body(answer: &Answer, path: &str) -> String {
    let value = match (&answer.detail, answer.status) {
        (Some(Detail::LoggedIn { expires_in }), 200) => json!({
            "access_token": answer.body,
            "token_type": "Bearer",
            "expires_in": expires_in,
        }),
        (Some(Detail::Valid { expires_at }), 200) => json!({
            "active": true,
            "username": answer.user,
            "exp": expires_at,
        }),
        (Some(Detail::Revoked), 200) => json!({ "revoked": true }),
        _ => refused(answer, path),
    };
    value.to_string()
}

fn refused(answer: &Answer, path: &str) -> Value {
    let refusal = refusal_of(answer, path);
    let mut value = json!({
        "error": refusal.code,
        "error_description": refusal.description,
    });
    if let Some(seconds) = refusal.retry_after {
        value["retry_after"] = json!(seconds);
    }
    value
}
