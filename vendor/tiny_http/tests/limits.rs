//! token-server fork: no client leaves a thread or memory behind. These
//! tests count this process's connection threads (named `connection`) and
//! read its memory, so they run one at a time (`ONE_AT_A_TIME`), in a test
//! binary of their own. Loopback only, each bounded in count and time.

mod fixture;

use std::io::{Read, Write};
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

use fixture::TestServer;
use testkit::client;
use testkit::process;
use tiny_http::Options;

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// How many connection threads this process has now.
fn connection_threads() -> usize {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    tasks
        .filter_map(Result::ok)
        .filter(|task| {
            std::fs::read_to_string(task.path().join("comm"))
                .is_ok_and(|name| name.trim_end() == "connection")
        })
        .count()
}

/// Waits up to `limit` for every connection thread to end; how long it took.
fn connection_threads_end_within(limit: Duration) -> Option<Duration> {
    let started = Instant::now();
    loop {
        if connection_threads() == 0 {
            return Some(started.elapsed());
        }
        if started.elapsed() >= limit {
            return None;
        }
        thread::sleep(Duration::from_millis(20));
    }
}

fn both_with_idle_timeout(seconds: u64) -> [TestServer; 2] {
    fixture::both_with(|| Options {
        idle_timeout: Duration::from_secs(seconds),
        ..Options::default()
    })
}

#[test]
fn other_http_versions_leave_no_thread() {
    let _alone = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    for server in fixture::both() {
        for raw in [
            &b"GET /index HTTP/2.0\r\n"[..],
            b"GET /index HTTP/3.0\r\n",
            b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
        ] {
            for _ in 0..10 {
                let mut connection = server.connect(Duration::from_secs(2));
                connection.send(raw).unwrap();
                assert_eq!(client::parse_reply(&connection.rest()).status, 505);
            }
        }
        assert!(
            connection_threads_end_within(Duration::from_secs(1)).is_some(),
            "{:?}: {} connection threads left",
            server.over,
            connection_threads()
        );
    }
}

#[test]
fn arbitrary_bytes_leave_no_thread() {
    let _alone = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    for server in fixture::both_with(|| Options {
        request_timeout: Duration::from_secs(1),
        ..Options::default()
    }) {
        let mut seed: u32 = 12345;
        for length in 0..64 {
            let junk: Vec<u8> = (0..length * 9)
                .map(|_| {
                    // A small generator of its own: the same bytes every run.
                    seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                    (seed >> 16) as u8
                })
                .collect();
            let mut connection = server.connect(Duration::from_secs(5));
            let _ = connection.send(&junk);
            let _ = connection.close_sending();
            let _ = connection.rest();
        }
        assert!(
            connection_threads_end_within(Duration::from_secs(3)).is_some(),
            "{:?}: {} connection threads left",
            server.over,
            connection_threads()
        );
    }
}

/// A client that pipelines 20,000 requests and reads no answer: once the
/// sockets' buffers are full, its thread ends after the idle timeout, though
/// the client is still connected.
#[test]
fn a_client_pipelining_and_reading_nothing_is_cut_off() {
    let _alone = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    for server in both_with_idle_timeout(1) {
        let mut flooder = server.connect(Duration::from_secs(10));
        let requests = client::get("/page").repeat(20_000);
        let started = Instant::now();
        let flooding = thread::spawn(move || {
            let _ = flooder.send(requests.as_bytes());
            flooder
        });
        // The idle timeout, once the buffers are full (within milliseconds), and a
        // second to spare; upstream's writes restarted their timeout whenever the
        // client's kernel took a few more bytes.
        let ended = connection_threads_end_within(Duration::from_secs(3));
        assert!(
            ended.is_some(),
            "{:?}: still served {:?} in",
            server.over,
            started.elapsed()
        );
        let _flooder = flooding.join().unwrap();
    }
}

/// A client that reads its answer a little at a time: each write of the
/// answer makes some progress, so a timeout on each write alone would keep
/// the connection's thread for as long as the client keeps reading (16 MiB at
/// 10 KiB a second: half an hour). The whole answer must go within the idle
/// timeout. That per-write timeout is what made the pipelining test above
/// fail at times: the kernel, squeezing the receive queue of a client that
/// reads nothing, took a few more bytes now and then, and each write that
/// went through restarted the timeout.
#[test]
fn a_client_reading_an_answer_slowly_is_cut_off_after_the_idle_timeout() {
    let _alone = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    for server in both_with_idle_timeout(1) {
        let mut slow = server.connect(Duration::from_secs(10));
        slow.send(client::get("/big").as_bytes()).unwrap();
        let started = Instant::now();
        let reading = thread::spawn(move || {
            let mut chunk = [0u8; 1024];
            while started.elapsed() < Duration::from_secs(4) {
                thread::sleep(Duration::from_millis(100));
                if matches!(slow.stream().read(&mut chunk), Ok(0) | Err(_)) {
                    break;
                }
            }
        });
        let ended = connection_threads_end_within(Duration::from_secs(3));
        assert!(
            ended.is_some(),
            "{:?}: still served {:?} in",
            server.over,
            started.elapsed()
        );
        reading.join().unwrap();
    }
}

/// An endless request line, and an endless header line: cut off at their
/// limits (414, 431), and the memory they were read into is small and given
/// back.
#[test]
fn an_endless_line_leaves_memory_flat() {
    let _alone = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    for server in fixture::both() {
        let pid = std::process::id();
        let before = process::rss_kib(pid).expect("RSS");
        for start in ["GET /", "GET /index HTTP/1.1\r\nHost: x\r\nX-Endless: "] {
            let mut connection = server.connect(Duration::from_secs(10));
            connection.send(start.as_bytes()).unwrap();
            // Up to 64 MiB, until the server closes.
            let chunk = vec![b'a'; 64 * 1024];
            for _ in 0..1024 {
                if connection.send(&chunk).is_err() {
                    break;
                }
            }
            let reply = client::parse_reply(&connection.rest());
            let expected = if start == "GET /" { 414 } else { 431 };
            assert_eq!(reply.status, expected, "{start:?}");
            assert!(reply.says_close());
        }
        let after = process::rss_kib(pid).expect("RSS");
        assert!(
            after < before + 8 * 1024,
            "{:?}: RSS grew from {before} KiB to {after} KiB",
            server.over
        );
        assert!(connection_threads_end_within(Duration::from_secs(2)).is_some());
    }
}

/// 100 clients that open a connection and start a TLS handshake they never
/// finish (half a ClientHello), and 100 that send nothing at all: each is
/// closed at its deadline, the others are answered meanwhile, and no thread
/// is left.
#[test]
fn stalled_tls_handshakes_leave_no_thread() {
    let _alone = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let server = TestServer::over(
        fixture::Over::Tls,
        Options {
            request_timeout: Duration::from_secs(2),
            ..Options::default()
        },
    );
    let hello = testkit::tls::client_hello();
    let started = Instant::now();
    let mut stalled = Vec::new();
    for index in 0..200 {
        let mut socket = std::net::TcpStream::connect(&server.address).unwrap();
        if index % 2 == 0 {
            socket.write_all(&hello[..hello.len() / 2]).unwrap();
        }
        stalled.push(socket);
        // In batches, so that the accept thread keeps up: beyond the listen
        // backlog (128), the kernel would leave connections unaccepted for a
        // second or more, and their deadlines would start later.
        if index % 50 == 49 {
            thread::sleep(Duration::from_millis(50));
        }
    }
    while started.elapsed() < Duration::from_millis(1500) {
        assert!(
            server.time_to_answer(Duration::from_secs(1)).is_some(),
            "a client waited over 1 s"
        );
        thread::sleep(Duration::from_millis(50));
    }
    let ended = connection_threads_end_within(Duration::from_secs(3));
    assert!(
        ended.is_some(),
        "{} connection threads left",
        connection_threads()
    );
    let reasons: Vec<_> = server
        .refusals(200)
        .into_iter()
        .map(|refusal| refusal.reason)
        .collect();
    let count = |reason: &str| reasons.iter().filter(|found| *found == reason).count();
    assert_eq!(
        count("TLS handshake not finished in time"),
        100,
        "{reasons:?}"
    );
    assert_eq!(count("no TLS handshake in time"), 100, "{reasons:?}");
    drop(stalled);
}
