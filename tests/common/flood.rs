//! A flood: many connections opened at once, each sending one request, held a
//! moment, then all closed; then how soon the server answers a new client.
//! Shared by `tests/connections.rs` and `examples/flood.rs`. Loopback only.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

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
    let address: SocketAddr = address.parse().expect("an IP address and port");
    let barrier = Arc::new(Barrier::new(connections));
    let handles: Vec<_> = (0..connections)
        .map(|_| {
            let barrier = Arc::clone(&barrier);
            thread::spawn(move || {
                let outcome = open_and_ask(&address, hold);
                // Everyone closes at the same moment.
                barrier.wait();
                drop(outcome.0);
                (outcome.1, outcome.2)
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

fn open_and_ask(address: &SocketAddr, hold: Duration) -> (Option<TcpStream>, bool, bool) {
    let Ok(mut stream) = TcpStream::connect_timeout(address, Duration::from_secs(2)) else {
        return (None, false, false);
    };
    let sent = stream
        .write_all(b"GET /index HTTP/1.1\r\nHost: flood\r\n\r\n")
        .is_ok();
    let _ = stream.set_read_timeout(Some(hold));
    let mut answer = [0u8; 12];
    let answered =
        sent && stream.read_exact(&mut answer).is_ok() && answer.starts_with(b"HTTP/1.1 200");
    (Some(stream), true, answered)
}

/// How long until a new client gets `Hello` from `/index`, trying again every
/// 20 ms; `None` if not within `limit`.
pub fn time_to_answer(address: &str, limit: Duration) -> Option<Duration> {
    let address: SocketAddr = address.parse().expect("an IP address and port");
    let started = Instant::now();
    while started.elapsed() < limit {
        let remaining = limit
            .saturating_sub(started.elapsed())
            .max(Duration::from_millis(1));
        if let Ok(mut stream) = TcpStream::connect_timeout(&address, remaining) {
            let _ = stream.set_read_timeout(Some(remaining));
            let request = b"GET /index HTTP/1.1\r\nHost: flood\r\nConnection: close\r\n\r\n";
            let mut answer = Vec::new();
            if stream.write_all(request).is_ok() {
                let _ = stream.read_to_end(&mut answer);
            }
            if answer.starts_with(b"HTTP/1.1 200") && answer.ends_with(b"Hello") {
                return Some(started.elapsed());
            }
        }
        thread::sleep(Duration::from_millis(20));
    }
    None
}
