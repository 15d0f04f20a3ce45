//! Answers one request: the routes, matched by hand, and what each one does.

use std::borrow::Cow;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use tiny_http::{BodyTooLarge, Method, Request};

use crate::answer::{Answer, Detail};
use crate::answer_forms;
use crate::answer_forms::accept::{self, Preference};
use crate::auth::{self, CredentialsInput, TokenInput};
use crate::cli::{self, Config};
use crate::guarding::budgets::{Budgets, Spent};
use crate::guarding::other_sites;
use crate::https::CertificateSource;
use crate::log::line::quoted;
use crate::pages::{self, Usage};
use crate::passwords::Hash;
use crate::passwords::pool::Check;
use crate::token;
use crate::users::hash_all;
use crate::users::{TokenProblem, Users};

/// The largest request body read, in bytes. `server::listen` gives it to
/// tiny_http as its body limit: a connection's thread reads at most this much
/// of a body, `Request::body` says when a body was larger, and the connection
/// is closed after its answer, 413 here.
pub(crate) const BODY_LIMIT: usize = 8 * 1024;

const BASIC_CHALLENGE: &str = r#"Basic realm="token-server", charset="UTF-8""#;
/// For a login whose credentials came in a body (the page's form, JSON): a
/// scheme no browser answers with a login box of its own.
const FORM_CHALLENGE: &str = r#"Form realm="token-server""#;
const BEARER_CHALLENGE: &str = r#"Bearer realm="token-server""#;
const BEARER_INVALID_TOKEN: &str = r#"Bearer realm="token-server", error="invalid_token", error_description="unknown or replaced token""#;
const BEARER_EXPIRED_TOKEN: &str =
    r#"Bearer realm="token-server", error="invalid_token", error_description="token expired""#;
const BEARER_INVALID_REQUEST: &str = r#"Bearer realm="token-server", error="invalid_request""#;

/// Everything a request may read or change.
pub struct App {
    pub users: Users,
    /// The failed attempts of each client address, and what is left of
    /// their budgets.
    pub budgets: Budgets,
    /// The address the server listens on, for the usage page's curl lines.
    pub address: SocketAddr,
    /// The tutorial's user, for the usage page's curl lines, when it is
    /// this server's (no users were given on the command line).
    pub default_user: Option<(&'static str, &'static str)>,
    /// `http`, or `https` with a `--tls-` option.
    pub scheme: &'static str,
    /// How long a token lives, for the answers that say so.
    pub ttl_seconds: u32,
    /// Password checks handed to the hashing pool whose verdict has not come
    /// back yet, and how many there may be: the pool's threads, and 64
    /// waiting for each (past that, a login is answered 503 `busy`).
    pub checks_in_flight: usize,
    pub max_checks_in_flight: usize,
    /// The id of the next password check handed over.
    next_check: u64,
    /// `--allowed-host`: the names besides localhost and loopback addresses
    /// that may reach the token routes (see `other_sites`).
    pub allowed_hosts: Vec<String>,
    /// How the usage page's curl lines start: `curl`, or `curl --cacert FILE`
    /// for a self-signed certificate (a certificate from a real CA needs
    /// nothing).
    pub curl: String,
    /// `--tls-self-signed FILE`: FILE, for the page's lines on trusting it.
    pub certificate: Option<String>,
}

impl App {
    /// The state of a server started with `config`, listening on `address`;
    /// `config`'s passwords are hashed here (for tests and tools: the server
    /// hashes them at start and calls `with_users`).
    pub fn new(config: &Config, address: SocketAddr) -> App {
        App::with_users(config, hash_all(config.users.clone()), address)
    }

    /// The state of a server started with `config`, listening on `address`,
    /// with `users` (name, password hash).
    pub fn with_users(
        config: &Config,
        users: Vec<(String, Arc<Hash>)>,
        address: SocketAddr,
    ) -> App {
        let (scheme, curl) = match &config.tls {
            None => ("http", "curl".to_string()),
            Some(CertificateSource::Files { .. }) => ("https", "curl".to_string()),
            Some(CertificateSource::SelfSigned(path)) => {
                ("https", format!("curl --cacert {}", path.display()))
            }
        };
        App {
            users: Users::with_hashes(users, f64::from(config.ttl_seconds)),
            budgets: Budgets::new(config.max_failures),
            address,
            default_user: config.default_users.then_some(cli::DEFAULT_USER),
            scheme,
            ttl_seconds: config.ttl_seconds,
            certificate: match &config.tls {
                Some(CertificateSource::SelfSigned(path)) => Some(path.display().to_string()),
                _ => None,
            },
            allowed_hosts: config.allowed_hosts.clone(),
            curl,
            checks_in_flight: 0,
            max_checks_in_flight: config.hash_threads.max(1) * (1 + CHECKS_WAITING_PER_THREAD),
            next_check: 0,
        }
    }
}

/// How many password checks may wait for each hashing thread: a class of
/// students logging in at once waits a second or two, it is not refused.
pub(crate) const CHECKS_WAITING_PER_THREAD: usize = 64;

/// What `handle` made of a request: its answer, or, for a login, a password
/// check to run off the request loop, and what to do with its verdict.
pub(crate) enum Handled {
    Answer(Answer),
    Check(PasswordCheck),
}

/// A login's password, to check against a hash on the hashing pool
/// (`check`), and the login it decides (`login`): give both to
/// `finish_login` with the verdict.
pub(crate) struct PasswordCheck {
    pub check: Check,
    pub login: PendingLogin,
}

/// What a login waiting for its password check needs to be answered.
pub(crate) struct PendingLogin {
    name: String,
    client: IpAddr,
    /// The hash checked: the user's, or the dummy for a name that does
    /// not exist.
    hash: Arc<Hash>,
    exists: bool,
    /// The challenge a refusal carries.
    challenge: &'static str,
    /// The form of answer the client prefers.
    preference: Preference,
}

/// Answers `request` at time `now` (Unix seconds): the only function the
/// request loop calls. It returns the answer rather than sending it (the loop
/// does), so tests call it with `tiny_http::TestRequest` and any clock, and
/// look at what it returns. A login's password is checked off the loop: its
/// answer is `finish_login`'s, once the check's verdict is in.
pub(crate) fn handle(request: &Request, app: &mut App, now: f64) -> Handled {
    // The path, without the query, matched exactly: `/login/` is not `/login`.
    let path = path_of(request.url());
    let method_allowed = matches!(request.method(), Method::Get | Method::Head | Method::Post);
    let answer = match path {
        // `CONNECT host:port` names no path: a method RFC 9110 defines, as
        // the others.
        _ if request.method() == Method::Connect => method_not_allowed(),
        "/login" | "/test" | "/logout" => return token_route(path, request, app, now),
        "/" | "/index" | "/favicon.ico" if !method_allowed => method_not_allowed(),
        // The usage page, with curl lines for this server's address.
        "/" => usage(request, app),
        // `Hello`, the tutorial's index().
        "/index" => Answer::new(200, "Hello"),
        // A browser asks for it on every visit: nothing, rather than a 404.
        "/favicon.ico" => Answer::new(204, ""),
        _ => Answer::new(404, "not found"),
    };
    Handled::Answer(answer)
}

/// `/login`, `/test` and `/logout`: no cache may keep their answers, which
/// hold a token or say whether one is valid (RFC 6749 5.1); another site's
/// page and a name this server does not answer to are refused first.
fn token_route(path: &str, request: &Request, app: &mut App, now: f64) -> Handled {
    let method_allowed = matches!(request.method(), Method::Get | Method::Head | Method::Post);
    let handled = if !method_allowed {
        Handled::Answer(method_not_allowed())
    } else if let Some(refused) = from_another_site(request, app) {
        Handled::Answer(refused)
    } else {
        match path {
            // Credentials in, a new token out (it replaces the user's last one).
            "/login" => login(request, app, now),
            // `data` for the user's current, unexpired token, else `error`.
            "/test" => Handled::Answer(test(request, app, now)),
            // `ok`, and the token stops working.
            _ => Handled::Answer(logout(request, app, now)),
        }
    };
    match handled {
        Handled::Answer(answer) => {
            let preference = accept::preference(header_values(request, "Accept"));
            // The page after a check offers to log its token out.
            let token = match preference {
                Preference::Html => token_of(request).ok(),
                _ => None,
            };
            let answer = answer_forms::render(answer, path, preference, token.as_deref());
            Handled::Answer(with_token_route_headers(answer))
        }
        check => check,
    }
}

fn with_token_route_headers(answer: Answer) -> Answer {
    answer
        .with_header("Cache-Control", "no-store")
        .with_headers_of_a_page()
}

/// Answers a login whose password check came back: `matched` is its
/// verdict. A token only for a user who exists and still has the hash that
/// was checked (a reload under way may have changed it).
pub(crate) fn finish_login(login: PendingLogin, matched: bool, app: &mut App, now: f64) -> Answer {
    app.checks_in_flight = app.checks_in_flight.saturating_sub(1);
    let refused = |reason: &'static str| {
        Answer::new(401, "error")
            .with_header("WWW-Authenticate", login.challenge)
            .because(reason)
    };
    let answer = if !(matched && login.exists) {
        // Unknown user and wrong password get the same answer, so the answer
        // does not tell which user names exist.
        refused("wrong user or password")
    } else if !app.users.still_has(&login.name, &login.hash) {
        refused("the user's password changed while it was checked")
    } else {
        match app.users.issue_token(&login.name, now) {
            Some(token) => {
                app.budgets
                    .login_check_passed(login.client, &login.name, now);
                // RFC 6749 5.1: an answer that carries a token must not be cached.
                Answer::new(200, token)
                    .with_header("Pragma", "no-cache")
                    .for_user(&login.name)
                    .with_detail(Detail::LoggedIn {
                        expires_in: app.ttl_seconds,
                    })
            }
            None => refused("the user is gone"),
        }
    };
    let answer = answer_forms::render(answer, "/login", login.preference, None);
    with_token_route_headers(answer)
}

/// `handle`, with a login's password checked here, on this thread: for
/// tests and tools (the server checks on its hashing pool).
pub fn handle_here(request: &Request, app: &mut App, now: f64) -> Answer {
    match handle(request, app, now) {
        Handled::Answer(answer) => answer,
        Handled::Check(PasswordCheck { check, login }) => {
            let matched = check.hash.verify(check.password.as_bytes());
            finish_login(login, matched, app, now)
        }
    }
}

fn method_not_allowed() -> Answer {
    Answer::new(405, "method not allowed").with_header("Allow", "GET, HEAD, POST")
}

/// A token route's answer to a request that another site's page sent (403),
/// or that came by a name this server does not answer to (421): see
/// `other_sites`. `None`: it may be served.
fn from_another_site(request: &Request, app: &App) -> Option<Answer> {
    let host = request.header("Host");
    let cross_site = other_sites::is_cross_site(
        request.header("Sec-Fetch-Site"),
        request.header("Origin"),
        app.scheme,
        host,
    );
    if cross_site {
        return Some(Answer::new(403, "cross-site request").because("cross-site request"));
    }
    if !other_sites::host_allowed(host, app.address.ip(), &app.allowed_hosts) {
        let host = host.unwrap_or("");
        return Some(Answer::new(421, "misdirected request").because(format!(
            "Host {} is not this server's: --allowed-host NAME admits a name",
            quoted(host)
        )));
    }
    None
}

fn login(request: &Request, app: &mut App, now: f64) -> Handled {
    // Credentials that came in a body are challenged with `Form`: a browser
    // answers `Basic` with a login box of its own.
    let challenge = if is_form(request) || is_json(request) {
        FORM_CHALLENGE
    } else {
        BASIC_CHALLENGE
    };
    let refused = |reason: Cow<'static, str>| {
        Answer::new(401, "error")
            .with_header("WWW-Authenticate", challenge)
            .because(reason)
    };
    // 1. Where the credentials are: exactly one place (Basic, a form, JSON).
    //    The budgets come before the password is looked at, so a 429 tells
    //    nothing about it; past the address's budget nothing else counts.
    let client = request.remote_addr().ip();
    let address_budget = app.budgets.check_logins(client, now);
    let form = match (form_of(request), &address_budget) {
        (Ok(form), _) => form,
        (Err(_), Err(spent)) => return Handled::Answer(too_many_attempts(spent.clone())),
        (Err(too_large), Ok(())) => return Handled::Answer(too_large),
    };
    let input = auth::find_credentials(authorizations(request), form, json_of(request));
    if let Err(spent) = &address_budget
        && !matches!(input, CredentialsInput::One(_))
    {
        return Handled::Answer(too_many_attempts(spent.clone()));
    }
    let credentials = match input {
        CredentialsInput::One(credentials) => credentials,
        // Most often the first half of a round trip: a browser, wget or
        // urllib sends no credentials until this 401's challenge asks.
        CredentialsInput::Missing => {
            return Handled::Answer(refused(match unread_body_type(request) {
                None => Cow::Borrowed("no credentials: challenge sent"),
                Some(media_type) => Cow::Owned(format!(
                    "no credentials: challenge sent; the body ({media_type}) is not read: only Basic, a form or JSON"
                )),
            }));
        }
        CredentialsInput::Malformed => {
            return Handled::Answer(refused("malformed credentials".into()));
        }
        CredentialsInput::Several => {
            return Handled::Answer(refused("credentials in more than one place".into()));
        }
    };
    // 2. The name's budgets, the same for a name that exists and one that
    //    does not; a 429 says when every budget that refused lets an attempt
    //    through (the longest wait).
    let shown = shown_name(app, credentials.user());
    let spent = [
        address_budget.err(),
        app.budgets
            .check_login(client, credentials.user(), &shown, now)
            .err(),
        app.budgets
            .check_unknown(client, credentials.user(), &shown, now)
            .err(),
    ]
    .into_iter()
    .flatten()
    .max_by_key(|spent| spent.retry_after);
    if let Some(spent) = spent {
        return Handled::Answer(too_many_attempts(spent));
    }
    // 3. The hashing pool's queue is full: refused before any hash is computed.
    if app.checks_in_flight >= app.max_checks_in_flight {
        return Handled::Answer(
            Answer::new(503, "busy")
                .with_header("Retry-After", "1")
                .because("busy: too many password checks waiting"),
        );
    }
    // 4. The check, handed to the pool (`finish_login` answers its verdict).
    //    Counted as a failure until the verdict comes back (a success gives
    //    it back), so that guesses sent all at once cannot pass a budget.
    let name = credentials.user().to_string();
    app.budgets.login_failed(client, &name, now);
    app.checks_in_flight += 1;
    app.next_check += 1;
    let (hash, exists) = app.users.hash_to_check(&name);
    let check = Check {
        id: app.next_check,
        password: credentials.into_password(),
        hash: Arc::clone(&hash),
    };
    let login = PendingLogin {
        name,
        client,
        hash,
        exists,
        challenge,
        preference: accept::preference(header_values(request, "Accept")),
    };
    Handled::Check(PasswordCheck { check, login })
}

/// A user name as the log shows it: quoted (see `log::line::quoted`) when the
/// user exists, else `an unknown name`, so that a password typed into the
/// name field never reaches the log.
fn shown_name(app: &App, name: &str) -> String {
    if app.users.has(name) {
        quoted(name).into_owned()
    } else {
        "an unknown name".to_string()
    }
}

/// Past a budget (see `guarding::budgets`): 429 with `Retry-After` (RFC 6585 4).
fn too_many_attempts(spent: Spent) -> Answer {
    Answer::new(429, "too many attempts")
        .with_header("Retry-After", spent.retry_after.to_string())
        .because(spent.reason)
}

/// `/test`: the tutorial's `test()`, kept under its name so that the two read
/// side by side (the `#[test]` functions in `routes/tests.rs` are tests of the
/// handler, a Rust attribute with the same word). Its checks, in order:
fn test(request: &Request, app: &mut App, now: f64) -> Answer {
    // 1. Past the client's budget of failed checks: 429, before the token
    //    is looked at.
    let client = request.remote_addr().ip();
    if let Err(spent) = app.budgets.check_tokens(client, now) {
        return too_many_attempts(spent);
    }
    // 2. Exactly one token, from the header, the query or the form.
    // 3. The user's current token (the tutorial's -1), 4. not expired (its 0).
    let answer = match token_of(request) {
        Err(refused) => refused,
        Ok(token) => match app.users.check_until(&token, now) {
            Ok((user, expires_at)) => Answer::new(200, "data")
                .for_user(user)
                .with_detail(Detail::Valid { expires_at }),
            Err(problem) => token_refused(problem, &token),
        },
    };
    // 5. A 401 counts against the client's budget.
    if answer.status == 401 {
        app.budgets.token_check_failed(client, now);
    }
    answer
}

/// `/logout`: the same checks as `/test` (but an expired current token is
/// still revoked), then the token stops working.
fn logout(request: &Request, app: &mut App, now: f64) -> Answer {
    let client = request.remote_addr().ip();
    if let Err(spent) = app.budgets.check_tokens(client, now) {
        return too_many_attempts(spent);
    }
    let answer = match token_of(request) {
        Err(refused) => refused,
        Ok(token) => match app.users.logout(&token) {
            Ok(user) => Answer::new(200, "ok")
                .for_user(&user)
                .with_detail(Detail::Revoked),
            Err(problem) => token_refused(problem, &token),
        },
    };
    if answer.status == 401 {
        app.budgets.token_check_failed(client, now);
    }
    answer
}

/// The one token a `/test` or `/logout` request carries; `Err` holds the
/// answer when it carries none, or more than one.
fn token_of(request: &Request) -> Result<Cow<'_, str>, Answer> {
    let form = form_of(request)?;
    let query = query_of(request.url()).as_bytes();
    match auth::find_token(authorizations(request), query, form) {
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
            .because("token expired")
            .with_detail(Detail::Expired {
                at: token::decode(token).map_or(0.0, |claims| claims.expires_at),
            }),
    }
}

/// The values of every Authorization header (a client may send several).
fn authorizations(request: &Request) -> impl Iterator<Item = &str> {
    header_values(request, "Authorization")
}

/// The values of every header field named `wanted`, in any case.
fn header_values<'r>(request: &'r Request, wanted: &'static str) -> impl Iterator<Item = &'r str> {
    request
        .headers()
        .filter(move |(name, _)| name.eq_ignore_ascii_case(wanted))
        .map(|(_, value)| value)
}

/// The media type of the body (`Content-Type` without its parameters);
/// `None` without a `Content-Type`.
fn media_type(request: &Request) -> Option<&str> {
    let content_type = request.header("Content-Type")?;
    Some(content_type.split(';').next().unwrap_or("").trim())
}

/// The form a POST of `application/x-www-form-urlencoded` carries, still
/// encoded; empty for any other request (a body of another type is not a
/// form). `Err` holds the answer to a body over `BODY_LIMIT`, which tiny_http
/// did not read: 413.
fn form_of(request: &Request) -> Result<&[u8], Answer> {
    let body = request
        .body()
        .map_err(|BodyTooLarge| Answer::new(413, "payload too large"))?;
    if is_form(request) { Ok(body) } else { Ok(b"") }
}

/// The body of a POST of `application/json` (a login's credentials, as
/// HTTPie and `fetch` send them); empty for any other request.
fn json_of(request: &Request) -> &[u8] {
    match request.body() {
        Ok(body) if is_json(request) => body,
        _ => b"",
    }
}

/// A POST of `application/json`.
fn is_json(request: &Request) -> bool {
    request.method() == Method::Post
        && media_type(request)
            .is_some_and(|media_type| media_type.eq_ignore_ascii_case("application/json"))
}

/// A POST of `application/x-www-form-urlencoded`: the one body read.
fn is_form(request: &Request) -> bool {
    request.method() == Method::Post
        && media_type(request).is_some_and(|media_type| {
            media_type.eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

/// The media type of a POST body that `form_of` did not read (JSON, say),
/// for the log: a client that sent its credentials that way learns why they
/// were not seen.
fn unread_body_type(request: &Request) -> Option<&str> {
    let body = request.body().ok()?;
    if request.method() != Method::Post || body.is_empty() || is_form(request) || is_json(request) {
        return None;
    }
    let Some(media_type) = media_type(request) else {
        return Some("no Content-Type");
    };
    // Only a plain `type/subtype` (letters, digits, `-.+_` and the like)
    // goes into the log as it came.
    let is_token = |part: &str| {
        !part.is_empty()
            && part
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&byte))
    };
    match media_type.split_once('/') {
        Some((kind, subtype)) if media_type.len() <= 64 && is_token(kind) && is_token(subtype) => {
            Some(media_type)
        }
        _ => Some("another type"),
    }
}

/// `/`: the usage page, as text, or as HTML for a browser; `Vary: Accept`
/// on both, so that no cache hands one kind of client the other's.
fn usage(request: &Request, app: &App) -> Answer {
    // Behind `--host 0.0.0.0`, the Host this client used, if it is plain.
    let address = tiny_http::address_for_client(app.address, request.header("Host"));
    let base = format!("{}://{address}", app.scheme);
    let usage = Usage {
        base: &base,
        default_user: app.default_user,
        curl: &app.curl,
        certificate: app.certificate.as_deref(),
    };
    let answer = if accept::preference(header_values(request, "Accept")) == Preference::Html {
        Answer::html(200, pages::html(&usage))
            .with_header("Content-Security-Policy", pages::CONTENT_SECURITY_POLICY)
            .with_headers_of_a_page()
    } else {
        Answer::new(200, pages::text(&usage))
    };
    answer.with_header("Vary", "Accept")
}

/// The path of a request target, without its query: `/test?token=x` gives `/test`.
pub(crate) fn path_of(url: &str) -> &str {
    url.split_once('?').map_or(url, |(path, _query)| path)
}

/// The query of a request target, without the `?`; empty when there is none.
pub(crate) fn query_of(url: &str) -> &str {
    url.split_once('?').map_or("", |(_path, query)| query)
}

#[cfg(test)]
mod tests;
