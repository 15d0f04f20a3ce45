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
use tiny_http::{NoRequest, OnRefusal, Options, Refusal, Server, ServerError};

use crate::cli::{Config, Verbosity};
use crate::log_line::{self, Entry};
use crate::log_writer::LogWriter;
use crate::routes::{self, App, BODY_LIMIT};

/// Raises the soft limit on open files to the hard limit, as Go's runtime and
/// most servers do: the usual soft limit of 1024 runs out at about a thousand
/// connections. Returns the new limit.
pub fn raise_open_files_limit() -> std::io::Result<u64> {
    rlimit::increase_nofile_limit(u64::MAX)
}

/// Binds `--host` and `--port` and sets the connections' limits from `config`;
/// with `tls`, every connection speaks HTTPS. The server's own refusals (a
/// malformed head, a timeout, a failed TLS handshake) are logged to `log`
/// unless `--quiet`, and so are connections it could not accept, always.
/// `Err` is one line naming the address and the reason.
pub fn listen(
    config: &Config,
    tls: Option<Arc<rustls::ServerConfig>>,
    log: &LogWriter,
) -> Result<Server, String> {
    let (host, port) = (config.host.as_str(), config.port);
    let shown = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let listener = TcpListener::bind((host, port))
        .map_err(|error| format!("cannot listen on {shown}: {error}"))?;
    let refusals_log = log.clone();
    let on_refusal = move |client: SocketAddr, elapsed: Duration, refusal: Refusal| {
        refusals_log.write_line(&log_line::line(&Entry {
            time: SystemTime::now(),
            client: Some(&client),
            method: refusal.method.as_deref(),
            url: refusal.target.as_deref(),
            status: refusal.status,
            elapsed,
            note: Some(&refusal.reason),
        }));
    };
    let errors_log = log.clone();
    let on_error = move |error: &ServerError| {
        let more = match error.unreported {
            0 => String::new(),
            count => format!(" ({count} more times since the last report)"),
        };
        errors_log.write_line(&format!(
            "token-server: {}: {}{more}\n",
            error.what, error.error
        ));
    };
    let options = Options {
        idle_timeout: seconds(config.idle_timeout_seconds),
        request_timeout: seconds(config.request_timeout_seconds),
        body_limit: BODY_LIMIT,
        tls,
        on_refusal: (config.verbosity != Verbosity::Quiet)
            .then(|| Box::new(on_refusal) as OnRefusal),
        on_error: Some(Box::new(on_error)),
    };
    Server::from_listener(listener, options)
        .map_err(|error| format!("cannot listen on {shown}: {error}"))
}

/// SIGINT (Ctrl-C) and SIGTERM stop the server gracefully (`Server::stop`),
/// from a thread of their own.
pub fn stop_on_signals(http_server: &Arc<Server>) -> io::Result<()> {
    let mut signals = Signals::new([SIGINT, SIGTERM])?;
    let server = Arc::clone(http_server);
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
    http_server: &Server,
    app: &mut App,
    log: &LogWriter,
    verbosity: Verbosity,
) -> io::Result<()> {
    loop {
        let request = match http_server.recv() {
            Ok(request) => request,
            Err(NoRequest::Stopped) => return Ok(()),
            Err(NoRequest::Woken) => continue,
            Err(NoRequest::ListenerFailed(error)) => return Err(error),
        };
        let answer = routes::handle(&request, app, unix_now());
        // The log line is made before the request goes with its answer.
        let line = (verbosity != Verbosity::Quiet).then(|| {
            let mut line = log_line::line(&Entry {
                time: SystemTime::now(),
                client: Some(&request.remote_addr()),
                method: Some(request.method().as_str()),
                url: Some(request.url()),
                status: Some(answer.status),
                elapsed: request.received_at().elapsed(),
                note: answer.log_note(),
            });
            if verbosity == Verbosity::Verbose {
                line.push_str(&log_line::header_lines(request.headers()));
            }
            line
        });
        // The answer goes to the connection's own thread, which writes it.
        request.respond(answer.into_response());
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
