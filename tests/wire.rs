//! What the server accepts on the wire, over raw sockets: request heads read
//! strictly and within bounds (RFC 9112), message framing that cannot be
//! misread, and `Connection: close` on every answer after which the server
//! closes. Each answer is checked for its exact status and body, and for a
//! closed connection where one is due. Loopback only.

use std::time::{Duration, Instant};

use proptest::prelude::*;
use testkit::client::{self, Connection, Reply, send_raw_bytes};
use testkit::process;
use testkit::server::Running;

const BINARY: &str = env!("CARGO_BIN_EXE_token-server");

/// Sends `raw` on a new connection and returns every answer that came back
/// before the server closed it.
fn answers(server: &Running, raw: &[u8]) -> Vec<Reply> {
    let bytes = send_raw_bytes(&server.address, raw);
    split_answers(&bytes)
}

/// The answers in `bytes`, one after the other, each framed by its
/// Content-Length.
fn split_answers(mut bytes: &[u8]) -> Vec<Reply> {
    let mut replies = Vec::new();
    while let Some(head_end) = bytes.windows(4).position(|window| window == b"\r\n\r\n") {
        let reply = client::parse_reply(&bytes[..head_end + 4]);
        let length: usize = reply
            .header("Content-Length")
            .and_then(|length| length.parse().ok())
            .unwrap_or(0);
        let end = (head_end + 4 + length).min(bytes.len());
        replies.push(client::parse_reply(&bytes[..end]));
        bytes = &bytes[end..];
    }
    replies
}

/// Asserts that `raw` gets exactly one answer, `status` with `body`, that it
/// says `Connection: close`, and that the server then closed the connection
/// (`answers` reads until it does).
fn assert_refused(server: &Running, raw: &[u8], status: u16, body: &str) {
    let replies = answers(server, raw);
    let shown = String::from_utf8_lossy(raw);
    assert_eq!(replies.len(), 1, "{shown:?} got {replies:?}");
    let reply = &replies[0];
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (status, body),
        "{shown:?}"
    );
    assert!(reply.says_close(), "{shown:?}: no Connection: close");
    assert_eq!(
        reply.header("Content-Type"),
        Some("text/plain; charset=utf-8")
    );
}

/// A request that must never be answered: it hides in the body (or what
/// looks like one) of the request before it.
const HIDDEN: &str = "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n";

#[test]
fn framing_that_could_be_misread_is_refused_and_the_hidden_request_never_answered() {
    let server = Running::start(BINARY, &[]);
    let hidden_length = HIDDEN.len();
    let cases = [
        (
            format!("Content-Length: {hidden_length}\r\nTransfer-Encoding: chunked\r\n"),
            400,
        ),
        (
            format!("Content-Length: 0\r\nContent-Length: {hidden_length}\r\n"),
            400,
        ),
        ("Transfer-Encoding: chunked, identity\r\n".to_string(), 400),
        (
            "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n".to_string(),
            400,
        ),
        ("Transfer-Encoding: chunkedchunked\r\n".to_string(), 400),
        ("Transfer-Encoding: gzip, chunked\r\n".to_string(), 501),
        ("Content-Length: -1\r\n".to_string(), 400),
        ("Content-Length: abc\r\n".to_string(), 400),
        (format!("Content-Length: +{hidden_length}\r\n"), 400),
        ("Content-Length: 4 2\r\n".to_string(), 400),
        ("Content-Length: \r\n".to_string(), 400),
        ("Content-Length: 18446744073709551616\r\n".to_string(), 400),
        // An obs-fold line holding Content-Length.
        (
            format!("X-Folded: a\r\n Content-Length: {hidden_length}\r\n"),
            400,
        ),
        // A bare LF: `Dummy: x` and `Content-Length` on one line, or two.
        (
            format!("Dummy: x\nContent-Length: {hidden_length}\r\n"),
            400,
        ),
        // LF, CR or NUL inside a value.
        (format!("X-A: b\rContent-Length: {hidden_length}\r\n"), 400),
        ("X-A: b\0c\r\n".to_string(), 400),
        (format!("Content-Length : {hidden_length}\r\n"), 400),
        ("Fo@: x\r\n".to_string(), 400),
        (": x\r\n".to_string(), 400),
    ];
    for (fields, status) in cases {
        let raw = format!(
            "POST /index HTTP/1.1\r\nHost: x\r\n{fields}\r\n{HIDDEN}GET /index HTTP/1.1\r\nHost: x\r\n\r\n"
        );
        let body = if status == 501 {
            "not implemented"
        } else {
            "bad request"
        };
        assert_refused(&server, raw.as_bytes(), status, body);
    }
    // A space before the first header line.
    let raw = format!(
        " Content-Length: {hidden_length}\r\nPOST /index HTTP/1.1\r\nHost: x\r\n\r\n{HIDDEN}"
    );
    assert_refused(&server, raw.as_bytes(), 400, "bad request");
    let raw = format!(
        "POST /index HTTP/1.1\r\n Content-Length: {hidden_length}\r\nHost: x\r\n\r\n{HIDDEN}"
    );
    assert_refused(&server, raw.as_bytes(), 400, "bad request");

    let log = server.wait_for_stderr("(bad request line)");
    assert!(!log.contains("/smuggled"), "{log}");
}

#[test]
fn host_is_required_once_in_http_1_1() {
    let server = Running::start(BINARY, &[]);
    assert_refused(&server, b"GET /index HTTP/1.1\r\n\r\n", 400, "bad request");
    assert_refused(
        &server,
        b"GET /index HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
        400,
        "bad request",
    );
    let replies = answers(&server, b"GET /index HTTP/1.0\r\n\r\n");
    assert_eq!(replies.len(), 1);
    assert_eq!(
        (replies[0].status, replies[0].body.as_str()),
        (200, "Hello")
    );
    let log = server.wait_for_stderr("(more than one Host header)");
    assert!(log.contains("GET /index 400 "), "{log}");
    assert!(log.contains("(no Host header)"), "{log}");
}

#[test]
fn chunked_bodies_are_read_strictly() {
    let server = Running::start(BINARY, &[]);
    let form = "POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n";
    for bad in [
        "2;\r\nus\r\n0\r\n\r\n",
        "a \r\nusername=m\r\n0\r\n\r\n",
        "zz\r\n",
        "10000000000000000\r\n",
    ] {
        let raw = format!("{form}{bad}{HIDDEN}");
        assert_refused(&server, raw.as_bytes(), 400, "bad request");
    }
    // Trailer fields after the last chunk are read and ignored; extensions too.
    let raw = format!(
        "{form}f;ext=1\r\nusername=magigo\r\n10\r\n&password=123456\r\n0\r\nX-Checksum: abc\r\n\r\nGET /index HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    );
    let replies = answers(&server, raw.as_bytes());
    assert_eq!(replies.len(), 2, "{replies:?}");
    assert_eq!(replies[0].status, 200, "{:?}", replies[0]);
    assert_eq!(replies[1].body, "Hello");
}

#[test]
fn request_line_limit_is_8_kib() {
    let server = Running::start(BINARY, &[]);
    let line_of = |length: usize| {
        let target = format!(
            "/index?{}",
            "a".repeat(length - "GET /index? HTTP/1.1".len())
        );
        format!("GET {target} HTTP/1.1")
    };
    let exactly = format!(
        "{}\r\nHost: x\r\nConnection: close\r\n\r\n",
        line_of(8 * 1024)
    );
    let replies = answers(&server, exactly.as_bytes());
    assert_eq!(replies.len(), 1);
    assert_eq!(replies[0].body, "Hello");
    let over = format!("{}\r\nHost: x\r\n\r\n", line_of(8 * 1024 + 1));
    assert_refused(&server, over.as_bytes(), 414, "uri too long");
}

#[test]
fn head_limits_are_16_kib_and_100_fields() {
    let server = Running::start(BINARY, &[]);
    let start = "GET /index HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Pad: ";
    let pad = "a".repeat(16 * 1024 - start.len() - 4);
    let exactly = format!("{start}{pad}\r\n\r\n");
    assert_eq!(exactly.len(), 16 * 1024);
    let replies = answers(&server, exactly.as_bytes());
    assert_eq!(replies.len(), 1);
    assert_eq!(
        replies[0].body, "Hello",
        "a head of exactly 16 KiB is served"
    );
    let over = format!("{start}{pad}a\r\n\r\n");
    assert_refused(&server, over.as_bytes(), 431, "header fields too large");

    let fields = |count: usize| {
        let mut raw = "GET /index HTTP/1.1\r\nHost: x\r\nConnection: close\r\n".to_string();
        for index in 3..=count {
            raw.push_str(&format!("X-{index}: y\r\n"));
        }
        raw + "\r\n"
    };
    let replies = answers(&server, fields(100).as_bytes());
    assert_eq!(replies.len(), 1);
    assert_eq!(replies[0].body, "Hello", "exactly 100 fields are served");
    assert_refused(
        &server,
        fields(101).as_bytes(),
        431,
        "header fields too large",
    );
    assert_refused(
        &server,
        fields(100_000).as_bytes(),
        431,
        "header fields too large",
    );
}

#[test]
fn an_endless_line_is_cut_off_and_memory_stays_flat() {
    let server = Running::start(BINARY, &["--quiet"]);
    let before = process::rss_kib(server.pid()).expect("RSS");
    for start in ["GET /", "GET /index HTTP/1.1\r\nHost: x\r\nX-Endless: "] {
        let mut connection = Connection::open(&server.address, Duration::from_secs(10)).unwrap();
        connection.send(start.as_bytes()).unwrap();
        // Up to 64 MiB, until the server closes.
        let chunk = vec![b'a'; 64 * 1024];
        for _ in 0..1024 {
            if connection.send(&chunk).is_err() {
                break;
            }
        }
        let reply = client::parse_reply(&connection.rest());
        let expected = if start == "GET /" { 414 } else { 431 };
        assert_eq!(reply.status, expected, "{start:?}");
        assert!(reply.says_close());
    }
    let after = process::rss_kib(server.pid()).expect("RSS");
    assert!(
        after < before + 8 * 1024,
        "RSS grew from {before} KiB to {after} KiB"
    );
}

#[test]
fn other_http_versions_get_505_at_once_and_leave_no_thread() {
    let server = Running::start(BINARY, &[]);
    // A first answer, so that every thread the server starts with runs.
    assert_eq!(server.get("/index").body, "Hello");
    let threads_before = server.idle_threads();
    for raw in [
        &b"GET /index HTTP/2.0\r\n"[..],
        b"GET /index HTTP/3.0\r\n",
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
    ] {
        for _ in 0..10 {
            // Not a whole head: the 505 must come from the request line alone.
            let mut connection = Connection::open(&server.address, Duration::from_secs(2)).unwrap();
            connection.send(raw).unwrap();
            let reply = client::parse_reply(&connection.rest());
            assert_eq!(
                (reply.status, reply.body.as_str()),
                (505, "http version not supported"),
                "{raw:?}"
            );
            assert!(reply.says_close());
        }
    }
    assert!(
        server.threads_back_to(threads_before, Duration::from_secs(1)),
        "threads left behind: {:?}, {threads_before} before",
        process::threads(server.pid())
    );
    let log = server.wait_for_stderr("PRI * 505");
    assert!(log.contains("GET /index 505 "), "{log}");
    assert!(log.contains("PRI * 505 "), "{log}");
}

#[test]
fn a_request_that_is_not_whole_in_time_gets_408() {
    let server = Running::start(BINARY, &["--request-timeout", "1", "--idle-timeout", "10"]);
    for partial in [
        "GET /index HTTP/1.1\r\nHost: x\r\n",
        "POST /login HTTP/1.1\r\nHost: x\r\nContent-Length: 20\r\n\r\nusername",
    ] {
        let started = Instant::now();
        let replies = answers(&server, partial.as_bytes());
        assert_eq!(replies.len(), 1, "{partial:?}");
        assert_eq!(
            (replies[0].status, replies[0].body.as_str()),
            (408, "request timeout")
        );
        assert!(replies[0].says_close());
        let took = started.elapsed();
        assert!(took >= Duration::from_millis(900), "{took:?}");
    }
    let log = server.wait_for_stderr("POST /login 408");
    assert!(
        log.contains("- - 408 ") || log.contains("(request timeout)"),
        "{log}"
    );
}

#[test]
fn what_rfc_9112_allows_is_served() {
    let server = Running::start(BINARY, &[]);
    let token = server.login();
    let cases = [
        // An absolute-form target is served by its path and query.
        format!(
            "GET http://{}/test?token={token} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            server.address
        ),
        // One empty line before the request line is skipped.
        format!("\r\nGET /test?token={token} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
        // Bytes 0x80-0xFF in a header value (obs-text).
        format!(
            "GET /test?token={token} HTTP/1.1\r\nHost: x\r\nX-Name: Jos\u{e9}\r\nConnection: close\r\n\r\n"
        ),
        // Upgrade is ignored: answered as any other request, no switch.
        format!(
            "GET /test?token={token} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, close\r\nUpgrade: websocket\r\n\r\n"
        ),
    ];
    for raw in cases {
        let replies = answers(&server, raw.as_bytes());
        assert_eq!(replies.len(), 1, "{raw:?}");
        assert_eq!(
            (replies[0].status, replies[0].body.as_str()),
            (200, "data"),
            "{raw:?}"
        );
    }
    assert_refused(
        &server,
        b"\r\n\r\nGET /index HTTP/1.1\r\nHost: x\r\n\r\n",
        400,
        "bad request",
    );
}

/// The server closes the connection after each of these answers, and each
/// says so.
#[test]
fn every_answer_before_a_close_says_connection_close() {
    let server = Running::start(BINARY, &[]);
    let big_body = "a".repeat(9 * 1024);
    let cases = [
        // The client asks.
        "GET /index HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_string(),
        // HTTP/1.0 without keep-alive.
        "GET /index HTTP/1.0\r\n\r\n".to_string(),
        // A body over 8 KiB is not read: 413 on a route that reads bodies...
        format!(
            "POST /login HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{big_body}",
            big_body.len()
        ),
        // ...and the usual answer on one that does not.
        format!(
            "POST /index HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{big_body}",
            big_body.len()
        ),
        // The server's own refusals.
        "GET /index HTTP/2.0\r\n\r\n".to_string(),
        "GET /index HTTP/1.1\r\n\r\n".to_string(),
        "GET /index HTTP/1.1\r\nHost: x\r\nExpect: something\r\n\r\n".to_string(),
    ];
    for raw in cases {
        let replies = answers(&server, raw.as_bytes());
        assert_eq!(replies.len(), 1, "{raw:?}: {replies:?}");
        assert!(replies[0].says_close(), "{raw:?}: {:?}", replies[0]);
    }
    // And keep-alive answers do not say it.
    let mut connection = Connection::open(&server.address, Duration::from_secs(5)).unwrap();
    let reply = connection
        .exchange(client::get("/index").as_bytes())
        .unwrap();
    assert_eq!(reply.header("Connection"), None);
    let reply = connection
        .exchange(b"GET /index HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        .unwrap();
    assert_eq!(reply.header("Connection"), Some("keep-alive"));
}

/// Arbitrary bytes on a connection, alone or after a valid request line: never
/// a panic, never a 5xx but 501 or 505, and no thread left behind.
#[test]
fn arbitrary_bytes_on_a_connection() {
    let server = Running::start(BINARY, &["--quiet", "--request-timeout", "1"]);
    // A first answer, so that every thread the server starts with runs.
    assert_eq!(server.get("/index").body, "Hello");
    let threads_before = server.idle_threads();
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(96));
    let inputs = (prop::collection::vec(any::<u8>(), 0..600), any::<bool>());
    let result = runner.run(&inputs, |(junk, after_request_line)| {
        let mut raw = if after_request_line {
            b"POST /login HTTP/1.1\r\nHost: x\r\n".to_vec()
        } else {
            Vec::new()
        };
        raw.extend_from_slice(&junk);
        let mut connection = Connection::open(&server.address, Duration::from_secs(5)).unwrap();
        let _ = connection.send(&raw);
        let _ = connection.close_sending();
        for reply in split_answers(&connection.rest()) {
            prop_assert!(
                !(500..600).contains(&reply.status) || reply.status == 501 || reply.status == 505,
                "{:?} got {:?}",
                raw,
                reply
            );
        }
        prop_assert!(!server.stderr().contains("panicked"), "{}", server.stderr());
        Ok(())
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
    assert!(
        server.threads_back_to(threads_before, Duration::from_secs(3)),
        "threads left behind: {:?}, {threads_before} before",
        process::threads(server.pid())
    );
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
    let cases: [(&[u8], &str); 5] = [
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
