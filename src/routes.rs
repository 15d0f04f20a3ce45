//! Answers one request: the routes, matched by hand, and what each one does.

use std::io::Read;
use std::net::SocketAddr;

use tiny_http::{Method, Request};

use crate::answer::Answer;
use crate::auth::{self, CredentialsInput, TokenInput};
use crate::cli::{self, Config};
use crate::users::{TokenProblem, Users};

/// The largest request body read, in bytes; a larger one is answered 413.
/// `server::listen` gives it to tiny_http as its body limit: a connection's
/// thread reads at most this much of a body, and closes the connection after
/// answering a larger one.
pub const BODY_LIMIT: usize = 8 * 1024;

const BASIC_CHALLENGE: &str = r#"Basic realm="token-server", charset="UTF-8""#;
const BEARER_CHALLENGE: &str = r#"Bearer realm="token-server""#;
const BEARER_INVALID_TOKEN: &str = r#"Bearer realm="token-server", error="invalid_token", error_description="unknown or replaced token""#;
const BEARER_EXPIRED_TOKEN: &str =
    r#"Bearer realm="token-server", error="invalid_token", error_description="token expired""#;
const BEARER_INVALID_REQUEST: &str = r#"Bearer realm="token-server", error="invalid_request""#;

/// Everything a request may read or change.
pub struct App {
    pub users: Users,
    /// The address the server listens on, for the usage page's curl lines.
    pub address: SocketAddr,
    /// What the usage page puts after `curl -u`: the real default credentials,
    /// or `NAME:PASSWORD` when users were given on the command line.
    pub example_credentials: String,
}

impl App {
    /// The state of a server started with `config`, listening on `address`.
    pub fn new(config: &Config, address: SocketAddr) -> App {
        let example_credentials = if config.default_users {
            let (name, password) = cli::DEFAULT_USER;
            format!("{name}:{password}")
        } else {
            "NAME:PASSWORD".to_string()
        };
        App {
            users: Users::new(config.users.clone(), f64::from(config.ttl_seconds)),
            address,
            example_credentials,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    Usage,
    Index,
    Login,
    Test,
    Logout,
}

/// Answers `request` at time `now` (Unix seconds): the handler, the only
/// function the server loop calls. It returns the answer rather than sending
/// it (tiny_http's `Request::respond` sends it), so tests call it with
/// `tiny_http::TestRequest` and any clock, and look at what it returns.
pub fn handle(request: &mut Request, app: &mut App, now: f64) -> Answer {
    let route = match path_of(request.url()) {
        "/" => Route::Usage,
        "/index" => Route::Index,
        "/login" => Route::Login,
        "/test" => Route::Test,
        "/logout" => Route::Logout,
        _ => return Answer::new(404, "not found"),
    };
    let answer = answer_route(route, request, app, now);
    match route {
        // A login answer holds a token, and a token check must always reach the
        // server: no cache may keep any of them.
        Route::Login | Route::Test | Route::Logout => {
            answer.with_header("Cache-Control", "no-store")
        }
        Route::Usage | Route::Index => answer,
    }
}

fn answer_route(route: Route, request: &mut Request, app: &mut App, now: f64) -> Answer {
    if !matches!(request.method(), Method::Get | Method::Head | Method::Post) {
        return Answer::new(405, "method not allowed").with_header("Allow", "GET, HEAD, POST");
    }
    match route {
        Route::Usage => usage(request, app),
        Route::Index => Answer::new(200, "Hello"),
        Route::Login => login(request, &mut app.users, now),
        Route::Test => test(request, &app.users, now),
        Route::Logout => logout(request, &mut app.users),
    }
}

fn login(request: &mut Request, users: &mut Users, now: f64) -> Answer {
    let refused = |reason| {
        Answer::new(401, "error")
            .with_header("WWW-Authenticate", BASIC_CHALLENGE)
            .because(reason)
    };
    let form = match read_form(request) {
        Ok(form) => form,
        Err(answer) => return answer,
    };
    let credentials = match auth::find_credentials(&authorizations(request), &form) {
        CredentialsInput::One(credentials) => credentials,
        CredentialsInput::Missing => return refused("no credentials"),
        CredentialsInput::Malformed => return refused("malformed credentials"),
        CredentialsInput::Several => return refused("credentials in more than one place"),
    };
    match users.login(&credentials.user, &credentials.password, now) {
        // RFC 6749 5.1: an answer that carries a token must not be cached.
        Some(token) => Answer::new(200, &token)
            .with_header("Pragma", "no-cache")
            .for_user(&credentials.user),
        // Unknown user and wrong password get the same answer, so the answer
        // does not tell which user names exist.
        None => refused("wrong user or password"),
    }
}

/// `/test`: the tutorial's `test()`, kept under its name so that the two read
/// side by side (the `#[test]` functions in `routes/tests.rs` are tests of the
/// handler, a Rust attribute with the same word).
fn test(request: &mut Request, users: &Users, now: f64) -> Answer {
    let token = match token_of(request) {
        Ok(token) => token,
        Err(answer) => return answer,
    };
    match users.check(&token, now) {
        Ok(user) => Answer::new(200, "data").for_user(user),
        Err(problem) => token_refused(problem, &token),
    }
}

fn logout(request: &mut Request, users: &mut Users) -> Answer {
    let token = match token_of(request) {
        Ok(token) => token,
        Err(answer) => return answer,
    };
    match users.logout(&token) {
        Ok(user) => Answer::new(200, "ok").for_user(&user),
        Err(problem) => token_refused(problem, &token),
    }
}

/// The one token a `/test` or `/logout` request carries; `Err` holds the
/// answer when it carries none, or more than one.
fn token_of(request: &mut Request) -> Result<String, Answer> {
    let form = read_form(request)?;
    let query = auth::decode_fields(query_of(request.url()).as_bytes());
    match auth::find_token(&authorizations(request), &query, &form) {
        TokenInput::One(token) => Ok(token),
        TokenInput::Missing => Err(Answer::new(401, "error")
            .with_header("WWW-Authenticate", BEARER_CHALLENGE)
            .because("no token")),
        TokenInput::Several => Err(Answer::new(400, "error")
            .with_header("WWW-Authenticate", BEARER_INVALID_REQUEST)
            .because("token in more than one place")),
    }
}

fn token_refused(problem: TokenProblem, token: &str) -> Answer {
    match problem {
        // An empty token is most often an empty shell variable
        // (`?token=$TOKEN`); the log says so.
        TokenProblem::Unknown if token.is_empty() => Answer::new(401, "error")
            .with_header("WWW-Authenticate", BEARER_INVALID_TOKEN)
            .because("empty token"),
        TokenProblem::Unknown => Answer::new(401, "error")
            .with_header("WWW-Authenticate", BEARER_INVALID_TOKEN)
            .because("unknown or replaced token"),
        TokenProblem::Expired => Answer::new(401, "error")
            .with_header("WWW-Authenticate", BEARER_EXPIRED_TOKEN)
            .because("token expired"),
    }
}

/// The values of every Authorization header (a client may send several).
fn authorizations(request: &Request) -> Vec<&str> {
    request
        .headers()
        .iter()
        .filter(|header| header.field.equiv("Authorization"))
        .map(|header| header.value.as_str())
        .collect()
}

/// Reads the body, at most `BODY_LIMIT` bytes, and decodes it as a form when it
/// is a POST of `application/x-www-form-urlencoded`; any other body counts as no
/// form at all. `Err` holds the answer to give instead: 413. (tiny_http has read
/// the body already, so reading it does not fail; should it, the answer is 400
/// rather than a form taken for empty.)
fn read_form(request: &mut Request) -> Result<Vec<(String, String)>, Answer> {
    let too_large = Answer::new(413, "payload too large");
    if request
        .body_length()
        .is_some_and(|length| length > BODY_LIMIT)
    {
        return Err(too_large);
    }
    let mut body = Vec::new();
    let limit = BODY_LIMIT as u64 + 1;
    if request
        .as_reader()
        .take(limit)
        .read_to_end(&mut body)
        .is_err()
    {
        return Err(Answer::new(400, "bad request").because("unreadable body"));
    }
    if body.len() > BODY_LIMIT {
        return Err(too_large);
    }
    let is_form = request.headers().iter().any(|header| {
        let media_type = header.value.as_str().split(';').next().unwrap_or("");
        header.field.equiv("Content-Type")
            && media_type
                .trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
    });
    if *request.method() != Method::Post || !is_form {
        return Ok(Vec::new());
    }
    Ok(auth::decode_fields(&body))
}

fn usage(request: &Request, app: &App) -> Answer {
    // Behind `--host 0.0.0.0` the listening address is no address a client can
    // use; the Host header says which one this client did use.
    let host = request
        .headers()
        .iter()
        .find(|header| header.field.equiv("Host"))
        .map(|header| header.value.as_str().to_string());
    let base = match host {
        Some(host) if app.address.ip().is_unspecified() && !host.is_empty() => {
            format!("http://{host}")
        }
        _ => format!("http://{}", app.address),
    };
    let credentials = &app.example_credentials;
    let text = format!(
        "token-server: hands out login tokens and checks them.

  /index    answers Hello
  /login    HTTP Basic credentials in, a new token out (it replaces your last one)
  /test     ?token=TOKEN answers data, or error when the token is not your newest or has expired
  /logout   ?token=TOKEN answers ok, and the token stops working

Every route takes GET, HEAD and POST. A token may also come as `Authorization: Bearer TOKEN`.
Try it (-f: a refused login fails the command instead of setting TOKEN to `error`):

  TOKEN=$(curl -sf -u {credentials} {base}/login)
  curl -s \"{base}/test?token=$TOKEN\"
  curl -s \"{base}/logout?token=$TOKEN\"
"
    );
    // The one page written for people rather than for `$(...)`: it ends with a
    // newline, so that a terminal's prompt starts on a line of its own.
    Answer::new(200, &text)
}

/// The path of a request target, without its query: `/test?token=x` gives `/test`.
pub fn path_of(url: &str) -> &str {
    url.split_once('?').map_or(url, |(path, _query)| path)
}

/// The query of a request target, without the `?`; empty when there is none.
pub fn query_of(url: &str) -> &str {
    url.split_once('?').map_or("", |(_path, query)| query)
}

#[cfg(test)]
mod tests;
