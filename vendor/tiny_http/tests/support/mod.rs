use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

// token-server fork: servers are made from a listener the caller binds
// (`Server::from_listener`), with `Options`; upstream's `Server::http` and
// `try_recv` are gone, and answers are `Response::new(status, body)`.

/// A server on a free loopback port.
pub fn server() -> tiny_http::Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    tiny_http::Server::from_listener(listener, tiny_http::Options::default()).unwrap()
}

/// A plain-text answer, as upstream's `Response::from_string` made it.
pub fn text(body: &str) -> tiny_http::Response {
    tiny_http::Response::new(200, body.as_bytes().to_vec())
        .with_header("Content-Type", "text/plain; charset=UTF-8")
}

/// Creates a server and a client connected to the server.
pub fn new_one_server_one_client() -> (tiny_http::Server, TcpStream) {
    let server = server();
    let client = TcpStream::connect(server.local_addr()).unwrap();
    (server, client)
}

/// Creates a "hello world" server with a client connected to the server.
///
/// The server will automatically close after 3 seconds.
pub fn new_client_to_hello_world_server() -> TcpStream {
    let server = Arc::new(server());
    let client = TcpStream::connect(server.local_addr()).unwrap();

    let answering = Arc::clone(&server);
    thread::spawn(move || {
        while let Ok(rq) = answering.recv() {
            rq.respond(text("hello world"));
        }
    });
    thread::spawn(move || {
        thread::sleep(Duration::from_secs(3));
        server.stop();
    });

    client
}
