extern crate tiny_http;

// token-server fork: upstream's tests here checked that answering streams the
// response body: that a body Read:er is not read when the client has gone, nor
// read far ahead of a client that does not read (upstream issue #182). The
// fork does the opposite on purpose: an answer is bytes in memory (answers are
// meant to be small), handed to the connection's own thread, so that the
// thread that answers never waits on a client. The two tests keep their names
// and now check that promise: `respond` returns at once whether the client
// has gone or reads nothing, and the server goes on serving others.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

#[allow(dead_code)]
mod support;

/// 16 MiB: far more than the sockets' buffers take from a client that reads
/// nothing. (Upstream's was 400 MiB, read through a metered `Read`er, which
/// the fork's answers, bytes in memory, no longer have.)
fn big_response() -> tiny_http::Response {
    tiny_http::Response::new(200, "ABCDEFGHIJKLMNOP".repeat(1024 * 1024).into_bytes())
}

/// Well under the 5 s a writer waits (the default idle timeout) for a client
/// that reads nothing, which is what `respond` would take if it waited.
const PROMPTLY: Duration = Duration::from_secs(2);

/// A new client is still answered.
fn assert_still_serving(server: &tiny_http::Server) {
    let mut other = TcpStream::connect(server.local_addr()).unwrap();
    write!(
        other,
        "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    server.recv().unwrap().respond(support::text("still here"));
    let mut content = String::new();
    other.read_to_string(&mut content).unwrap();
    assert!(content.ends_with("still here"));
}

/// Checks that answering a client that has disconnected neither fails nor waits
#[test]
fn responding_to_closed_client() {
    let (server, mut stream) = support::new_one_server_one_client();
    write!(
        stream,
        "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .unwrap();

    let request = server.recv().unwrap();

    // Client already disconnected
    drop(stream);

    let started = Instant::now();
    request.respond(big_response());
    assert!(started.elapsed() < PROMPTLY);
    assert_still_serving(&server);
}

/// Checks that a client that reads nothing does not hold up `respond`, nor the
/// server
#[test]
fn responding_to_non_consuming_client() {
    let (server, mut stream) = support::new_one_server_one_client();
    write!(
        stream,
        "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .unwrap();

    let request = server.recv().unwrap();

    // Client still connected, but not reading anything
    let started = Instant::now();
    request.respond(big_response());
    assert!(started.elapsed() < PROMPTLY);
    assert_still_serving(&server);

    drop(stream);
}
