//! One test or more for every row of the spec's HTTP table, through
//! `tiny_http::TestRequest` and a fixed clock. Each asserts what the client
//! sees: the status, the exact body and the headers the spec names. They are
//! grouped by route, so that cargo names them `routes::tests::login::...`,
//! `routes::tests::slash_test::...`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use testkit::client::Reply;
use testkit::data::{MAGIGO_BASIC, TUTORIAL_TOKEN};
use tiny_http::{Method, TestRequest};

use super::*;
use crate::token;

/// Some instant in 2027, as Unix seconds.
const NOW: f64 = 1_800_000_000.0;
const FORM: &str = "application/x-www-form-urlencoded";

/// The challenges, as the spec writes them (not the code's constants, so
/// that a typo in those fails here).
mod spec {
    pub const BASIC_CHALLENGE: &str = r#"Basic realm="token-server", charset="UTF-8""#;
    pub const NO_TOKEN: &str = r#"Bearer realm="token-server""#;
    pub const UNKNOWN_TOKEN: &str = r#"Bearer realm="token-server", error="invalid_token", error_description="unknown or replaced token""#;
    pub const EXPIRED_TOKEN: &str =
        r#"Bearer realm="token-server", error="invalid_token", error_description="token expired""#;
    pub const SEVERAL_TOKENS: &str = r#"Bearer realm="token-server", error="invalid_request""#;
    pub const FORM_CHALLENGE: &str = r#"Form realm="token-server""#;
}

/// A server with the defaults (the tutorial's user, a two-hour ttl), as
/// `make run` starts it.
/// `/` and every route the pages list.
fn paths() -> Vec<&'static str> {
    let mut paths = vec!["/"];
    paths.extend(pages::ROUTES.map(|(path, _)| path));
    paths
}

fn app() -> App {
    App::new(&Config::default(), "127.0.0.1:5000".parse().unwrap())
}

/// A request to this server: its body read up to token-server's own
/// `BODY_LIMIT`, as `server::listen` sets it.
fn request() -> TestRequest {
    TestRequest::new().with_body_limit(BODY_LIMIT)
}

fn get(path: &str) -> TestRequest {
    request().with_method(Method::Get).with_path(path)
}

fn post_form(path: &str, body: impl Into<Vec<u8>>) -> TestRequest {
    request()
        .with_method(Method::Post)
        .with_path(path)
        .with_header("Content-Type", FORM)
        .with_body(body)
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

fn basic(user_colon_password: &str) -> String {
    testkit::data::basic(user_colon_password)
}

/// What a client would see of the answer to `request` at `now` (but the
/// fields tiny_http adds: `Date`, `Server`, `Content-Length`).
fn call_at(app: &mut App, request: TestRequest, now: f64) -> Reply {
    let response = handle_here(&request.into(), app, now).into_response();
    Reply {
        status: response.status(),
        headers: response
            .headers()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect(),
        body: String::from_utf8_lossy(response.body()).into_owned(),
    }
}

fn call(app: &mut App, request: TestRequest) -> Reply {
    call_at(app, request, NOW)
}

fn login(app: &mut App) -> String {
    let reply = call(
        app,
        get("/login").with_header("Authorization", MAGIGO_BASIC),
    );
    assert_eq!(reply.status, 200);
    reply.body
}

fn assert_plain_text(reply: &Reply) {
    assert_eq!(
        reply.header("Content-Type"),
        Some("text/plain; charset=utf-8")
    );
}

/// A refusal of `/login`, `/test` or `/logout`: `status`, the body `error`,
/// the challenge, never cached.
fn assert_refused(reply: &Reply, status: u16, challenge: &str) {
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (status, "error"),
        "{reply:?}"
    );
    assert_eq!(reply.header("WWW-Authenticate"), Some(challenge));
    assert_eq!(reply.header("Cache-Control"), Some("no-store"));
    assert_plain_text(reply);
}

fn assert_data(reply: &Reply) {
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (200, "data"),
        "{reply:?}"
    );
    assert_eq!(reply.header("Cache-Control"), Some("no-store"));
    assert_plain_text(reply);
}

mod usage_page {
    use super::*;

    #[test]
    fn lists_the_routes_with_the_real_address() {
        let mut app = app();
        let reply = call(&mut app, get("/"));
        assert_eq!(reply.status, 200);
        assert_plain_text(&reply);
        for route in ["/index", "/login", "/test", "/logout"] {
            assert!(
                reply.body.contains(route),
                "{route} missing:\n{}",
                reply.body
            );
        }
        assert!(
            reply
                .body
                .contains("TOKEN=$(curl -sf -u magigo:123456 http://127.0.0.1:5000/login)")
        );
        assert!(
            reply
                .body
                .contains("curl -s \"http://127.0.0.1:5000/test?token=$TOKEN\"")
        );
        assert!(reply.body.contains("Every route takes GET, HEAD and POST."));
        assert!(reply.body.ends_with("$TOKEN\"\n"), "{:?}", reply.body);
        assert_eq!(reply.header("Cache-Control"), None);
        assert_eq!(reply.header("Vary"), Some("Accept"));
    }

    /// What Chromium sends for a page.
    const BROWSER_ACCEPT: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8";

    #[test]
    fn a_browser_gets_the_html_page_with_the_three_forms() {
        let mut app = app();
        let reply = call(&mut app, get("/").with_header("Accept", BROWSER_ACCEPT));
        assert_eq!(reply.status, 200);
        assert_eq!(
            reply.header("Content-Type"),
            Some("text/html; charset=utf-8")
        );
        assert_eq!(
            reply.header("Content-Security-Policy"),
            Some(
                "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
            )
        );
        assert_eq!(reply.header("Vary"), Some("Accept"));
        assert_eq!(reply.header("Cache-Control"), None);
        let page = &reply.body;
        assert!(page.starts_with("<!DOCTYPE html>\n"), "{page}");
        for expected in [
            r#"<form method="post" action="/login">"#,
            r#"<input name="username""#,
            r#"<input name="password" type="password""#,
            r#"<form method="get" action="/test">"#,
            r#"<form method="post" action="/logout">"#,
            "TOKEN=$(curl -sf -u magigo:123456 http://127.0.0.1:5000/login)",
            "curl -s &quot;http://127.0.0.1:5000/test?token=$TOKEN&quot;",
        ] {
            assert!(page.contains(expected), "{expected} missing:\n{page}");
        }
        assert_eq!(page.matches(r#"<input name="token""#).count(), 2);
        assert!(!page.to_lowercase().contains("<script"), "{page}");
    }

    #[test]
    fn curl_and_clients_without_accept_get_the_text_page() {
        let mut app = app();
        let plain = call(&mut app, get("/"));
        for accept in ["*/*", "text/plain", "application/json, */*;q=0.5", ""] {
            let reply = call(&mut app, get("/").with_header("Accept", accept));
            assert_eq!(reply, plain, "Accept: {accept}");
        }
    }

    #[test]
    fn the_html_page_never_shows_a_host_header_of_markup() {
        let mut app = app();
        app.address = "0.0.0.0:5000".parse().unwrap();
        let reply = call(
            &mut app,
            get("/")
                .with_header("Accept", BROWSER_ACCEPT)
                .with_header("Host", "x\"<b>:5000"),
        );
        // Not a name a shell line can hold as it is: the listening
        // address stands in its place.
        assert!(reply.body.contains("http://0.0.0.0:5000/login"));
        assert!(!reply.body.contains("<b>"), "{}", reply.body);
    }

    #[test]
    fn the_html_page_names_no_password_when_users_were_given() {
        let config = Config {
            users: vec![("ann".into(), "secret".into())],
            default_users: false,
            ..Config::default()
        };
        let mut app = App::new(&config, "127.0.0.1:5000".parse().unwrap());
        let reply = call(&mut app, get("/").with_header("Accept", BROWSER_ACCEPT));
        assert!(reply.body.contains("-u NAME:PASSWORD "), "{}", reply.body);
        assert!(!reply.body.contains("magigo"));
        assert!(!reply.body.contains("secret"));
    }

    #[test]
    fn uses_the_host_header_when_listening_on_all_addresses() {
        let mut app = app();
        app.address = "0.0.0.0:5000".parse().unwrap();
        let reply = call(&mut app, get("/").with_header("Host", "192.0.2.7:5000"));
        assert!(
            reply.body.contains("http://192.0.2.7:5000/login"),
            "{}",
            reply.body
        );
    }

    #[test]
    fn ignores_the_host_header_when_listening_on_one_address() {
        let mut app = app();
        let reply = call(&mut app, get("/").with_header("Host", "evil.example"));
        assert!(!reply.body.contains("evil.example"));
        assert!(reply.body.contains("http://127.0.0.1:5000/login"));
    }

    #[test]
    fn says_https_and_which_certificate_to_trust() {
        let config = Config {
            tls: Some(CertificateSource::SelfSigned("cert.pem".into())),
            ..Config::default()
        };
        let mut app = App::new(&config, "127.0.0.1:5000".parse().unwrap());
        let reply = call(&mut app, get("/"));
        assert!(
            reply.body.contains(
                "TOKEN=$(curl --cacert cert.pem -sf -u magigo:123456 https://127.0.0.1:5000/login)"
            ),
            "{}",
            reply.body
        );
        assert!(
            reply
                .body
                .contains("curl --cacert cert.pem -s \"https://127.0.0.1:5000/test?token=$TOKEN\"")
        );
        // A browser's page says how to trust it, once.
        let page = call(&mut app, get("/").with_header("Accept", BROWSER_ACCEPT));
        assert!(
            page.body.contains(
                "<pre>certutil -d sql:$HOME/.pki/nssdb -A -t P,, -n token-server -i cert.pem</pre>"
            ),
            "{}",
            page.body
        );
    }

    #[test]
    fn names_no_password_when_users_were_given() {
        let config = Config {
            users: vec![("ann".into(), "secret".into())],
            default_users: false,
            ..Config::default()
        };
        let mut app = App::new(&config, "127.0.0.1:5000".parse().unwrap());
        let reply = call(&mut app, get("/"));
        assert!(
            reply.body.contains("curl -sf -u NAME:PASSWORD "),
            "{}",
            reply.body
        );
        assert!(!reply.body.contains("secret"));
    }
}

mod index {
    use super::*;

    #[test]
    fn says_hello() {
        let mut app = app();
        let reply = call(&mut app, get("/index"));
        assert_eq!((reply.status, reply.body.as_str()), (200, "Hello"));
        assert_plain_text(&reply);
        assert_eq!(reply.header("Cache-Control"), None);
    }

    #[test]
    fn with_a_query_and_by_post() {
        let mut app = app();
        assert_eq!(call(&mut app, get("/index?x=1")).body, "Hello");
        let reply = call(&mut app, post_form("/index", "a=b"));
        assert_eq!((reply.status, reply.body.as_str()), (200, "Hello"));
    }
}

mod login {
    use super::*;

    /// What the log says of a login answer, and the answer.
    fn logged(request: TestRequest) -> (u16, Option<String>) {
        let answer = handle_here(&request.into(), &mut app(), NOW);
        (answer.status, answer.log_note().map(str::to_string))
    }

    #[test]
    fn no_credentials_is_logged_as_the_challenge_it_is() {
        // A browser, wget or urllib asks first without, then answers the
        // challenge: that first 401 is not a failure, and the log says so.
        assert_eq!(
            logged(get("/login")),
            (401, Some("no credentials: challenge sent".into()))
        );
        assert_eq!(
            logged(post_form("/login", "")),
            (401, Some("no credentials: challenge sent".into()))
        );
        // A form without the fields was read all the same.
        assert_eq!(
            logged(post_form("/login", "user=magigo&pass=123456")),
            (401, Some("no credentials: challenge sent".into()))
        );
    }

    #[test]
    fn a_body_of_another_type_is_logged_as_not_read() {
        let untyped = request()
            .with_method(Method::Post)
            .with_path("/login")
            .with_body("magigo:123456");
        assert_eq!(
            logged(untyped).1.as_deref(),
            Some(
                "no credentials: challenge sent; the body (no Content-Type) is not read: only Basic, a form or JSON"
            )
        );
        // What the client wrote goes into the log only as a plain type/subtype.
        let odd = request()
            .with_method(Method::Post)
            .with_path("/login")
            .with_header("Content-Type", "text/x y (z)")
            .with_body("x");
        assert_eq!(
            logged(odd).1.as_deref(),
            Some(
                "no credentials: challenge sent; the body (another type) is not read: only Basic, a form or JSON"
            )
        );
    }

    #[test]
    fn basic_credentials_get_a_token() {
        let mut app = app();
        let reply = call(
            &mut app,
            get("/login").with_header("Authorization", &basic("magigo:123456")),
        );
        assert_eq!(reply.status, 200);
        assert_plain_text(&reply);
        assert_eq!(reply.header("Cache-Control"), Some("no-store"));
        assert_eq!(reply.header("Pragma"), Some("no-cache"));
        let claims = token::decode(&reply.body).unwrap();
        assert_eq!(claims.user, "magigo");
        assert_eq!(claims.expires_at, NOW + 7200.0);
    }

    #[test]
    fn the_scheme_name_in_any_case() {
        let mut app = app();
        let header = MAGIGO_BASIC.replace("Basic", "BASIC");
        let reply = call(
            &mut app,
            get("/login").with_header("Authorization", &header),
        );
        assert_eq!(reply.status, 200);
    }

    #[test]
    fn a_posted_form() {
        let mut app = app();
        let reply = call(
            &mut app,
            post_form("/login", "username=magigo&password=123456"),
        );
        assert_eq!(reply.status, 200);
        assert_eq!(token::decode(&reply.body).unwrap().user, "magigo");
    }

    #[test]
    fn basic_credentials_on_a_post() {
        let mut app = app();
        let request = request()
            .with_method(Method::Post)
            .with_path("/login")
            .with_header("Authorization", &basic("magigo:123456"));
        assert_eq!(call(&mut app, request).status, 200);
    }

    #[test]
    fn a_password_with_a_colon() {
        let mut app = app();
        app.users = Users::new(vec![("ann".into(), "a:b".into())], 60.0);
        let reply = call(
            &mut app,
            get("/login").with_header("Authorization", &basic("ann:a:b")),
        );
        assert_eq!(reply.status, 200);
    }

    #[test]
    fn no_credentials() {
        let mut app = app();
        assert_refused(&call(&mut app, get("/login")), 401, spec::BASIC_CHALLENGE);
    }

    #[test]
    fn malformed_credentials() {
        let not_utf8 = format!("Basic {}", STANDARD.encode(b"magigo:\xff\xfe"));
        for authorization in [
            "Basic !!!".to_string(),
            basic("magigo"),
            not_utf8,
            bearer("abc"),
        ] {
            let mut app = app();
            let reply = call(
                &mut app,
                get("/login").with_header("Authorization", &authorization),
            );
            assert_refused(&reply, 401, spec::BASIC_CHALLENGE);
        }
    }

    #[test]
    fn a_form_of_another_type_or_not_posted_is_not_read() {
        let mut app = app();
        let request = request()
            .with_method(Method::Post)
            .with_path("/login")
            .with_header("Content-Type", "text/plain")
            .with_body("username=magigo&password=123456");
        assert_refused(&call(&mut app, request), 401, spec::BASIC_CHALLENGE);
        let request = get("/login")
            .with_header("Content-Type", FORM)
            .with_body("username=magigo&password=123456");
        assert_refused(&call(&mut app, request), 401, spec::BASIC_CHALLENGE);
    }

    #[test]
    fn a_wrong_password_and_an_unknown_user_get_the_same_answer() {
        let mut app = app();
        let wrong_password = call(
            &mut app,
            get("/login").with_header("Authorization", &basic("magigo:654321")),
        );
        let unknown_user = call(
            &mut app,
            get("/login").with_header("Authorization", &basic("nobody:123456")),
        );
        assert_refused(&wrong_password, 401, spec::BASIC_CHALLENGE);
        assert_eq!(wrong_password, unknown_user);
    }

    #[test]
    fn the_same_credentials_in_the_header_and_the_form_are_one() {
        // A browser that kept what was typed into its own login box sends
        // them with the form's.
        let mut app = app();
        let request = post_form("/login", "username=magigo&password=123456")
            .with_header("Authorization", &basic("magigo:123456"));
        assert_eq!(call(&mut app, request).status, 200);
    }

    #[test]
    fn different_credentials_in_the_header_and_the_form_get_the_form_challenge() {
        let mut app = app();
        let request = post_form("/login", "username=magigo&password=123456")
            .with_header("Authorization", &basic("magigo:wrong"));
        let answer = handle_here(&request.into(), &mut app, NOW);
        assert_eq!(
            answer.log_note(),
            Some("credentials in more than one place")
        );
        let request = post_form("/login", "username=magigo&password=123456")
            .with_header("Authorization", &basic("magigo:wrong"));
        assert_refused(&call(&mut app, request), 401, spec::FORM_CHALLENGE);
    }
}

mod slash_test {
    use super::*;

    #[test]
    fn the_current_token_answers_data() {
        let mut app = app();
        let token = login(&mut app);
        assert_data(&call(&mut app, get(&format!("/test?token={token}"))));
    }

    #[test]
    fn a_token_in_a_bearer_header() {
        let mut app = app();
        let token = login(&mut app);
        let request = get("/test").with_header("Authorization", &bearer(&token));
        assert_data(&call(&mut app, request));
        let lowercase = format!("bearer {token}");
        let request = get("/test").with_header("Authorization", &lowercase);
        assert_data(&call(&mut app, request));
    }

    #[test]
    fn a_token_in_a_posted_form() {
        let mut app = app();
        let token = login(&mut app);
        assert_data(&call(
            &mut app,
            post_form("/test", format!("token={token}")),
        ));
    }

    #[test]
    fn a_token_under_every_name_the_spec_gives() {
        for name in auth::TOKEN_FIELDS {
            let mut app = app();
            let token = login(&mut app);
            let url = format!("/test?{name}={token}");
            assert_data(&call(&mut app, get(&url)));
            // The log shows it as stars.
            let logged = crate::log::line::masked_url(&url);
            assert!(!logged.contains(&token), "{logged}");
        }
    }

    /// A token holding a `+`: a user named `~~~` makes tokens that start `fn5+`.
    fn app_and_plus_token() -> (App, String) {
        let mut app = app();
        app.users = Users::new(vec![("~~~".into(), "x".into())], 60.0);
        let request = get("/login").with_header("Authorization", &basic("~~~:x"));
        let token = call(&mut app, request).body;
        assert!(token.starts_with("fn5+"), "{token}");
        (app, token)
    }

    #[test]
    fn a_token_with_a_plus_pasted_raw_into_the_url() {
        let (mut app, token) = app_and_plus_token();
        let raw = format!("/test?token={token}");
        assert_data(&call(&mut app, get(&raw)));
        let encoded = format!("/test?token={}", token.replace('+', "%2B"));
        assert_data(&call(&mut app, get(&encoded)));
    }

    #[test]
    fn a_token_with_a_plus_pasted_raw_into_a_form() {
        let (mut app, token) = app_and_plus_token();
        let request = post_form("/test", format!("access_token={token}"));
        assert_data(&call(&mut app, request));
    }

    #[test]
    fn a_basic_header_is_not_a_token() {
        // `curl -u magigo:123456 "/test?token=..."` sends both; only the query is a token.
        let mut app = app();
        let token = login(&mut app);
        let request = get(&format!("/test?token={token}"))
            .with_header("Authorization", &basic("magigo:123456"));
        assert_data(&call(&mut app, request));
    }

    #[test]
    fn no_token() {
        let mut app = app();
        assert_refused(&call(&mut app, get("/test")), 401, spec::NO_TOKEN);
        assert_refused(&call(&mut app, get("/test?other=1")), 401, spec::NO_TOKEN);
    }

    #[test]
    fn a_token_never_issued() {
        let mut app = app();
        let never_issued = token::encode("magigo", 0.5, NOW + 100.0);
        let reply = call(&mut app, get(&format!("/test?token={never_issued}")));
        assert_refused(&reply, 401, spec::UNKNOWN_TOKEN);
    }

    #[test]
    fn a_replaced_token() {
        let mut app = app();
        let first = login(&mut app);
        let second = login(&mut app);
        let reply = call(&mut app, get(&format!("/test?token={first}")));
        assert_refused(&reply, 401, spec::UNKNOWN_TOKEN);
        assert_data(&call(&mut app, get(&format!("/test?token={second}"))));
    }

    #[test]
    fn a_revoked_token() {
        let mut app = app();
        let token = login(&mut app);
        let reply = call(&mut app, get(&format!("/logout?token={token}")));
        assert_eq!(reply.status, 200);
        let reply = call(&mut app, get(&format!("/test?token={token}")));
        assert_refused(&reply, 401, spec::UNKNOWN_TOKEN);
    }

    #[test]
    fn undecodable_tokens() {
        let mut app = app();
        login(&mut app);
        let long = "A".repeat(6000);
        for token in ["", "%%%", "bm90aGluZw==", "%FF%00", long.as_str()] {
            let reply = call(&mut app, get(&format!("/test?token={token}")));
            assert_refused(&reply, 401, spec::UNKNOWN_TOKEN);
        }
        let reply = call(
            &mut app,
            get("/test").with_header("Authorization", "Bearer"),
        );
        assert_refused(&reply, 401, spec::UNKNOWN_TOKEN);
    }

    #[test]
    fn the_tutorial_token_expires_by_the_tutorial_clock() {
        let mut app = app();
        app.users.set_current_token("magigo", TUTORIAL_TOKEN);
        let path = format!("/test?token={TUTORIAL_TOKEN}");
        assert_data(&call_at(&mut app, get(&path), 1472450500.0));
        let reply = call_at(&mut app, get(&path), 1472450501.0);
        assert_refused(&reply, 401, spec::EXPIRED_TOKEN);
    }

    #[test]
    fn an_issued_token_expires_after_the_ttl() {
        let mut app = app();
        let token = login(&mut app);
        let path = format!("/test?token={token}");
        assert_data(&call_at(&mut app, get(&path), NOW + 7200.0));
        let reply = call_at(&mut app, get(&path), NOW + 7201.0);
        assert_refused(&reply, 401, spec::EXPIRED_TOKEN);
    }

    #[test]
    fn a_token_in_more_than_one_place() {
        let mut app = app();
        let token = login(&mut app);
        let in_query_and_header =
            get(&format!("/test?token={token}")).with_header("Authorization", &bearer(&token));
        let twice_in_query = get(&format!("/test?token={token}&access_token={token}"));
        let in_query_and_form =
            post_form(&format!("/test?token={token}"), format!("token={token}"));
        for request in [in_query_and_header, twice_in_query, in_query_and_form] {
            assert_refused(&call(&mut app, request), 400, spec::SEVERAL_TOKENS);
        }
    }
}

mod too_many_attempts {
    use super::*;

    fn from(request: TestRequest, address: &str) -> TestRequest {
        request.with_remote_addr(address.parse().unwrap())
    }

    fn wrong_password() -> TestRequest {
        get("/login").with_header("Authorization", &basic("magigo:wrong"))
    }

    fn right_password() -> TestRequest {
        get("/login").with_header("Authorization", &basic("magigo:123456"))
    }

    /// 429 `too many attempts`, `Retry-After: retry_after`, never cached,
    /// and the budget that ran out in the log.
    fn assert_too_many(reply: &Reply, retry_after: &str) {
        assert_eq!(
            (reply.status, reply.body.as_str()),
            (429, "too many attempts"),
            "{reply:?}"
        );
        assert_eq!(reply.header("Retry-After"), Some(retry_after));
        assert_eq!(reply.header("Cache-Control"), Some("no-store"));
        assert_plain_text(reply);
    }

    #[test]
    fn the_sixth_wrong_password_from_an_address_is_429_and_so_is_the_right_one() {
        let mut app = app();
        for _ in 0..5 {
            let reply = call(&mut app, from(wrong_password(), "192.0.2.1:1000"));
            assert_refused(&reply, 401, spec::BASIC_CHALLENGE);
        }
        assert_too_many(
            &call(&mut app, from(wrong_password(), "192.0.2.1:1000")),
            "12",
        );
        // Decided before the password is looked at.
        let answer = handle_here(
            &from(right_password(), "192.0.2.1:1001").into(),
            &mut app,
            NOW,
        );
        assert_eq!(answer.status, 429);
        assert_eq!(
            answer.log_note(),
            Some("too many failed logins for magigo from 192.0.2.1")
        );
        // From another address, the right password logs in.
        assert_eq!(
            call(&mut app, from(right_password(), "192.0.2.2:1000")).status,
            200
        );
        // And 12 s later, from the first address too; then its budget for
        // the name is whole again.
        let later = NOW + 12.0;
        let reply = call_at(&mut app, from(right_password(), "192.0.2.1:1000"), later);
        assert_eq!(reply.status, 200);
        for _ in 0..5 {
            let reply = call_at(&mut app, from(wrong_password(), "192.0.2.1:1000"), later);
            assert_eq!(reply.status, 401);
        }
    }

    #[test]
    fn an_unknown_name_is_throttled_exactly_as_a_real_one() {
        let mut app = app();
        let unknown = || get("/login").with_header("Authorization", &basic("nobody:wrong"));
        let mut statuses = Vec::new();
        for _ in 0..6 {
            statuses.push(call(&mut app, unknown()).status);
        }
        assert_eq!(statuses, [401, 401, 401, 401, 401, 429]);
        assert_too_many(&call(&mut app, unknown()), "12");
    }

    #[test]
    fn all_names_from_one_address_get_20_a_minute() {
        let mut app = app();
        for index in 0..20 {
            let request =
                get("/login").with_header("Authorization", &basic(&format!("user{index}:x")));
            assert_eq!(call(&mut app, request).status, 401, "{index}");
        }
        // A new name, and no credentials at all: the address's budget is spent.
        let request = get("/login").with_header("Authorization", &basic("user99:x"));
        assert_too_many(&call(&mut app, request), "3");
        let answer = handle_here(&get("/login").into(), &mut app, NOW);
        assert_eq!(answer.status, 429);
        assert_eq!(
            answer.log_note(),
            Some("too many failed logins from 127.0.0.1")
        );
    }

    #[test]
    fn failed_token_checks_get_60_a_minute_then_429_even_for_a_good_token() {
        let mut app = app();
        let token = login(&mut app);
        for index in 0..60 {
            let path = if index % 2 == 0 {
                "/test?token=nope"
            } else {
                "/logout?token=nope"
            };
            assert_eq!(call(&mut app, get(path)).status, 401, "{index}");
        }
        let reply = call(&mut app, get(&format!("/test?token={token}")));
        assert_too_many(&reply, "1");
        let answer = handle_here(&get("/logout").into(), &mut app, NOW);
        assert_eq!(
            answer.log_note(),
            Some("too many failed token checks from 127.0.0.1")
        );
        // Good checks do not count.
        let mut app = self::app();
        let token = login(&mut app);
        for _ in 0..100 {
            assert_data(&call(&mut app, get(&format!("/test?token={token}"))));
        }
    }

    #[test]
    fn max_failures_0_turns_it_off() {
        let config = Config {
            max_failures: 0,
            ..Config::default()
        };
        let mut app = App::new(&config, "127.0.0.1:5000".parse().unwrap());
        for _ in 0..100 {
            assert_eq!(call(&mut app, wrong_password()).status, 401);
            assert_eq!(call(&mut app, get("/test?token=nope")).status, 401);
        }
        assert_eq!(call(&mut app, right_password()).status, 200);
    }
}

mod logout {
    use super::*;

    #[test]
    fn the_current_token_is_revoked() {
        let mut app = app();
        let token = login(&mut app);
        let reply = call(
            &mut app,
            get("/logout").with_header("Authorization", &bearer(&token)),
        );
        assert_eq!((reply.status, reply.body.as_str()), (200, "ok"));
        assert_eq!(reply.header("Cache-Control"), Some("no-store"));
        assert_plain_text(&reply);
        let request = get("/test").with_header("Authorization", &bearer(&token));
        assert_refused(&call(&mut app, request), 401, spec::UNKNOWN_TOKEN);
    }

    #[test]
    fn an_expired_current_token_too() {
        let mut app = app();
        app.users.set_current_token("magigo", TUTORIAL_TOKEN);
        let reply = call(&mut app, get(&format!("/logout?token={TUTORIAL_TOKEN}")));
        assert_eq!((reply.status, reply.body.as_str()), (200, "ok"));
    }

    #[test]
    fn no_token() {
        let mut app = app();
        assert_refused(&call(&mut app, get("/logout")), 401, spec::NO_TOKEN);
    }

    #[test]
    fn a_token_already_revoked() {
        let mut app = app();
        let token = login(&mut app);
        call(&mut app, get(&format!("/logout?token={token}")));
        let reply = call(&mut app, get(&format!("/logout?token={token}")));
        assert_refused(&reply, 401, spec::UNKNOWN_TOKEN);
    }

    #[test]
    fn a_token_in_two_places_revokes_nothing() {
        let mut app = app();
        let token = login(&mut app);
        let request =
            get(&format!("/logout?token={token}")).with_header("Authorization", &bearer(&token));
        assert_refused(&call(&mut app, request), 400, spec::SEVERAL_TOKENS);
        assert_data(&call(&mut app, get(&format!("/test?token={token}"))));
    }
}

mod body_limit {
    use super::*;

    #[test]
    fn a_body_over_8_kib_is_too_large() {
        for path in ["/login", "/test", "/logout"] {
            let mut app = app();
            let reply = call(&mut app, post_form(path, "a".repeat(BODY_LIMIT + 1)));
            assert_eq!(
                (reply.status, reply.body.as_str()),
                (413, "payload too large"),
                "{path}"
            );
            assert_eq!(reply.header("Cache-Control"), Some("no-store"));
            assert_plain_text(&reply);
        }
    }

    #[test]
    fn a_chunked_body_over_8_kib_is_too_large() {
        // A chunked body declares no length: the limit is found by reading.
        let data = "a".repeat(BODY_LIMIT + 1);
        let chunked = format!("{:x}\r\n{data}\r\n0\r\n\r\n", data.len());
        let request = post_form("/login", chunked).with_header("Transfer-Encoding", "chunked");
        let reply = call(&mut app(), request);
        assert_eq!(
            (reply.status, reply.body.as_str()),
            (413, "payload too large")
        );
    }

    #[test]
    fn a_chunked_form_is_read() {
        let data = "username=magigo&password=123456";
        let chunked = format!("{:x}\r\n{data}\r\n0\r\n\r\n", data.len());
        let request = post_form("/login", chunked).with_header("Transfer-Encoding", "chunked");
        assert_eq!(call(&mut app(), request).status, 200);
    }

    #[test]
    fn a_body_of_exactly_8_kib_is_read() {
        let mut app = app();
        let padding = "x".repeat(BODY_LIMIT - "username=magigo&password=123456&pad=".len());
        let body = format!("username=magigo&password=123456&pad={padding}");
        assert_eq!(body.len(), BODY_LIMIT);
        assert_eq!(call(&mut app, post_form("/login", body)).status, 200);
    }

    #[test]
    fn a_route_that_reads_no_body_answers_as_usual() {
        let mut app = app();
        let reply = call(&mut app, post_form("/index", "a".repeat(BODY_LIMIT + 1)));
        assert_eq!((reply.status, reply.body.as_str()), (200, "Hello"));
    }
}

mod not_found {
    use super::*;

    #[test]
    fn every_path_in_the_list_is_routed() {
        let mut app = app();
        for path in paths() {
            assert_ne!(call(&mut app, get(path)).status, 404, "{path}");
        }
    }

    #[test]
    fn paths_are_matched_exactly() {
        let mut app = app();
        for path in [
            "/login/",
            "/nope",
            "/LOGIN",
            "/index.html",
            "//login",
            "/test/x",
            "",
        ] {
            let reply = call(&mut app, get(path));
            assert_eq!(
                (reply.status, reply.body.as_str()),
                (404, "not found"),
                "{path}"
            );
            assert_plain_text(&reply);
        }
    }
}

mod methods {
    use super::*;

    #[test]
    fn other_methods_rfc_9110_defines_are_not_allowed() {
        let mut app = app();
        let methods = [
            Method::Put,
            Method::Delete,
            Method::Options,
            Method::Patch,
            Method::Trace,
            Method::Connect,
        ];
        for method in methods {
            for path in paths() {
                let reply = call(&mut app, get(path).with_method(method));
                assert_eq!(
                    (reply.status, reply.body.as_str()),
                    (405, "method not allowed"),
                    "{method} {path}"
                );
                assert_eq!(reply.header("Allow"), Some("GET, HEAD, POST"));
                assert_plain_text(&reply);
            }
        }
    }

    #[test]
    fn not_allowed_on_a_token_route_is_not_cached() {
        let mut app = app();
        let reply = call(&mut app, get("/login").with_method(Method::Put));
        assert_eq!(reply.header("Cache-Control"), Some("no-store"));
    }

    #[test]
    fn head_answers_as_get() {
        // tiny_http leaves out the body of an answer to HEAD when it writes it;
        // the socket tests check that.
        let mut app = app();
        let reply = call(&mut app, get("/index").with_method(Method::Head));
        assert_eq!((reply.status, reply.body.as_str()), (200, "Hello"));
        let reply = call(&mut app, get("/test").with_method(Method::Head));
        assert_refused(&reply, 401, spec::NO_TOKEN);
    }
}

mod other_sites {
    use super::*;

    const TOKEN_ROUTES: [&str; 3] = ["/login", "/test", "/logout"];

    fn from_address(request: TestRequest, address: &str) -> TestRequest {
        request.with_remote_addr(address.parse().unwrap())
    }

    #[test]
    fn a_cross_site_request_is_403_before_any_budget_is_spent() {
        let mut app = app();
        for path in TOKEN_ROUTES {
            for _ in 0..30 {
                let request = get(path)
                    .with_header("Host", "127.0.0.1:5000")
                    .with_header("Sec-Fetch-Site", "cross-site")
                    .with_header("Authorization", &basic("magigo:wrong"));
                let reply = call(&mut app, from_address(request, "192.0.2.1:1000"));
                assert_eq!(
                    (reply.status, reply.body.as_str()),
                    (403, "cross-site request"),
                    "{path}"
                );
                assert_eq!(reply.header("Cache-Control"), Some("no-store"));
                assert_plain_text(&reply);
            }
        }
        assert!(app.budgets.is_empty());
        // The visitor's own login, from the same address, is served.
        let own = get("/login")
            .with_header("Host", "127.0.0.1:5000")
            .with_header("Sec-Fetch-Site", "same-origin")
            .with_header("Authorization", MAGIGO_BASIC);
        assert_eq!(
            call(&mut app, from_address(own, "192.0.2.1:1000")).status,
            200
        );
    }

    #[test]
    fn an_origin_of_another_site_is_403_without_sec_fetch_site() {
        let mut app = app();
        let form = post_form("/login", "username=magigo&password=123456")
            .with_header("Host", "127.0.0.1:5000")
            .with_header("Origin", "http://attacker.example");
        let reply = call(&mut app, form);
        assert_eq!(
            (reply.status, reply.body.as_str()),
            (403, "cross-site request")
        );
        let own = post_form("/login", "username=magigo&password=123456")
            .with_header("Host", "127.0.0.1:5000")
            .with_header("Origin", "http://127.0.0.1:5000");
        assert_eq!(call(&mut app, own).status, 200);
    }

    #[test]
    fn a_rebinding_name_is_421_on_a_loopback_bind() {
        let mut app = app();
        for path in TOKEN_ROUTES {
            let request = get(path)
                .with_header("Host", "rebind.example:5000")
                .with_header("Authorization", MAGIGO_BASIC);
            let answer = handle_here(&request.into(), &mut app, NOW);
            assert_eq!((answer.status, &*answer.body), (421, "misdirected request"));
            assert_eq!(
                answer.log_note(),
                Some(
                    "Host rebind.example:5000 is not this server's: --allowed-host NAME admits a name"
                )
            );
        }
        // Other routes answer any name.
        let index = get("/index").with_header("Host", "rebind.example:5000");
        assert_eq!(call(&mut app, index).status, 200);
        for host in ["localhost:5000", "127.0.0.1", "[::1]:5000"] {
            let request = get("/login")
                .with_header("Host", host)
                .with_header("Authorization", MAGIGO_BASIC);
            assert_eq!(call(&mut app, request).status, 200, "{host}");
        }
    }

    #[test]
    fn allowed_host_admits_a_name() {
        let config = Config {
            allowed_hosts: vec!["rebind.example".to_string()],
            ..Config::default()
        };
        let mut app = App::new(&config, "127.0.0.1:5000".parse().unwrap());
        let request = get("/login")
            .with_header("Host", "rebind.example:5000")
            .with_header("Authorization", MAGIGO_BASIC);
        assert_eq!(call(&mut app, request).status, 200);
        let other = get("/login")
            .with_header("Host", "other.example")
            .with_header("Authorization", MAGIGO_BASIC);
        assert_eq!(call(&mut app, other).status, 421);
    }

    #[test]
    fn bound_to_all_addresses_every_name_is_served() {
        let mut app = App::new(&Config::default(), "0.0.0.0:5000".parse().unwrap());
        let request = get("/login")
            .with_header("Host", "my-laptop.lan:5000")
            .with_header("Authorization", MAGIGO_BASIC);
        assert_eq!(call(&mut app, request).status, 200);
    }

    #[test]
    fn the_page_and_the_token_routes_send_no_referrer_and_nosniff() {
        let mut app = app();
        let page = get("/").with_header("Accept", "text/html");
        let token = login(&mut app);
        for request in [
            page,
            get("/login").with_header("Authorization", MAGIGO_BASIC),
            get(&format!("/test?token={token}")),
            get("/logout"),
        ] {
            let reply = call(&mut app, request);
            assert_eq!(reply.header("Referrer-Policy"), Some("no-referrer"));
            assert_eq!(reply.header("X-Content-Type-Options"), Some("nosniff"));
        }
    }

    #[test]
    fn the_curl_lines_never_hold_a_host_a_shell_would_run() {
        let mut app = App::new(&Config::default(), "0.0.0.0:5000".parse().unwrap());
        for host in ["x;reboot;", "$(id)", "a`b`", "x y"] {
            let reply = call(&mut app, get("/").with_header("Host", host));
            assert!(!reply.body.contains(host), "{host}: {}", reply.body);
            assert!(
                reply.body.contains("http://0.0.0.0:5000/login"),
                "{}",
                reply.body
            );
        }
    }

    #[test]
    fn connect_is_405() {
        let mut app = app();
        let request = request()
            .with_method(Method::Connect)
            .with_path("127.0.0.1:5000");
        let reply = call(&mut app, request);
        assert_eq!(
            (reply.status, reply.body.as_str()),
            (405, "method not allowed")
        );
        assert_eq!(reply.header("Allow"), Some("GET, HEAD, POST"));
    }
}

mod log_notes {
    use super::*;

    fn wrong(name: &str) -> TestRequest {
        get("/login")
            .with_header("Authorization", &basic(&format!("{name}:wrong")))
            .with_remote_addr("192.0.2.9:1000".parse().unwrap())
    }

    #[test]
    fn an_unknown_name_never_reaches_the_log() {
        let mut app = app();
        for _ in 0..5 {
            handle_here(&wrong("SECRET27").into(), &mut app, NOW);
        }
        let answer = handle_here(&wrong("SECRET27").into(), &mut app, NOW);
        assert_eq!(answer.status, 429);
        assert_eq!(
            answer.log_note(),
            Some("too many failed logins for an unknown name from 192.0.2.9")
        );
    }

    #[test]
    fn a_name_that_could_fake_an_address_is_quoted() {
        let name = "magigo from 10.9.8.7) (x";
        let config = Config {
            users: vec![(name.to_string(), "pw".to_string())],
            default_users: false,
            ..Config::default()
        };
        let mut app = App::new(&config, "127.0.0.1:5000".parse().unwrap());
        for _ in 0..5 {
            handle_here(&wrong(name).into(), &mut app, NOW);
        }
        let answer = handle_here(&wrong(name).into(), &mut app, NOW);
        let note = answer.log_note().unwrap().to_string();
        assert_eq!(
            note,
            r#"too many failed logins for "magigo from 10.9.8.7\) \(x" from 192.0.2.9"#
        );
        // What a fail2ban filter reads as the address: the one after the
        // last `from`, before the closing bracket.
        let line = format!("(... {note})");
        let address = line
            .strip_suffix(')')
            .and_then(|line| line.rsplit_once(" from "))
            .map(|(_, address)| address);
        assert_eq!(address, Some("192.0.2.9"));
        // A simple regex `from ([0-9.]+)\)` finds no other address either.
        let found: Vec<&str> = line
            .match_indices("from ")
            .filter_map(|(at, _)| {
                let rest = &line[at + 5..];
                let end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
                (end > 0 && rest[end..].starts_with(')')).then(|| &rest[..end])
            })
            .collect();
        assert_eq!(found, ["192.0.2.9"]);
    }

    #[test]
    fn retry_after_is_the_longest_wait_of_the_budgets_that_refused() {
        let mut app = app();
        let from = |name: &str| {
            get("/login")
                .with_header("Authorization", &basic(&format!("{name}:wrong")))
                .with_remote_addr("192.0.2.9:1000".parse().unwrap())
        };
        // Five for magigo (its budget spent: 12 s), fifteen for others (the
        // address's 20 a minute spent: 3 s).
        for index in 0..20 {
            let name = if index < 5 {
                "magigo".to_string()
            } else {
                format!("user{index}")
            };
            assert_eq!(call(&mut app, from(&name)).status, 401);
        }
        let reply = call(&mut app, from("magigo"));
        assert_eq!(reply.status, 429);
        assert_eq!(reply.header("Retry-After"), Some("12"));
        // After the address's wait, the name's still refuses: it said so.
        let reply = call_at(&mut app, from("magigo"), NOW + 3.0);
        assert_eq!(reply.status, 429);
        let reply = call_at(&mut app, from("magigo"), NOW + 12.0);
        assert_eq!(reply.status, 401);
    }
}

mod password_checks {
    use super::*;

    /// A server with one hashing thread (65 checks at most, 64 waiting).
    fn app_with(max_failures: u32) -> App {
        let config = Config {
            hash_threads: 1,
            max_failures,
            ..Config::default()
        };
        App::new(&config, "127.0.0.1:5000".parse().unwrap())
    }

    fn login_from(user_colon_password: &str, address: &str) -> tiny_http::Request {
        get("/login")
            .with_header("Authorization", &basic(user_colon_password))
            .with_remote_addr(address.parse().unwrap())
            .into()
    }

    fn check_of(handled: Handled) -> PasswordCheck {
        match handled {
            Handled::Check(check) => check,
            Handled::Answer(answer) => panic!("an answer, not a check: {answer:?}"),
        }
    }

    fn answer_of(handled: Handled) -> Answer {
        match handled {
            Handled::Answer(answer) => answer,
            Handled::Check(_) => panic!("a check, not an answer"),
        }
    }

    #[test]
    fn a_login_is_a_check_to_run_then_its_verdict_is_answered() {
        let mut app = app_with(5);
        let PasswordCheck { check, login } = check_of(handle(
            &login_from("magigo:123456", "192.0.2.1:1"),
            &mut app,
            NOW,
        ));
        assert_eq!(app.checks_in_flight, 1);
        assert_eq!(&*check.password, "123456");
        let matched = check.hash.verify(check.password.as_bytes());
        assert!(matched);
        let answer = finish_login(login, matched, &mut app, NOW);
        assert_eq!(answer.status, 200);
        assert_eq!(app.checks_in_flight, 0);
        assert!(
            answer
                .headers
                .iter()
                .any(|(name, value)| *name == "Cache-Control" && value == "no-store")
        );
        assert_eq!(app.users.check(&answer.body, NOW), Ok("magigo"));
    }

    #[test]
    fn past_64_waiting_checks_a_login_is_503_busy_before_any_hash() {
        let mut app = app_with(0);
        let mut waiting = Vec::new();
        for index in 0..65 {
            let request = login_from("magigo:wrong", &format!("192.0.2.{}:1", index % 200 + 1));
            waiting.push(check_of(handle(&request, &mut app, NOW)));
        }
        let busy = answer_of(handle(
            &login_from("magigo:123456", "192.0.2.99:1"),
            &mut app,
            NOW,
        ));
        let reply = Reply {
            status: busy.status,
            headers: busy
                .headers
                .iter()
                .map(|(name, value)| (name.to_string(), value.to_string()))
                .collect(),
            body: busy.body.to_string(),
        };
        assert_eq!((reply.status, reply.body.as_str()), (503, "busy"));
        assert_eq!(reply.header("Retry-After"), Some("1"));
        assert_eq!(reply.header("Cache-Control"), Some("no-store"));
        assert_eq!(
            busy.log_note(),
            Some("busy: too many password checks waiting")
        );
        // One verdict back: room for one more.
        let PasswordCheck { login, .. } = waiting.pop().unwrap();
        assert_eq!(finish_login(login, false, &mut app, NOW).status, 401);
        check_of(handle(
            &login_from("magigo:123456", "192.0.2.99:1"),
            &mut app,
            NOW,
        ));
    }

    #[test]
    fn guesses_sent_all_at_once_cannot_pass_a_budget() {
        let mut app = app_with(5);
        let mut checks = 0;
        let mut refused = 0;
        for _ in 0..20 {
            match handle(&login_from("magigo:wrong", "192.0.2.1:1"), &mut app, NOW) {
                Handled::Check(_) => checks += 1,
                Handled::Answer(answer) => {
                    assert_eq!(answer.status, 429);
                    refused += 1;
                }
            }
        }
        // Five in flight count as five failures: the sixth is refused
        // before its verdict, or anyone's, came back.
        assert_eq!((checks, refused), (5, 15));
    }

    #[test]
    fn a_success_gives_its_failure_back() {
        let mut app = app_with(5);
        for _ in 0..4 {
            let PasswordCheck { login, .. } = check_of(handle(
                &login_from("magigo:wrong", "192.0.2.1:1"),
                &mut app,
                NOW,
            ));
            finish_login(login, false, &mut app, NOW);
        }
        let PasswordCheck { login, .. } = check_of(handle(
            &login_from("magigo:123456", "192.0.2.1:1"),
            &mut app,
            NOW,
        ));
        assert_eq!(finish_login(login, true, &mut app, NOW).status, 200);
        // The name's budget for this address is whole again.
        for _ in 0..5 {
            check_of(handle(
                &login_from("magigo:wrong", "192.0.2.1:1"),
                &mut app,
                NOW,
            ));
        }
    }

    #[test]
    fn a_reload_during_a_check_never_yields_a_token_for_a_stale_hash() {
        let mut app = app_with(5);
        let PasswordCheck { check, login } = check_of(handle(
            &login_from("magigo:123456", "192.0.2.1:1"),
            &mut app,
            NOW,
        ));
        let matched = check.hash.verify(check.password.as_bytes());
        // Meanwhile, SIGHUP: magigo's password is another.
        app.users.replace(crate::users::hash_all(vec![(
            "magigo".into(),
            "new".into(),
        )]));
        let answer = finish_login(login, matched, &mut app, NOW);
        assert_eq!((answer.status, &*answer.body), (401, "error"));
        assert_eq!(
            answer.log_note(),
            Some("the user's password changed while it was checked")
        );
        // And a user who is gone.
        let PasswordCheck { check, login } = check_of(handle(
            &login_from("magigo:new", "192.0.2.1:1"),
            &mut app,
            NOW,
        ));
        let matched = check.hash.verify(check.password.as_bytes());
        app.users
            .replace(crate::users::hash_all(vec![("ann".into(), "pw".into())]));
        assert_eq!(finish_login(login, matched, &mut app, NOW).status, 401);
    }

    #[test]
    fn an_unknown_name_is_checked_against_a_hash_of_the_same_kind_and_cost() {
        let mut app = app_with(5);
        let PasswordCheck { check, login } = check_of(handle(
            &login_from("nobody:123456", "192.0.2.1:1"),
            &mut app,
            NOW,
        ));
        // magigo's own hash: the same cost as a real user's check.
        assert_eq!(check.hash, app.users.hash_to_check("magigo").0);
        // Its verdict is never used: an unknown name is refused whatever it
        // says (here it matched magigo's password).
        let matched = check.hash.verify(check.password.as_bytes());
        assert!(matched);
        assert_eq!(finish_login(login, matched, &mut app, NOW).status, 401);
    }
}

mod every_client {
    use super::*;

    const JSON: &str = "application/json";
    /// What Chromium sends for a page.
    const BROWSER: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
    /// What HTTPie sends.
    const HTTPIE: &str = "application/json, */*;q=0.5";

    fn json_of(reply: &Reply) -> serde_json::Value {
        assert_eq!(
            reply.header("Content-Type"),
            Some("application/json"),
            "{reply:?}"
        );
        assert_eq!(reply.header("Vary"), Some("Accept"));
        serde_json::from_str(&reply.body).unwrap()
    }

    fn json_login(body: &str) -> TestRequest {
        request()
            .with_method(Method::Post)
            .with_path("/login")
            .with_header("Content-Type", "application/json")
            .with_body(body)
    }

    #[test]
    fn a_json_login_gets_an_oauth_token_answer() {
        let mut app = app();
        let request = json_login(r#"{"username": "magigo", "password": "123456"}"#)
            .with_header("Accept", HTTPIE);
        let reply = call(&mut app, request);
        assert_eq!(reply.status, 200);
        let body = json_of(&reply);
        let token = body["access_token"].as_str().unwrap();
        assert_eq!(body["token_type"], "Bearer");
        assert_eq!(body["expires_in"], 7200);
        assert_eq!(body.as_object().unwrap().len(), 3);
        assert_eq!(app.users.check(token, NOW), Ok("magigo"));
        assert_eq!(reply.header("Cache-Control"), Some("no-store"));
        assert_eq!(reply.header("Pragma"), Some("no-cache"));
    }

    #[test]
    fn a_json_login_without_accept_gets_the_text_token() {
        let mut app = app();
        let reply = call(
            &mut app,
            json_login(r#"{"username": "magigo", "password": "123456"}"#),
        );
        assert_eq!(reply.status, 200);
        assert_eq!(app.users.check(&reply.body, NOW), Ok("magigo"));
    }

    #[test]
    fn a_refused_login_with_a_body_gets_the_form_challenge() {
        let mut app = app();
        for request in [
            json_login(r#"{"username": "magigo", "password": "wrong"}"#),
            json_login(r#"{"user": "magigo"}"#),
            json_login("{"),
            post_form("/login", "username=magigo&password=wrong"),
            post_form("/login", "username=magigo"),
            post_form("/login", "nothing=here"),
        ] {
            assert_refused(&call(&mut app, request), 401, spec::FORM_CHALLENGE);
        }
        // Without a body: Basic, which curl, wget and urllib answer.
        assert_refused(&call(&mut app, get("/login")), 401, spec::BASIC_CHALLENGE);
        let answer = handle_here(&json_login("[1]").into(), &mut app, NOW);
        assert_eq!(answer.log_note(), Some("malformed credentials"));
    }

    #[test]
    fn json_answers_of_test_and_logout() {
        let mut app = app();
        let token = login(&mut app);
        let reply = call(
            &mut app,
            get(&format!("/test?token={token}")).with_header("Accept", JSON),
        );
        assert_eq!(reply.status, 200);
        let body = json_of(&reply);
        assert_eq!(body["active"], true);
        assert_eq!(body["username"], "magigo");
        assert_eq!(body["exp"], NOW + 7200.0);
        let reply = call(
            &mut app,
            get(&format!("/logout?token={token}")).with_header("Accept", JSON),
        );
        assert_eq!(json_of(&reply), serde_json::json!({"revoked": true}));
    }

    #[test]
    fn every_refusal_in_json_has_an_oauth_error_code() {
        let mut app = app();
        let error = |reply: &Reply| {
            let body = json_of(reply);
            (
                reply.status,
                body["error"].as_str().unwrap().to_string(),
                body["error_description"].as_str().unwrap().to_string(),
            )
        };
        let with_json = |request: TestRequest| request.with_header("Accept", JSON);
        let cases = [
            (
                with_json(get("/login").with_header("Authorization", &basic("magigo:x"))),
                (401, "invalid_client", "wrong user or password"),
            ),
            (
                with_json(get("/login")),
                (401, "invalid_request", "no credentials"),
            ),
            (
                with_json(get("/test")),
                (401, "invalid_request", "no token"),
            ),
            (
                with_json(get("/test?token=bm9wZQ==")),
                (401, "invalid_token", "unknown, replaced or revoked token"),
            ),
            (
                with_json(get("/test?token=a&token=b")),
                (400, "invalid_request", "token in more than one place"),
            ),
            (
                with_json(get("/test").with_header("Sec-Fetch-Site", "cross-site")),
                (403, "invalid_request", "cross-site request"),
            ),
            (
                with_json(get("/test").with_header("Host", "rebind.example")),
                (421, "invalid_request", "misdirected request"),
            ),
        ];
        for (request, (status, code, description)) in cases {
            assert_eq!(
                error(&call(&mut app, request)),
                (status, code.to_string(), description.to_string())
            );
        }
        app.users.set_current_token("magigo", TUTORIAL_TOKEN);
        let reply = call(
            &mut app,
            with_json(get(&format!("/test?token={TUTORIAL_TOKEN}"))),
        );
        assert_eq!(
            error(&reply),
            (401, "invalid_token".into(), "token expired".into())
        );
    }

    #[test]
    fn a_429_and_a_503_in_json_say_when_to_try_again() {
        let mut app = app();
        for _ in 0..5 {
            call(
                &mut app,
                get("/login").with_header("Authorization", &basic("magigo:x")),
            );
        }
        let reply = call(
            &mut app,
            get("/login")
                .with_header("Authorization", &basic("magigo:x"))
                .with_header("Accept", JSON),
        );
        assert_eq!(reply.status, 429);
        assert_eq!(
            json_of(&reply),
            serde_json::json!({"error": "invalid_request", "error_description": "too many attempts", "retry_after": 12})
        );
        app.max_checks_in_flight = 0;
        let reply = call(
            &mut app,
            get("/login")
                .with_header("Authorization", MAGIGO_BASIC)
                .with_header("Accept", JSON)
                .with_remote_addr("192.0.2.50:1".parse().unwrap()),
        );
        assert_eq!(reply.status, 503);
        assert_eq!(
            json_of(&reply),
            serde_json::json!({"error": "invalid_request", "error_description": "busy", "retry_after": 1})
        );
    }

    #[test]
    fn a_browser_gets_pages_with_the_next_step() {
        let mut app = app();
        let reply = call(
            &mut app,
            post_form("/login", "username=magigo&password=123456").with_header("Accept", BROWSER),
        );
        assert_eq!(reply.status, 200);
        assert_eq!(
            reply.header("Content-Type"),
            Some("text/html; charset=utf-8")
        );
        assert_eq!(reply.header("Vary"), Some("Accept"));
        assert_eq!(
            reply.header("Content-Security-Policy"),
            Some(crate::pages::CONTENT_SECURITY_POLICY)
        );
        assert_eq!(reply.header("Cache-Control"), Some("no-store"));
        let token = app.users.check_any("magigo").unwrap();
        assert!(
            reply
                .body
                .contains(&format!("<code class=\"token\">{token}</code>"))
        );
        assert!(reply.body.contains(&format!(
            "<form method=\"get\" action=\"/test\">\n<h2>Test it</h2>\n<input name=\"token\" value=\"{token}\""
        )));
        assert!(
            reply
                .body
                .contains("<form method=\"post\" action=\"/logout\">")
        );
        assert!(reply.body.contains("<a href=\"/\">"));
        assert!(!reply.body.contains("<script"));

        let reply = call(
            &mut app,
            get("/login")
                .with_header("Accept", BROWSER)
                .with_header("Authorization", &basic("magigo:wrong")),
        );
        assert_eq!(reply.status, 401);
        assert!(
            reply.body.contains("wrong user name or password"),
            "{}",
            reply.body
        );

        app.users.set_current_token("magigo", TUTORIAL_TOKEN);
        let reply = call(
            &mut app,
            get(&format!("/test?token={TUTORIAL_TOKEN}")).with_header("Accept", BROWSER),
        );
        assert_eq!(reply.status, 401);
        assert!(
            reply
                .body
                .contains("the token expired at 2016-08-29 06:01:40 UTC"),
            "{}",
            reply.body
        );
        assert_eq!(reply.header("WWW-Authenticate"), Some(spec::EXPIRED_TOKEN));
    }

    #[test]
    fn every_other_client_gets_the_text_bodies_byte_for_byte() {
        let mut app = app();
        let token = login(&mut app);
        for accept in [None, Some("*/*"), Some("text/plain")] {
            let with = |request: TestRequest| match accept {
                Some(accept) => request.with_header("Accept", accept),
                None => request,
            };
            let cases = [
                (with(get(&format!("/test?token={token}"))), "data"),
                (with(get("/test")), "error"),
                (with(get("/login")), "error"),
                (with(get("/index")), "Hello"),
            ];
            for (request, body) in cases {
                let reply = call(&mut app, request);
                assert_eq!(reply.body, body, "{accept:?}");
                assert_eq!(
                    reply.header("Content-Type"),
                    Some("text/plain; charset=utf-8")
                );
            }
        }
    }

    #[test]
    fn a_favicon_is_204_with_no_body() {
        let mut app = app();
        let reply = call(&mut app, get("/favicon.ico"));
        assert_eq!((reply.status, reply.body.as_str()), (204, ""));
    }
}

mod log_of_a_user {
    use super::*;

    #[test]
    fn a_users_name_is_quoted_in_the_log_unless_it_is_plain() {
        let config = Config {
            users: vec![
                ("x) (from 10.0.0.1".to_string(), "pw".to_string()),
                ("ann.lee@example.org".to_string(), "pw".to_string()),
            ],
            default_users: false,
            ..Config::default()
        };
        let mut app = App::new(&config, "127.0.0.1:5000".parse().unwrap());
        let mut answer = handle_here(
            &get("/login")
                .with_header("Authorization", &basic("x) (from 10.0.0.1:pw"))
                .into(),
            &mut app,
            NOW,
        );
        assert_eq!(answer.status, 200);
        assert_eq!(
            answer.take_log_note().as_deref(),
            Some(r#""x\) \(from 10.0.0.1""#)
        );
        let mut answer = handle_here(
            &get("/login")
                .with_header("Authorization", &basic("ann.lee@example.org:pw"))
                .into(),
            &mut app,
            NOW,
        );
        assert_eq!(
            answer.take_log_note().as_deref(),
            Some("ann.lee@example.org")
        );
    }
}
