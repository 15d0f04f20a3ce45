//! Listening, and the request loop: one thread takes each request in turn,
//! answers it, and logs it. It never reads or writes a client's socket: in
//! tiny_http, each connection's own thread reads whole requests and writes
//! the answers, so no client, however slow or stalled, can hold up the loop.
//! Nor does it ever compute a password's hash: a login's check goes to the
//! hashing pool (`passwords::pool`), and the loop answers that login when
//! the verdict comes back.

use std::collections::HashMap;
use std::io;
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;
use tiny_http::{NoRequest, OnRefusal, Options, Refusal, Request, Server, ServerError};

use crate::answer::Answer;
use crate::cli::{Config, Verbosity};
use crate::log::line::Entry;
use crate::log::writer::{LogWriter, Record};
use crate::passwords::Hash;
use crate::passwords::pool::{Pool, Verdict};
use crate::passwords::users_file;
use crate::routes::{self, App, BODY_LIMIT, Handled, PasswordCheck, PendingLogin};

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
    let listener = TcpListener::bind((host, port)).map_err(|error| {
        let advice = if error.kind() == io::ErrorKind::AddrInUse {
            "; another program has this port: pick another with --port 8080 (make run PORT=8080), or --port 0 for any free one"
        } else {
            ""
        };
        format!("cannot listen on {shown}: {error}{advice}")
    })?;
    let refusals_log = log.clone();
    let on_refusal = move |client: SocketAddr, elapsed: Duration, refusal: Refusal| {
        refusals_log.write(Record::Answer(Entry {
            time: SystemTime::now(),
            client: Some(client),
            method: refusal.method.map(Into::into),
            url: refusal.target,
            status: refusal.status,
            elapsed,
            note: Some(refusal.reason),
            headers: Vec::new(),
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

/// Where the users come from, for SIGHUP to read them again: `--users-file`,
/// after the users `--user` gave (hashed at start), and the hashes made of
/// the file's passwords in clear at the last read.
pub struct UsersSource {
    pub file: PathBuf,
    pub given: Vec<(String, Arc<Hash>)>,
    pub made_of_clear: HashMap<String, Arc<Hash>>,
}

/// What a SIGHUP read, or the one line that says why the file would not do.
pub struct Reload {
    pub file: PathBuf,
    pub users: Result<Reloaded, String>,
}

/// All the users (`--user`'s, then the file's), how many the file gave,
/// and the file's warnings.
pub struct Reloaded {
    pub users: Vec<(String, Arc<Hash>)>,
    pub from_file: usize,
    pub warnings: Vec<String>,
}

/// SIGINT (Ctrl-C) and SIGTERM stop the server gracefully (`Server::stop`),
/// from a thread of their own. With a users file, SIGHUP reads it again, on
/// that thread, and hands what it read to the request loop, which alone
/// changes the users (through the receiver this returns, and
/// `Server::wake`). Without one, SIGHUP keeps its usual meaning: a closed
/// terminal stops the server.
pub fn handle_signals(
    http_server: &Arc<Server>,
    users: Option<UsersSource>,
) -> io::Result<Option<Receiver<Reload>>> {
    let reloading = users.is_some();
    let mut wanted = vec![SIGINT, SIGTERM];
    if reloading {
        wanted.push(SIGHUP);
    }
    let mut signals = Signals::new(wanted)?;
    let server = Arc::clone(http_server);
    let (reloads, reloaded) = mpsc::channel();
    let mut users = users;
    thread::Builder::new()
        .name("signals".to_string())
        .spawn(move || {
            for signal in signals.forever() {
                match (signal, &mut users) {
                    // Read, and hashed for lines in clear, here: off the loop.
                    (SIGHUP, Some(users)) => {
                        let given: Vec<String> =
                            users.given.iter().map(|(name, _)| name.clone()).collect();
                        let read = users_file::read(&users.file, &given, &users.made_of_clear).map(
                            |loaded| {
                                users.made_of_clear = loaded.made_of_clear;
                                let from_file = loaded.users.len();
                                let mut all = users.given.clone();
                                all.extend(loaded.users);
                                Reloaded {
                                    users: all,
                                    from_file,
                                    warnings: loaded.warnings,
                                }
                            },
                        );
                        let reload = Reload {
                            file: users.file.clone(),
                            users: read,
                        };
                        if reloads.send(reload).is_ok() {
                            server.wake();
                        }
                    }
                    _ => {
                        server.stop();
                        return;
                    }
                }
            }
        })?;
    Ok(reloading.then_some(reloaded))
}

/// Answers requests one at a time, and logs each answer, until the server
/// stops: `Ok` once a stop has answered every request already read, `Err` if
/// tiny_http stopped listening. A login's password is checked on `pool`:
/// the request waits, the loop goes on, and the login is answered when its
/// verdict comes back (the pool wakes the loop).
pub fn serve(
    http_server: &Server,
    app: &mut App,
    log: &LogWriter,
    verbosity: Verbosity,
    reloads: Option<&Receiver<Reload>>,
    pool: &Pool,
) -> io::Result<()> {
    // The logins whose password is being checked, by check id.
    let mut waiting: HashMap<u64, (Request, PendingLogin)> = HashMap::new();
    loop {
        let request = match http_server.recv() {
            Ok(request) => request,
            Err(NoRequest::Stopped) => {
                // The logins already read are answered too.
                while !waiting.is_empty() {
                    let Some(verdict) = pool.next_verdict(STOP_WAIT_FOR_CHECKS) else {
                        break;
                    };
                    answer_verdict(verdict, &mut waiting, app, log, verbosity);
                }
                return Ok(());
            }
            // Between two requests: the users read again on SIGHUP, and the
            // verdicts of password checks.
            Err(NoRequest::Woken) => {
                for reload in reloads.into_iter().flat_map(Receiver::try_iter) {
                    reload_users(app, reload, log);
                }
                for verdict in pool.verdicts() {
                    answer_verdict(verdict, &mut waiting, app, log, verbosity);
                }
                continue;
            }
            Err(NoRequest::ListenerFailed(error)) => return Err(error),
        };
        match routes::handle(&request, app, unix_now()) {
            Handled::Answer(answer) => respond(request, answer, log, verbosity),
            Handled::Check(PasswordCheck { check, login }) => {
                let id = check.id;
                if pool.submit(check) {
                    waiting.insert(id, (request, login));
                } else {
                    // The pool is gone (it never is while the server runs).
                    let answer = routes::finish_login(login, false, app, unix_now());
                    respond(request, answer, log, verbosity);
                }
            }
        }
    }
}

/// How long a stop waits for the password checks under way.
const STOP_WAIT_FOR_CHECKS: Duration = Duration::from_millis(1500);

/// Answers the login whose check came back with `verdict`.
fn answer_verdict(
    verdict: Verdict,
    waiting: &mut HashMap<u64, (Request, PendingLogin)>,
    app: &mut App,
    log: &LogWriter,
    verbosity: Verbosity,
) {
    if let Some((request, login)) = waiting.remove(&verdict.id) {
        let answer = routes::finish_login(login, verdict.matched, app, unix_now());
        respond(request, answer, log, verbosity);
    }
}

/// Sends `answer` to `request`'s connection thread, and logs it.
fn respond(request: Request, mut answer: Answer, log: &LogWriter, verbosity: Verbosity) {
    // The facts of the log line, taken before the request goes with its
    // answer; the log's own thread makes the line of them. The time taken
    // runs from the request to its answer, a password check's wait included.
    let entry = (verbosity != Verbosity::Quiet).then(|| Entry {
        time: SystemTime::now(),
        client: Some(request.remote_addr()),
        method: Some(request.method().as_str().into()),
        url: Some(request.url().to_string()),
        status: Some(answer.status),
        elapsed: request.received_at().elapsed(),
        note: answer.take_log_note(),
        headers: match verbosity {
            Verbosity::Verbose => request
                .headers()
                .map(|(name, value)| (name.to_string(), value.to_string()))
                .collect(),
            _ => Vec::new(),
        },
    });
    // The answer goes to the connection's own thread, which writes it.
    request.respond(answer.into_response());
    if let Some(entry) = entry {
        log.write(Record::Answer(entry));
    }
}

/// Replaces the users with those a SIGHUP read, and says so on stderr
/// (`--quiet` too: it is no request's line); a file that would not do leaves
/// them as they were.
fn reload_users(app: &mut App, reload: Reload, log: &LogWriter) {
    let file = reload.file.display();
    match reload.users {
        Ok(Reloaded {
            users,
            from_file,
            warnings,
        }) => {
            for warning in warnings {
                log.write_line(&format!("token-server: warning: {warning}\n"));
            }
            app.users.replace(users);
            log.write_line(&format!(
                "token-server: reloaded {from_file} users from {file}\n"
            ));
        }
        Err(message) => log.write_line(&format!(
            "token-server: {message}; the users stay as they were\n"
        )),
    }
}

/// Now, in Unix seconds with a fraction, as the tutorial's `time.time()`.
pub(crate) fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |since| since.as_secs_f64())
}

fn seconds(seconds: u32) -> Duration {
    Duration::from_secs(u64::from(seconds))
}
