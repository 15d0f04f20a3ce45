//! A load generator for token-server: N keep-alive clients on threads,
//! each sending requests back to back for a while, every answer checked.
//!
//!     cargo run --release --example load -- --address 127.0.0.1:5000 \
//!         [--clients 32] [--seconds 30] [--requests N] [--mix mixed|test|login] \
//!         [--bursts 1] [--pid SERVER_PID] [--bare] [--cacert FILE] [--new-connections]
//!         [--first-user K]
//!     cargo run --release --example load -- --print-user-args 32
//!     cargo run --release --example load -- --print-free-port
//!
//! Client i logs in as `load{i}` with password `pw{i}`, so that no client's
//! login replaces another's token; `--print-user-args N` prints the matching
//! `--user` arguments for the server. Mixes:
//!
//! - `test`: log in once, then `/test?token=...` again and again (`data`);
//! - `login`: `/login` again and again (a new token each time);
//! - `wrong-login`: `/login` with a wrong password again and again (`error`);
//! - `mixed`: login, test by query and by Bearer header, an unknown token, a
//!   wrong password, an unknown path, logout, test after logout; each answer
//!   must be exactly what the spec says.
//!
//! `--first-user K`: client i is `load{K+i}`, so that two runs side by side
//! (token checks during a login flood) do not replace each other's tokens.
//!
//! `--requests N` stops after N requests in all (shared evenly among the
//! clients), or at `--seconds`, whichever comes first.
//!
//! `--bare` is for a server that answers every request `200 data` (the bare
//! tiny_http server of `examples/bare.rs`, or nginx with `return 200 "data"`):
//! every answer must then be that.
//!
//! `--cacert FILE` speaks HTTPS, trusting the certificate in FILE.
//! `--new-connections` sends each request on a connection of its own (with
//! `Connection: close`), to measure new connections (and TLS handshakes) per
//! second rather than requests on kept-alive ones.
//!
//! It prints a report, then one `RESULT key=value ...` line for scripts, and
//! exits 1 when any answer was unexpected, a connection was dropped, or a client
//! got no answer at all. Traffic goes only to the address given, which should be
//! on loopback; the run stops by itself after `--seconds`.

use std::process::ExitCode;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use testkit::client::Connection;
use testkit::process;
use testkit::tls::Transport;

struct Options {
    address: String,
    clients: usize,
    seconds: f64,
    /// Requests in all, shared among the clients; `None`: until time is up.
    requests: Option<u64>,
    mix: Mix,
    bursts: usize,
    pid: Option<u32>,
    bare: bool,
    transport: Transport,
    new_connections: bool,
    first_user: usize,
}

#[derive(Clone, Copy, PartialEq)]
enum Mix {
    Test,
    Login,
    WrongLogin,
    Mixed,
}

/// What one client saw.
#[derive(Default)]
struct ClientReport {
    answers: u64,
    latencies_us: Vec<u32>,
    first_answer: Option<Duration>,
    unexpected: u64,
    dropped: u64,
    first_problem: Option<String>,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // For scripts that start a server that needs a port number (nginx): a
    // port free now. (Another program could take it before the server does;
    // on a bench machine, nothing does.)
    if let [flag] = args.as_slice()
        && flag == "--print-free-port"
    {
        return match std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()) {
            Ok(address) => {
                println!("{}", address.port());
                ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("load: no free port: {error}");
                ExitCode::FAILURE
            }
        };
    }
    if let [flag, count] = args.as_slice()
        && flag == "--print-user-args"
    {
        let Ok(count) = count.parse::<usize>() else {
            eprintln!("load: --print-user-args: '{count}' is not a count");
            return ExitCode::from(2);
        };
        let users: Vec<String> = (0..count)
            .map(|i| format!("--user load{i}:pw{i}"))
            .collect();
        println!("{}", users.join(" "));
        return ExitCode::SUCCESS;
    }
    let options = match parse_options(&args) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("load: {message}");
            eprintln!(
                "usage: load --address HOST:PORT [--clients N] [--seconds S] [--requests N] [--mix mixed|test|login] [--bursts N] [--pid PID] [--bare] [--cacert FILE] [--new-connections]"
            );
            return ExitCode::from(2);
        }
    };
    let mut failed = false;
    for burst in 1..=options.bursts {
        if options.bursts > 1 {
            println!("burst {burst} of {}", options.bursts);
        }
        failed |= !run_burst(&options);
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn parse_options(args: &[String]) -> Result<Options, String> {
    let mut options = Options {
        address: String::new(),
        clients: 32,
        seconds: 10.0,
        requests: None,
        mix: Mix::Mixed,
        bursts: 1,
        pid: None,
        bare: false,
        transport: Transport::Plain,
        new_connections: false,
        first_user: 0,
    };
    let mut args = args.iter();
    while let Some(flag) = args.next() {
        if flag == "--bare" {
            options.bare = true;
            continue;
        }
        if flag == "--new-connections" {
            options.new_connections = true;
            continue;
        }
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        let bad = || format!("{flag}: bad value '{value}'");
        match flag.as_str() {
            "--address" => options.address = value.clone(),
            "--clients" => options.clients = value.parse().map_err(|_| bad())?,
            "--seconds" => options.seconds = value.parse().map_err(|_| bad())?,
            "--requests" => options.requests = Some(value.parse().map_err(|_| bad())?),
            "--bursts" => options.bursts = value.parse().map_err(|_| bad())?,
            "--first-user" => options.first_user = value.parse().map_err(|_| bad())?,
            "--pid" => options.pid = Some(value.parse().map_err(|_| bad())?),
            "--cacert" => {
                options.transport = Transport::trusting_file(std::path::Path::new(value))
                    .map_err(|error| format!("--cacert {value}: {error}"))?;
            }
            "--mix" => {
                options.mix = match value.as_str() {
                    "test" => Mix::Test,
                    "login" => Mix::Login,
                    "wrong-login" => Mix::WrongLogin,
                    "mixed" => Mix::Mixed,
                    _ => return Err(bad()),
                }
            }
            _ => return Err(format!("unknown argument '{flag}'")),
        }
    }
    if options.address.is_empty() {
        return Err("--address is needed".into());
    }
    if options.clients == 0 || options.bursts == 0 || options.seconds <= 0.0 {
        return Err("--clients, --bursts and --seconds must be above 0".into());
    }
    Ok(options)
}

/// Runs one burst: all clients connect at the same instant and send requests
/// back to back until the time is up. Returns false when anything went wrong.
fn run_burst(options: &Options) -> bool {
    let rss_before = options.pid.and_then(process::rss_kib);
    let barrier = Arc::new(Barrier::new(options.clients + 1));
    let duration = Duration::from_secs_f64(options.seconds);
    let handles: Vec<_> = (0..options.clients)
        .map(|index| {
            let barrier = Arc::clone(&barrier);
            let address = options.address.clone();
            let (mix, bare, first_user) = (options.mix, options.bare, options.first_user);
            let (transport, new_connections) = (options.transport.clone(), options.new_connections);
            // Client i sends its share: the first `total % clients` send one more.
            let limit = options.requests.map(|total| {
                let clients = options.clients as u64;
                total / clients + u64::from((index as u64) < total % clients)
            });
            thread::spawn(move || {
                barrier.wait();
                let run = Run {
                    started: Instant::now(),
                    duration,
                    limit,
                    transport,
                    new_connections,
                };
                run_client(first_user + index, &address, mix, bare, &run)
            })
        })
        .collect();
    barrier.wait();
    let started = Instant::now();
    let reports: Vec<ClientReport> = handles
        .into_iter()
        .map(|handle| handle.join().unwrap_or_default())
        .collect();
    let elapsed = started.elapsed().as_secs_f64();
    let rss_after = options.pid.and_then(process::rss_kib);

    let mut latencies: Vec<u32> = reports
        .iter()
        .flat_map(|report| report.latencies_us.iter().copied())
        .collect();
    latencies.sort_unstable();
    let answers: u64 = reports.iter().map(|report| report.answers).sum();
    let unexpected: u64 = reports.iter().map(|report| report.unexpected).sum();
    let dropped: u64 = reports.iter().map(|report| report.dropped).sum();
    let min_answers = reports
        .iter()
        .map(|report| report.answers)
        .min()
        .unwrap_or(0);
    let max_answers = reports
        .iter()
        .map(|report| report.answers)
        .max()
        .unwrap_or(0);
    let unanswered = reports
        .iter()
        .filter(|report| report.first_answer.is_none())
        .count();
    let slowest_first = reports
        .iter()
        .filter_map(|report| report.first_answer)
        .max()
        .unwrap_or_default();
    let per_second = answers as f64 / elapsed;
    let p50 = percentile(&latencies, 50.0);
    let p99 = percentile(&latencies, 99.0);
    let max = latencies.last().copied().unwrap_or(0);

    println!(
        "{} clients, {:.1} s, mix {}",
        options.clients,
        elapsed,
        match options.mix {
            Mix::Test => "test",
            Mix::Login => "login",
            Mix::WrongLogin => "wrong-login",
            Mix::Mixed => "mixed",
        }
    );
    println!("  answers:            {answers} ({per_second:.0}/s)");
    println!(
        "  latency:            p50 {:.2}ms, p99 {:.2}ms, max {:.2}ms",
        f64::from(p50) / 1000.0,
        f64::from(p99) / 1000.0,
        f64::from(max) / 1000.0
    );
    println!("  answers per client: min {min_answers}, max {max_answers}");
    println!(
        "  first answer:       slowest client after {:.2}ms; {unanswered} client(s) got no answer during the run",
        slowest_first.as_secs_f64() * 1000.0
    );
    println!("  unexpected answers: {unexpected}");
    println!("  dropped connections: {dropped}");
    if let Some(problem) = reports
        .iter()
        .find_map(|report| report.first_problem.as_ref())
    {
        println!("  first problem:      {problem}");
    }
    if let (Some(before), Some(after)) = (rss_before, rss_after) {
        println!("  server RSS:         {before} KiB before, {after} KiB after");
    }
    println!(
        "RESULT clients={} seconds={elapsed:.2} answers={answers} rps={per_second:.0} p50_us={p50} p99_us={p99} max_us={max} min_answers={min_answers} max_answers={max_answers} first_answer_max_us={} unanswered={unanswered} unexpected={unexpected} dropped={dropped} rss_before_kib={} rss_after_kib={}",
        options.clients,
        slowest_first.as_micros(),
        rss_before.map_or("-".to_string(), |kib| kib.to_string()),
        rss_after.map_or("-".to_string(), |kib| kib.to_string()),
    );
    unexpected == 0 && dropped == 0 && unanswered == 0
}

/// How a client runs, and when its run ends: at its deadline, or after
/// `limit` answers.
struct Run {
    started: Instant,
    duration: Duration,
    limit: Option<u64>,
    transport: Transport,
    /// Each request on a connection of its own.
    new_connections: bool,
}

/// One client: its own keep-alive connection, requests back to back.
fn run_client(index: usize, address: &str, mix: Mix, bare: bool, run: &Run) -> ClientReport {
    let mut report = ClientReport::default();
    let started = run.started;
    let deadline = started + run.duration;
    let user = format!("load{index}");
    let basic = format!(
        "Authorization: Basic {}",
        STANDARD.encode(format!("{user}:pw{index}"))
    );
    let wrong_basic = format!(
        "Authorization: Basic {}",
        STANDARD.encode(format!("{user}:wrong"))
    );
    let mut connection: Option<Connection> = None;
    // A bare server issues no tokens; it gets a made-up one of a real token's
    // length, so that both servers read the same number of bytes.
    let mut token = if bare {
        STANDARD.encode(format!("{user}:0.6314564226320001:1795772670.45"))
    } else {
        String::new()
    };
    let mut step = 0usize;
    while Instant::now() < deadline && run.limit.is_none_or(|limit| report.answers < limit) {
        // What to send, and what must come back: (status, body), where a body of
        // "<token>" means any token of this user.
        let (request, expected): (String, (u16, &str)) = match (mix, step % 8) {
            (Mix::Login, _) | (Mix::Mixed, 0) => (get("/login", &basic), (200, "<token>")),
            (Mix::WrongLogin, _) => (get("/login", &wrong_basic), (401, "error")),
            (Mix::Test, _) if token.is_empty() => (get("/login", &basic), (200, "<token>")),
            (Mix::Test, _) | (Mix::Mixed, 1) => {
                (get(&format!("/test?token={token}"), ""), (200, "data"))
            }
            (Mix::Mixed, 2) => (
                get("/test", &format!("Authorization: Bearer {token}")),
                (200, "data"),
            ),
            (Mix::Mixed, 3) => (get("/test?token=bm90IGEgdG9rZW4=", ""), (401, "error")),
            (Mix::Mixed, 4) => (get("/login", &wrong_basic), (401, "error")),
            (Mix::Mixed, 5) => (get("/nope", ""), (404, "not found")),
            (Mix::Mixed, 6) => (get(&format!("/logout?token={token}"), ""), (200, "ok")),
            (Mix::Mixed, _) => (get(&format!("/test?token={token}"), ""), (401, "error")),
        };
        step += 1;
        let expected = if bare { (200, "data") } else { expected };
        let request = if run.new_connections {
            request.replacen("\r\n\r\n", "\r\nConnection: close\r\n\r\n", 1)
        } else {
            request
        };

        let sent_at = Instant::now();
        let stream = match connection.as_mut() {
            Some(stream) => stream,
            None => match open(address, deadline, &run.transport) {
                Ok(stream) => connection.insert(stream),
                Err(error) => {
                    report.dropped += 1;
                    report
                        .first_problem
                        .get_or_insert(format!("connect: {error}"));
                    thread::sleep(Duration::from_millis(10));
                    continue;
                }
            },
        };
        let answer = match exchange(stream, &request, run.new_connections) {
            Ok(answer) => answer,
            Err(error) => {
                connection = None;
                // A read cut short by the end of the run is not a dropped connection.
                if Instant::now() < deadline {
                    report.dropped += 1;
                    report
                        .first_problem
                        .get_or_insert(format!("connection: {error}"));
                }
                continue;
            }
        };
        let latency = sent_at.elapsed();
        report.answers += 1;
        if run.new_connections {
            connection = None;
        }
        // An answer that only came after the end of the run (when the other
        // clients had closed) does not count: that client was starved.
        if Instant::now() <= deadline {
            report.first_answer.get_or_insert(started.elapsed());
        }
        report
            .latencies_us
            .push(u32::try_from(latency.as_micros()).unwrap_or(u32::MAX));

        let body_ok = if expected.1 == "<token>" {
            is_token_of(&answer.1, &user)
        } else {
            answer.1 == expected.1
        };
        if answer.0 != expected.0 || !body_ok {
            report.unexpected += 1;
            report.first_problem.get_or_insert(format!(
                "{} got {} {:?}, expected {} {}",
                request.lines().next().unwrap_or(""),
                answer.0,
                answer.1,
                expected.0,
                expected.1
            ));
        }
        if expected.1 == "<token>" && answer.0 == 200 {
            token = answer.1;
        }
    }
    report
}

fn get(target: &str, header: &str) -> String {
    let header = if header.is_empty() {
        String::new()
    } else {
        format!("{header}\r\n")
    };
    format!("GET {target} HTTP/1.1\r\nHost: localhost\r\n{header}\r\n")
}

/// Opens a keep-alive connection that waits for answers until a little after
/// the end of the run: a client that is starved waits, and the report shows it.
fn open(address: &str, deadline: Instant, transport: &Transport) -> std::io::Result<Connection> {
    let wait = deadline.saturating_duration_since(Instant::now()) + Duration::from_secs(2);
    Connection::open_over(address, wait, transport)
}

/// Sends one request and reads its answer: (status, body). An answer after
/// which the server closes the connection counts as a dropped connection,
/// unless the request asked for that (`closing`).
fn exchange(
    connection: &mut Connection,
    request: &str,
    closing: bool,
) -> std::io::Result<(u16, String)> {
    let reply = connection.exchange(request.as_bytes())?;
    if reply.says_close() && !closing {
        return Err(std::io::Error::other("the server closed the connection"));
    }
    Ok((reply.status, reply.body))
}

/// True when `body` is base64 of `USER:RANDOM:EXPIRY`. Checked here, apart from
/// token-server's own `token::decode`, so that a bug there cannot hide here.
fn is_token_of(body: &str, user: &str) -> bool {
    let Ok(decoded) = STANDARD.decode(body) else {
        return false;
    };
    let text = String::from_utf8_lossy(&decoded);
    let mut parts = text.split(':');
    parts.next() == Some(user)
        && parts
            .next()
            .is_some_and(|random| random.parse::<f64>().is_ok())
        && parts
            .next()
            .is_some_and(|expiry| expiry.parse::<f64>().is_ok())
        && parts.next().is_none()
}

fn percentile(sorted: &[u32], percent: f64) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (percent / 100.0 * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}
