//! token-server fork: a server out of file descriptors keeps listening,
//! reports it (at most once a second, with a count), and serves again once
//! descriptors come free. It lowers this process's limit on open files, so it
//! is the only test in its binary. Loopback only.

use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use rlimit::Resource;
use testkit::client::{self, Connection};
use tiny_http::{Options, Server, ServerError};

/// How many files this process has open.
fn open_files() -> u64 {
    std::fs::read_dir("/proc/self/fd").map_or(0, |entries| entries.count() as u64)
}

#[test]
fn out_of_descriptors_is_reported_and_waited_out() {
    let reports = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&reports);
    let options = Options {
        on_error: Some(Box::new(move |error: &ServerError| {
            let line = format!("{}: {} (+{})", error.what, error.error, error.unreported);
            seen.lock()
                .unwrap()
                .push((Instant::now(), line, error.unreported));
        })),
        ..Options::default()
    };
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let server = Arc::new(Server::from_listener(listener, options).unwrap());
    let address = server.local_addr();
    let answering = Arc::clone(&server);
    let answerer = thread::spawn(move || {
        while let Ok(request) = answering.recv() {
            request.respond(tiny_http::Response::new(200, &b"Hello"[..]));
        }
    });

    let (soft, hard) = rlimit::getrlimit(Resource::NOFILE).unwrap();
    // Room for a few more files: clients and the server's ends of their
    // connections share it, so the server's accept fails soon.
    rlimit::setrlimit(Resource::NOFILE, open_files() + 6, hard).unwrap();
    let mut clients: Vec<TcpStream> = Vec::new();
    while clients.len() < 20 {
        match TcpStream::connect(address) {
            Ok(stream) => clients.push(stream),
            Err(_) => break,
        }
    }
    // Out of descriptors for 1.5 s: one report at once, the next a second
    // later with how many failures came between.
    thread::sleep(Duration::from_millis(1500));
    rlimit::setrlimit(Resource::NOFILE, soft, hard).unwrap();
    drop(clients);

    // Descriptors are free again: a new client is answered.
    let mut connection = Connection::open(address, Duration::from_secs(5)).unwrap();
    let reply = connection
        .exchange(client::get("/index").as_bytes())
        .unwrap();
    assert_eq!((reply.status, reply.body.as_str()), (200, "Hello"));

    let reports = reports.lock().unwrap().clone();
    assert!(reports.len() >= 2, "{reports:?}");
    assert!(
        reports[0]
            .1
            .starts_with("cannot accept a connection: Too many open files"),
        "{reports:?}"
    );
    assert_eq!(reports[0].2, 0);
    assert!(reports[1].2 > 0, "{reports:?}");
    for pair in reports.windows(2) {
        assert!(
            pair[1].0 - pair[0].0 >= Duration::from_secs(1),
            "{reports:?}"
        );
    }
    server.stop();
    answerer.join().unwrap();
}
