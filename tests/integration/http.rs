//! The real binary on a free port, over real sockets.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use testkit::client::{self, Reply, send_raw, send_raw_bytes};
use testkit::data::MAGIGO_BASIC;
use testkit::server::Running;

const BINARY: &str = env!("CARGO_BIN_EXE_token-server");

#[test]
fn readme_curl_session() {
    let server = Running::start(BINARY, &[]);
    let token = server.login();
    let reply = server.get(&format!("/test?token={token}"));
    assert_eq!((reply.status, reply.body.as_str()), (200, "data"));

    let newer = server.login();
    assert_ne!(newer, token);
    let old = server.get(&format!("/test?token={token}"));
    assert_eq!((old.status, old.body.as_str()), (401, "error"));
    assert_eq!(
        old.header("WWW-Authenticate"),
        Some(
            r#"Bearer realm="token-server", error="invalid_token", error_description="unknown or replaced token""#
        )
    );
    let new = server.get(&format!("/test?token={newer}"));
    assert_eq!((new.status, new.body.as_str()), (200, "data"));
}

#[test]
fn login_answer_headers_over_the_wire() {
    let server = Running::start(BINARY, &[]);
    let reply = server.request(
        "POST",
        "/login",
        &["Content-Type: application/x-www-form-urlencoded"],
        "username=magigo&password=123456",
    );
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.header("Content-Type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(reply.header("Cache-Control"), Some("no-store"));
    assert_eq!(reply.header("Pragma"), Some("no-cache"));
    assert!(!reply.body.ends_with('\n'));
}

#[test]
fn head_answers_as_get_without_body() {
    let server = Running::start(BINARY, &[]);
    let reply = server.request("HEAD", "/index", &[], "");
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("Content-Length"), Some("5"));
    assert_eq!(reply.body, "");
}

#[test]
fn usage_page_shows_real_address() {
    let server = Running::start(BINARY, &[]);
    let reply = server.get("/");
    assert_eq!(reply.status, 200);
    let login_line = format!(
        "TOKEN=$(curl -sf -u magigo:123456 http://{}/login)",
        server.address
    );
    assert!(reply.body.contains(&login_line), "{}", reply.body);
}

#[test]
fn users_and_ttl_from_command_line() {
    let server = Running::start(BINARY, &["--user", "ann:pa:ss", "--ttl", "60"]);
    let reply = server.request("GET", "/login", &["Authorization: Basic YW5uOnBhOnNz"], "");
    assert_eq!(reply.status, 200, "ann:pa:ss");
    let magigo = server.request(
        "GET",
        "/login",
        &[&format!("Authorization: {MAGIGO_BASIC}")],
        "",
    );
    assert_eq!(
        magigo.status, 401,
        "magigo is not a user when --user is given"
    );
}

#[test]
fn malformed_raw_requests_do_not_stop_the_server() {
    let server = Running::start(BINARY, &[]);
    let token = server.login();
    let cases: [(&[u8], u16); 7] = [
        (b"garbage\r\n\r\n", 400),
        (b"GET /index HTTP/9.9\r\n\r\n", 505),
        (b"GET /index HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n", 400),
        // Bytes 0x80-0xFF in a value (obs-text) are allowed.
        (b"GET /index HTTP/1.1\r\nHost: x\r\nX-Bytes: \xff\xfe\r\nConnection: close\r\n\r\n", 200),
        (b"\x00\x01\x02\x03\r\n\r\n", 400),
        (b"GET /test?token=\xff HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 400),
        (b"POST /login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\n", 400),
    ];
    for (raw, status) in cases {
        let reply = send_raw(&server.address, raw);
        assert_eq!(reply.status, status, "{raw:?} got {reply:?}");
        let index = server.get("/index");
        assert_eq!(
            (index.status, index.body.as_str()),
            (200, "Hello"),
            "after {raw:?}"
        );
    }
    let reply = server.get(&format!("/test?token={token}"));
    assert_eq!(reply.body, "data", "the token survived the garbage");
}

#[test]
fn huge_declared_body_is_413_and_the_server_lives() {
    let server = Running::start(BINARY, &[]);
    for length in [
        "9000",
        "99999999999",
        "9000000000000000000",
        "18446744073709551615",
    ] {
        let raw = format!(
            "POST /login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {length}\r\nConnection: close\r\n\r\nusername=magigo"
        );
        let reply = send_raw(&server.address, raw.as_bytes());
        assert_eq!(
            (reply.status, reply.body.as_str()),
            (413, "payload too large"),
            "{length}"
        );
        assert_eq!(reply.header("Cache-Control"), Some("no-store"));
        let index = server.get("/index");
        assert_eq!(index.body, "Hello", "after Content-Length {length}");
    }
}

#[test]
fn log_shows_stars_never_the_token() {
    let server = Running::start(BINARY, &[]);
    let token = server.login();
    server.get(&format!("/test?token={token}"));
    let log = server.wait_for_stderr("GET /test?token=*** 200 ");
    assert!(!log.contains(&token), "token leaked into the log:\n{log}");
    let line = log
        .lines()
        .find(|line| line.contains("/test?token="))
        .unwrap_or_else(|| panic!("no /test line in:\n{log}"));
    // time, client address, method, path, status, time taken, user
    let parts: Vec<&str> = line.split(' ').collect();
    assert_eq!(parts.len(), 7, "{line}");
    assert!(parts[0].ends_with('Z') && parts[0].contains('T'), "{line}");
    assert!(parts[1].starts_with("127.0.0.1:"), "{line}");
    assert_eq!(&parts[2..5], ["GET", "/test?token=***", "200"]);
    assert!(parts[5].ends_with("ms"), "{line}");
    assert!(
        parts[5].trim_end_matches("ms").parse::<f64>().is_ok(),
        "{line}"
    );
    assert_eq!(parts[6], "(magigo)");
}

#[test]
fn log_names_the_user_of_a_login_a_check_and_a_logout() {
    let server = Running::start(BINARY, &[]);
    let token = server.login();
    server.get(&format!("/test?token={token}"));
    server.get(&format!("/logout?token={token}"));
    let log = server.wait_for_stderr("GET /logout?token=*** 200");
    for start in [
        "GET /login 200 ",
        "GET /test?token=*** 200 ",
        "GET /logout?token=*** 200 ",
    ] {
        let line = log
            .lines()
            .find(|line| line.contains(start))
            .unwrap_or_else(|| panic!("no {start:?} in:\n{log}"));
        assert!(line.ends_with("ms (magigo)"), "{line}");
    }
}

#[test]
fn log_says_empty_token_for_an_empty_one() {
    let server = Running::start(BINARY, &[]);
    let reply = server.get("/test?token=");
    assert_eq!((reply.status, reply.body.as_str()), (401, "error"));
    assert_eq!(
        reply.header("WWW-Authenticate"),
        Some(
            r#"Bearer realm="token-server", error="invalid_token", error_description="unknown or replaced token""#
        )
    );
    let log = server.wait_for_stderr("(empty token)");
    assert!(log.contains("GET /test?token=*** 401 "), "{log}");
    assert!(log.contains("(empty token)"), "{log}");
}

#[test]
fn two_servers_started_at_the_same_instant_issue_different_tokens() {
    let starting: Vec<_> = (0..2)
        .map(|_| std::thread::spawn(|| Running::start(BINARY, &[])))
        .collect();
    let servers: Vec<Running> = starting
        .into_iter()
        .map(|handle| handle.join().unwrap())
        .collect();
    let logging_in: Vec<_> = servers
        .iter()
        .map(|server| {
            let address = server.address.clone();
            std::thread::spawn(move || {
                let login = format!("Authorization: {MAGIGO_BASIC}");
                testkit::client::send_raw(
                    &address,
                    testkit::client::request("GET", "/login", &[&login, "Connection: close"], "")
                        .as_bytes(),
                )
                .body
            })
        })
        .collect();
    let randoms: Vec<String> = logging_in
        .into_iter()
        .map(|handle| {
            let token = handle.join().unwrap();
            let text = String::from_utf8(STANDARD.decode(token).unwrap()).unwrap();
            let random = text.split(':').nth(1).unwrap().to_string();
            let number: f64 = random.parse().unwrap();
            assert!((0.0..1.0).contains(&number), "{text}");
            random
        })
        .collect();
    assert_ne!(randoms[0], randoms[1]);
}

#[test]
fn log_says_why_a_token_was_refused() {
    let server = Running::start(BINARY, &[]);
    server.get("/test");
    let log = server.wait_for_stderr("(no token)");
    assert!(
        log.contains("GET /test 401 ") && log.contains("(no token)"),
        "{log}"
    );
}

#[test]
fn verbose_log_cuts_authorization_to_its_scheme() {
    let server = Running::start(BINARY, &["--verbose"]);
    server.login();
    let log = server.wait_for_stderr("Authorization: Basic ***");
    assert!(log.contains("    Authorization: Basic ***"), "{log}");
    assert!(
        !log.contains(MAGIGO_BASIC.trim_start_matches("Basic ")),
        "{log}"
    );
    assert!(log.contains("    Host: "), "{log}");
}

#[test]
fn verbose_log_escapes_bytes_0x80_to_0xff_in_a_value() {
    let server = Running::start(BINARY, &["--verbose"]);
    let reply = send_raw(
        &server.address,
        b"GET /index HTTP/1.1\r\nHost: x\r\nX-Name: Jos\xe9\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(reply.body, "Hello");
    let log = server.wait_for_stderr("X-Name");
    assert!(log.contains("    X-Name: Jos\\u{e9}\n"), "{log}");
}

#[test]
fn quiet_logs_nothing_per_request() {
    let server = Running::start(BINARY, &["--quiet"]);
    server.login();
    server.get("/index");
    // A server that logs would have written by the time a later request is answered.
    server.get("/index");
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert_eq!(server.stderr(), "");
}

#[test]
fn unparsable_request_gets_plain_text_400() {
    // tiny_http answers these itself, before token-server sees a request.
    let server = Running::start(BINARY, &[]);
    let reply = send_raw(&server.address, b"garbage\r\n\r\n");
    assert_eq!((reply.status, reply.body.as_str()), (400, "bad request"));
    assert_eq!(
        reply.header("Content-Type"),
        Some("text/plain; charset=utf-8")
    );
}

/// Sends `raw` on a new connection and returns every answer that came back
/// before the server closed it.
fn answers(server: &Running, raw: &[u8]) -> Vec<Reply> {
    client::split_replies(&send_raw_bytes(&server.address, raw))
}

/// The server's own answers are logged, each with its reason; `-` stands for a
/// method and a path it could not read.
#[test]
fn the_servers_own_answers_are_logged_with_their_reasons() {
    let server = Running::start(BINARY, &[]);
    let too_long = format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(8 * 1024));
    let too_many = format!(
        "GET /index HTTP/1.1\r\nHost: x\r\n{}\r\n",
        "X: y\r\n".repeat(100)
    );
    let cases: [(&[u8], &str); 6] = [
        (too_long.as_bytes(), "- - 414 "),
        (too_many.as_bytes(), "GET /index 431 "),
        (
            b"POST /index HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
            "POST /index 501 ",
        ),
        (
            b"GET /index HTTP/1.1\r\nHost: x\r\nExpect: something\r\n\r\n",
            "GET /index 417 ",
        ),
        (
            b"BREW /index HTTP/1.1\r\nHost: x\r\n\r\n",
            "BREW /index 501 ",
        ),
        (b"\x00\x01\x02\x03\r\n\r\n", "- - 400 "),
    ];
    for (raw, _) in cases {
        assert_eq!(answers(&server, raw).len(), 1);
    }
    let log = server.wait_for_stderr("- - 400 ");
    for (reason, (_, start)) in [
        "(request line too long)",
        "(too many header fields)",
        "(unsupported transfer coding)",
        "(unsupported Expect)",
        "(unknown method)",
        "(bad request line)",
    ]
    .iter()
    .zip(cases)
    {
        let line = log
            .lines()
            .find(|line| line.contains(start))
            .unwrap_or_else(|| panic!("no {start:?} line in:\n{log}"));
        assert!(line.ends_with(reason), "{line}");
    }
}

/// A browser, wget or urllib logs in in two requests: the first, without
/// credentials, gets the challenge; the log says so rather than "failed".
#[test]
fn log_calls_the_challenge_round_trip_what_it_is() {
    let server = Running::start(BINARY, &[]);
    assert_eq!(server.get("/login").status, 401);
    server.login();
    let log = server.wait_for_stderr("GET /login 200 ");
    let lines: Vec<&str> = log.lines().filter(|line| line.contains("/login")).collect();
    assert_eq!(lines.len(), 2, "{log}");
    assert!(
        lines[0].contains(" GET /login 401 ")
            && lines[0].ends_with("ms (no credentials: challenge sent)"),
        "{}",
        lines[0]
    );
    assert!(lines[1].ends_with("ms (magigo)"), "{}", lines[1]);
}

#[test]
fn a_rebinding_host_is_421_unless_allowed() {
    let login = |server: &Running, host: &str| {
        let raw = format!(
            "GET /login HTTP/1.1\r\nHost: {host}\r\nAuthorization: {MAGIGO_BASIC}\r\nConnection: close\r\n\r\n"
        );
        client::send_raw(&server.address, raw.as_bytes())
    };
    let server = Running::start(BINARY, &[]);
    let reply = login(&server, "rebind.example:5000");
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (421, "misdirected request")
    );
    assert_eq!(reply.header("Cache-Control"), Some("no-store"));
    let log = server.wait_for_stderr("GET /login 421 ");
    assert!(
        log.contains(
            "(Host rebind.example:5000 is not this server's: --allowed-host NAME admits a name)"
        ),
        "{log}"
    );
    assert_eq!(login(&server, &server.address).status, 200);
    let allowing = Running::start(BINARY, &["--allowed-host", "rebind.example"]);
    assert_eq!(login(&allowing, "rebind.example:5000").status, 200);
}

#[test]
fn connect_is_405_and_a_favicon_204_over_the_wire() {
    let server = Running::start(BINARY, &[]);
    let reply = client::send_raw(
        &server.address,
        format!(
            "CONNECT {} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            server.address, server.address
        )
        .as_bytes(),
    );
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (405, "method not allowed")
    );
    assert_eq!(reply.header("Allow"), Some("GET, HEAD, POST"));
    let reply = server.get("/favicon.ico");
    assert_eq!((reply.status, reply.body.as_str()), (204, ""));
    let log = server.wait_for_stderr("GET /favicon.ico 204 ");
    assert!(!log.contains(" 404 "), "{log}");
}
