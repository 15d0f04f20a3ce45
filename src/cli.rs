//! The command line: `token-server [--host HOST] [--port PORT] ...`. The
//! usage, the help and the defaults are written here once (REFERENCE.md's
//! command-line block is `--help`, and a test holds them together).

use std::path::PathBuf;

use crate::https::CertificateSource;

pub const USAGE: &str = "\
usage: token-server [--host HOST] [--port PORT] [--ttl SECONDS]
                    [--user NAME:PASSWORD]... [--users-file FILE] [--max-failures N]
                    [--hash-threads N] [--allowed-host NAME]...
                    [--idle-timeout SECONDS] [--request-timeout SECONDS] [--quiet | --verbose]
                    [--tls-cert FILE --tls-key FILE | --tls-self-signed FILE]
       token-server hash-password [--user NAME]
       token-server --help | --version";

/// What `--help` prints: the usage, then each option with its default.
pub fn help() -> String {
    let defaults = Config::default();
    let (name, password) = DEFAULT_USER;
    format!(
        "\
token-server: hands out login tokens and checks them (the Flask tutorial's token login).

{USAGE}

  --host HOST                address to listen on (default {host}; 0.0.0.0 opens it to the network)
  --port PORT                port to listen on (default {port}; 0 takes a free port)
  --ttl SECONDS              how long a token lives (default {ttl})
  --user NAME:PASSWORD       a user who may log in; repeat for more (default {name}:{password},
                             which is there only when no --user or --users-file is given)
  --users-file FILE          users from FILE, one NAME:HASH a line (# for comments): Argon2id from
                             hash-password, or bcrypt from htpasswd -nbB; SIGHUP reads it again
  --max-failures N           failed logins a user name may have from one address, then one more
                             every 60/N s; 4N a minute for all names, 12N failed token checks
                             (default {max_failures}; 0: no limit)
  --hash-threads N           threads that check passwords, off the request loop (default: the
                             cores but one, at least 1); 64 checks may wait for each, then 503 busy
  --allowed-host NAME        a name (as in Host) that may reach /login, /test and /logout;
                             repeat for more. Bound to loopback, only localhost and loopback
                             addresses do without it (a rebinding name is refused 421);
                             bound elsewhere, every name does unless this is given
  --idle-timeout SECONDS     close a connection that sends nothing for this long (default {idle})
  --request-timeout SECONDS  answer 408 to a request not whole this long after its first byte
                             (default {request})
  --quiet                    log nothing per request
  --verbose                  log each request's headers too
  --tls-cert FILE            serve HTTPS with this PEM certificate chain...
  --tls-key FILE             ...and this PEM private key (PKCS#8, PKCS#1 or SEC1)
  --tls-self-signed FILE     serve HTTPS with a self-signed certificate for localhost, 127.0.0.1,
                             ::1 and --host, written to FILE for clients to trust (curl --cacert
                             FILE), its key to FILE.key (0600); used again while it is valid
  --help                     show this help
  --version                  show the version

token-server hash-password [--user NAME] reads a password on stdin (from a terminal, twice,
without echo) and prints its Argon2id hash, or NAME:HASH, a line for a users file.

Once it listens, the first line on stdout is `listening on http://HOST:PORT`
(https with a --tls- option). Ctrl-C (SIGINT) or SIGTERM stops it gracefully.",
        host = defaults.host,
        port = defaults.port,
        ttl = defaults.ttl_seconds,
        max_failures = defaults.max_failures,
        idle = defaults.idle_timeout_seconds,
        request = defaults.request_timeout_seconds,
    )
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

/// The tutorial's one user, there unless `--user` gives others.
pub(crate) const DEFAULT_USER: (&str, &str) = ("magigo", "123456");

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

/// The defaults: what `token-server` with no arguments does.
impl Default for Config {
    fn default() -> Config {
        let (name, password) = DEFAULT_USER;
        // The timeouts are tiny_http's (our fork's) defaults, which say why
        // (Apache's KeepAliveTimeout; within nginx's client_header_timeout):
        // one place for them.
        let connections = tiny_http::Options::default();
        let seconds = |duration: std::time::Duration| duration.as_secs() as u32;
        Config {
            host: "127.0.0.1".to_string(),
            // Flask's port.
            port: 5000,
            ttl_seconds: 7200,
            idle_timeout_seconds: seconds(connections.idle_timeout),
            request_timeout_seconds: seconds(connections.request_timeout),
            users: vec![(name.to_string(), password.to_string())],
            users_file: None,
            // fail2ban's maxretry.
            max_failures: 5,
            hash_threads: default_hash_threads(),
            allowed_hosts: Vec::new(),
            tls: None,
            default_users: true,
            verbosity: Verbosity::Normal,
        }
    }
}

/// Reads the arguments after the program name. `Err` is a one-line message.
pub fn parse(args: &[String]) -> Result<Command, String> {
    if let Some((first, rest)) = args.split_first()
        && first == "hash-password"
    {
        return parse_hash_password(rest);
    }
    let mut config = Config::default();
    let mut users = Vec::new();
    let mut quiet = false;
    let mut verbose = false;
    let (mut tls_cert, mut tls_key, mut tls_self_signed) = (None, None, None);
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        // `--port=8080` and `--port 8080` are the same.
        let (flag, inline_value) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (flag, Some(value.to_string())),
            _ => (arg.as_str(), None),
        };
        let takes_value = matches!(
            flag,
            "--host"
                | "--port"
                | "--ttl"
                | "--user"
                | "--idle-timeout"
                | "--request-timeout"
                | "--tls-cert"
                | "--tls-key"
                | "--tls-self-signed"
                | "--users-file"
                | "--max-failures"
                | "--allowed-host"
                | "--hash-threads"
        );
        if !takes_value && inline_value.is_some() {
            return Err(format!("{flag} takes no value"));
        }
        let mut value = || match inline_value.clone() {
            Some(value) => Ok(value),
            None => args.next().cloned().ok_or(format!("{flag} needs a value")),
        };
        match flag {
            "--help" | "-h" => return Ok(Command::Help),
            "--version" | "-V" => return Ok(Command::Version),
            "--quiet" | "-q" => quiet = true,
            "--verbose" | "-v" => verbose = true,
            "--host" => config.host = parse_host(&value()?)?,
            "--port" => config.port = parse_port(&value()?)?,
            "--ttl" => config.ttl_seconds = parse_seconds(flag, &value()?)?,
            "--idle-timeout" => config.idle_timeout_seconds = parse_seconds(flag, &value()?)?,
            "--request-timeout" => {
                config.request_timeout_seconds = parse_seconds(flag, &value()?)?;
            }
            "--users-file" => config.users_file = Some(parse_file(flag, &value()?)?),
            "--max-failures" => config.max_failures = parse_count(flag, &value()?)?,
            "--hash-threads" => {
                config.hash_threads = match parse_count(flag, &value()?)? {
                    0 => return Err("--hash-threads: at least 1".to_string()),
                    count => count as usize,
                };
            }
            "--allowed-host" => config.allowed_hosts.push(parse_allowed_host(&value()?)?),
            "--tls-cert" => tls_cert = Some(parse_file(flag, &value()?)?),
            "--tls-key" => tls_key = Some(parse_file(flag, &value()?)?),
            "--tls-self-signed" => tls_self_signed = Some(parse_file(flag, &value()?)?),
            "--user" => {
                let user = parse_user(&value()?)?;
                if users.iter().any(|(name, _)| *name == user.0) {
                    return Err(format!("--user: user '{}' is given twice", user.0));
                }
                users.push(user);
            }
            _ => return Err(format!("unknown argument '{arg}'")),
        }
    }
    config.verbosity = match (quiet, verbose) {
        (true, true) => return Err("--quiet and --verbose cannot be used together".to_string()),
        (true, false) => Verbosity::Quiet,
        (false, true) => Verbosity::Verbose,
        (false, false) => Verbosity::Normal,
    };
    config.tls = match (tls_cert, tls_key, tls_self_signed) {
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
    // The default user is there only when no user is given.
    if !users.is_empty() || config.users_file.is_some() {
        config.users = users;
        config.default_users = false;
    }
    Ok(Command::Run(config))
}

fn parse_host(value: &str) -> Result<String, String> {
    // `[::1]`, as in a URL, is the same host as `::1`.
    let host = value.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return Err("--host: the host is empty".to_string());
    }
    Ok(host.to_string())
}

/// The cores but one, for the request loop and the connections, at least 1.
fn default_hash_threads() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |cores| cores.get().saturating_sub(1))
        .max(1)
}

/// `hash-password [--user NAME]`.
fn parse_hash_password(args: &[String]) -> Result<Command, String> {
    let mut user = None;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let value = match arg.split_once('=') {
            Some(("--user", value)) => value.to_string(),
            _ if arg == "--user" => args
                .next()
                .cloned()
                .ok_or("hash-password: --user needs a value")?,
            _ if arg == "--help" || arg == "-h" => return Ok(Command::Help),
            _ => return Err(format!("hash-password: unknown argument '{arg}'")),
        };
        if value.is_empty() || value.contains(':') {
            return Err("hash-password: --user NAME: a name, not empty, without ':'".to_string());
        }
        user = Some(value);
    }
    Ok(Command::HashPassword { user })
}

/// A name as a `Host` header gives it, without a port, kept in lower case
/// (names are compared in any case).
fn parse_allowed_host(value: &str) -> Result<String, String> {
    let valid = !value.is_empty()
        && value
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b".-_:[]".contains(&byte));
    if !valid {
        return Err(format!(
            "--allowed-host: '{value}' is not a host name or address"
        ));
    }
    Ok(value.to_ascii_lowercase())
}

fn parse_port(value: &str) -> Result<u16, String> {
    value
        .parse()
        .map_err(|_| format!("--port: '{value}' is not a port number (0 to 65535)"))
}

fn parse_seconds(flag: &str, value: &str) -> Result<u32, String> {
    match value.parse::<u32>() {
        Ok(seconds) if seconds > 0 => Ok(seconds),
        _ => Err(format!(
            "{flag}: '{value}' is not a whole number of seconds from 1 to {}",
            u32::MAX
        )),
    }
}

fn parse_count(flag: &str, value: &str) -> Result<u32, String> {
    value.parse().map_err(|_| {
        format!(
            "{flag}: '{value}' is not a whole number from 0 to {}",
            u32::MAX
        )
    })
}

fn parse_file(flag: &str, value: &str) -> Result<PathBuf, String> {
    if value.is_empty() {
        return Err(format!("{flag}: the file name is empty"));
    }
    Ok(PathBuf::from(value))
}

fn parse_user(value: &str) -> Result<(String, String), String> {
    match value.split_once(':') {
        Some((name, "")) if !name.is_empty() => {
            Err(format!("--user: user '{name}' has an empty password"))
        }
        Some((name, password)) if !name.is_empty() => Ok((name.to_string(), password.to_string())),
        _ => Err(format!("--user: '{value}' is not NAME:PASSWORD")),
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
    fn empty_host() {
        assert!(parse_strs(&["--host", ""]).is_err());
    }
}
