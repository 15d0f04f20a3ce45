//! The ceiling: a bare tiny_http server with token-server's loop, answering
//! every request `200 data` without looking at it. `make bench` measures
//! token-server against it.
//!
//!     cargo run --release --example bare -- [--port PORT]
//!
//! Like token-server, it prints `listening on http://HOST:PORT` first.

use std::io::Write;

fn main() {
    let port: u16 = match std::env::args().nth(1).as_deref() {
        Some("--port") => std::env::args()
            .nth(2)
            .and_then(|port| port.parse().ok())
            .unwrap_or(0),
        _ => 0,
    };
    let server = match tiny_http::Server::http(("127.0.0.1", port)) {
        Ok(server) => server,
        Err(error) => {
            eprintln!("bare: cannot listen on 127.0.0.1:{port}: {error}");
            std::process::exit(1);
        }
    };
    if let Some(address) = server.server_addr().to_ip() {
        println!("listening on http://{address}");
        let _ = std::io::stdout().flush();
    }
    for request in server.incoming_requests() {
        let _ = request.respond(tiny_http::Response::from_string("data"));
    }
}
