//! Stopping: SIGINT (Ctrl-C) and SIGTERM stop the server gracefully. It stops
//! accepting, answers the requests it has already read, logs every answer,
//! closes idle connections, says `token-server: stopped` and exits 0, all
//! within 2 seconds. Loopback only; every client stops by itself.

use std::thread;
use std::time::{Duration, Instant};

use testkit::client::{self, Connection};
use testkit::server::Running;

const BINARY: &str = env!("CARGO_BIN_EXE_token-server");

/// `clients` keep-alive clients ask for `/index` back to back; after a moment
/// the server gets `signal`. Checks the exit, and that every answer a client
/// got has its log line.
fn stop_under_load(signal: &str, clients: usize) {
    let mut server = Running::start(BINARY, &[]);
    let idle = Connection::open(&server.address, Duration::from_secs(5)).unwrap();
    let address = server.address.clone();
    let handles: Vec<_> = (0..clients)
        .map(|_| {
            let address = address.clone();
            thread::spawn(move || {
                let mut answered = 0u64;
                let Ok(mut connection) = Connection::open(&address, Duration::from_secs(5)) else {
                    return answered;
                };
                // Until the server closes the connection.
                while let Ok(reply) = connection.exchange(client::get("/index").as_bytes()) {
                    assert_eq!((reply.status, reply.body.as_str()), (200, "Hello"));
                    answered += 1;
                    if reply.says_close() {
                        break;
                    }
                }
                answered
            })
        })
        .collect();
    thread::sleep(Duration::from_millis(300));

    let signalled = Instant::now();
    server.signal(signal);
    let status = server.wait_for_exit(Duration::from_secs(2));
    let took = signalled.elapsed();
    assert!(status.is_some(), "still running 2 s after SIG{signal}");
    assert_eq!(status.and_then(|status| status.code()), Some(0));

    let answered: u64 = handles
        .into_iter()
        .map(|handle| handle.join().unwrap())
        .sum();
    let log = server.wait_for_stderr("token-server: stopped");
    let logged = log
        .lines()
        .filter(|line| line.contains(" GET /index 200 "))
        .count() as u64;
    assert!(answered > 0);
    assert_eq!(
        logged, answered,
        "{answered} answers and {logged} log lines; stopped in {took:?}"
    );
    assert!(log.ends_with("token-server: stopped\n"), "{log}");
    // The idle connection was closed.
    let mut idle = idle;
    assert!(idle.is_closed_by_server());
}

#[test]
fn sigint_under_keep_alive_load() {
    stop_under_load("INT", 8);
}

#[test]
fn sigterm_while_the_loop_is_busy() {
    // More clients than the loop can answer at once: requests always wait in
    // its queue, and those already read are answered after the signal.
    stop_under_load("TERM", 64);
}

#[test]
fn sigint_when_idle() {
    let mut server = Running::start(BINARY, &[]);
    let signalled = Instant::now();
    server.signal("INT");
    let status = server.wait_for_exit(Duration::from_secs(2));
    assert_eq!(status.and_then(|status| status.code()), Some(0));
    assert!(signalled.elapsed() < Duration::from_secs(2));
    assert_eq!(
        server.wait_for_stderr("token-server: stopped"),
        "token-server: stopped\n"
    );
}
