//! Runs the real token-server binary on a free port and talks to it over real
//! sockets, with raw HTTP, so the tests see exactly what a client sees.
#![allow(dead_code)] // Each test file uses its own part of this.

pub mod flood;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

pub const BINARY: &str = env!("CARGO_BIN_EXE_token-server");

/// A token-server process, stopped (by its own handle) when dropped.
pub struct Running {
    child: Child,
    /// `127.0.0.1:PORT`, read from the banner.
    pub address: String,
    stderr: Arc<Mutex<String>>,
}

impl Running {
    /// Starts `token-server --port 0 ARGS...` and waits for its banner.
    pub fn start(args: &[&str]) -> Running {
        Running::start_command(Command::new(BINARY).arg("--port").arg("0").args(args))
    }

    /// Starts any command that runs the server (say, under `sh -c 'ulimit ...'`).
    pub fn start_command(command: &mut Command) -> Running {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start token-server");
        let stderr = Arc::new(Mutex::new(String::new()));
        let collected = Arc::clone(&stderr);
        let mut stderr_pipe = BufReader::new(child.stderr.take().unwrap());
        thread::spawn(move || {
            let mut line = String::new();
            while stderr_pipe.read_line(&mut line).unwrap_or(0) > 0 {
                collected.lock().unwrap().push_str(&line);
                line.clear();
            }
        });
        let stdout = child.stdout.take().unwrap();
        let (banner_sender, banner) = mpsc::channel();
        thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let first = lines.next().and_then(Result::ok).unwrap_or_default();
            let _ = banner_sender.send(first);
            for _ in lines {} // Keep the pipe open and drained.
        });
        let first_line = banner
            .recv_timeout(Duration::from_secs(10))
            .unwrap_or_default();
        let Some(url) = first_line.strip_prefix("listening on http://") else {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "no banner, got {first_line:?}; stderr: {}",
                stderr.lock().unwrap()
            );
        };
        Running {
            address: url.to_string(),
            child,
            stderr,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Everything the server has written on stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Waits (up to 5 s) until stderr contains `text`; the log line of a
    /// request is written just after its answer, so it can lag a little.
    pub fn wait_for_stderr(&self, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let stderr = self.stderr();
            if stderr.contains(text) || Instant::now() > deadline {
                return stderr;
            }
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// True while the process has not exited.
    pub fn is_alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    pub fn get(&self, target: &str) -> Reply {
        self.request("GET", target, &[], "")
    }

    /// One request on a new connection, which it closes: `headers` are full
    /// lines such as `"Authorization: Basic ..."`.
    pub fn request(&self, method: &str, target: &str, headers: &[&str], body: &str) -> Reply {
        let mut raw = format!(
            "{method} {target} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n",
            self.address
        );
        for header in headers {
            raw.push_str(header);
            raw.push_str("\r\n");
        }
        if !body.is_empty() {
            raw.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        raw.push_str("\r\n");
        raw.push_str(body);
        send_raw(&self.address, raw.as_bytes())
    }

    /// Logs in as magigo and returns the token.
    pub fn login(&self) -> String {
        let reply = self.request(
            "GET",
            "/login",
            &["Authorization: Basic bWFnaWdvOjEyMzQ1Ng=="],
            "",
        );
        assert_eq!(reply.status, 200, "login: {reply:?}");
        reply.body
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An answer as it came off the socket.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(field, _)| field.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// Writes `raw` on a new connection and reads until the server closes it.
pub fn send_raw(address: &str, raw: &[u8]) -> Reply {
    let mut stream = TcpStream::connect(address).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(raw).expect("write request");
    let mut answer = Vec::new();
    // A reset after the answer (the server closing with unread input) is fine.
    let _ = stream.read_to_end(&mut answer);
    parse_reply(&answer)
}

/// Parses one HTTP answer (status line, headers, body to the end).
pub fn parse_reply(answer: &[u8]) -> Reply {
    let text = String::from_utf8_lossy(answer);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|line| line.split_once(": "))
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect();
    Reply {
        status,
        headers,
        body: body.to_string(),
    }
}
