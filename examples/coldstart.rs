//! Cold start: the time from starting a server process to its first answered
//! request, over 10 starts, median and range printed.
//!
//!     cargo run --release --example coldstart -- target/release/token-server [ARGS...]
//!
//! Each start runs `SERVER --port 0 ARGS...`, reads the banner for the address,
//! asks `GET /index` and stops the process (its own child, by its handle).
//! Prints `RESULT median_us=... min_us=... max_us=...`.

use std::io::{BufRead, BufReader};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use testkit::client::{self, send_raw};
use testkit::server::address_from_banner;

const STARTS: usize = 10;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((server, server_args)) = args.split_first() else {
        eprintln!("usage: coldstart SERVER [ARGS...]");
        return ExitCode::from(2);
    };
    let mut times = Vec::new();
    for _ in 0..STARTS {
        match time_one_start(server, server_args) {
            Ok(time) => times.push(time),
            Err(error) => {
                eprintln!("coldstart: {error}");
                return ExitCode::FAILURE;
            }
        }
    }
    times.sort();
    let median = times[STARTS / 2 - 1] / 2 + times[STARTS / 2] / 2;
    let show = |time: Duration| format!("{:.2}ms", time.as_secs_f64() * 1000.0);
    let command = std::iter::once(server.as_str())
        .chain(server_args.iter().map(String::as_str))
        .collect::<Vec<_>>()
        .join(" ");
    println!(
        "cold start of {command}: median {} (min {}, max {}) over {STARTS} starts",
        show(median),
        show(times[0]),
        show(times[STARTS - 1])
    );
    println!(
        "RESULT median_us={} min_us={} max_us={}",
        median.as_micros(),
        times[0].as_micros(),
        times[STARTS - 1].as_micros()
    );
    ExitCode::SUCCESS
}

fn time_one_start(server: &str, server_args: &[String]) -> Result<Duration, String> {
    let started = Instant::now();
    let mut child = Command::new(server)
        .arg("--port")
        .arg("0")
        .args(server_args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|error| format!("cannot start {server}: {error}"))?;
    let answered = first_answer(&mut child);
    let elapsed = started.elapsed();
    let _ = child.kill();
    let _ = child.wait();
    answered.map(|()| elapsed)
}

fn first_answer(child: &mut std::process::Child) -> Result<(), String> {
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut banner = String::new();
    BufReader::new(stdout)
        .read_line(&mut banner)
        .map_err(|error| error.to_string())?;
    let address = address_from_banner(&banner).ok_or(format!("no banner: {banner:?}"))?;
    let request = client::request("GET", "/index", &["Connection: close"], "");
    let reply = send_raw(address, request.as_bytes());
    if reply.status == 200 {
        Ok(())
    } else {
        Err(format!("unexpected answer: {reply:?}"))
    }
}
