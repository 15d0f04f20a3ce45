//! Floods a token-server with connections, closes them, and reports whether and
//! how soon it answers again, and whether a token issued before survived:
//!
//!     cargo run --release --example flood -- --address 127.0.0.1:5000 [--connections 600]
//!
//! The server must have the default user (magigo:123456). Loopback only; it
//! stops by itself. Exits 1 when the server did not answer within 2 s after
//! the flood, or the token was lost.

#[path = "../tests/common/flood.rs"]
mod flood;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::ExitCode;
use std::time::Duration;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut address = String::new();
    let mut connections = 600;
    for pair in args.chunks(2) {
        match (pair[0].as_str(), pair.get(1)) {
            ("--address", Some(value)) => address = value.clone(),
            ("--connections", Some(value)) => connections = value.parse().unwrap_or(600),
            _ => {
                eprintln!("usage: flood --address HOST:PORT [--connections N]");
                return ExitCode::from(2);
            }
        }
    }
    let token = ask(
        &address,
        "GET /login HTTP/1.1\r\nAuthorization: Basic bWFnaWdvOjEyMzQ1Ng==\r\nConnection: close\r\n\r\n",
    );
    let Some(token) = token
        .filter(|(status, _)| *status == 200)
        .map(|(_, body)| body)
    else {
        eprintln!("flood: could not log in as magigo before the flood");
        return ExitCode::FAILURE;
    };

    let report = flood::flood(&address, connections, Duration::from_secs(1));
    println!(
        "flood: {} of {connections} connections opened, {} answered while all were open",
        report.opened, report.answered
    );
    let recovery = flood::time_to_answer(&address, Duration::from_secs(10));
    match recovery {
        Some(time) => println!(
            "after closing them all: a new client answered in {:.1}ms",
            time.as_secs_f64() * 1000.0
        ),
        None => println!("after closing them all: no answer to a new client in 10 s"),
    }
    let check = ask(
        &address,
        &format!("GET /test?token={token} HTTP/1.1\r\nConnection: close\r\n\r\n"),
    );
    let token_kept = matches!(&check, Some((200, body)) if body == "data");
    println!(
        "the token issued before the flood: {}",
        if token_kept { "still data" } else { "lost" }
    );
    println!(
        "RESULT opened={} answered={} recovery_ms={} token_kept={token_kept}",
        report.opened,
        report.answered,
        recovery.map_or("-".to_string(), |time| format!(
            "{:.1}",
            time.as_secs_f64() * 1000.0
        ))
    );
    let recovered_in_time = recovery.is_some_and(|time| time <= Duration::from_secs(2));
    if recovered_in_time && token_kept {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// One request on a new connection: (status, body).
fn ask(address: &str, request: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(address).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    stream.write_all(request.as_bytes()).ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    let status = answer.split(' ').nth(1)?.parse().ok()?;
    let body = answer.split_once("\r\n\r\n")?.1.to_string();
    Some((status, body))
}
