//! Listening, and the request loop: one thread takes each request in turn,
//! answers it, and logs it. It never reads or writes a client's socket: in
//! tiny_http, each connection's own thread reads whole requests and writes
//! the answers, so no client, however slow or stalled, can hold up the loop.

use std::io;
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;
use tiny_http::{Options, Refusal, Server};

use crate::cli::Config;
use crate::log::{self, Entry, Verbosity};
use crate::log_writer::LogWriter;
use crate::routes::{self, App, BODY_LIMIT};

/// Raises the soft limit on open files to the hard limit, as Go's runtime and
/// most servers do: the usual soft limit of 1024 runs out at about a thousand
/// connections. Returns the new limit.
pub fn raise_open_files_limit() -> std::io::Result<u64> {
    rlimit::increase_nofile_limit(u64::MAX)
}

/// Binds `--host` and `--port` and sets the connections' limits from `config`.
/// The server's own refusals (a malformed head, a timeout) are logged to `log`
/// unless `--quiet`. `Err` is one line naming the address and the reason.
pub fn listen(config: &Config, log: &LogWriter) -> Result<Server, String> {
    let (host, port) = (config.host.as_str(), config.port);
    let shown = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let listener = TcpListener::bind((host, port))
        .map_err(|error| format!("cannot listen on {shown}: {error}"))?;
    let log = log.clone();
    let on_refusal = move |refusal: &Refusal| {
        log.write_line(&log::line(&Entry {
            time: SystemTime::now(),
            client: refusal.remote_addr.as_ref(),
            method: refusal.method.as_deref(),
            url: refusal.url.as_deref(),
            status: refusal.status,
            elapsed: refusal.elapsed,
            note: Some(refusal.reason),
        }));
    };
    let options = Options {
        idle_timeout: Some(seconds(config.idle_timeout_seconds)),
        request_timeout: Some(seconds(config.request_timeout_seconds)),
        body_limit: BODY_LIMIT,
        on_refusal: (config.verbosity != Verbosity::Quiet)
            .then(|| Arc::new(on_refusal) as tiny_http::RefusalHandler),
    };
    Server::from_listener(listener, options)
        .map_err(|error| format!("cannot listen on {shown}: {error}"))
}

/// The address a server really listens on (with the real port for `--port 0`).
pub fn local_address(server: &Server) -> Option<SocketAddr> {
    server.server_addr().to_ip()
}

/// SIGINT (Ctrl-C) and SIGTERM stop `server` gracefully (`Server::stop`), from
/// a thread of their own.
pub fn stop_on_signals(server: &Arc<Server>) -> io::Result<()> {
    let mut signals = Signals::new([SIGINT, SIGTERM])?;
    let server = Arc::clone(server);
    thread::Builder::new()
        .name("signals".to_string())
        .spawn(move || {
            if signals.forever().next().is_some() {
                server.stop();
            }
        })?;
    Ok(())
}

/// Answers requests one at a time, and logs each answer, until the server
/// stops: `Ok` once a stop has answered every request already read, `Err` if
/// tiny_http stopped listening.
pub fn serve(
    server: &Server,
    app: &mut App,
    log: &LogWriter,
    verbosity: Verbosity,
) -> io::Result<()> {
    loop {
        let mut request = match server.recv() {
            Ok(request) => request,
            Err(_) if server.is_stopping() => return Ok(()),
            Err(error) => return Err(error),
        };
        let answer = routes::handle(&mut request, app, unix_now());
        // The log line is made before the request goes with its answer.
        let line = (verbosity != Verbosity::Quiet).then(|| {
            let mut line = log::line(&Entry {
                time: SystemTime::now(),
                client: request.remote_addr(),
                method: Some(request.method().as_str()),
                url: Some(request.url()),
                status: answer.status,
                elapsed: request.received_at().elapsed(),
                note: answer.log_note(),
            });
            if verbosity == Verbosity::Verbose {
                line.push_str(&log::header_lines(request.headers()));
            }
            line
        });
        // The answer goes to the connection's own thread; an error means the
        // client has gone, and there is nobody to tell.
        let _ = request.respond(answer.into_response());
        if let Some(line) = line {
            log.write_line(&line);
        }
    }
}

/// Now, in Unix seconds with a fraction, as the tutorial's `time.time()`.
pub fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |since| since.as_secs_f64())
}

fn seconds(seconds: u32) -> Duration {
    Duration::from_secs(u64::from(seconds))
}
