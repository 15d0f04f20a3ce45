//! A flood: many connections opened at once, each sending one request, held a
//! moment, then all closed; and how soon the server answers a new client.

use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use crate::client::{self, Connection};
use crate::tls::Transport;

pub struct FloodReport {
    /// Connections the client could open.
    pub opened: usize,
    /// Of those, how many got an answer while all were open.
    pub answered: usize,
}

/// Opens `connections` connections at once (one thread each), sends
/// `GET /index` on each, waits up to `hold` for the answers, then closes them all
/// together.
pub fn flood(address: &str, connections: usize, hold: Duration) -> FloodReport {
    flood_and_keep_open(
        address,
        &Transport::Plain,
        connections,
        hold,
        Duration::ZERO,
    )
}

/// As [`flood`], over `transport`, and the connections stay open, idle, for
/// `keep_open` after the answers (so that what they cost the server can be
/// measured meanwhile).
pub fn flood_and_keep_open(
    address: &str,
    transport: &Transport,
    connections: usize,
    hold: Duration,
    keep_open: Duration,
) -> FloodReport {
    let barrier = Arc::new(Barrier::new(connections));
    let handles: Vec<_> = (0..connections)
        .map(|_| {
            let barrier = Arc::clone(&barrier);
            let address = address.to_string();
            let transport = transport.clone();
            thread::spawn(move || {
                let (connection, answered) = open_and_ask(&address, &transport, hold);
                let opened = connection.is_some();
                // Everyone closes at the same moment.
                barrier.wait();
                thread::sleep(keep_open);
                drop(connection);
                (opened, answered)
            })
        })
        .collect();
    let mut report = FloodReport {
        opened: 0,
        answered: 0,
    };
    for handle in handles {
        let (opened, answered) = handle.join().unwrap_or((false, false));
        report.opened += usize::from(opened);
        report.answered += usize::from(answered);
    }
    report
}

/// Opens one connection and asks `GET /index` on it: the connection (if it
/// opened) and whether `Hello` came back within `hold`.
fn open_and_ask(
    address: &str,
    transport: &Transport,
    hold: Duration,
) -> (Option<Connection>, bool) {
    // Under a flood a connection can take a while to be accepted: 2 s for that,
    // then `hold` for the answer.
    let Ok(mut connection) = Connection::open_over(address, Duration::from_secs(2), transport)
    else {
        return (None, false);
    };
    if connection.stream().set_read_timeout(Some(hold)).is_err() {
        return (Some(connection), false);
    }
    let answered = connection
        .exchange(client::get("/index").as_bytes())
        .is_ok_and(|reply| reply.status == 200 && reply.body == "Hello");
    (Some(connection), answered)
}

/// How long until a new client gets `Hello` from `/index`, trying again every
/// 20 ms; `None` if not within `limit`.
pub fn time_to_answer(address: &str, limit: Duration) -> Option<Duration> {
    time_to_answer_over(address, &Transport::Plain, limit)
}

/// As [`time_to_answer`], over `transport` (a TLS handshake included).
pub fn time_to_answer_over(
    address: &str,
    transport: &Transport,
    limit: Duration,
) -> Option<Duration> {
    let started = Instant::now();
    while started.elapsed() < limit {
        let remaining = limit
            .saturating_sub(started.elapsed())
            .max(Duration::from_millis(1));
        if let Ok(mut connection) = Connection::open_over(address, remaining, transport)
            && let Ok(reply) = connection.exchange(client::get("/index").as_bytes())
            && reply.status == 200
            && reply.body == "Hello"
        {
            return Some(started.elapsed());
        }
        thread::sleep(Duration::from_millis(20));
    }
    None
}

/// What [`wrong_passwords_from`] or [`wrong_tokens_from`] got back.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Guesses {
    /// Answered 401.
    pub refused: u64,
    /// Answered 429.
    pub throttled: u64,
    /// Anything else, or no connection.
    pub other: u64,
}

/// One wrong password for magigo from each of `addresses` loopback addresses
/// (127.1.0.0 on: a connection bound to each), on 4 threads: what the
/// budgets of failed logins cost the server, two entries an address. Each
/// costs the server a password hash (tens of milliseconds).
pub fn wrong_passwords_from(address: &str, addresses: u32) -> Guesses {
    let authorization = format!("Authorization: {}", crate::data::basic("magigo:wrong"));
    let request = client::request("GET", "/login", &[&authorization, "Connection: close"], "");
    guesses_from(address, addresses, &request)
}

/// One unknown token from each of `addresses` loopback addresses, as
/// [`wrong_passwords_from`] does: what the budgets of failed token checks
/// cost the server, one entry an address, and no hash.
pub fn wrong_tokens_from(address: &str, addresses: u32) -> Guesses {
    let request = client::request(
        "GET",
        "/test?token=bWFnaWdvOjAuNToxOTAwMDAwMDAw",
        &["Connection: close"],
        "",
    );
    guesses_from(address, addresses, &request)
}

/// `request` once from each of `addresses` loopback addresses.
fn guesses_from(address: &str, addresses: u32, request: &str) -> Guesses {
    let request = request.to_string();
    let threads = 4;
    let handles: Vec<_> = (0..threads)
        .map(|part| {
            let (address, request) = (address.to_string(), request.clone());
            thread::spawn(move || {
                let mut guesses = Guesses::default();
                for index in (part..addresses).step_by(threads as usize) {
                    let [_, high, middle, low] = index.to_be_bytes();
                    let from = std::net::IpAddr::from([127, 1 + high, middle, low]);
                    let reply = Connection::open_from_address(from, &address, client::PATIENCE)
                        .map(|mut connection| {
                            let _ = connection.send(request.as_bytes());
                            client::parse_reply(&connection.rest())
                        });
                    match reply.map(|reply| reply.status) {
                        Ok(401) => guesses.refused += 1,
                        Ok(429) => guesses.throttled += 1,
                        _ => guesses.other += 1,
                    }
                }
                guesses
            })
        })
        .collect();
    let mut all = Guesses::default();
    for handle in handles {
        let guesses = handle.join().unwrap_or(Guesses {
            other: 1,
            ..Guesses::default()
        });
        all.refused += guesses.refused;
        all.throttled += guesses.throttled;
        all.other += guesses.other;
    }
    all
}
