//! The pages a browser gets from `/login`, `/test` and `/logout`: what
//! happened, in words, and the next step. After a login, the token
//! (selected with one click) and the forms to test it and log it out,
//! filled in; after a check, `data` or why not; every page links back to
//! `/`. No script, and the usage page's Content-Security-Policy.

use super::refusal_of;
use crate::answer::{Answer, Detail};
use crate::pages::{document, escape};

/// The page for `answer`, from `path`; `token` is the one a `/test` or
/// `/logout` request carried.
pub(crate) fn page(answer: &Answer, path: &str, token: Option<&str>) -> String {
    let user = escape(answer.user.as_deref().unwrap_or(""));
    let (title, main) = match (&answer.detail, answer.status) {
        (Some(Detail::LoggedIn { expires_in }), 200) => {
            let token = escape(&answer.body);
            (
                "Logged in".to_string(),
                format!(
                    "<p>You are logged in as <b>{user}</b>. Your token, valid for {expires_in} s (it replaces your last one):</p>
<p><code class=\"token\">{token}</code></p>
{}{}",
                    test_form(&token),
                    logout_form(&token)
                ),
            )
        }
        (Some(Detail::Valid { expires_at }), 200) => (
            "data".to_string(),
            format!(
                "<p><b>data</b>: this is <b>{user}</b>'s current token, valid until {}.</p>
{}",
                utc(*expires_at),
                token
                    .map(|token| logout_form(&escape(token)))
                    .unwrap_or_default()
            ),
        ),
        (Some(Detail::Revoked), 200) => (
            "ok".to_string(),
            format!(
                "<p><b>ok</b>: <b>{user}</b>'s token is revoked; <code>/test</code> answers <code>error</code> for it now.</p>"
            ),
        ),
        _ => {
            let words = refused_in_words(answer, path);
            ("error".to_string(), format!("<p><b>error</b>: {words}</p>"))
        }
    };
    document(
        &format!("{title} - token-server"),
        &format!("<h1>{title}</h1>\n{main}\n<p><a href=\"/\">Back to the start page</a></p>\n"),
    )
}

fn test_form(token: &str) -> String {
    format!(
        "<form method=\"get\" action=\"/test\">
<h2>Test it</h2>
<input name=\"token\" value=\"{token}\" autocomplete=\"off\" required>
<button type=\"submit\">Test</button>
</form>
"
    )
}

fn logout_form(token: &str) -> String {
    format!(
        "<form method=\"post\" action=\"/logout\">
<h2>Log out</h2>
<input name=\"token\" value=\"{token}\" autocomplete=\"off\" required>
<button type=\"submit\">Log out</button>
</form>
"
    )
}

/// Why the request was refused, as a sentence for a person.
fn refused_in_words(answer: &Answer, path: &str) -> String {
    let refusal = refusal_of(answer, path);
    let retry = refusal.retry_after.unwrap_or(1);
    match refusal.description {
        "wrong user or password" => "wrong user name or password.".to_string(),
        "no credentials" => "no user name and password came with the request.".to_string(),
        "malformed credentials" => "the user name and password could not be read.".to_string(),
        "credentials in more than one place" => {
            "different user names or passwords came in more than one place.".to_string()
        }
        "no token" => "no token came with the request.".to_string(),
        "token expired" => match answer.detail {
            Some(Detail::Expired { at }) => {
                format!("the token expired at {}: log in again.", utc(at))
            }
            _ => "the token expired: log in again.".to_string(),
        },
        "unknown, replaced or revoked token" => {
            "the token is unknown, replaced by a newer login, or revoked by a logout.".to_string()
        }
        "token in more than one place" => "a token came in more than one place.".to_string(),
        "cross-site request" => "the request came from another site's page.".to_string(),
        "misdirected request" => "this server does not answer to that name.".to_string(),
        "payload too large" => "the request's body is too large.".to_string(),
        "too many attempts" => format!("too many attempts: try again in {retry} s."),
        "busy" => format!("the server is busy checking passwords: try again in {retry} s."),
        other => format!("{other}."),
    }
}

/// `2026-12-04 17:30:00 UTC`.
fn utc(time: f64) -> String {
    // An expiry out of time's range (years past 9999) shows as 1970.
    let utc = time::OffsetDateTime::from_unix_timestamp(time.max(0.0) as i64)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    // A `Date` shows as `2026-12-04`.
    format!(
        "{} {:02}:{:02}:{:02} UTC",
        utc.date(),
        utc.hour(),
        utc.minute(),
        utc.second()
    )
}
