//! `token-server hash-password [--user NAME]`: reads one password on stdin
//! and prints its Argon2id hash, or `NAME:HASH`, a line for a users file.
//! From a terminal it asks twice, without echo; from a pipe it reads one
//! line, without its line end.

use std::io::{self, BufRead, IsTerminal, Write};

use rustix::termios::{self, LocalModes, OptionalActions};
use zeroize::Zeroizing;

use super::Hash;

/// The line to print, or the one-line reason there is none.
pub fn run(user: Option<&str>) -> Result<String, String> {
    let stdin = io::stdin();
    let password = if stdin.is_terminal() {
        let first = read_without_echo("Password: ")?;
        let second = read_without_echo("The same password again: ")?;
        if first != second {
            return Err("the two passwords differ".to_string());
        }
        first
    } else {
        read_line()?
    };
    if password.is_empty() {
        return Err("the password is empty".to_string());
    }
    let hash = Hash::new_argon2id(password.as_bytes())?;
    Ok(match user {
        Some(name) => format!("{name}:{}", hash.as_str()),
        None => hash.as_str().to_string(),
    })
}

/// One line of stdin, without its line end (`\n` or `\r\n`).
fn read_line() -> Result<Zeroizing<String>, String> {
    let mut line = Zeroizing::new(String::new());
    io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|error| format!("cannot read the password: {error}"))?;
    let end = line.trim_end_matches(['\n', '\r']).len();
    line.truncate(end);
    Ok(line)
}

/// Asks on stderr, and reads a line from the terminal with its echo off (and
/// back on after, whatever happened).
fn read_without_echo(prompt: &str) -> Result<Zeroizing<String>, String> {
    let mut stderr = io::stderr();
    let _ = write!(stderr, "{prompt}");
    let _ = stderr.flush();
    let stdin = io::stdin();
    let original = termios::tcgetattr(&stdin)
        .map_err(|error| format!("cannot read the terminal's settings: {error}"))?;
    let mut silent = original.clone();
    silent.local_modes.remove(LocalModes::ECHO);
    termios::tcsetattr(&stdin, OptionalActions::Now, &silent)
        .map_err(|error| format!("cannot turn the terminal's echo off: {error}"))?;
    let line = read_line();
    let _ = termios::tcsetattr(&stdin, OptionalActions::Now, &original);
    let _ = writeln!(stderr);
    line
}
