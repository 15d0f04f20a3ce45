//! Reads the command line, listens, prints the banner and serves until a
//! signal stops it (exit status 0). Every error ends here as one line on stderr
//! and an exit status: 2 for bad arguments (a certificate file that will not
//! do among them), 1 when the server cannot listen.

use std::collections::HashMap;
use std::io::{self, Write};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use token_server::cli::{self, Command, Config};
use token_server::log::writer::LogWriter;
use token_server::passwords::pool::Pool;
use token_server::passwords::users_file;
use token_server::routes::App;
use token_server::server::UsersSource;
use token_server::{https, passwords, server, users};

fn main() -> ExitCode {
    let mut args = Vec::new();
    for arg in std::env::args_os().skip(1) {
        match arg.into_string() {
            Ok(arg) => args.push(arg),
            Err(arg) => return usage_error(&format!("argument {arg:?} is not valid UTF-8")),
        }
    }
    match cli::parse(&args) {
        Ok(Command::Run(config)) => match run(config) {
            Ok(()) => ExitCode::SUCCESS,
            Err(failure) => {
                say(&failure.message);
                ExitCode::from(failure.status)
            }
        },
        Ok(Command::HashPassword { user }) => {
            match passwords::hash_password::run(user.as_deref()) {
                Ok(line) => {
                    let _ = writeln!(io::stdout(), "{line}");
                    ExitCode::SUCCESS
                }
                Err(message) => {
                    say(&format!("hash-password: {message}"));
                    ExitCode::from(2)
                }
            }
        }
        Ok(Command::Help) => {
            let _ = writeln!(io::stdout(), "{}", cli::help());
            ExitCode::SUCCESS
        }
        Ok(Command::Version) => {
            let _ = writeln!(io::stdout(), "token-server {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Err(message) => usage_error(&message),
    }
}

fn usage_error(message: &str) -> ExitCode {
    say(message);
    let _ = writeln!(io::stderr(), "{}", cli::USAGE);
    ExitCode::from(2)
}

/// One line on stderr, `token-server: MESSAGE`. A message may hold what the
/// command line or a file gave (a value, a file name): a newline or another
/// control character in it is written escaped (`\n`), so that it stays one line.
fn say(message: &str) {
    let line: String = message
        .chars()
        .map(|c| match c.is_control() {
            true => c.escape_default().to_string(),
            false => c.to_string(),
        })
        .collect();
    let _ = writeln!(io::stderr(), "token-server: {line}");
}

/// Why the server did not run, and the exit status that says so.
struct Failure {
    status: u8,
    message: String,
}

impl Failure {
    /// A file given on the command line that will not do: exit status 2.
    fn bad_file(message: String) -> Failure {
        Failure { status: 2, message }
    }

    /// Cannot listen, or stopped listening: exit status 1.
    fn cannot_serve(message: impl Into<String>) -> Failure {
        Failure {
            status: 1,
            message: message.into(),
        }
    }
}

fn run(mut config: Config) -> Result<(), Failure> {
    // `--user`'s passwords (and the default user's), hashed now: from here
    // on the server holds only their hashes.
    let given = users::hash_all(std::mem::take(&mut config.users));
    let mut all_users = given.clone();
    // Passwords from a file, not from the command line (where `ps` shows them).
    let users_source = match &config.users_file {
        Some(file) => {
            let given_names: Vec<String> = given.iter().map(|(name, _)| name.clone()).collect();
            let loaded =
                users_file::read(file, &given_names, &HashMap::new()).map_err(Failure::bad_file)?;
            if let Some(warning) = users_file::permission_warning(file) {
                say(&format!("warning: {warning}"));
            }
            for warning in &loaded.warnings {
                say(&format!("warning: {warning}"));
            }
            all_users.extend(loaded.users);
            Some(UsersSource {
                file: file.clone(),
                given,
                made_of_clear: loaded.made_of_clear,
            })
        }
        None => None,
    };
    let https = match &config.tls {
        Some(source) => {
            Some(https::load(source, &config.host, SystemTime::now()).map_err(Failure::bad_file)?)
        }
        None => None,
    };
    if let Some(made_new) = https.as_ref().and_then(|https| https.made_new.as_ref()) {
        say(made_new);
    }
    if let Some(warning) = https.as_ref().and_then(|https| https.warning.as_ref()) {
        say(&format!("warning: {warning}"));
    }
    if let Err(error) = server::raise_open_files_limit() {
        // Not fatal: the server works, it just meets a flood sooner.
        let _ = writeln!(
            io::stderr(),
            "token-server: cannot raise the open-files limit: {error}"
        );
    }
    let log = LogWriter::start(io::stderr())
        .map_err(|error| Failure::cannot_serve(format!("cannot start the log writer: {error}")))?;
    let tls_config = https.as_ref().map(|https| Arc::clone(&https.config));
    let http_server =
        Arc::new(server::listen(&config, tls_config, &log).map_err(Failure::cannot_serve)?);
    let address = http_server.local_addr();
    let reloads = server::handle_signals(&http_server, users_source).map_err(|error| {
        Failure::cannot_serve(format!("cannot handle SIGINT, SIGTERM and SIGHUP: {error}"))
    })?;
    // Scripts and tests read the real address from this line, so it goes out at once.
    let scheme = if https.is_some() { "https" } else { "http" };
    let mut stdout = io::stdout().lock();
    let _ = writeln!(stdout, "listening on {scheme}://{address}");
    if let Some((path, fingerprint)) = https.as_ref().and_then(|https| https.written.as_ref()) {
        let _ = writeln!(
            stdout,
            "certificate {} (SHA-256 {fingerprint})",
            path.display()
        );
    }
    let _ = stdout.flush();
    drop(stdout);

    // The hashing pool wakes the request loop with each verdict.
    let waker = Arc::clone(&http_server);
    let pool =
        Pool::start(config.hash_threads, Arc::new(move || waker.wake())).map_err(|error| {
            Failure::cannot_serve(format!("cannot start the hashing threads: {error}"))
        })?;
    let mut app = App::with_users(&config, all_users, address);
    let served = server::serve(
        &http_server,
        &mut app,
        &log,
        config.verbosity,
        reloads.as_ref(),
        &pool,
    );
    if let Err(error) = served {
        log.finish("", LOG_FLUSH_LIMIT);
        return Err(Failure::cannot_serve(format!(
            "stopped listening on {address}: {error}"
        )));
    }
    // Stopped by a signal, with every request already read answered: their
    // answers go out, then the log's last lines, all within 2 seconds.
    http_server.wait_for_connections(Duration::from_secs(1));
    log.finish("token-server: stopped\n", LOG_FLUSH_LIMIT);
    Ok(())
}

/// How long the log's last lines may take to be written when the server stops;
/// past that, a stderr nobody reads does not keep the process alive.
const LOG_FLUSH_LIMIT: Duration = Duration::from_millis(500);
