//! token-server fork: what the server accepts on the wire, over raw sockets:
//! request heads read strictly and within bounds (RFC 9112), message framing
//! that cannot be misread, and `Connection: close` on every answer after which
//! the server closes. Each answer is checked for its exact status and body,
//! and for a closed connection where one is due. Loopback only.

mod fixture;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use fixture::TestServer;
use proptest::prelude::*;
use testkit::client::{self, Reply};
use tiny_http::Options;

/// Sends `raw` on a new connection and returns every answer that came back
/// before the server closed it.
fn answers(server: &TestServer, raw: &[u8]) -> Vec<Reply> {
    client::split_replies(&server.send_raw(raw))
}

/// Asserts that `raw` gets exactly one answer, `status` with `body`, that it
/// says `Connection: close`, and that the server then closed the connection
/// (`answers` reads until it does).
fn assert_refused(server: &TestServer, raw: &[u8], status: u16, body: &str) {
    let replies = answers(server, raw);
    let shown = format!("{:?} {}", server.over, String::from_utf8_lossy(raw));
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
    for server in fixture::both() {
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

        assert!(
            !server
                .handed_over()
                .iter()
                .any(|target| target == "/smuggled"),
            "{:?}",
            server.handed_over()
        );
    }
}

#[test]
fn host_is_required_once_in_http_1_1() {
    for server in fixture::both() {
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
        let reasons: Vec<_> = server
            .refusals(2)
            .into_iter()
            .map(|refusal| (refusal.method, refusal.target, refusal.reason))
            .collect();
        let get_index = || (Some("GET".to_string()), Some("/index".to_string()));
        assert_eq!(
            reasons,
            [
                (get_index().0, get_index().1, "no Host header".into()),
                (
                    get_index().0,
                    get_index().1,
                    "more than one Host header".into()
                ),
            ]
        );
    }
}

#[test]
fn chunked_bodies_are_read_strictly() {
    for server in fixture::both() {
        let form = "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
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
        assert_eq!(
            (replies[0].status, replies[0].body.as_str()),
            (200, "username=magigo&password=123456")
        );
        assert_eq!(replies[1].body, "Hello");
        // Bad white space around an extension's `;` and `=` is allowed (RFC 9112
        // 7.1.1, RFC 9110 5.6.3).
        let raw = format!("{form}2 ; a = b\r\nok\r\n0\t;last\r\n\r\n");
        let replies = answers(
            &server,
            format!("{raw}GET /index HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
        );
        assert_eq!(replies.len(), 2, "{replies:?}");
        assert_eq!((replies[0].status, replies[0].body.as_str()), (200, "ok"));
    }
}

#[test]
fn request_line_limit_is_8_kib() {
    for server in fixture::both() {
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
}

#[test]
fn head_limits_are_16_kib_and_100_fields() {
    for server in fixture::both() {
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
}

#[test]
fn other_major_versions_get_505_at_once() {
    for server in fixture::both() {
        for raw in [
            &b"GET /index HTTP/2.0\r\n"[..],
            b"GET /index HTTP/3.0\r\n",
            b"GET /index HTTP/0.9\r\n",
            b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
        ] {
            // Not a whole head: the 505 must come from the request line alone.
            let mut connection = server.connect(Duration::from_secs(2));
            connection.send(raw).unwrap();
            let reply = client::parse_reply(&connection.rest());
            assert_eq!(
                (reply.status, reply.body.as_str()),
                (505, "http version not supported"),
                "{raw:?}"
            );
            assert!(reply.says_close());
        }
        let targets: Vec<_> = server
            .refusals(4)
            .into_iter()
            .map(|refusal| {
                (
                    refusal.method.unwrap_or_default(),
                    refusal.target.unwrap_or_default(),
                )
            })
            .collect();
        assert_eq!(targets[0], ("GET".to_string(), "/index".to_string()));
        assert_eq!(targets[3], ("PRI".to_string(), "*".to_string()));
    }
}

#[test]
fn http_1_x_above_1_is_served_as_http_1_1() {
    for server in fixture::both() {
        let replies = answers(
            &server,
            b"GET /index HTTP/1.2\r\nHost: x\r\nConnection: close\r\n\r\n",
        );
        assert_eq!(replies.len(), 1);
        assert_eq!(
            (replies[0].status, replies[0].body.as_str()),
            (200, "Hello")
        );
        // Answered as HTTP/1.1, the highest this server speaks (RFC 9110 2.5).
        let raw = server.send_raw(b"GET /index HTTP/1.9\r\nHost: x\r\nConnection: close\r\n\r\n");
        assert!(
            raw.starts_with(b"HTTP/1.1 200 OK\r\n"),
            "{}",
            String::from_utf8_lossy(&raw)
        );
    }
}

#[test]
fn methods_no_rfc_defines_get_501() {
    for server in fixture::both() {
        for method in ["BREW", "get", "PROPFIND"] {
            let raw = format!("{method} /index HTTP/1.1\r\nHost: x\r\n\r\n");
            assert_refused(&server, raw.as_bytes(), 501, "not implemented");
        }
        let refusals = server.refusals(3);
        assert_eq!(refusals[0].method.as_deref(), Some("BREW"));
        assert_eq!(refusals[0].reason, "unknown method");
        assert!(server.handed_over().is_empty());
    }
}

#[test]
fn a_host_must_be_a_host_and_a_port() {
    for server in fixture::both() {
        for host in [
            "a b", "a/b", "a,b", "u@host", "a?b", "a#b", "a\\b", "[::1", "host:80x",
        ] {
            let raw = format!("GET /index HTTP/1.1\r\nHost: {host}\r\n\r\n");
            assert_refused(&server, raw.as_bytes(), 400, "bad request");
        }
        let raw = b"GET /index HTTP/1.1\r\nHost: \tx\ty\r\n\r\n";
        assert_refused(&server, raw, 400, "bad request");
        for host in ["example.org", "127.0.0.1:5000", "[::1]:5000", ""] {
            let raw = format!("GET /index HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
            let replies = answers(&server, raw.as_bytes());
            assert_eq!(replies.len(), 1, "{host:?}");
            assert_eq!(replies[0].body, "Hello", "{host:?}");
        }
    }
}

#[test]
fn a_target_must_be_a_path_or_an_absolute_url_with_a_host() {
    for server in fixture::both() {
        for target in [
            "http:///index",
            "http://u:p@host/index",
            "/index%zz",
            "/index%",
            "index",
            "*",
        ] {
            let raw = format!("GET {target} HTTP/1.1\r\nHost: x\r\n\r\n");
            assert_refused(&server, raw.as_bytes(), 400, "bad request");
        }
        let reasons: Vec<_> = server
            .refusals(6)
            .into_iter()
            .map(|refusal| refusal.reason)
            .collect();
        assert_eq!(
            reasons,
            [
                "no host in the target",
                "userinfo in the target",
                "bad percent-encoding in the target",
                "bad percent-encoding in the target",
                "bad request target",
                "bad request target"
            ]
        );
        assert!(server.handed_over().is_empty());
    }
}

#[test]
fn a_request_that_is_not_whole_in_time_gets_408() {
    for server in fixture::both_with(|| Options {
        request_timeout: Duration::from_secs(1),
        idle_timeout: Duration::from_secs(10),
        ..Options::default()
    }) {
        for partial in [
            "GET /index HTTP/1.1\r\nHost: x\r\n",
            "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 20\r\n\r\nusername",
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
        let refusals = server.refusals(2);
        assert_eq!(refusals.len(), 2);
        assert_eq!(
            (refusals[0].method.as_deref(), refusals[0].reason.as_ref()),
            (Some("GET"), "request timeout")
        );
        assert_eq!(refusals[1].target.as_deref(), Some("/echo"));
    }
}

#[test]
fn what_rfc_9112_allows_is_served() {
    for server in fixture::both() {
        let cases = [
        // An absolute-form target is served by its path and query.
        format!(
            "GET http://{}/index?a=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            server.address
        ),
        // One empty line before the request line is skipped.
        "\r\nGET /index HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_string(),
        // Bytes 0x80-0xFF in a header value (obs-text).
        "GET /index HTTP/1.1\r\nHost: x\r\nX-Name: Jos\u{e9}\r\nConnection: close\r\n\r\n".to_string(),
        // Upgrade is ignored: answered as any other request, no switch.
        "GET /index HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, close\r\nUpgrade: websocket\r\n\r\n".to_string(),
    ];
        for raw in cases {
            let replies = answers(&server, raw.as_bytes());
            assert_eq!(replies.len(), 1, "{raw:?}");
            assert_eq!(
                (replies[0].status, replies[0].body.as_str()),
                (200, "Hello"),
                "{raw:?}"
            );
            assert_eq!(replies[0].header("Upgrade"), None);
        }
        assert_eq!(server.handed_over()[0], "/index?a=1");
        assert_refused(
            &server,
            b"\r\n\r\nGET /index HTTP/1.1\r\nHost: x\r\n\r\n",
            400,
            "bad request",
        );
    }
}

/// The server closes the connection after each of these answers, and each
/// says so.
#[test]
fn every_answer_before_a_close_says_connection_close() {
    for server in fixture::both() {
        let big_body = "a".repeat(9 * 1024);
        let cases = [
            // The client asks.
            "GET /index HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_string(),
            // HTTP/1.0 without keep-alive.
            "GET /index HTTP/1.0\r\n\r\n".to_string(),
            // A body over 8 KiB is not read: 413 on a route that reads bodies...
            format!(
                "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{big_body}",
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
        let mut connection = server.connect(Duration::from_secs(5));
        let reply = connection
            .exchange(client::get("/index").as_bytes())
            .unwrap();
        assert_eq!(reply.header("Connection"), None);
        let reply = connection
            .exchange(b"GET /index HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            .unwrap();
        assert_eq!(reply.header("Connection"), Some("keep-alive"));
    }
}

/// Arbitrary bytes on a connection, alone or after a valid request line: never
/// a panic, never a 5xx but 501 or 505.
#[test]
fn arbitrary_bytes_on_a_connection() {
    // A panic on a connection's thread would not fail this test by itself:
    // the hook counts them. (Any test of this file that fails counts too.)
    static PANICS: AtomicUsize = AtomicUsize::new(0);
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        PANICS.fetch_add(1, Ordering::SeqCst);
        default_hook(info);
    }));
    for server in fixture::both_with(|| Options {
        request_timeout: Duration::from_secs(1),
        ..Options::default()
    }) {
        let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(96));
        let inputs = (prop::collection::vec(any::<u8>(), 0..600), any::<bool>());
        let result = runner.run(&inputs, |(junk, after_request_line)| {
            let mut raw = if after_request_line {
                b"POST /echo HTTP/1.1\r\nHost: x\r\n".to_vec()
            } else {
                Vec::new()
            };
            raw.extend_from_slice(&junk);
            let mut connection = server.connect(Duration::from_secs(5));
            let _ = connection.send(&raw);
            let _ = connection.close_sending();
            for reply in client::split_replies(&connection.rest()) {
                prop_assert!(
                    !(500..600).contains(&reply.status)
                        || reply.status == 501
                        || reply.status == 505,
                    "{:?} got {:?}",
                    raw,
                    reply
                );
            }
            Ok(())
        });
        if let Err(failure) = result {
            panic!("{failure}");
        }
        assert_eq!(PANICS.load(Ordering::SeqCst), 0);
    }
}
