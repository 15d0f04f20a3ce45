//! Guessing slowed down, through the real binary, from several loopback
//! addresses (a client socket bound to 127.0.0.2, 127.0.0.3, ... before it
//! connects): the budgets of failed logins and token checks, what a 429
//! says, `--max-failures 0`, the log line, and the table's memory. Loopback
//! only.

use std::net::IpAddr;

use testkit::client::Reply;
use testkit::data::{MAGIGO_BASIC, basic};
use testkit::process;
use testkit::server::Running;

const BINARY: &str = env!("CARGO_BIN_EXE_token-server");

fn address(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn login_from(server: &Running, from: &str, user_colon_password: &str) -> Reply {
    let authorization = format!("Authorization: {}", basic(user_colon_password));
    server.request_from(address(from), "GET", "/login", &[&authorization])
}

#[test]
fn the_sixth_wrong_password_is_429_from_that_address_only() {
    let server = Running::start(BINARY, &[]);
    for attempt in 1..=5 {
        let reply = login_from(&server, "127.0.0.2", "magigo:wrong");
        assert_eq!(
            (reply.status, reply.body.as_str()),
            (401, "error"),
            "{attempt}"
        );
    }
    let reply = login_from(&server, "127.0.0.2", "magigo:wrong");
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (429, "too many attempts")
    );
    assert_eq!(reply.header("Retry-After"), Some("12"));
    assert_eq!(reply.header("Cache-Control"), Some("no-store"));
    // The right password from that address too: the 429 tells nothing.
    let reply = login_from(&server, "127.0.0.2", "magigo:123456");
    assert_eq!(reply.status, 429);
    // From another address, the right password logs in.
    let reply = login_from(&server, "127.0.0.3", "magigo:123456");
    assert_eq!(reply.status, 200);
    let log = server.wait_for_stderr("(too many failed logins for magigo from 127.0.0.2)");
    assert!(
        log.lines().any(|line| line.contains(" 127.0.0.2:")
            && line.contains(" GET /login 429 ")
            && line.ends_with("(too many failed logins for magigo from 127.0.0.2)")),
        "{log}"
    );
}

#[test]
fn an_unknown_name_is_throttled_exactly_as_a_real_one() {
    let server = Running::start(BINARY, &[]);
    for (from, name) in [("127.0.0.4", "magigo"), ("127.0.0.5", "nobody")] {
        let statuses: Vec<u16> = (0..7)
            .map(|_| login_from(&server, from, &format!("{name}:wrong")).status)
            .collect();
        assert_eq!(statuses, [401, 401, 401, 401, 401, 429, 429], "{name}");
    }
}

#[test]
fn failed_token_checks_are_throttled() {
    let server = Running::start(BINARY, &[]);
    let token = server.login();
    let from = address("127.0.0.6");
    for attempt in 0..60 {
        let reply = server.request_from(from, "GET", "/test?token=nope", &[]);
        assert_eq!(reply.status, 401, "{attempt}");
    }
    let reply = server.request_from(from, "GET", &format!("/test?token={token}"), &[]);
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (429, "too many attempts")
    );
    assert_eq!(reply.header("Retry-After"), Some("1"));
    // The token itself is fine, from elsewhere.
    let reply = server.get(&format!("/test?token={token}"));
    assert_eq!(reply.body, "data");
    server.wait_for_stderr("(too many failed token checks from 127.0.0.6)");
}

#[test]
fn max_failures_0_lets_a_script_fail_on_purpose() {
    let server = Running::start(BINARY, &["--max-failures", "0"]);
    for _ in 0..30 {
        assert_eq!(login_from(&server, "127.0.0.7", "magigo:wrong").status, 401);
    }
    let authorization = format!("Authorization: {MAGIGO_BASIC}");
    let reply = server.request_from(address("127.0.0.7"), "GET", "/login", &[&authorization]);
    assert_eq!(reply.status, 200);
}

/// Failed token checks from 20,000 addresses (127.1.0.0 on): 20,000 entries
/// of the table, and the server's memory grows by a few MiB at most (`make
/// bench` measures an entry's cost). (Token checks, not logins: since
/// passwords are hashed, 20,000 failed logins take a hash each, minutes.)
#[test]
fn failed_token_checks_from_20_000_addresses_take_a_few_mib() {
    let server = Running::start(BINARY, &["--quiet"]);
    // A first answer, so that what the server starts with is all there.
    assert_eq!(server.get("/index").body, "Hello");
    let before = process::rss_kib(server.pid()).expect("RSS");
    let guesses = testkit::flood::wrong_tokens_from(&server.address, 20_000);
    assert_eq!(
        (guesses.refused, guesses.throttled, guesses.other),
        (20_000, 0, 0)
    );
    let after = process::rss_kib(server.pid()).expect("RSS");
    assert!(
        after < before + 6 * 1024,
        "RSS grew from {before} KiB to {after} KiB"
    );
}

/// A botnet's guesses: a wrong password for magigo from each of 1,000
/// loopback addresses (127.2.x.y). The name's budget for the addresses it
/// does not know lets 4N = 20 of them reach the password check in the hour;
/// the rest are 429 before any hash. Meanwhile the real user, from the
/// address they logged in from before, logs in every time; a new address
/// with the right password is refused during the attack.
#[test]
fn guesses_from_1000_addresses_reach_the_password_check_20_times() {
    let server = Running::start(BINARY, &[]);
    assert_eq!(
        login_from(&server, "127.0.0.1", "magigo:123456").status,
        200
    );
    let (mut refused, mut throttled) = (0, 0);
    for index in 0..1000u32 {
        let from = format!("127.2.{}.{}", index / 250, index % 250 + 1);
        match login_from(&server, &from, "magigo:wrong").status {
            401 => refused += 1,
            429 => throttled += 1,
            other => panic!("{from}: {other}"),
        }
        if index % 100 == 99 {
            let home = login_from(&server, "127.0.0.1", "magigo:123456");
            assert_eq!(home.status, 200, "the real user, at the {index}th guess");
        }
    }
    assert!(
        refused <= 25,
        "{refused} guesses reached the password check"
    );
    assert_eq!(refused + throttled, 1000);
    let new_address = login_from(&server, "127.3.0.1", "magigo:123456");
    assert_eq!(
        (new_address.status, new_address.body.as_str()),
        (429, "too many attempts")
    );
    let retry_after: u64 = new_address.header("Retry-After").unwrap().parse().unwrap();
    assert!((1..=180).contains(&retry_after), "{retry_after}");
    server.wait_for_stderr("(too many failed logins for magigo from unknown addresses)");
    // The same for a name that does not exist.
    for index in 0..30u32 {
        login_from(&server, &format!("127.4.0.{}", index + 1), "nobody:x");
    }
    assert_eq!(login_from(&server, "127.4.1.1", "nobody:x").status, 429);
    server.wait_for_stderr("(too many failed logins for an unknown name from unknown addresses)");
}
