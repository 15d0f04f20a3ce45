//! Floods a token-server with connections, closes them, and reports whether and
//! how soon it answers again, and whether a token issued before survived:
//!
//!     cargo run --release --example flood -- --address 127.0.0.1:5000 [--connections 600] [--keep-open SECONDS] [--cacert FILE]
//!
//! `--keep-open` keeps the connections open, idle, that long after their
//! answers (for `make bench` to measure what they cost the server);
//! `--cacert FILE` speaks HTTPS, trusting the certificate in FILE. The server
//! must have the default user (magigo:123456). Loopback only; it stops by
//! itself. Exits 1 when the server did not answer within 2 s after
//! the flood, or the token was lost; 2 on bad arguments.

use std::process::ExitCode;
use std::time::Duration;

use testkit::client::{self, send_raw_bytes_over};
use testkit::data::MAGIGO_BASIC;
use testkit::flood;
use testkit::tls::Transport;

const USAGE: &str =
    "usage: flood --address HOST:PORT [--connections N] [--keep-open SECONDS] [--cacert FILE]";

fn main() -> ExitCode {
    let mut address = None;
    let mut connections: usize = 600;
    let mut keep_open = Duration::ZERO;
    let mut transport = Transport::Plain;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let Some(value) = args.next() else {
            return usage_error(&format!("{flag} needs a value"));
        };
        match flag.as_str() {
            "--address" => address = Some(value),
            "--connections" => match value.parse() {
                Ok(count) if count > 0 => connections = count,
                _ => {
                    return usage_error(&format!(
                        "--connections: '{value}' is not a count above 0"
                    ));
                }
            },
            "--cacert" => match Transport::trusting_file(std::path::Path::new(&value)) {
                Ok(tls) => transport = tls,
                Err(error) => return usage_error(&format!("--cacert {value}: {error}")),
            },
            "--keep-open" => match value.parse() {
                Ok(seconds) => keep_open = Duration::from_secs(seconds),
                _ => return usage_error(&format!("--keep-open: '{value}' is not whole seconds")),
            },
            _ => return usage_error(&format!("unknown argument '{flag}'")),
        }
    }
    let Some(address) = address else {
        return usage_error("--address is needed");
    };

    let authorization = format!("Authorization: {MAGIGO_BASIC}");
    let login = client::request("GET", "/login", &[&authorization, "Connection: close"], "");
    let login = client::parse_reply(&send_raw_bytes_over(&address, &transport, login.as_bytes()));
    if login.status != 200 {
        eprintln!("flood: could not log in as magigo at {address} before the flood");
        return ExitCode::FAILURE;
    }
    let token = login.body;

    let report = flood::flood_and_keep_open(
        &address,
        &transport,
        connections,
        Duration::from_secs(1),
        keep_open,
    );
    println!(
        "flood: {} of {connections} connections opened, {} answered while all were open",
        report.opened, report.answered
    );
    let recovery = flood::time_to_answer_over(&address, &transport, Duration::from_secs(10));
    let recovery_ms = recovery.map(|time| format!("{:.1}", time.as_secs_f64() * 1000.0));
    match &recovery_ms {
        Some(ms) => println!("after closing them all: a new client answered in {ms}ms"),
        None => println!("after closing them all: no answer to a new client in 10 s"),
    }
    let check = client::request(
        "GET",
        &format!("/test?token={token}"),
        &["Connection: close"],
        "",
    );
    let check = client::parse_reply(&send_raw_bytes_over(&address, &transport, check.as_bytes()));
    let token_kept = check.status == 200 && check.body == "data";
    println!(
        "the token issued before the flood: {}",
        if token_kept { "still data" } else { "lost" }
    );
    println!(
        "RESULT opened={} answered={} recovery_ms={} token_kept={token_kept}",
        report.opened,
        report.answered,
        recovery_ms.as_deref().unwrap_or("-"),
    );
    let recovered_in_time = recovery.is_some_and(|time| time <= Duration::from_secs(2));
    if recovered_in_time && token_kept {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn usage_error(message: &str) -> ExitCode {
    eprintln!("flood: {message}\n{USAGE}");
    ExitCode::from(2)
}
