//! One test or more for every row of the spec's HTTP table, through
//! `tiny_http::TestRequest` and a fixed clock. Each asserts what the client
//! sees: the status, the exact body and the headers the spec names.

use std::io::Read;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use tiny_http::{Header, Method, TestRequest};

use super::*;
use crate::token;
use testkit::data::{MAGIGO_BASIC, TUTORIAL_TOKEN};

/// Some instant in 2027, as Unix seconds.
const NOW: f64 = 1_800_000_000.0;
const FORM: &str = "application/x-www-form-urlencoded";

/// What a client would see of an answer.
struct Seen {
    status: u16,
    body: String,
    headers: Vec<(String, String)>,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(field, _)| field.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// A server with the defaults (the tutorial's user, a two-hour ttl), as
/// `make run` starts it.
pub(crate) fn app() -> App {
    App::new(&Config::default(), "127.0.0.1:5000".parse().unwrap())
}

fn get(path: &str) -> TestRequest {
    TestRequest::new().with_method(Method::Get).with_path(path)
}

fn post_form(path: &str, body: &'static str) -> TestRequest {
    TestRequest::new()
        .with_method(Method::Post)
        .with_path(path)
        .with_header(header("Content-Type", FORM))
        .with_body(body)
}

fn header(name: &str, value: &str) -> Header {
    Header::from_bytes(name, value).unwrap()
}

fn bearer(token: &str) -> Header {
    header("Authorization", &format!("Bearer {token}"))
}

fn basic(user_colon_password: &str) -> Header {
    header("Authorization", &testkit::data::basic(user_colon_password))
}

fn call_at(app: &mut App, request: TestRequest, now: f64) -> Seen {
    let mut request: tiny_http::Request = request.into();
    let response = handle(&mut request, app, now).into_response();
    let status = response.status_code().0;
    let headers = response
        .headers()
        .iter()
        .map(|h| (h.field.to_string(), h.value.to_string()))
        .collect();
    let mut body = String::new();
    response.into_reader().read_to_string(&mut body).unwrap();
    Seen {
        status,
        body,
        headers,
    }
}

fn call(app: &mut App, request: TestRequest) -> Seen {
    call_at(app, request, NOW)
}

fn login(app: &mut App) -> String {
    let seen = call(
        app,
        get("/login").with_header(header("Authorization", MAGIGO_BASIC)),
    );
    assert_eq!(seen.status, 200);
    seen.body
}

fn assert_plain_text(seen: &Seen) {
    assert_eq!(
        seen.header("Content-Type"),
        Some("text/plain; charset=utf-8")
    );
}

fn assert_login_refused(seen: &Seen) {
    assert_eq!(seen.status, 401);
    assert_eq!(seen.body, "error");
    assert_eq!(
        seen.header("WWW-Authenticate"),
        Some(r#"Basic realm="token-server", charset="UTF-8""#)
    );
    assert_eq!(seen.header("Cache-Control"), Some("no-store"));
    assert_plain_text(seen);
}

fn assert_no_token(seen: &Seen) {
    assert_eq!(seen.status, 401);
    assert_eq!(seen.body, "error");
    assert_eq!(
        seen.header("WWW-Authenticate"),
        Some(r#"Bearer realm="token-server""#)
    );
    assert_eq!(seen.header("Cache-Control"), Some("no-store"));
}

fn assert_unknown_token(seen: &Seen) {
    assert_eq!(seen.status, 401);
    assert_eq!(seen.body, "error");
    assert_eq!(
        seen.header("WWW-Authenticate"),
        Some(
            r#"Bearer realm="token-server", error="invalid_token", error_description="unknown or replaced token""#
        )
    );
    assert_eq!(seen.header("Cache-Control"), Some("no-store"));
}

fn assert_expired_token(seen: &Seen) {
    assert_eq!(seen.status, 401);
    assert_eq!(seen.body, "error");
    assert_eq!(
        seen.header("WWW-Authenticate"),
        Some(
            r#"Bearer realm="token-server", error="invalid_token", error_description="token expired""#
        )
    );
    assert_eq!(seen.header("Cache-Control"), Some("no-store"));
}

fn assert_token_in_several_places(seen: &Seen) {
    assert_eq!(seen.status, 400);
    assert_eq!(seen.body, "error");
    assert_eq!(
        seen.header("WWW-Authenticate"),
        Some(r#"Bearer realm="token-server", error="invalid_request""#)
    );
    assert_eq!(seen.header("Cache-Control"), Some("no-store"));
}

fn assert_data(seen: &Seen) {
    assert_eq!(seen.status, 200);
    assert_eq!(seen.body, "data");
    assert_eq!(seen.header("Cache-Control"), Some("no-store"));
    assert_plain_text(seen);
}

// GET /

#[test]
fn usage_page_lists_routes_with_real_address() {
    let mut app = app();
    let seen = call(&mut app, get("/"));
    assert_eq!(seen.status, 200);
    assert_plain_text(&seen);
    for route in ["/index", "/login", "/test", "/logout"] {
        assert!(seen.body.contains(route), "{route} missing:\n{}", seen.body);
    }
    assert!(
        seen.body
            .contains("TOKEN=$(curl -sf -u magigo:123456 http://127.0.0.1:5000/login)")
    );
    assert!(
        seen.body
            .contains("curl -s \"http://127.0.0.1:5000/test?token=$TOKEN\"")
    );
    assert!(seen.body.contains("Every route takes GET, HEAD and POST."));
    assert!(seen.body.ends_with("$TOKEN\"\n"), "{:?}", seen.body);
}

#[test]
fn usage_page_uses_host_header_when_listening_on_all_addresses() {
    let mut app = app();
    app.address = "0.0.0.0:5000".parse().unwrap();
    let seen = call(
        &mut app,
        get("/").with_header(header("Host", "192.0.2.7:5000")),
    );
    assert!(
        seen.body.contains("http://192.0.2.7:5000/login"),
        "{}",
        seen.body
    );
}

#[test]
fn usage_page_ignores_host_header_when_listening_on_one_address() {
    let mut app = app();
    let seen = call(
        &mut app,
        get("/").with_header(header("Host", "evil.example")),
    );
    assert!(!seen.body.contains("evil.example"));
    assert!(seen.body.contains("http://127.0.0.1:5000/login"));
}

// /index

#[test]
fn index_says_hello() {
    let mut app = app();
    let seen = call(&mut app, get("/index"));
    assert_eq!(seen.status, 200);
    assert_eq!(seen.body, "Hello");
    assert_plain_text(&seen);
    assert_eq!(seen.header("Cache-Control"), None);
}

#[test]
fn index_with_query_and_post() {
    let mut app = app();
    assert_eq!(call(&mut app, get("/index?x=1")).body, "Hello");
    let seen = call(&mut app, post_form("/index", "a=b"));
    assert_eq!((seen.status, seen.body.as_str()), (200, "Hello"));
}

// /login

#[test]
fn login_with_basic_credentials_returns_token() {
    let mut app = app();
    let seen = call(&mut app, get("/login").with_header(basic("magigo:123456")));
    assert_eq!(seen.status, 200);
    assert_plain_text(&seen);
    assert_eq!(seen.header("Cache-Control"), Some("no-store"));
    assert_eq!(seen.header("Pragma"), Some("no-cache"));
    let claims = token::decode(&seen.body).unwrap();
    assert_eq!(claims.user, "magigo");
    assert_eq!(claims.expires_at, NOW + 7200.0);
}

#[test]
fn login_scheme_name_in_any_case() {
    let mut app = app();
    let seen = call(
        &mut app,
        get("/login").with_header(header(
            "Authorization",
            &MAGIGO_BASIC.replace("Basic", "BASIC"),
        )),
    );
    assert_eq!(seen.status, 200);
}

#[test]
fn login_with_post_form() {
    let mut app = app();
    let seen = call(
        &mut app,
        post_form("/login", "username=magigo&password=123456"),
    );
    assert_eq!(seen.status, 200);
    assert_eq!(token::decode(&seen.body).unwrap().user, "magigo");
}

#[test]
fn login_with_post_basic() {
    let mut app = app();
    let request = TestRequest::new()
        .with_method(Method::Post)
        .with_path("/login")
        .with_header(basic("magigo:123456"));
    assert_eq!(call(&mut app, request).status, 200);
}

#[test]
fn login_password_with_colon() {
    let mut app = app();
    app.users = Users::new(vec![("ann".into(), "a:b".into())], 60.0);
    let seen = call(&mut app, get("/login").with_header(basic("ann:a:b")));
    assert_eq!(seen.status, 200);
}

#[test]
fn login_missing_credentials() {
    let mut app = app();
    assert_login_refused(&call(&mut app, get("/login")));
}

#[test]
fn login_malformed_base64() {
    let mut app = app();
    let seen = call(
        &mut app,
        get("/login").with_header(header("Authorization", "Basic !!!")),
    );
    assert_login_refused(&seen);
}

#[test]
fn login_malformed_no_colon() {
    let mut app = app();
    assert_login_refused(&call(&mut app, get("/login").with_header(basic("magigo"))));
}

#[test]
fn login_malformed_not_utf8() {
    let mut app = app();
    let encoded = STANDARD.encode(b"magigo:\xff\xfe");
    let request = get("/login").with_header(header("Authorization", &format!("Basic {encoded}")));
    assert_login_refused(&call(&mut app, request));
}

#[test]
fn login_bearer_header_is_not_credentials() {
    let mut app = app();
    assert_login_refused(&call(&mut app, get("/login").with_header(bearer("abc"))));
}

#[test]
fn login_form_with_wrong_content_type_is_ignored() {
    let mut app = app();
    let request = TestRequest::new()
        .with_method(Method::Post)
        .with_path("/login")
        .with_header(header("Content-Type", "text/plain"))
        .with_body("username=magigo&password=123456");
    assert_login_refused(&call(&mut app, request));
}

#[test]
fn login_form_on_get_is_ignored() {
    let mut app = app();
    let request = get("/login")
        .with_header(header("Content-Type", FORM))
        .with_body("username=magigo&password=123456");
    assert_login_refused(&call(&mut app, request));
}

#[test]
fn login_wrong_password_and_unknown_user_answer_alike() {
    let mut app = app();
    let wrong_password = call(&mut app, get("/login").with_header(basic("magigo:654321")));
    let unknown_user = call(&mut app, get("/login").with_header(basic("nobody:123456")));
    assert_login_refused(&wrong_password);
    assert_login_refused(&unknown_user);
    assert_eq!(wrong_password.status, unknown_user.status);
    assert_eq!(wrong_password.body, unknown_user.body);
    let without_date = |seen: &Seen| {
        let mut headers = seen.headers.clone();
        headers.retain(|(name, _)| name != "Date");
        headers
    };
    assert_eq!(without_date(&wrong_password), without_date(&unknown_user));
}

#[test]
fn login_credentials_in_header_and_form() {
    let mut app = app();
    let request =
        post_form("/login", "username=magigo&password=123456").with_header(basic("magigo:123456"));
    assert_login_refused(&call(&mut app, request));
}

// /test

#[test]
fn test_current_token_answers_data() {
    let mut app = app();
    let token = login(&mut app);
    assert_data(&call(&mut app, get(&format!("/test?token={token}"))));
}

#[test]
fn test_token_from_bearer_header() {
    let mut app = app();
    let token = login(&mut app);
    assert_data(&call(&mut app, get("/test").with_header(bearer(&token))));
    let lowercase = header("Authorization", &format!("bearer {token}"));
    assert_data(&call(&mut app, get("/test").with_header(lowercase)));
}

#[test]
fn test_token_from_post_form() {
    let mut app = app();
    let token = login(&mut app);
    let body: &'static str = Box::leak(format!("token={token}").into_boxed_str());
    assert_data(&call(&mut app, post_form("/test", body)));
}

#[test]
fn test_access_token_name() {
    let mut app = app();
    let token = login(&mut app);
    assert_data(&call(&mut app, get(&format!("/test?access_token={token}"))));
}

/// A token holding a `+`: a user named `~~~` makes tokens that start `fn5+`.
fn app_and_plus_token() -> (App, String) {
    let mut app = app();
    app.users = Users::new(vec![("~~~".into(), "x".into())], 60.0);
    let token = call(&mut app, get("/login").with_header(basic("~~~:x"))).body;
    assert!(token.starts_with("fn5+"), "{token}");
    (app, token)
}

#[test]
fn test_token_with_plus_pasted_raw_into_url() {
    let (mut app, token) = app_and_plus_token();
    let raw = format!("/test?token={token}");
    assert_data(&call(&mut app, get(&raw)));
    let encoded = format!("/test?token={}", token.replace('+', "%2B"));
    assert_data(&call(&mut app, get(&encoded)));
}

#[test]
fn test_token_with_plus_pasted_raw_into_form() {
    let (mut app, token) = app_and_plus_token();
    let body: &'static str = Box::leak(format!("access_token={token}").into_boxed_str());
    assert_data(&call(&mut app, post_form("/test", body)));
}

#[test]
fn test_basic_header_is_not_a_token() {
    // `curl -u magigo:123456 "/test?token=..."` sends both; only the query is a token.
    let mut app = app();
    let token = login(&mut app);
    let request = get(&format!("/test?token={token}")).with_header(basic("magigo:123456"));
    assert_data(&call(&mut app, request));
}

#[test]
fn test_no_token() {
    let mut app = app();
    assert_no_token(&call(&mut app, get("/test")));
    assert_no_token(&call(&mut app, get("/test?other=1")));
}

#[test]
fn test_unknown_token() {
    let mut app = app();
    let never_issued = token::encode("magigo", 0.5, NOW + 100.0);
    assert_unknown_token(&call(&mut app, get(&format!("/test?token={never_issued}"))));
}

#[test]
fn test_replaced_token() {
    let mut app = app();
    let first = login(&mut app);
    let second = login(&mut app);
    assert_unknown_token(&call(&mut app, get(&format!("/test?token={first}"))));
    assert_data(&call(&mut app, get(&format!("/test?token={second}"))));
}

#[test]
fn test_revoked_token() {
    let mut app = app();
    let token = login(&mut app);
    assert_eq!(
        call(&mut app, get(&format!("/logout?token={token}"))).status,
        200
    );
    assert_unknown_token(&call(&mut app, get(&format!("/test?token={token}"))));
}

#[test]
fn test_undecodable_tokens() {
    let mut app = app();
    login(&mut app);
    let long = "A".repeat(6000);
    for token in ["", "%%%", "bm90aGluZw==", "%FF%00", long.as_str()] {
        let seen = call(&mut app, get(&format!("/test?token={token}")));
        assert_unknown_token(&seen);
    }
    assert_unknown_token(&call(
        &mut app,
        get("/test").with_header(header("Authorization", "Bearer")),
    ));
}

#[test]
fn test_expired_token_with_tutorial_clock() {
    let mut app = app();
    app.users.set_current_token("magigo", TUTORIAL_TOKEN);
    let path = format!("/test?token={TUTORIAL_TOKEN}");
    assert_data(&call_at(&mut app, get(&path), 1472450500.0));
    assert_expired_token(&call_at(&mut app, get(&path), 1472450501.0));
}

#[test]
fn test_issued_token_expires_after_ttl() {
    let mut app = app();
    let token = login(&mut app);
    let path = format!("/test?token={token}");
    assert_data(&call_at(&mut app, get(&path), NOW + 7200.0));
    assert_expired_token(&call_at(&mut app, get(&path), NOW + 7201.0));
}

#[test]
fn test_token_in_query_and_header() {
    let mut app = app();
    let token = login(&mut app);
    let request = get(&format!("/test?token={token}")).with_header(bearer(&token));
    assert_token_in_several_places(&call(&mut app, request));
}

#[test]
fn test_token_twice_in_query() {
    let mut app = app();
    let token = login(&mut app);
    let path = format!("/test?token={token}&access_token={token}");
    assert_token_in_several_places(&call(&mut app, get(&path)));
}

#[test]
fn test_token_in_query_and_form() {
    let mut app = app();
    let token = login(&mut app);
    let body: &'static str = Box::leak(format!("token={token}").into_boxed_str());
    let request = post_form(&format!("/test?token={token}"), body);
    assert_token_in_several_places(&call(&mut app, request));
}

// /logout

#[test]
fn logout_current_token() {
    let mut app = app();
    let token = login(&mut app);
    let seen = call(&mut app, get("/logout").with_header(bearer(&token)));
    assert_eq!(seen.status, 200);
    assert_eq!(seen.body, "ok");
    assert_eq!(seen.header("Cache-Control"), Some("no-store"));
    assert_plain_text(&seen);
    assert_unknown_token(&call(&mut app, get("/test").with_header(bearer(&token))));
}

#[test]
fn logout_expired_current_token() {
    let mut app = app();
    app.users.set_current_token("magigo", TUTORIAL_TOKEN);
    let seen = call(&mut app, get(&format!("/logout?token={TUTORIAL_TOKEN}")));
    assert_eq!((seen.status, seen.body.as_str()), (200, "ok"));
}

#[test]
fn logout_no_token() {
    let mut app = app();
    assert_no_token(&call(&mut app, get("/logout")));
}

#[test]
fn logout_unknown_token() {
    let mut app = app();
    let token = login(&mut app);
    call(&mut app, get(&format!("/logout?token={token}")));
    assert_unknown_token(&call(&mut app, get(&format!("/logout?token={token}"))));
}

#[test]
fn logout_token_in_two_places() {
    let mut app = app();
    let token = login(&mut app);
    let request = get(&format!("/logout?token={token}")).with_header(bearer(&token));
    assert_token_in_several_places(&call(&mut app, request));
    // Nothing was revoked.
    assert_data(&call(&mut app, get(&format!("/test?token={token}"))));
}

// 413

#[test]
fn body_over_8_kib_is_too_large() {
    let body: &'static str = Box::leak("a".repeat(BODY_LIMIT + 1).into_boxed_str());
    for path in ["/login", "/test", "/logout"] {
        let mut app = app();
        let seen = call(&mut app, post_form(path, body));
        assert_eq!(seen.status, 413, "{path}");
        assert_eq!(seen.body, "payload too large");
        assert_eq!(seen.header("Cache-Control"), Some("no-store"));
        assert_plain_text(&seen);
    }
}

#[test]
fn chunked_body_over_8_kib_is_too_large() {
    // A chunked body declares no length: the limit is found by reading.
    let data = "a".repeat(BODY_LIMIT + 1);
    let chunked = format!("{:x}\r\n{data}\r\n0\r\n\r\n", data.len());
    let body: &'static str = Box::leak(chunked.into_boxed_str());
    let request = post_form("/login", body).with_header(header("Transfer-Encoding", "chunked"));
    let seen = call(&mut app(), request);
    assert_eq!(
        (seen.status, seen.body.as_str()),
        (413, "payload too large")
    );
}

#[test]
fn chunked_form_is_read() {
    let data = "username=magigo&password=123456";
    let chunked = format!("{:x}\r\n{data}\r\n0\r\n\r\n", data.len());
    let body: &'static str = Box::leak(chunked.into_boxed_str());
    let request = post_form("/login", body).with_header(header("Transfer-Encoding", "chunked"));
    assert_eq!(call(&mut app(), request).status, 200);
}

#[test]
fn body_of_exactly_8_kib_is_read() {
    let mut app = app();
    let padding = "x".repeat(BODY_LIMIT - "username=magigo&password=123456&pad=".len());
    let body = format!("username=magigo&password=123456&pad={padding}");
    assert_eq!(body.len(), BODY_LIMIT);
    let body: &'static str = Box::leak(body.into_boxed_str());
    assert_eq!(call(&mut app, post_form("/login", body)).status, 200);
}

#[test]
fn body_over_8_kib_on_route_that_does_not_read_it() {
    let mut app = app();
    let body: &'static str = Box::leak("a".repeat(BODY_LIMIT + 1).into_boxed_str());
    let seen = call(&mut app, post_form("/index", body));
    assert_eq!((seen.status, seen.body.as_str()), (200, "Hello"));
}

// 404

#[test]
fn unknown_paths_are_not_found() {
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
        let seen = call(&mut app, get(path));
        assert_eq!(seen.status, 404, "{path}");
        assert_eq!(seen.body, "not found");
        assert_plain_text(&seen);
    }
}

// 405

#[test]
fn other_methods_are_not_allowed() {
    let mut app = app();
    for method in [Method::Put, Method::Delete, Method::Options, Method::Patch] {
        for path in ["/", "/index", "/login", "/test", "/logout"] {
            let seen = call(&mut app, get(path).with_method(method.clone()));
            assert_eq!(seen.status, 405, "{method} {path}");
            assert_eq!(seen.body, "method not allowed");
            assert_eq!(seen.header("Allow"), Some("GET, HEAD, POST"));
            assert_plain_text(&seen);
        }
    }
}

#[test]
fn not_allowed_on_token_routes_is_not_cached() {
    let mut app = app();
    let seen = call(&mut app, get("/login").with_method(Method::Put));
    assert_eq!(seen.header("Cache-Control"), Some("no-store"));
}

// HEAD

#[test]
fn head_answers_as_get() {
    // tiny_http drops the body of a HEAD answer when it writes it; the
    // integration tests check that over a socket.
    let mut app = app();
    let seen = call(&mut app, get("/index").with_method(Method::Head));
    assert_eq!((seen.status, seen.body.as_str()), (200, "Hello"));
    let seen = call(&mut app, get("/test").with_method(Method::Head));
    assert_no_token(&seen);
}
