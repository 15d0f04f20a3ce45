//! Reads the command line, listens, prints the banner and serves until a
//! signal stops it (exit status 0). Every error ends here as one line on stderr
//! and an exit status: 2 for bad arguments, 1 when the server cannot listen.

use std::io::{self, Write};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use token_server::cli::{self, Command, Config};
use token_server::log_writer::LogWriter;
use token_server::routes::App;
use token_server::server;

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
            Err(message) => {
                let _ = writeln!(io::stderr(), "token-server: {message}");
                ExitCode::from(1)
            }
        },
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
    let _ = writeln!(io::stderr(), "token-server: {message}\n{}", cli::USAGE);
    ExitCode::from(2)
}

fn run(config: Config) -> Result<(), String> {
    if let Err(error) = server::raise_open_files_limit() {
        // Not fatal: the server works, it just meets a flood sooner.
        let _ = writeln!(
            io::stderr(),
            "token-server: cannot raise the open-files limit: {error}"
        );
    }
    let log = LogWriter::start(io::stderr())
        .map_err(|error| format!("cannot start the log writer: {error}"))?;
    let http_server = Arc::new(server::listen(&config, &log)?);
    let address = http_server.local_addr();
    server::stop_on_signals(&http_server)
        .map_err(|error| format!("cannot handle SIGINT and SIGTERM: {error}"))?;
    // Scripts and tests read the real address from this line, so it goes out at once.
    let mut stdout = io::stdout().lock();
    let _ = writeln!(stdout, "listening on http://{address}");
    let _ = stdout.flush();
    drop(stdout);

    let mut app = App::new(&config, address);
    let served = server::serve(&http_server, &mut app, &log, config.verbosity);
    if let Err(error) = served {
        log.finish("", LOG_FLUSH_LIMIT);
        return Err(format!("stopped listening on {address}: {error}"));
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
