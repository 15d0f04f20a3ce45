//! Arbitrary input into the handler: whatever a client sends, the answer is one
//! of the statuses the spec names, and nothing panics.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use proptest::prelude::*;
use std::sync::{Arc, OnceLock};
use testkit::data::{PASSWORD, USER};
use tiny_http::{Method, TestRequest};

use token_server::cli::Config;
use token_server::passwords::Hash;
use token_server::routes::{App, handle_here};

/// What the handler may answer (tiny_http answers 400, 408, 414, 417, 431,
/// 501 and 505 by itself, before a request reaches it).
const SPEC_STATUSES: [u16; 10] = [200, 400, 401, 403, 404, 405, 413, 421, 429, 503];
const NOW: f64 = 1_800_000_000.0;

/// A server with the defaults. magigo's password is hashed once for all
/// cases (a hash costs tens of milliseconds on purpose).
fn app() -> App {
    static USERS: OnceLock<Vec<(String, Arc<Hash>)>> = OnceLock::new();
    let users = USERS.get_or_init(|| {
        let hash = Hash::new_argon2id(PASSWORD.as_bytes()).expect("a hash");
        vec![(USER.to_string(), Arc::new(hash))]
    });
    let mut app = App::with_users(
        &Config::default(),
        users.clone(),
        "127.0.0.1:5000".parse().unwrap(),
    );
    // Give magigo a current token, so that the "is it the current one" check runs.
    app.users.issue_token(USER, NOW);
    app
}

fn status_of(request: TestRequest) -> u16 {
    handle_here(&request.into(), &mut app(), NOW).status
}

fn route() -> impl Strategy<Value = &'static str> {
    let mut paths = vec!["/", "/nope"];
    paths.extend(token_server::pages::ROUTES.map(|(path, _)| path));
    prop::sample::select(paths)
}

fn method() -> impl Strategy<Value = Method> {
    prop::sample::select(vec![Method::Get, Method::Head, Method::Post, Method::Put])
}

/// What the head reader lets through in a header value: no control
/// characters but tab (it answers 400 to anything else).
fn is_valid_value(value: &str) -> bool {
    !value
        .bytes()
        .any(|byte| (byte < 0x20 && byte != b'\t') || byte == 0x7f)
}

/// Percent-encodes every byte, so any bytes fit in a query.
fn percent_encoded(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("%{byte:02X}")).collect()
}

/// Tokens shaped like real ones (`base64("UID:RANDOM:EXPIRY")`) reach deeper
/// than random bytes do; random bytes find the other edges.
fn token_like() -> impl Strategy<Value = String> {
    let shaped = (
        prop::sample::select(vec!["magigo", "nobody", "", "magigo:"]),
        any::<f64>(),
        prop_oneof![
            any::<f64>().prop_map(|n| n.to_string()),
            Just("inf".to_string()),
            "[0-9.e+-]{0,30}"
        ],
    )
        .prop_map(|(user, random, expiry)| STANDARD.encode(format!("{user}:{random}:{expiry}")));
    let raw = prop::collection::vec(any::<u8>(), 0..300)
        .prop_map(|bytes| String::from_utf8_lossy(&bytes).into_owned());
    prop_oneof![shaped, raw]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn any_authorization_header(value in "[\\t\\x20-\\x7e\\u{80}-\\u{ff}]{0,400}", path in route(), method in method()) {
        // What the head reader lets through: no control characters but tab;
        // bytes 0x80-0xFF arrive as the characters U+0080-U+00FF.
        let request = TestRequest::new().with_method(method).with_path(path).with_header("Authorization", &value);
        let status = status_of(request);
        prop_assert!(SPEC_STATUSES.contains(&status), "status {}", status);
    }

    #[test]
    fn any_query(query in prop::collection::vec(any::<u8>(), 0..400), path in route(), method in method()) {
        let target = format!("{path}?{}", String::from_utf8_lossy(&query));
        let status = status_of(TestRequest::new().with_method(method).with_path(&target));
        prop_assert!(SPEC_STATUSES.contains(&status), "status {}", status);
    }

    #[test]
    fn any_form_body(body in prop::collection::vec(any::<u8>(), 0..9000), path in route()) {
        let request = TestRequest::new()
            .with_method(Method::Post)
            .with_path(path)
            .with_header("Content-Type", "application/x-www-form-urlencoded")
            .with_body(body);
        let status = status_of(request);
        prop_assert!(SPEC_STATUSES.contains(&status), "status {}", status);
    }

    #[test]
    fn any_token_in_each_place(token in token_like(), path in prop::sample::select(vec!["/test", "/logout"])) {
        let in_query = TestRequest::new().with_path(&format!("{path}?token={}", percent_encoded(token.as_bytes())));
        let body = format!("access_token={}", percent_encoded(token.as_bytes()));
        let in_form = TestRequest::new()
            .with_method(Method::Post)
            .with_path(path)
            .with_header("Content-Type", "application/x-www-form-urlencoded")
            .with_body(body);
        let mut requests = vec![in_query, in_form];
        let bearer = format!("Bearer {token}");
        if is_valid_value(&bearer) {
            requests.push(TestRequest::new().with_path(path).with_header("Authorization", &bearer));
        }
        for request in requests {
            let status = status_of(request);
            // No made-up token is magigo's current one.
            prop_assert!(status == 401 || status == 400, "status {}", status);
        }
    }

    #[test]
    fn any_login_credentials(credentials in prop::collection::vec(any::<u8>(), 0..300)) {
        let header = format!("Basic {}", STANDARD.encode(&credentials));
        let request = TestRequest::new().with_path("/login").with_header("Authorization", &header);
        let status = status_of(request);
        let right = credentials == b"magigo:123456";
        prop_assert_eq!(status, if right { 200 } else { 401 });
    }

    #[test]
    fn any_path(path in "[ -~]{0,100}", method in method()) {
        let status = status_of(TestRequest::new().with_method(method).with_path(&path));
        prop_assert!(SPEC_STATUSES.contains(&status), "status {}", status);
    }
}
