extern crate tiny_http;

// token-server fork: upstream's tests here checked that answering streams the
// response body: that a body Read:er is not read when the client has gone, nor
// read far ahead of a client that does not read (upstream issue #182). The
// fork does the opposite on purpose: `respond` reads the whole answer into one
// buffer (answers are meant to be small) and hands it to the connection's own
// thread, so that the thread that answers never waits on a client. The two
// tests keep their names and now check that promise: `respond` returns at
// once whether the client has gone or reads nothing, and the server goes on
// serving others.

use std::io::{Cursor, Read, Write};
use std::net::TcpStream;
use std::sync::{
    atomic::{
        AtomicUsize,
        Ordering::{AcqRel, Acquire},
    },
    Arc,
};
use std::time::{Duration, Instant};

#[allow(dead_code)]
mod support;

struct MeteredReader<T> {
    inner: T,
    position: Arc<AtomicUsize>,
}

impl<T> Read for MeteredReader<T>
where
    T: Read,
{
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self.inner.read(buf) {
            Ok(read) => {
                self.position.fetch_add(read, AcqRel);
                Ok(read)
            }
            e => e,
        }
    }
}

type Reader = MeteredReader<Cursor<String>>;

/// 16 MiB: far more than the sockets' buffers take from a client that reads
/// nothing. (Upstream's was 400 MiB, never read whole.)
fn big_response_reader() -> Reader {
    let big_body = "ABCDEFGHIJKLMNOP".repeat(1024 * 1024);
    MeteredReader {
        inner: Cursor::new(big_body),
        position: Arc::new(AtomicUsize::new(0)),
    }
}

fn identity_served(r: &mut Reader) -> tiny_http::Response<&mut Reader> {
    let body_len = r.inner.get_ref().len();
    tiny_http::Response::empty(200).with_data(r, Some(body_len))
}

/// Well under the 5 s a writer waits (the default idle timeout) for a client
/// that reads nothing, which is what `respond` would take if it waited.
const PROMPTLY: Duration = Duration::from_secs(2);

/// A new client is still answered.
fn assert_still_serving(server: &tiny_http::Server) {
    let port = server.server_addr().to_ip().unwrap().port();
    let mut other = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        other,
        "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    server
        .recv()
        .unwrap()
        .respond(tiny_http::Response::from_string("still here"))
        .unwrap();
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

    let mut reader = big_response_reader();
    let started = Instant::now();
    request
        .respond(identity_served(&mut reader))
        .expect("Successful");

    assert!(started.elapsed() < PROMPTLY);
    // The body was read whole, into the answer.
    assert_eq!(reader.position.load(Acquire), reader.inner.get_ref().len());
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

    let mut reader = big_response_reader();

    // Client still connected, but not reading anything
    let started = Instant::now();
    request
        .respond(identity_served(&mut reader))
        .expect("Successful");
    assert!(started.elapsed() < PROMPTLY);
    assert_still_serving(&server);

    drop(stream);
}
