//! token-server fork: tests of what the fork adds to tiny_http 0.12.0 (the
//! other files here are upstream's). Loopback only.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use tiny_http::{Options, Refusal, Response, Server};

fn server_with(options: Options) -> (Server, String) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let server = Server::from_listener(listener, options).unwrap();
    let address = server.server_addr().to_ip().unwrap().to_string();
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

#[test]
fn dropping_the_server_answers_500_to_requests_not_taken() {
    let (server, address) = server_with(Options::default());
    let mut client = connect(&address);
    client
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    // Wait until the request is in the queue, then drop the server.
    while server.num_connections() == 0 {
        thread::sleep(Duration::from_millis(5));
    }
    thread::sleep(Duration::from_millis(50));
    drop(server);
    let answer = read_all(&mut client);
    assert!(answer.starts_with("HTTP/1.1 500 "), "{}", answer);
    assert!(answer.contains("Connection: close\r\n"), "{}", answer);
}

#[test]
fn stop_hands_out_requests_already_read_then_ends() {
    let (server, address) = server_with(Options::default());
    let mut busy = connect(&address);
    busy.write_all(b"GET /read HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut idle = connect(&address);
    while server.num_connections() < 2 {
        thread::sleep(Duration::from_millis(5));
    }
    thread::sleep(Duration::from_millis(50));
    server.stop();
    assert!(server.is_stopping());
    let request = server.recv().unwrap();
    assert_eq!(request.url(), "/read");
    request.respond(Response::from_string("last")).unwrap();
    assert!(server.recv().is_err());
    assert!(server.wait_for_connections(Duration::from_secs(2)));
    let answer = read_all(&mut busy);
    assert!(answer.contains("Connection: close\r\n"), "{}", answer);
    assert!(answer.ends_with("last"), "{}", answer);
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
fn the_server_reports_its_own_answers() {
    let refusals = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&refusals);
    let options = Options {
        on_refusal: Some(Arc::new(move |refusal: &Refusal| {
            seen.lock().unwrap().push(refusal.clone());
        })),
        ..Options::default()
    };
    let (server, address) = server_with(options);
    let mut client = connect(&address);
    client.write_all(b"GET /x HTTP/2.0\r\n\r\n").unwrap();
    let answer = read_all(&mut client);
    assert!(answer.starts_with("HTTP/1.1 505 "), "{}", answer);
    assert!(server.wait_for_connections(Duration::from_secs(2)));
    let refusals = refusals.lock().unwrap();
    assert_eq!(refusals.len(), 1);
    assert_eq!(refusals[0].status, 505);
    assert_eq!(refusals[0].reason, "unsupported HTTP version");
    assert_eq!(refusals[0].method.as_deref(), Some("GET"));
    assert_eq!(refusals[0].url.as_deref(), Some("/x"));
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
    let mut request = server.recv().unwrap();
    assert_eq!(request.body_length(), Some(5));
    let mut body = Vec::new();
    request.as_reader().read_to_end(&mut body).unwrap();
    assert!(body.is_empty());
    request.respond(Response::from_string("too large")).unwrap();
    let answer = read_all(&mut client);
    assert!(answer.contains("Connection: close\r\n"), "{}", answer);
    assert!(answer.ends_with("too large"), "{}", answer);
    // What followed the body was never read as a request.
    assert!(server
        .recv_timeout(Duration::from_millis(200))
        .unwrap()
        .is_none());
}
