//! token-server fork: HTTPS on each connection's own thread. What a TLS
//! client gets (keep-alive, `close_notify` at the end, TLS 1.2 and 1.3, ALPN
//! `http/1.1` only), and what becomes of every other client of an HTTPS port:
//! plain HTTP gets a plain 400 saying where HTTPS is, anything else is
//! closed, and a handshake that stalls is closed at the request timeout,
//! holding up no one meanwhile. (The rules of the wire hold over TLS too:
//! `wire.rs`, `connections.rs` and `limits.rs` run over both.) Loopback only.

mod fixture;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use fixture::{Over, TestServer};
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};
use testkit::client;
use tiny_http::Options;

fn tls_server() -> TestServer {
    TestServer::over(Over::Tls, Options::default())
}

fn tls_server_with_request_timeout(seconds: u64) -> TestServer {
    TestServer::over(
        Over::Tls,
        Options {
            request_timeout: Duration::from_secs(seconds),
            ..Options::default()
        },
    )
}

/// A rustls client of `server` with `versions` and `alpn`, that trusts
/// `server`'s certificate if `trusted`.
fn client_config(
    server: &TestServer,
    versions: &[&'static rustls::SupportedProtocolVersion],
    alpn: &[&[u8]],
    trusted: bool,
) -> Arc<ClientConfig> {
    let certificate = server.certificate().clone();
    let mut roots = RootCertStore::empty();
    if trusted {
        roots.add(certificate).unwrap();
    } else {
        // Someone else's certificate.
        let other = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).unwrap();
        roots.add(other.cert.der().clone()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|protocol| protocol.to_vec()).collect();
    Arc::new(config)
}

fn connect_with(
    server: &TestServer,
    config: Arc<ClientConfig>,
) -> StreamOwned<ClientConnection, TcpStream> {
    let socket = TcpStream::connect(&server.address).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let name = ServerName::try_from("127.0.0.1").unwrap();
    StreamOwned::new(ClientConnection::new(config, name).unwrap(), socket)
}

/// A plain TCP connection that waits up to 10 s for the server.
fn raw_connection(server: &TestServer) -> TcpStream {
    let socket = TcpStream::connect(&server.address).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    socket
}

/// How long until the server closes `socket` (a read ends without data).
fn closed_after(socket: &mut TcpStream, started: Instant) -> Duration {
    let mut byte = [0u8; 1];
    let _ = socket.read(&mut byte);
    started.elapsed()
}

#[test]
fn keep_alive_over_tls_with_alpn_http_1_1() {
    let server = tls_server();
    let mut connection = server.connect(Duration::from_secs(5));
    for _ in 0..3 {
        let reply = connection
            .exchange(client::get("/index").as_bytes())
            .unwrap();
        assert_eq!((reply.status, reply.body.as_str()), (200, "Hello"));
        assert!(!reply.says_close());
    }
    let config = client_config(
        &server,
        rustls::DEFAULT_VERSIONS,
        &[b"h2", b"http/1.1"],
        true,
    );
    let mut stream = connect_with(&server, config);
    stream.write_all(client::get("/index").as_bytes()).unwrap();
    let mut answer = [0u8; 17];
    stream.read_exact(&mut answer).unwrap();
    assert_eq!(&answer, b"HTTP/1.1 200 OK\r\n");
    assert_eq!(stream.conn.alpn_protocol(), Some(&b"http/1.1"[..]));
}

#[test]
fn tls_1_2_and_tls_1_3_are_served() {
    let server = tls_server();
    for version in [&rustls::version::TLS12, &rustls::version::TLS13] {
        let config = client_config(&server, &[version], &[b"http/1.1"], true);
        let mut stream = connect_with(&server, config);
        stream
            .write_all(b"GET /index HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut answer = Vec::new();
        // The server ends with close_notify: a clean end of the stream.
        stream.read_to_end(&mut answer).unwrap();
        assert!(answer.ends_with(b"Hello"), "{version:?}");
        assert_eq!(stream.conn.protocol_version(), Some(version.version));
    }
}

#[test]
fn a_client_that_only_speaks_h2_is_refused() {
    let server = tls_server();
    let config = client_config(&server, rustls::DEFAULT_VERSIONS, &[b"h2"], true);
    let mut stream = connect_with(&server, config);
    assert!(stream.write_all(client::get("/index").as_bytes()).is_err());
    let refusals = server.refusals(1);
    assert_eq!(refusals[0].status, None);
    assert!(
        refusals[0].reason.starts_with("TLS handshake failed: "),
        "{refusals:?}"
    );
}

#[test]
fn a_client_that_does_not_trust_the_certificate_is_logged() {
    let server = tls_server();
    let config = client_config(&server, rustls::DEFAULT_VERSIONS, &[b"http/1.1"], false);
    let mut stream = connect_with(&server, config);
    assert!(stream.write_all(client::get("/index").as_bytes()).is_err());
    // The client says why in its alert (rustls: DecryptError, for a
    // certificate signed by another key of the same name; curl: UnknownCA).
    let refusals = server.refusals(1);
    assert!(
        refusals[0]
            .reason
            .starts_with("TLS handshake failed: received fatal alert: "),
        "{refusals:?}"
    );
    assert!(server.handed_over().is_empty());
}

#[test]
fn plain_http_to_the_https_port_gets_a_plain_400_saying_where_https_is() {
    let server = tls_server();
    let reply = client::send_raw(
        &server.address,
        b"GET /index HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n",
    );
    assert_eq!(reply.status, 400);
    assert_eq!(
        reply.body,
        format!("this port speaks HTTPS: https://{}/", server.address)
    );
    assert!(reply.says_close());
    assert_eq!(
        reply.header("Content-Type"),
        Some("text/plain; charset=utf-8")
    );
    let refusals = server.refusals(1);
    assert_eq!(refusals[0].status, Some(400));
    assert_eq!(refusals[0].reason, "plain HTTP to the HTTPS port");
    assert_eq!(refusals[0].method.as_deref(), Some("GET"));
    assert_eq!(refusals[0].target.as_deref(), Some("/index"));
    assert!(server.handed_over().is_empty());
}

#[test]
fn anything_else_that_is_not_tls_is_closed_at_once() {
    let server = tls_server();
    for junk in [&b"\x00\x01\x02\x03"[..], b"\xff\xfe", b"{\"json\": 1}"] {
        let mut socket = raw_connection(&server);
        socket.write_all(junk).unwrap();
        let mut answer = Vec::new();
        let _ = socket.read_to_end(&mut answer);
        assert!(answer.is_empty(), "{junk:?}: {answer:?}");
    }
    let refusals = server.refusals(3);
    assert!(
        refusals
            .iter()
            .all(|refusal| refusal.reason == "not TLS" && refusal.status.is_none()),
        "{refusals:?}"
    );
}

#[test]
fn a_client_that_never_sends_its_hello_is_closed_at_the_request_timeout() {
    let server = tls_server_with_request_timeout(1);
    let mut silent = raw_connection(&server);
    let started = Instant::now();
    let probing = {
        let address = server.address.clone();
        let transport = server.transport.clone();
        thread::spawn(move || {
            // Others are answered meanwhile, each within 1 s.
            while started.elapsed() < Duration::from_millis(900) {
                let answered = testkit::flood::time_to_answer_over(
                    &address,
                    &transport,
                    Duration::from_secs(1),
                );
                assert!(answered.is_some(), "{:?} in", started.elapsed());
                thread::sleep(Duration::from_millis(50));
            }
        })
    };
    let closed = closed_after(&mut silent, started);
    assert!(closed >= Duration::from_millis(900), "{closed:?}");
    assert!(closed < Duration::from_secs(3), "{closed:?}");
    probing.join().unwrap();
    let reasons: Vec<_> = server
        .refusals(1)
        .into_iter()
        .map(|refusal| refusal.reason)
        .collect();
    assert_eq!(reasons, ["no TLS handshake in time"]);
}

#[test]
fn a_client_that_stops_halfway_through_its_hello_is_closed_at_the_request_timeout() {
    let server = tls_server_with_request_timeout(1);
    let hello = testkit::tls::client_hello();
    let mut halfway = raw_connection(&server);
    let started = Instant::now();
    halfway.write_all(&hello[..hello.len() / 2]).unwrap();
    assert!(
        server.time_to_answer(Duration::from_millis(800)).is_some(),
        "held up another client"
    );
    let closed = closed_after(&mut halfway, started);
    assert!(closed >= Duration::from_millis(900), "{closed:?}");
    assert!(closed < Duration::from_secs(3), "{closed:?}");
    let reasons: Vec<_> = server
        .refusals(1)
        .into_iter()
        .map(|refusal| refusal.reason)
        .collect();
    assert_eq!(reasons, ["TLS handshake not finished in time"]);
}

#[test]
fn a_graceful_stop_sends_close_notify() {
    let server = tls_server();
    let mut idle = server.connect(Duration::from_secs(5));
    let reply = idle.exchange(client::get("/index").as_bytes()).unwrap();
    assert_eq!(reply.body, "Hello");
    server.server().stop();
    // The read ends cleanly (Ok(0), which rustls gives only after the peer's
    // close_notify), not with an unexpected end of the stream.
    let mut byte = [0u8; 1];
    let read = idle.tls_stream().read(&mut byte);
    assert_eq!(read.map_err(|error| error.kind()), Ok(0));
}

/// Sends `bytes` on `socket` one at a time, `every` apart, until they are
/// all sent, the server closes, or `stop` is set.
fn trickle(
    mut socket: TcpStream,
    bytes: Vec<u8>,
    every: Duration,
    stop: Arc<std::sync::atomic::AtomicBool>,
) -> thread::JoinHandle<usize> {
    thread::spawn(move || {
        let mut sent = 0;
        for byte in bytes {
            if stop.load(std::sync::atomic::Ordering::SeqCst) || socket.write_all(&[byte]).is_err()
            {
                break;
            }
            sent += 1;
            thread::sleep(every);
        }
        sent
    })
}

#[test]
fn a_hello_trickled_a_byte_at_a_time_is_closed_at_the_request_timeout() {
    let server = tls_server_with_request_timeout(1);
    let hello = testkit::tls::client_hello();
    let mut socket = raw_connection(&server);
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let started = Instant::now();
    // A byte every 100 ms: each socket read is far within any timeout,
    // and the whole hello would take many seconds.
    let trickling = trickle(
        socket.try_clone().unwrap(),
        hello.clone(),
        Duration::from_millis(100),
        Arc::clone(&stop),
    );
    let closed = closed_after(&mut socket, started);
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let sent = trickling.join().unwrap();
    assert!(sent < hello.len(), "the whole hello went out: {sent} bytes");
    assert!(closed >= Duration::from_millis(900), "{closed:?}");
    assert!(closed < Duration::from_secs(3), "{closed:?}");
    let reasons: Vec<_> = server
        .refusals(1)
        .into_iter()
        .map(|refusal| refusal.reason)
        .collect();
    assert_eq!(reasons, ["TLS handshake not finished in time"]);
}

#[test]
fn a_request_record_trickled_after_the_handshake_gets_408() {
    let server = tls_server_with_request_timeout(1);
    let config = client_config(&server, rustls::DEFAULT_VERSIONS, &[b"http/1.1"], true);
    let mut socket = raw_connection(&server);
    let name = ServerName::try_from("127.0.0.1").unwrap();
    let mut tls = ClientConnection::new(config, name).unwrap();
    while tls.is_handshaking() {
        tls.complete_io(&mut socket).unwrap();
    }
    // The request, encrypted into records here, then sent a byte every
    // 100 ms: no record is whole before the request's deadline.
    tls.writer()
        .write_all(b"GET /index HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut records = Vec::new();
    while tls.wants_write() {
        tls.write_tls(&mut records).unwrap();
    }
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let started = Instant::now();
    let trickling = trickle(
        socket.try_clone().unwrap(),
        records.clone(),
        Duration::from_millis(100),
        Arc::clone(&stop),
    );
    let mut answer = Vec::new();
    loop {
        match tls.read_tls(&mut socket) {
            Ok(0) | Err(_) => break,
            Ok(_) => {
                let _ = tls.process_new_packets();
                let _ = tls.reader().read_to_end(&mut answer);
            }
        }
    }
    let closed = started.elapsed();
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    assert!(trickling.join().unwrap() < records.len());
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408 "), "{answer}");
    assert!(answer.ends_with("request timeout"), "{answer}");
    assert!(closed >= Duration::from_millis(900), "{closed:?}");
    assert!(closed < Duration::from_secs(3), "{closed:?}");
    let refusals = server.refusals(1);
    assert_eq!(refusals[0].status, Some(408));
    assert_eq!(refusals[0].reason, "request timeout");
    assert!(server.handed_over().is_empty());
}

#[test]
fn many_trickling_tls_clients_hold_up_no_one() {
    let server = tls_server_with_request_timeout(2);
    let hello = testkit::tls::client_hello();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let tricklers: Vec<_> = (0..200)
        .map(|_| {
            trickle(
                raw_connection(&server),
                hello.clone(),
                Duration::from_millis(300),
                Arc::clone(&stop),
            )
        })
        .collect();
    for _ in 0..5 {
        assert!(
            server.time_to_answer(Duration::from_secs(1)).is_some(),
            "a client was held up by 200 trickling ones"
        );
        thread::sleep(Duration::from_millis(200));
    }
    // Every one of them is closed at its deadline, before its hello is whole.
    let refusals = server.refusals(200);
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    for trickling in tricklers {
        assert!(trickling.join().unwrap() < hello.len());
    }
    let late = refusals
        .iter()
        .filter(|refusal| refusal.reason == "TLS handshake not finished in time")
        .count();
    assert_eq!(late, 200, "{refusals:?}");
}

/// A request whose first bytes came decrypted with the end of the one
/// before (here the first request is exactly one read's 4096 bytes, so the
/// second's start waits in rustls, not in the connection's buffer): its
/// deadline starts with them, and the rest trickled a byte a record gets 408.
#[test]
fn a_pipelined_request_then_trickled_over_tls_gets_408() {
    let server = tls_server_with_request_timeout(1);
    let config = client_config(&server, rustls::DEFAULT_VERSIONS, &[b"http/1.1"], true);
    let mut socket = raw_connection(&server);
    let name = ServerName::try_from("127.0.0.1").unwrap();
    let mut tls = ClientConnection::new(config, name).unwrap();
    while tls.is_handshaking() {
        tls.complete_io(&mut socket).unwrap();
    }
    let start = "GET /index HTTP/1.1\r\nHost: x\r\nX-Pad: ";
    let end = "\r\n\r\n";
    let first = format!("{start}{}{end}", "p".repeat(4096 - start.len() - end.len()));
    assert_eq!(first.len(), 4096);
    tls.writer()
        .write_all(format!("{first}GET /index HTTP/1.1\r\n").as_bytes())
        .unwrap();
    tls.complete_io(&mut socket).unwrap();
    // The rest of the second request, a byte a record, 100 ms apart.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut records = Vec::new();
    for byte in format!("Host: x\r\nX-Slow: {}\r\n\r\n", "s".repeat(30)).bytes() {
        tls.writer().write_all(&[byte]).unwrap();
        let mut record = Vec::new();
        while tls.wants_write() {
            tls.write_tls(&mut record).unwrap();
        }
        records.push(record);
    }
    let sending = {
        let mut socket = socket.try_clone().unwrap();
        let stop = Arc::clone(&stop);
        thread::spawn(move || {
            for record in records {
                if stop.load(std::sync::atomic::Ordering::SeqCst)
                    || socket.write_all(&record).is_err()
                {
                    break;
                }
                thread::sleep(Duration::from_millis(100));
            }
        })
    };
    let started = Instant::now();
    let mut answer = Vec::new();
    loop {
        match tls.read_tls(&mut socket) {
            Ok(0) | Err(_) => break,
            Ok(_) => {
                let _ = tls.process_new_packets();
                let _ = tls.reader().read_to_end(&mut answer);
            }
        }
    }
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    sending.join().unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
    assert!(answer.contains("HTTP/1.1 408 "), "{answer}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(server.handed_over().len(), 1);
}
