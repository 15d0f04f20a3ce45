//! token-server's own process under pressure: out of file descriptors, and
//! with a stderr that nobody reads. (How the fork of tiny_http treats slow,
//! stalled or greedy connections is tested in `vendor/tiny_http/tests`.)
//! Loopback only, each bounded in count and time.

use std::io::{BufRead, BufReader};
use std::process::Command;
use std::time::{Duration, Instant};

use testkit::client::{self, Connection};
use testkit::flood::{FloodReport, flood, time_to_answer};
use testkit::process::open_files_limits;
use testkit::server::Running;

const BINARY: &str = env!("CARGO_BIN_EXE_token-server");

fn start_with_ulimit(ulimit: &str) -> Running {
    let script = format!("ulimit {ulimit} && exec \"$0\" --port 0 --quiet");
    Running::start_command(Command::new("sh").arg("-c").arg(script).arg(BINARY))
}

#[test]
fn soft_open_files_limit_is_raised_to_hard_limit() {
    let server = start_with_ulimit("-Sn 256");
    let (soft, hard) = open_files_limits(server.pid()).expect("/proc/PID/limits");
    assert_eq!(soft, hard);
}

/// Starts a server under `ulimit ULIMIT`, logs in, floods it with 600
/// connections, closes them, and checks what must hold afterwards: the process
/// is alive, a new client is answered within 2 s, the token is still `data`,
/// nothing panicked. Returns the flood's report and the server's stderr.
fn flood_and_check(ulimit: &str) -> (FloodReport, String) {
    let mut server = start_with_ulimit(ulimit);
    let token = server.login();
    let report = flood(&server.address, 600, Duration::from_secs(1));
    assert!(
        server.is_alive(),
        "the server died; stderr: {}",
        server.stderr()
    );
    let recovery = time_to_answer(&server.address, Duration::from_secs(2));
    assert!(
        recovery.is_some(),
        "no answer within 2 s after the flood ({} opened)",
        report.opened
    );
    assert_eq!(
        server.get(&format!("/test?token={token}")).body,
        "data",
        "the token survived"
    );
    let stderr = server.stderr();
    assert!(!stderr.contains("panicked"), "{stderr}");
    (report, stderr)
}

#[test]
fn flood_under_soft_limit_256() {
    let (report, _) = flood_and_check("-Sn 256");
    assert_eq!(
        report.opened, 600,
        "with the limit raised, every connection opens"
    );
}

#[test]
fn flood_under_hard_limit_256_is_waited_out() {
    // Here the server cannot raise its limit: it runs out of descriptors, and
    // must keep listening, answer again once they come free, and keep its users
    // and tokens.
    let (report, stderr) = flood_and_check("-n 256");
    assert!(
        report.opened < 600,
        "the limit did not bite: {} opened",
        report.opened
    );
    // Said once, not once per retry.
    let said = stderr
        .lines()
        .filter(|line| {
            line.starts_with("token-server: cannot accept a connection: Too many open files")
        })
        .count();
    assert!(said >= 1, "{stderr}");
    assert!(said <= 5, "{said} lines: {stderr}");
}

/// A stderr that nobody reads: log lines used to be written by the request
/// loop, which then stopped when the pipe was full.
#[test]
fn a_stderr_nobody_reads_holds_up_no_one() {
    let (server, stderr) = Running::start_with_unread_stderr(BINARY, &["--verbose"]);
    // Each answer's log line carries this 4 KiB header (--verbose): 1 MiB of
    // waiting lines and the pipe fill up after about 270 answers.
    let padding = format!("X-Padding: {}", "p".repeat(4096));
    let request = client::request("GET", "/index", &[&padding], "");
    let mut connection = Connection::open(&server.address, Duration::from_secs(2)).unwrap();
    for index in 0..600 {
        let started = Instant::now();
        let reply = connection.exchange(request.as_bytes()).unwrap();
        assert_eq!(reply.body, "Hello", "answer {index}");
        assert!(started.elapsed() < Duration::from_secs(1), "answer {index}");
    }
    // Now read stderr: the lines that waited, then how many were dropped.
    let mut stderr = BufReader::new(stderr);
    let mut dropped = None;
    let mut line = String::new();
    while stderr.read_line(&mut line).unwrap_or(0) > 0 {
        if let Some(count) = line
            .strip_prefix("token-server: ")
            .and_then(|rest| rest.strip_suffix(" log lines dropped\n"))
        {
            dropped = count.parse::<u64>().ok();
            break;
        }
        line.clear();
    }
    assert!(dropped.is_some_and(|count| count > 0), "{dropped:?}");
}
