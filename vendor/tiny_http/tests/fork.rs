//! token-server fork: tests of the fork's own API (the files named after
//! upstream's are upstream's tests; `wire.rs`, `connections.rs` and
//! `limits.rs` are the fork's rules of the wire). Loopback only.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use tiny_http::{NoRequest, Options, Refusal, Response, Server};

fn server_with(options: Options) -> (Server, String) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let server = Server::from_listener(listener, options).unwrap();
    let address = server.local_addr().to_string();
    (server, address)
}

fn connect(address: &str) -> TcpStream {
    let stream = TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream
}

fn read_all(stream: &mut TcpStream) -> String {
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

fn text(body: &str) -> Response {
    Response::new(200, body.as_bytes().to_vec())
}

#[test]
fn a_request_dropped_unanswered_gets_500_and_its_connection_closes() {
    let (server, address) = server_with(Options::default());
    let mut client = connect(&address);
    client
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /next HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    drop(server.recv().unwrap());
    let answer = read_all(&mut client);
    assert!(answer.starts_with("HTTP/1.1 500 "), "{answer}");
    assert!(answer.ends_with("Connection: close\r\n\r\n"), "{answer}");
    // The pipelined request was never read.
    server.stop();
    assert!(matches!(server.recv(), Err(NoRequest::Stopped)));
}

#[test]
fn dropping_the_server_answers_500_to_requests_not_taken() {
    // The request must be in the queue when the server is dropped, and
    // nothing says when it is: a request that comes after the drop is not
    // answered at all (the queue takes no more), which is right too, but is
    // not what this test is about; so it tries again, up to ten times.
    for _ in 0..10 {
        let (server, address) = server_with(Options::default());
        let mut client = connect(&address);
        client
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        thread::sleep(Duration::from_millis(100));
        drop(server);
        let answer = read_all(&mut client);
        if answer.is_empty() {
            continue;
        }
        assert!(answer.starts_with("HTTP/1.1 500 "), "{answer}");
        assert!(answer.contains("Connection: close\r\n"), "{answer}");
        return;
    }
    panic!("ten requests, and not one in the queue when the server was dropped");
}

#[test]
fn stop_hands_out_requests_already_read_then_ends() {
    let (server, address) = server_with(Options::default());
    let mut busy = connect(&address);
    busy.write_all(b"GET /read HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut idle = connect(&address);
    let request = server.recv().unwrap();
    server.stop();
    assert_eq!(request.url(), "/read");
    request.respond(text("last"));
    assert!(matches!(server.recv(), Err(NoRequest::Stopped)));
    assert!(server.wait_for_connections(Duration::from_secs(2)));
    let answer = read_all(&mut busy);
    assert!(answer.contains("Connection: close\r\n"), "{answer}");
    assert!(answer.ends_with("last"), "{answer}");
    assert_eq!(read_all(&mut idle), "");
    // No more connections are accepted.
    assert!(TcpStream::connect(&address)
        .and_then(|mut stream| {
            stream.set_read_timeout(Some(Duration::from_secs(1)))?;
            stream.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")?;
            let mut byte = [0u8; 1];
            stream.read(&mut byte)
        })
        .map_or(true, |read| read == 0));
}

#[test]
fn wake_makes_recv_return_without_a_request() {
    let (server, address) = server_with(Options::default());
    let server = Arc::new(server);
    let waking = Arc::clone(&server);
    let woken = thread::spawn(move || {
        thread::sleep(Duration::from_millis(50));
        waking.wake();
    });
    assert!(matches!(server.recv(), Err(NoRequest::Woken)));
    woken.join().unwrap();
    // A wake with no one waiting is kept for the next recv, and comes before
    // the requests waiting.
    let mut client = connect(&address);
    client
        .write_all(b"GET /first HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    thread::sleep(Duration::from_millis(100));
    server.wake();
    assert!(matches!(server.recv(), Err(NoRequest::Woken)));
    let first = server.recv().unwrap();
    assert_eq!(first.url(), "/first");
}

#[test]
fn the_server_reports_its_own_answers() {
    let refusals = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&refusals);
    let options = Options {
        on_refusal: Some(Box::new(move |client, elapsed, refusal: Refusal| {
            seen.lock().unwrap().push((client, elapsed, refusal));
        })),
        ..Options::default()
    };
    let (server, address) = server_with(options);
    let mut client = connect(&address);
    let client_address = client.local_addr().unwrap();
    client.write_all(b"GET /x HTTP/2.0\r\n\r\n").unwrap();
    let answer = read_all(&mut client);
    assert_eq!(
        answer.split("\r\n").next(),
        Some("HTTP/1.1 505 HTTP Version Not Supported")
    );
    assert!(answer.contains("Content-Type: text/plain; charset=utf-8\r\n"));
    assert!(
        answer.ends_with("\r\n\r\nhttp version not supported"),
        "{answer}"
    );
    server.stop();
    assert!(server.wait_for_connections(Duration::from_secs(2)));
    let refusals = refusals.lock().unwrap();
    assert_eq!(refusals.len(), 1);
    let (reported_client, elapsed, refusal) = &refusals[0];
    assert_eq!(*reported_client, client_address);
    assert!(*elapsed < Duration::from_secs(1));
    assert_eq!(refusal.status, Some(505));
    assert_eq!(refusal.reason, "unsupported HTTP version");
    assert_eq!(refusal.method.as_deref(), Some("GET"));
    assert_eq!(refusal.target.as_deref(), Some("/x"));
}

#[test]
fn a_body_over_the_limit_is_not_read_and_closes_the_connection() {
    let options = Options {
        body_limit: 4,
        ..Options::default()
    };
    let (server, address) = server_with(options);
    let mut client = connect(&address);
    client
        .write_all(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhelloGET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let request = server.recv().unwrap();
    assert_eq!(request.body(), Err(tiny_http::BodyTooLarge));
    request.respond(text("too large"));
    let answer = read_all(&mut client);
    assert!(answer.contains("Connection: close\r\n"), "{answer}");
    assert!(answer.ends_with("too large"), "{answer}");
    // What followed the body was never read as a request.
    server.stop();
    assert!(matches!(server.recv(), Err(NoRequest::Stopped)));
}

#[test]
fn a_head_request_gets_the_head_with_the_bodys_length() {
    let (server, address) = server_with(Options::default());
    let mut client = connect(&address);
    client
        .write_all(b"HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    server.recv().unwrap().respond(text("Hello"));
    let answer = read_all(&mut client);
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    assert!(
        answer.ends_with("Content-Length: 5\r\nConnection: close\r\n\r\n"),
        "{answer}"
    );
}
