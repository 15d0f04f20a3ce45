//! The command line: `token-server [--host HOST] [--port PORT] ...`. Each
//! option is declared once, on `Arguments`: clap makes the parser, `--help`,
//! the defaults and "did you mean" from it. Its errors are made one line here,
//! as the spec asks (REFERENCE.md's command-line block is `--help`, and a test
//! holds them together).

use std::path::PathBuf;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::https::CertificateSource;

/// The spec's usage, printed under every error and at the top of `--help`.
pub const USAGE: &str = "\
usage: token-server [--host HOST] [--port PORT] [--ttl SECONDS]
                    [--user NAME:PASSWORD]... [--users-file FILE] [--max-failures N]
                    [--hash-threads N] [--allowed-host NAME]...
                    [--idle-timeout SECONDS] [--request-timeout SECONDS] [--quiet | --verbose]
                    [--tls-cert FILE --tls-key FILE | --tls-self-signed FILE]
       token-server hash-password [--user NAME]
       token-server --help | --version";

/// The tutorial's one user, there unless `--user` or `--users-file` gives others.
pub(crate) const DEFAULT_USER: (&str, &str) = ("magigo", "123456");

const ABOUT: &str =
    "token-server: hands out login tokens and checks them (the Flask tutorial's token login).";

const AFTER_HELP: &str = "\
Once it listens, the first line on stdout is `listening on http://HOST:PORT`
(https with a --tls- option). Ctrl-C (SIGINT) or SIGTERM stops it gracefully.";

/// Every option, once. A doc comment is the option's line in `--help`.
#[derive(Parser, Debug)]
#[command(
    name = "token-server",
    version,
    about = ABOUT,
    override_usage = USAGE,
    help_template = "{about}\n\n{usage}\n\n{all-args}{after-help}",
    after_help = AFTER_HELP,
    // `--port 1 --port 2` is port 2, as with most tools.
    args_override_self = true,
    args_conflicts_with_subcommands = true,
    disable_help_subcommand = true
)]
struct Arguments {
    #[command(subcommand)]
    subcommand: Option<Subcommands>,

    /// Address to listen on (0.0.0.0 opens it to the
    /// network)
    #[arg(
        long,
        value_name = "HOST",
        default_value = "127.0.0.1",
        value_parser = parse_host,
        verbatim_doc_comment
    )]
    host: String,

    /// Port to listen on (0 takes a free port)
    // Flask's port.
    #[arg(long, value_name = "PORT", default_value_t = 5000, value_parser = parse_port)]
    port: u16,

    /// How long a token lives
    #[arg(long, value_name = "SECONDS", default_value_t = 7200, value_parser = parse_seconds)]
    ttl: u32,

    #[arg(
        long = "user",
        value_name = "NAME:PASSWORD",
        value_parser = parse_user,
        help = format!(
            "A user who may log in; repeat for more (without --user or\n--users-file: {}:{})",
            DEFAULT_USER.0, DEFAULT_USER.1
        )
    )]
    users: Vec<(String, String)>,

    /// Users from FILE, one NAME:HASH a line (# for comments):
    /// Argon2id from hash-password, or bcrypt from htpasswd -nbB;
    /// SIGHUP reads it again
    #[arg(long, value_name = "FILE", value_parser = parse_file, verbatim_doc_comment)]
    users_file: Option<PathBuf>,

    /// Failed logins a user name may have from one address, then
    /// one more every 60/N s; 4N a minute for all names, 12N failed
    /// token checks (0: no limit; 5 is fail2ban's)
    #[arg(
        long,
        value_name = "N",
        default_value_t = 5,
        value_parser = parse_count,
        verbatim_doc_comment
    )]
    max_failures: u32,

    #[arg(
        long,
        value_name = "N",
        value_parser = parse_threads,
        help = format!(
            "Threads that check passwords, off the request loop (default:\n\
             the cores but one, at least 1); {} checks may wait for each,\n\
             then 503 busy",
            crate::routes::CHECKS_WAITING_PER_THREAD
        )
    )]
    hash_threads: Option<usize>,

    /// A name (as in Host) that may reach /login, /test and /logout;
    /// repeat for more. Bound to loopback, only localhost and loopback
    /// addresses do without it (a rebinding name is refused 421);
    /// bound elsewhere, every name does unless this is given
    #[arg(
        long = "allowed-host",
        value_name = "NAME",
        value_parser = parse_allowed_host,
        verbatim_doc_comment
    )]
    allowed_hosts: Vec<String>,

    /// Close a connection that sends nothing for this
    /// long
    #[arg(
        long,
        value_name = "SECONDS",
        verbatim_doc_comment,
        // tiny_http's (our fork's) defaults, which say why: one place for them.
        default_value_t = whole_seconds(tiny_http::Options::default().idle_timeout),
        value_parser = parse_seconds
    )]
    idle_timeout: u32,

    /// Answer 408 to a request not whole this long after its first
    /// byte
    #[arg(
        verbatim_doc_comment,
        long,
        value_name = "SECONDS",
        default_value_t = whole_seconds(tiny_http::Options::default().request_timeout),
        value_parser = parse_seconds
    )]
    request_timeout: u32,

    /// Log nothing per request
    #[arg(short, long)]
    quiet: bool,

    /// Log each request's headers too
    #[arg(short, long)]
    verbose: bool,

    /// Serve HTTPS with this PEM certificate chain...
    #[arg(long, value_name = "FILE", value_parser = parse_file)]
    tls_cert: Option<PathBuf>,

    /// ...and this PEM private key (PKCS#8, PKCS#1 or SEC1)
    #[arg(long, value_name = "FILE", value_parser = parse_file)]
    tls_key: Option<PathBuf>,

    /// Serve HTTPS with a self-signed certificate for localhost,
    /// 127.0.0.1, ::1 and --host, written to FILE for clients to trust
    /// (curl --cacert FILE), its key to FILE.key (0600); used again
    /// while it is valid
    #[arg(long, value_name = "FILE", value_parser = parse_file, verbatim_doc_comment)]
    tls_self_signed: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
enum Subcommands {
    /// Reads a password on stdin (from a terminal, twice,
    /// without echo) and prints its Argon2id hash, or
    /// NAME:HASH with --user NAME, a line for a users file
    #[command(verbatim_doc_comment)]
    HashPassword {
        /// The user the line is for
        #[arg(long, value_name = "NAME", value_parser = parse_name)]
        user: Option<String>,
    },
}

/// What `--help` prints: the usage, then each option with its default.
pub fn help() -> String {
    let help = Arguments::command().render_help().to_string();
    help.trim_end().to_string()
}

/// How much the server says about each request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verbosity {
    /// Nothing per request.
    Quiet,
    /// One line per request.
    Normal,
    /// One line per request, then its headers.
    Verbose,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub host: String,
    pub port: u16,
    pub ttl_seconds: u32,
    /// A connection that sends nothing for this long is closed.
    pub idle_timeout_seconds: u32,
    /// A request not whole this long after its first byte gets 408.
    pub request_timeout_seconds: u32,
    /// (name, password) pairs, in the order given (the `--users-file`'s are
    /// added at start: see `main.rs`).
    pub users: Vec<(String, String)>,
    /// `--users-file`, read at start and on SIGHUP.
    pub users_file: Option<PathBuf>,
    /// N of the budgets of failed attempts (`guarding::budgets`); 0: none.
    pub max_failures: u32,
    /// How many threads check passwords against their hashes.
    pub hash_threads: usize,
    /// `--allowed-host`: the names, besides localhost and loopback
    /// addresses, that may reach the token routes.
    pub allowed_hosts: Vec<String>,
    /// HTTPS, and where its certificate comes from; `None`: plain HTTP.
    pub tls: Option<CertificateSource>,
    /// True when the users are the default one, not from `--user` or
    /// `--users-file`.
    pub default_users: bool,
    pub verbosity: Verbosity,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Run(Config),
    /// `hash-password [--user NAME]`.
    HashPassword {
        user: Option<String>,
    },
    Help,
    Version,
}

/// The defaults: what `token-server` with no arguments runs with.
impl Default for Config {
    fn default() -> Config {
        match parse(&[]) {
            Ok(Command::Run(config)) => config,
            // The declarations above give every option a default or none.
            other => unreachable!("no arguments gave {other:?}"),
        }
    }
}

/// Reads the arguments after the program name. `Err` is a one-line message.
pub fn parse(args: &[String]) -> Result<Command, String> {
    let program = std::iter::once("token-server");
    let matches =
        Arguments::command().try_get_matches_from(program.chain(args.iter().map(String::as_str)));
    let arguments = match matches.and_then(|matches| Arguments::from_arg_matches(&matches)) {
        Ok(arguments) => arguments,
        Err(error) if error.kind() == ErrorKind::DisplayHelp => return Ok(Command::Help),
        Err(error) if error.kind() == ErrorKind::DisplayVersion => return Ok(Command::Version),
        Err(error) => {
            let message = one_line(&error);
            return Err(match args.first() {
                Some(first) if first == "hash-password" => format!("hash-password: {message}"),
                _ => message,
            });
        }
    };
    if let Some(Subcommands::HashPassword { user }) = arguments.subcommand {
        return Ok(Command::HashPassword { user });
    }
    Ok(Command::Run(config(arguments)?))
}

/// What the options mean together, which clap's declarations do not say.
fn config(arguments: Arguments) -> Result<Config, String> {
    for (index, (name, _)) in arguments.users.iter().enumerate() {
        if arguments.users[..index]
            .iter()
            .any(|(earlier, _)| earlier == name)
        {
            return Err(format!("--user: user '{name}' is given twice"));
        }
    }
    let tls = match (
        arguments.tls_cert,
        arguments.tls_key,
        arguments.tls_self_signed,
    ) {
        (None, None, None) => None,
        (Some(cert), Some(key), None) => Some(CertificateSource::Files { cert, key }),
        (None, None, Some(path)) => Some(CertificateSource::SelfSigned(path)),
        (_, _, Some(_)) => {
            return Err(
                "--tls-self-signed and --tls-cert or --tls-key cannot be used together".to_string(),
            );
        }
        _ => return Err("--tls-cert and --tls-key go together".to_string()),
    };
    let verbosity = match (arguments.quiet, arguments.verbose) {
        (true, true) => return Err("--quiet and --verbose cannot be used together".to_string()),
        (true, false) => Verbosity::Quiet,
        (false, true) => Verbosity::Verbose,
        (false, false) => Verbosity::Normal,
    };
    // The default user is there only when no user is given.
    let default_users = arguments.users.is_empty() && arguments.users_file.is_none();
    let users = match default_users {
        true => vec![(DEFAULT_USER.0.to_string(), DEFAULT_USER.1.to_string())],
        false => arguments.users,
    };
    Ok(Config {
        host: arguments.host,
        port: arguments.port,
        ttl_seconds: arguments.ttl,
        idle_timeout_seconds: arguments.idle_timeout,
        request_timeout_seconds: arguments.request_timeout,
        users,
        users_file: arguments.users_file,
        max_failures: arguments.max_failures,
        hash_threads: arguments.hash_threads.unwrap_or_else(default_hash_threads),
        allowed_hosts: arguments.allowed_hosts,
        tls,
        default_users,
        verbosity,
    })
}

/// clap's error in one line, as the spec asks (clap's own take several, with
/// the usage and a tip): `--port: 'abc' is not a port number (0 to 65535)`,
/// `unknown argument '--prot' (did you mean '--port'?)`.
fn one_line(error: &clap::Error) -> String {
    let context = |kind| match error.get(kind) {
        Some(ContextValue::String(value)) => value.clone(),
        Some(ContextValue::Strings(values)) => values.join(", "),
        _ => String::new(),
    };
    // "--port <PORT>" names the option "--port".
    let option = |kind| {
        let arg = context(kind);
        arg.split_once(' ')
            .map_or(arg.clone(), |(flag, _)| flag.to_string())
    };
    match error.kind() {
        ErrorKind::ValueValidation => {
            let reason =
                std::error::Error::source(error).map_or(String::new(), |why| why.to_string());
            format!("{}: {reason}", option(ContextKind::InvalidArg))
        }
        ErrorKind::InvalidValue => format!("{} needs a value", option(ContextKind::InvalidArg)),
        ErrorKind::TooManyValues | ErrorKind::NoEquals => {
            format!("{} takes no value", option(ContextKind::InvalidArg))
        }
        // `--port 1 hash-password`: the only conflict clap is told of.
        ErrorKind::ArgumentConflict => format!(
            "{} cannot be used with {}",
            option(ContextKind::PriorArg),
            context(ContextKind::InvalidSubcommand)
        ),
        ErrorKind::UnknownArgument | ErrorKind::InvalidSubcommand => {
            let unknown = context(ContextKind::InvalidArg);
            let unknown = match unknown.is_empty() {
                true => context(ContextKind::InvalidSubcommand),
                false => unknown,
            };
            let suggested = match context(ContextKind::SuggestedArg) {
                suggested if suggested.is_empty() => context(ContextKind::SuggestedSubcommand),
                suggested => suggested,
            };
            match suggested.is_empty() {
                true => format!("unknown argument '{unknown}'"),
                false => format!("unknown argument '{unknown}' (did you mean '{suggested}'?)"),
            }
        }
        // Any other: clap's first line, without its "error: ".
        _ => {
            let rendered = error.render().to_string();
            let first = rendered.lines().next().unwrap_or("bad arguments");
            first.trim_start_matches("error: ").to_string()
        }
    }
}

fn whole_seconds(duration: std::time::Duration) -> u32 {
    u32::try_from(duration.as_secs()).unwrap_or(u32::MAX)
}

/// The cores but one, for the request loop and the connections, at least 1.
fn default_hash_threads() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |cores| cores.get().saturating_sub(1))
        .max(1)
}

fn parse_host(value: &str) -> Result<String, String> {
    // `[::1]`, as in a URL, is the same host as `::1`.
    let host = value.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return Err("the host is empty".to_string());
    }
    Ok(host.to_string())
}

/// A name for `hash-password --user`: a users file's `NAME:` part.
fn parse_name(value: &str) -> Result<String, String> {
    if value.is_empty() || value.contains(':') {
        return Err("a name, not empty, without ':'".to_string());
    }
    Ok(value.to_string())
}

/// A name as a `Host` header gives it, without a port, kept in lower case
/// (names are compared in any case).
fn parse_allowed_host(value: &str) -> Result<String, String> {
    let valid = !value.is_empty()
        && value
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b".-_:[]".contains(&byte));
    if !valid {
        return Err(format!("'{value}' is not a host name or address"));
    }
    Ok(value.to_ascii_lowercase())
}

fn parse_port(value: &str) -> Result<u16, String> {
    value
        .parse()
        .map_err(|_| format!("'{value}' is not a port number (0 to 65535)"))
}

fn parse_seconds(value: &str) -> Result<u32, String> {
    match value.parse::<u32>() {
        Ok(seconds) if seconds > 0 => Ok(seconds),
        _ => Err(format!(
            "'{value}' is not a whole number of seconds from 1 to {}",
            u32::MAX
        )),
    }
}

fn parse_count(value: &str) -> Result<u32, String> {
    value
        .parse()
        .map_err(|_| format!("'{value}' is not a whole number from 0 to {}", u32::MAX))
}

fn parse_threads(value: &str) -> Result<usize, String> {
    match parse_count(value)? {
        0 => Err("at least 1".to_string()),
        count => Ok(count as usize),
    }
}

fn parse_file(value: &str) -> Result<PathBuf, String> {
    if value.is_empty() {
        return Err("the file name is empty".to_string());
    }
    Ok(PathBuf::from(value))
}

fn parse_user(value: &str) -> Result<(String, String), String> {
    match value.split_once(':') {
        Some((name, "")) if !name.is_empty() => Err(format!("user '{name}' has an empty password")),
        Some((name, password)) if !name.is_empty() => Ok((name.to_string(), password.to_string())),
        _ => Err(format!("'{value}' is not NAME:PASSWORD")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_strs(args: &[&str]) -> Result<Command, String> {
        let args: Vec<String> = args.iter().map(|arg| arg.to_string()).collect();
        parse(&args)
    }

    fn config(args: &[&str]) -> Config {
        match parse_strs(args) {
            Ok(Command::Run(config)) => config,
            other => panic!("expected a config, got {other:?}"),
        }
    }

    #[test]
    fn the_declarations_hold_together() {
        // clap's own checks of the declarations (names, defaults, conflicts).
        Arguments::command().debug_assert();
    }

    #[test]
    fn defaults() {
        let config = config(&[]);
        assert_eq!(config.host, "127.0.0.1");
        assert_eq!(config.port, 5000);
        assert_eq!(config.ttl_seconds, 7200);
        assert_eq!(config.idle_timeout_seconds, 5);
        assert_eq!(config.request_timeout_seconds, 10);
        assert_eq!(config.users, vec![("magigo".into(), "123456".into())]);
        assert!(config.default_users);
        assert_eq!(config.users_file, None);
        assert_eq!(config.verbosity, Verbosity::Normal);
    }

    #[test]
    fn all_options() {
        let config = config(&[
            "--host",
            "0.0.0.0",
            "--port",
            "0",
            "--ttl",
            "60",
            "--user",
            "a:1",
            "--user",
            "b:x:y",
            "--verbose",
        ]);
        assert_eq!(config.host, "0.0.0.0");
        assert_eq!(config.port, 0);
        assert_eq!(config.ttl_seconds, 60);
        assert_eq!(
            config.users,
            vec![("a".into(), "1".into()), ("b".into(), "x:y".into())]
        );
        assert!(!config.default_users);
        assert_eq!(config.verbosity, Verbosity::Verbose);
    }

    #[test]
    fn inline_values() {
        let config = config(&["--port=8080", "--host=[::1]", "--quiet"]);
        assert_eq!(config.port, 8080);
        assert_eq!(config.host, "::1");
        assert_eq!(config.verbosity, Verbosity::Quiet);
    }

    #[test]
    fn help_and_version() {
        assert_eq!(parse_strs(&["--help"]), Ok(Command::Help));
        assert_eq!(
            parse_strs(&["--port", "1", "--version"]),
            Ok(Command::Version)
        );
    }

    #[test]
    fn bad_port() {
        assert_eq!(
            parse_strs(&["--port", "abc"]),
            Err("--port: 'abc' is not a port number (0 to 65535)".into())
        );
        assert!(parse_strs(&["--port", "65536"]).is_err());
        assert!(parse_strs(&["--port", "-1"]).is_err());
    }

    #[test]
    fn missing_value() {
        assert_eq!(parse_strs(&["--port"]), Err("--port needs a value".into()));
    }

    #[test]
    fn idle_timeout() {
        assert_eq!(config(&["--idle-timeout", "1"]).idle_timeout_seconds, 1);
        assert_eq!(
            parse_strs(&["--idle-timeout", "0"]),
            Err("--idle-timeout: '0' is not a whole number of seconds from 1 to 4294967295".into())
        );
    }

    #[test]
    fn request_timeout() {
        assert_eq!(
            config(&["--request-timeout", "2"]).request_timeout_seconds,
            2
        );
        assert!(parse_strs(&["--request-timeout", "0"]).is_err());
        assert!(parse_strs(&["--request-timeout"]).is_err());
    }

    #[test]
    fn bad_ttl() {
        assert!(parse_strs(&["--ttl", "0"]).is_err());
        assert!(parse_strs(&["--ttl", "1.5"]).is_err());
        assert!(parse_strs(&["--ttl", "-5"]).is_err());
    }

    #[test]
    fn bad_user() {
        assert!(parse_strs(&["--user", "nopassword"]).is_err());
        assert!(parse_strs(&["--user", ":secret"]).is_err());
        assert_eq!(
            parse_strs(&["--user", "a:1", "--user", "a:2"]),
            Err("--user: user 'a' is given twice".into())
        );
    }

    #[test]
    fn an_empty_password_is_refused() {
        assert_eq!(
            parse_strs(&["--user", "a:"]),
            Err("--user: user 'a' has an empty password".into())
        );
    }

    #[test]
    fn users_file_and_max_failures() {
        let given = config(&["--users-file", "users.txt", "--max-failures", "0"]);
        assert_eq!(given.users_file, Some("users.txt".into()));
        assert_eq!(given.max_failures, 0);
        // The file's users replace the default one, as --user's do.
        assert!(given.users.is_empty());
        assert!(!given.default_users);
        assert_eq!(config(&[]).max_failures, 5);
        assert!(parse_strs(&["--max-failures", "-1"]).is_err());
        assert!(parse_strs(&["--max-failures", "x"]).is_err());
    }

    #[test]
    fn quiet_and_verbose_together() {
        assert!(parse_strs(&["--quiet", "--verbose"]).is_err());
    }

    #[test]
    fn unknown_argument() {
        assert_eq!(
            parse_strs(&["--bogus"]),
            Err("unknown argument '--bogus'".into())
        );
        assert!(parse_strs(&["extra"]).is_err());
        assert!(parse_strs(&["--quiet=yes"]).is_err());
    }

    #[test]
    fn tls_options() {
        assert_eq!(config(&[]).tls, None);
        assert_eq!(
            config(&["--tls-cert", "c.pem", "--tls-key=k.pem"]).tls,
            Some(CertificateSource::Files {
                cert: "c.pem".into(),
                key: "k.pem".into()
            })
        );
        assert_eq!(
            config(&["--tls-self-signed", "cert.pem"]).tls,
            Some(CertificateSource::SelfSigned("cert.pem".into()))
        );
        assert_eq!(
            parse_strs(&["--tls-cert", "c.pem"]),
            Err("--tls-cert and --tls-key go together".into())
        );
        assert_eq!(
            parse_strs(&["--tls-key", "k.pem"]),
            Err("--tls-cert and --tls-key go together".into())
        );
        assert!(
            parse_strs(&[
                "--tls-self-signed",
                "a",
                "--tls-cert",
                "c",
                "--tls-key",
                "k"
            ])
            .is_err()
        );
        assert!(parse_strs(&["--tls-self-signed", ""]).is_err());
        assert!(parse_strs(&["--tls-self-signed"]).is_err());
    }

    #[test]
    fn a_misspelled_option_is_named_with_the_one_meant() {
        assert_eq!(
            parse_strs(&["--prot", "8080"]),
            Err("unknown argument '--prot' (did you mean '--port'?)".into())
        );
        assert_eq!(
            parse_strs(&["hash-pasword"]),
            Err("unknown argument 'hash-pasword' (did you mean 'hash-password'?)".into())
        );
    }

    #[test]
    fn the_last_of_an_option_given_twice_counts() {
        assert_eq!(config(&["--port", "1", "--port=2"]).port, 2);
    }

    #[test]
    fn hash_password() {
        assert_eq!(
            parse_strs(&["hash-password"]),
            Ok(Command::HashPassword { user: None })
        );
        assert_eq!(
            parse_strs(&["hash-password", "--user", "ann"]),
            Ok(Command::HashPassword {
                user: Some("ann".into())
            })
        );
        assert_eq!(
            parse_strs(&["hash-password", "--user=a:b"]),
            Err("hash-password: --user: a name, not empty, without ':'".into())
        );
        assert_eq!(
            parse_strs(&["hash-password", "--port", "1"]),
            Err("hash-password: unknown argument '--port'".into())
        );
        assert_eq!(
            parse_strs(&["--port", "1", "hash-password"]),
            Err("--port cannot be used with hash-password".into())
        );
        assert_eq!(parse_strs(&["hash-password", "--help"]), Ok(Command::Help));
    }

    #[test]
    fn short_options() {
        assert_eq!(config(&["-q"]).verbosity, Verbosity::Quiet);
        assert_eq!(config(&["-v"]).verbosity, Verbosity::Verbose);
        assert_eq!(parse_strs(&["-h"]), Ok(Command::Help));
        assert_eq!(parse_strs(&["-V"]), Ok(Command::Version));
    }

    #[test]
    fn every_error_is_one_line() {
        for args in [
            &["--port"][..],
            &["--quiet=yes"],
            &["--quiet", "--verbose"],
            &["--hash-threads", "0"],
            &["--allowed-host", "a b"],
            &["--help=1"],
            &["-x"],
        ] {
            let message = parse_strs(args).expect_err("an error");
            assert!(!message.contains('\n'), "{args:?}: {message}");
            assert!(!message.starts_with("error"), "{args:?}: {message}");
        }
    }

    #[test]
    fn the_help_names_every_option_with_its_default() {
        let help = help();
        assert!(help.starts_with("token-server: hands out login tokens"));
        assert!(help.contains(USAGE));
        assert!(help.contains("--port <PORT>"));
        assert!(help.contains("[default: 5000]"));
        assert!(help.contains("[default: 7200]"));
        assert!(help.contains("magigo:123456"));
        assert!(!help.contains("\n\n\n"));
        assert!(help.lines().all(|line| line.len() <= 100), "{help}");
    }

    #[test]
    fn empty_host() {
        assert!(parse_strs(&["--host", ""]).is_err());
    }
}
