//! Passwords never kept in clear, and checked off the request loop, through
//! the real binary: the hashing pool's 503 when its queue is full, a login
//! flood that leaves `/test` answering, an unknown name that costs what a
//! wrong password costs, `hash-password` through a pipe and a terminal, and
//! no password left in the server's memory. Loopback only.

use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use testkit::client::{self, Connection};
use testkit::data::basic;
use testkit::server::Running;
use testkit::tls::TempDir;
use token_server::passwords::Hash;

const BINARY: &str = env!("CARGO_BIN_EXE_token-server");

fn login_request(user_colon_password: &str) -> String {
    let authorization = format!("Authorization: {}", basic(user_colon_password));
    client::request("GET", "/login", &[&authorization], "")
}

#[test]
fn past_the_pools_queue_a_login_is_503_busy() {
    // One hashing thread: 65 checks at most (one running, 64 waiting).
    let server = Running::start(BINARY, &["--hash-threads", "1", "--max-failures", "0"]);
    let request = login_request("magigo:wrong");
    let mut connections: Vec<Connection> = (0..150)
        .map(|_| Connection::open(&server.address, Duration::from_secs(30)).unwrap())
        .collect();
    for connection in &mut connections {
        connection.send(request.as_bytes()).unwrap();
    }
    let mut statuses = Vec::new();
    for connection in &mut connections {
        let reply = connection.read_reply().unwrap();
        if reply.status == 503 {
            assert_eq!(reply.body, "busy");
            assert_eq!(reply.header("Retry-After"), Some("1"));
            assert_eq!(reply.header("Cache-Control"), Some("no-store"));
        }
        statuses.push(reply.status);
    }
    let busy = statuses.iter().filter(|&&status| status == 503).count();
    let refused = statuses.iter().filter(|&&status| status == 401).count();
    assert_eq!(busy + refused, 150, "{statuses:?}");
    assert!(busy > 0 && refused >= 65, "{busy} busy, {refused} refused");
    server.wait_for_stderr("(busy: too many password checks waiting)");
}

#[test]
fn a_login_flood_leaves_token_checks_answering() {
    let server = Running::start(BINARY, &["--max-failures", "0"]);
    let token = server.login();
    let flooding = Arc::new(AtomicBool::new(true));
    let flooders: Vec<_> = (0..32)
        .map(|index| {
            let address = server.address.clone();
            let flooding = Arc::clone(&flooding);
            // Half wrong passwords, half right ones (each a new token would
            // replace the checker's: they log in as nobody real).
            let credentials = if index % 2 == 0 {
                "magigo:wrong"
            } else {
                "nobody:123456"
            };
            let request = login_request(credentials);
            thread::spawn(move || {
                let mut answers = 0;
                let Ok(mut connection) = Connection::open(&address, Duration::from_secs(30)) else {
                    return answers;
                };
                while flooding.load(Ordering::SeqCst) {
                    match connection.exchange(request.as_bytes()) {
                        Ok(reply) if reply.status == 401 || reply.status == 503 => answers += 1,
                        Ok(reply) => panic!("{reply:?}"),
                        Err(_) => break,
                    }
                }
                answers
            })
        })
        .collect();
    let mut checker = Connection::open(&server.address, Duration::from_secs(10)).unwrap();
    let started = Instant::now();
    let mut checks = 0;
    while started.elapsed() < Duration::from_secs(3) {
        let reply = checker
            .exchange(client::get(&format!("/test?token={token}")).as_bytes())
            .unwrap();
        assert_eq!((reply.status, reply.body.as_str()), (200, "data"));
        checks += 1;
    }
    flooding.store(false, Ordering::SeqCst);
    let logins: u64 = flooders
        .into_iter()
        .map(|flooder| flooder.join().unwrap())
        .sum();
    // Answers, not speed: token checks went on while logins were hashed.
    assert!(checks >= 10, "{checks} token checks in 3 s");
    assert!(logins > 0);
}

/// The median time of `request` on `connection`, `times` times, interleaved
/// with the other by the caller.
fn time_once(connection: &mut Connection, request: &[u8]) -> Duration {
    let started = Instant::now();
    let reply = connection.exchange(request).unwrap();
    assert_eq!(reply.status, 401);
    started.elapsed()
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

#[test]
fn an_unknown_name_takes_as_long_as_a_wrong_password() {
    let server = Running::start(BINARY, &["--max-failures", "0", "--quiet"]);
    let mut connection = Connection::open(&server.address, Duration::from_secs(10)).unwrap();
    let unknown = login_request("nobody:123456");
    let wrong = login_request("magigo:1234567");
    let (mut unknown_times, mut wrong_times) = (Vec::new(), Vec::new());
    for _ in 0..100 {
        unknown_times.push(time_once(&mut connection, unknown.as_bytes()));
        wrong_times.push(time_once(&mut connection, wrong.as_bytes()));
    }
    let (unknown, wrong) = (median(unknown_times), median(wrong_times));
    let ratio = unknown.as_secs_f64() / wrong.as_secs_f64();
    assert!(
        (0.9..=1.1).contains(&ratio),
        "unknown name {unknown:?}, wrong password {wrong:?}: {ratio:.3}"
    );
}

#[test]
fn hash_password_from_a_pipe_prints_an_argon2id_hash_with_owasps_parameters() {
    let run = |args: &[&str], input: &[u8]| {
        let mut child = Command::new(BINARY)
            .arg("hash-password")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(input).unwrap();
        child.wait_with_output().unwrap()
    };
    let output = run(&[], b"correct horse\n");
    assert_eq!(output.status.code(), Some(0));
    let line = String::from_utf8(output.stdout).unwrap();
    let hash = line.strip_suffix('\n').unwrap();
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
    let parsed = Hash::parse(hash).unwrap().unwrap();
    assert!(parsed.verify(b"correct horse"));
    assert!(output.stderr.is_empty());

    let output = run(&["--user", "ann"], b"pass word\r\n");
    let line = String::from_utf8(output.stdout).unwrap();
    let (name, hash) = line.trim_end().split_once(':').unwrap();
    assert_eq!(name, "ann");
    assert!(Hash::parse(hash).unwrap().unwrap().verify(b"pass word"));

    let output = run(&[], b"\n");
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "token-server: hash-password: the password is empty\n"
    );
    assert!(output.stdout.is_empty());
}

/// Runs `hash-password` on a new pseudo-terminal, typing `lines` into it:
/// its exit status and what the terminal showed.
fn hash_password_on_a_terminal(lines: &[&str]) -> (Option<i32>, String) {
    use rustix::pty::{OpenptFlags, grantpt, openpt, ptsname, unlockpt};
    let controller = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY).unwrap();
    grantpt(&controller).unwrap();
    unlockpt(&controller).unwrap();
    let name = ptsname(&controller, Vec::new()).unwrap();
    let terminal = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(name.to_str().unwrap())
        .unwrap();
    let stdout = Command::new(BINARY)
        .arg("hash-password")
        .stdin(Stdio::from(OwnedFd::from(terminal.try_clone().unwrap())))
        .stdout(Stdio::from(OwnedFd::from(terminal.try_clone().unwrap())))
        .stderr(Stdio::from(OwnedFd::from(terminal)))
        .spawn()
        .unwrap();
    let mut controller = std::fs::File::from(controller);
    let mut child = stdout;
    let mut shown = Vec::new();
    let reader = {
        let mut controller = controller.try_clone().unwrap();
        thread::spawn(move || {
            let mut bytes = Vec::new();
            let mut buffer = [0u8; 1024];
            // Ends when the child has gone and the terminal is closed (EIO).
            while let Ok(read) = controller.read(&mut buffer) {
                if read == 0 {
                    break;
                }
                bytes.extend_from_slice(&buffer[..read]);
            }
            bytes
        })
    };
    for line in lines {
        // Typed once the prompt is there.
        thread::sleep(Duration::from_millis(300));
        controller.write_all(line.as_bytes()).unwrap();
        controller.write_all(b"\n").unwrap();
    }
    let status = child.wait().unwrap();
    drop(controller);
    shown.extend(reader.join().unwrap());
    (status.code(), String::from_utf8_lossy(&shown).into_owned())
}

#[test]
fn hash_password_on_a_terminal_asks_twice_without_echo() {
    let (status, shown) = hash_password_on_a_terminal(&["s3cret horse", "s3cret horse"]);
    assert_eq!(status, Some(0), "{shown}");
    assert!(shown.contains("Password: "), "{shown}");
    assert!(shown.contains("The same password again: "), "{shown}");
    assert!(
        !shown.contains("s3cret"),
        "the password was echoed: {shown}"
    );
    let hash = shown
        .lines()
        .find(|line| line.starts_with("$argon2id$"))
        .unwrap_or_else(|| panic!("no hash in {shown:?}"));
    assert!(
        Hash::parse(hash.trim())
            .unwrap()
            .unwrap()
            .verify(b"s3cret horse")
    );

    let (status, shown) = hash_password_on_a_terminal(&["one", "two"]);
    assert_eq!(status, Some(2), "{shown}");
    assert!(
        shown.contains("token-server: hash-password: the two passwords differ"),
        "{shown}"
    );
}

/// Every readable and writable mapping of process `pid` (heap, stacks,
/// anonymous memory): where a password in clear would be.
fn writable_memory_holds(pid: u32, needle: &[u8]) -> bool {
    use std::io::{Seek, SeekFrom};
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap();
    let mut memory = std::fs::File::open(format!("/proc/{pid}/mem")).unwrap();
    for line in maps.lines() {
        let mut fields = line.split_whitespace();
        let (Some(range), Some(permissions)) = (fields.next(), fields.next()) else {
            continue;
        };
        if !permissions.starts_with("rw") {
            continue;
        }
        let Some((start, end)) = range.split_once('-') else {
            continue;
        };
        let start = u64::from_str_radix(start, 16).unwrap();
        let end = u64::from_str_radix(end, 16).unwrap();
        let mut bytes = vec![0u8; (end - start) as usize];
        if memory.seek(SeekFrom::Start(start)).is_err() || memory.read_exact(&mut bytes).is_err() {
            continue;
        }
        if bytes.windows(needle.len()).any(|window| window == needle) {
            return true;
        }
    }
    false
}

#[test]
fn no_password_stays_in_the_servers_memory_after_a_login() {
    let dir = TempDir::new();
    let file = dir.join("users.txt");
    // A line in clear: the file's bytes and the hash made of it are the
    // places it could stay.
    let password = "Tr0ub4dor-and-3-horses";
    std::fs::write(&file, format!("ann:{password}\n")).unwrap();
    let server = Running::start(BINARY, &["--users-file", file.to_str().unwrap(), "--quiet"]);
    let authorization = format!("Authorization: {}", basic(&format!("ann:{password}")));
    for _ in 0..3 {
        assert_eq!(
            server
                .request("GET", "/login", &[&authorization], "")
                .status,
            200
        );
    }
    assert_eq!(server.get("/index").body, "Hello");
    assert!(
        !writable_memory_holds(server.pid(), password.as_bytes()),
        "the password is in the server's memory"
    );
    // The scan finds what is there: the user name, say.
    assert!(writable_memory_holds(server.pid(), b"ann"));
}
