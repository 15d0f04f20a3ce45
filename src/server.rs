//! Listening, and the request loop: one thread takes each request in turn.

use std::io::{self, Write};
use std::net::{SocketAddr, TcpListener};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::log::{self, Verbosity};
use crate::routes::{self, App};

/// Raises the soft limit on open files to the hard limit, as Go's runtime and
/// most servers do: each connection takes two descriptors, and the usual soft
/// limit of 1024 runs out at about 500 connections. Returns the new limit.
pub fn raise_open_files_limit() -> std::io::Result<u64> {
    rlimit::increase_nofile_limit(u64::MAX)
}

/// Binds `host:port`; every connection gets `idle_timeout` to send its next
/// request. `Err` is one line naming the address and the reason.
pub fn listen(host: &str, port: u16, idle_timeout: Duration) -> Result<tiny_http::Server, String> {
    let shown = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let listener = TcpListener::bind((host, port))
        .map_err(|error| format!("cannot listen on {shown}: {error}"))?;
    let options = tiny_http::Options {
        idle_timeout: Some(idle_timeout),
        ..tiny_http::Options::default()
    };
    tiny_http::Server::from_listener(listener, options)
        .map_err(|error| format!("cannot listen on {shown}: {error}"))
}

/// The address a server really listens on (with the real port for `--port 0`).
pub fn local_address(server: &tiny_http::Server) -> Option<SocketAddr> {
    server.server_addr().to_ip()
}

/// Answers requests one at a time until tiny_http stops handing them over,
/// and returns why.
pub fn serve(server: &tiny_http::Server, app: &mut App, verbosity: Verbosity) -> io::Error {
    // Log lines are gathered here and written out whenever no request is
    // waiting (or the buffer is full): under load, one write for many lines;
    // when idle, no line is held back.
    let mut log_lines = io::BufWriter::with_capacity(64 * 1024, io::stderr());
    loop {
        let mut request = match server.try_recv() {
            Ok(Some(request)) => request,
            Ok(None) => {
                // A closed stderr must not stop the server.
                let _ = log_lines.flush();
                match server.recv() {
                    Ok(request) => request,
                    Err(error) => return error,
                }
            }
            Err(error) => return error,
        };
        let started = Instant::now();
        let answer = routes::respond(&mut request, app, unix_now());
        // What the log needs, taken before `respond` gives the request away.
        let logged = (verbosity != Verbosity::Quiet).then(|| {
            let headers =
                (verbosity == Verbosity::Verbose).then(|| log::header_lines(request.headers()));
            (
                request.remote_addr().copied(),
                request.method().clone(),
                request.url().to_string(),
                headers,
            )
        });
        let status = answer.status;
        let reason = answer.reason;
        // An error here means the client has gone; there is nobody to tell.
        let _ = request.respond(answer.into_response());
        if let Some((client, method, url, headers)) = logged {
            let mut text = log::request_line(
                client.as_ref(),
                &method,
                &url,
                status,
                started.elapsed(),
                reason,
            );
            text.push_str(&headers.unwrap_or_default());
            let _ = log_lines.write_all(text.as_bytes());
        }
    }
}

/// Now, in Unix seconds with a fraction, as the tutorial's `time.time()`.
pub fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |since| since.as_secs_f64())
}
