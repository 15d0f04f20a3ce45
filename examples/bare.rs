//! The ceiling: a bare server with token-server's loop, answering every
//! request `200 data` without looking at it. `make bench` measures token-server
//! against it.
//!
//!     cargo run --release --example bare -- [--port PORT] [--fork]
//!
//! By default it runs on stock tiny_http 0.12.0 from crates.io, the library as
//! its users know it; `--fork` runs it on our fork (vendor/tiny_http) instead.
//! Like token-server, it prints `listening on http://HOST:PORT` first.

use std::io::Write;
use std::process::ExitCode;

const USAGE: &str = "usage: bare [--port PORT] [--fork]";

fn main() -> ExitCode {
    let mut port: u16 = 0;
    let mut fork = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--fork" => fork = true,
            "--port" => match args.next().map(|value| value.parse()) {
                Some(Ok(value)) => port = value,
                _ => return usage_error("--port needs a port number (0 to 65535)"),
            },
            _ => return usage_error(&format!("unknown argument '{arg}'")),
        }
    }
    let served = if fork {
        serve_on_fork(port)
    } else {
        serve_on_stock(port)
    };
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("bare: cannot listen on 127.0.0.1:{port}: {error}");
            ExitCode::FAILURE
        }
    }
}

fn usage_error(message: &str) -> ExitCode {
    eprintln!("bare: {message}\n{USAGE}");
    ExitCode::from(2)
}

fn announce(address: Option<std::net::SocketAddr>) {
    if let Some(address) = address {
        println!("listening on http://{address}");
        let _ = std::io::stdout().flush();
    }
}

// The two loops do the same: each answers `200 data` with the crate's own
// plain-text answer.

fn serve_on_stock(port: u16) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let server = tiny_http_stock::Server::http(("127.0.0.1", port))?;
    announce(server.server_addr().to_ip());
    for request in server.incoming_requests() {
        let _ = request.respond(tiny_http_stock::Response::from_string("data"));
    }
    Ok(())
}

fn serve_on_fork(port: u16) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let listener = std::net::TcpListener::bind(("127.0.0.1", port))?;
    let server = tiny_http::Server::from_listener(listener, tiny_http::Options::default())?;
    announce(Some(server.local_addr()));
    while let Ok(request) = server.recv() {
        let data = tiny_http::Response::new(200, "data".as_bytes())
            .with_header("Content-Type", "text/plain; charset=UTF-8");
        request.respond(data);
    }
    Ok(())
}
