//! Unknown tokens from many loopback addresses (127.1.0.0 on, each a
//! connection bound to its own address): what the budgets of failed attempts
//! cost the server's memory (`make bench`). Each address makes one entry of
//! the table. (Token checks, not logins: a login costs a password hash.)
//!
//!     cargo run --release --example guess -- --address 127.0.0.1:5000 [--addresses 20000]
//!
//! Prints how many were refused (401) and how many throttled (429), then a
//! `RESULT` line. Loopback only; it stops by itself. Exits 2 on bad
//! arguments, 1 when an answer was neither.

use std::process::ExitCode;

use testkit::flood::wrong_tokens_from;

const USAGE: &str = "usage: guess --address HOST:PORT [--addresses N]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut address = None;
    let mut addresses: u32 = 20_000;
    for pair in args.chunks(2) {
        match pair {
            [flag, value] if flag == "--address" => address = Some(value.clone()),
            [flag, value] if flag == "--addresses" => match value.parse() {
                Ok(count) if count > 0 && count < 1 << 24 => addresses = count,
                _ => {
                    return usage_error(&format!(
                        "--addresses: '{value}' is not a count from 1 to 2^24 - 1"
                    ));
                }
            },
            _ => return usage_error(&format!("bad arguments: {pair:?}")),
        }
    }
    let Some(address) = address else {
        return usage_error("--address is needed");
    };
    let guesses = wrong_tokens_from(&address, addresses);
    println!(
        "guess: {addresses} addresses, an unknown token each: {} refused (401), {} throttled (429), {} other",
        guesses.refused, guesses.throttled, guesses.other
    );
    println!(
        "RESULT refused={} throttled={} other={}",
        guesses.refused, guesses.throttled, guesses.other
    );
    if guesses.other == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn usage_error(message: &str) -> ExitCode {
    eprintln!("guess: {message}\n{USAGE}");
    ExitCode::from(2)
}
