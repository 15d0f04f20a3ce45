//! A token-server process on a free port: started, its address read from its
//! banner, its stderr collected, and stopped (by its own handle) when dropped.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, ChildStderr, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::client::{self, Reply};
use crate::data::MAGIGO_BASIC;
use crate::process;
use crate::tls::Transport;

/// The `HOST:PORT` of a banner line, `listening on http://HOST:PORT` (or
/// https), the first line token-server (and `examples/bare.rs`) prints once
/// it listens.
pub fn address_from_banner(line: &str) -> Option<&str> {
    let rest = line.trim_end().strip_prefix("listening on ")?;
    rest.strip_prefix("http://")
        .or_else(|| rest.strip_prefix("https://"))
}

/// A running server process.
pub struct Running {
    child: Child,
    /// `HOST:PORT`, read from the banner.
    pub address: String,
    /// How `get`, `request` and `login` talk to it.
    pub transport: Transport,
    /// What it printed on stdout after its banner (the certificate line).
    pub stdout: Arc<Mutex<Vec<String>>>,
    stderr: Arc<Mutex<String>>,
}

impl Running {
    /// Starts `BINARY --port 0 ARGS...` and waits for its banner.
    pub fn start(binary: &str, args: &[&str]) -> Running {
        Running::start_command(Command::new(binary).arg("--port").arg("0").args(args))
    }

    /// Starts `BINARY --port 0 --tls-self-signed CERTIFICATE ARGS...`, and
    /// talks to it over TLS, trusting the certificate it wrote.
    pub fn start_https(binary: &str, certificate: &std::path::Path, args: &[&str]) -> Running {
        let mut running = Running::start_command(
            Command::new(binary)
                .arg("--port")
                .arg("0")
                .arg("--tls-self-signed")
                .arg(certificate)
                .args(args),
        );
        running.transport = Transport::trusting_file(certificate).expect("the certificate written");
        running
    }

    /// Starts any command that runs a server (say, under `sh -c 'ulimit ...'`)
    /// and waits for its banner; stderr is collected as it comes.
    pub fn start_command(command: &mut Command) -> Running {
        let (running, stderr_pipe) = Running::spawn(command);
        let collected = Arc::clone(&running.stderr);
        let mut stderr_pipe = BufReader::new(stderr_pipe);
        thread::spawn(move || {
            let mut line = String::new();
            while stderr_pipe.read_line(&mut line).unwrap_or(0) > 0 {
                collected.lock().expect("not poisoned").push_str(&line);
                line.clear();
            }
        });
        running
    }

    /// Starts `BINARY --port 0 ARGS...` with a stderr that nobody reads, until
    /// the caller reads the pipe it gets. (`stderr()` stays empty.)
    pub fn start_with_unread_stderr(binary: &str, args: &[&str]) -> (Running, ChildStderr) {
        Running::spawn(Command::new(binary).arg("--port").arg("0").args(args))
    }

    /// Starts the command and waits for its banner.
    fn spawn(command: &mut Command) -> (Running, ChildStderr) {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the server");
        let stderr_pipe = child.stderr.take().expect("stderr is piped");
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let Some(address) = wait_for_banner(&mut child, Arc::clone(&stdout)) else {
            let _ = child.kill();
            let _ = child.wait();
            let mut stderr = String::new();
            let _ = BufReader::new(stderr_pipe).read_to_string(&mut stderr);
            panic!("no banner; stderr: {stderr}");
        };
        let running = Running {
            child,
            address,
            transport: Transport::Plain,
            stdout,
            stderr: Arc::new(Mutex::new(String::new())),
        };
        (running, stderr_pipe)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Everything the server has written on stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().expect("not poisoned").clone()
    }

    /// Waits (up to 5 s) until stderr contains `text`, and returns all of it:
    /// a request's log line is written just after its answer, so it can lag.
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

    /// How many threads the server has when no connection is open: polls
    /// until the count holds still (a closed connection's thread may still be
    /// ending).
    pub fn idle_threads(&self) -> u64 {
        let threads = || process::threads(self.pid()).expect("the server's /proc entry");
        let mut last = threads();
        for _ in 0..100 {
            thread::sleep(Duration::from_millis(30));
            let now = threads();
            if now == last {
                return now;
            }
            last = now;
        }
        last
    }

    /// Waits up to `limit` for the server's thread count to be `threads`.
    pub fn threads_back_to(&self, threads: u64, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        loop {
            if process::threads(self.pid()) == Some(threads) {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// True while the process has not exited.
    pub fn is_alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Sends the signal `name` (`INT`, `TERM`) to the process.
    pub fn signal(&self, name: &str) {
        let status = Command::new("sh")
            .arg("-c")
            .arg(format!("kill -s {name} {}", self.pid()))
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -s {name} failed");
    }

    /// Waits up to `limit` for the process to exit; `None` if it did not.
    pub fn wait_for_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            thread::sleep(Duration::from_millis(5));
        }
        None
    }

    /// `GET TARGET` on a new connection, which it closes.
    pub fn get(&self, target: &str) -> Reply {
        self.request("GET", target, &[], "")
    }

    /// One request on a new connection, which it closes: `headers` are whole
    /// lines such as `"Authorization: Basic ..."`.
    pub fn request(&self, method: &str, target: &str, headers: &[&str], body: &str) -> Reply {
        let mut headers = headers.to_vec();
        headers.push("Connection: close");
        let raw = client::request(method, target, &headers, body);
        client::parse_reply(&client::send_raw_bytes_over(
            &self.address,
            &self.transport,
            raw.as_bytes(),
        ))
    }

    /// One request on a new plain connection from the local address `from`
    /// (127.0.0.2, say), which it closes.
    pub fn request_from(
        &self,
        from: std::net::IpAddr,
        method: &str,
        target: &str,
        headers: &[&str],
    ) -> Reply {
        let mut headers = headers.to_vec();
        headers.push("Connection: close");
        let raw = client::request(method, target, &headers, "");
        let Ok(mut connection) =
            client::Connection::open_from_address(from, &self.address, client::PATIENCE)
        else {
            return client::parse_reply(b"");
        };
        let _ = connection.send(raw.as_bytes());
        client::parse_reply(&connection.rest())
    }

    /// Logs in as the tutorial's user and returns the token.
    pub fn login(&self) -> String {
        let authorization = format!("Authorization: {MAGIGO_BASIC}");
        let reply = self.request("GET", "/login", &[&authorization], "");
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

/// Reads the first line of the child's stdout (for up to 10 s) and returns the
/// address in it; stdout is then read on into `rest`, so the server never
/// blocks on it.
fn wait_for_banner(child: &mut Child, rest: Arc<Mutex<Vec<String>>>) -> Option<String> {
    let stdout = child.stdout.take()?;
    let (banner_sender, banner) = mpsc::channel();
    thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        let first = lines.next().and_then(Result::ok).unwrap_or_default();
        let _ = banner_sender.send(first);
        for line in lines.map_while(Result::ok) {
            rest.lock().expect("not poisoned").push(line);
        }
    });
    let first_line = banner.recv_timeout(Duration::from_secs(10)).ok()?;
    address_from_banner(&first_line).map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_from_banner_line() {
        assert_eq!(
            address_from_banner("listening on http://127.0.0.1:5000\n"),
            Some("127.0.0.1:5000")
        );
        assert_eq!(
            address_from_banner("listening on https://[::1]:5000"),
            Some("[::1]:5000")
        );
        assert_eq!(address_from_banner("something else"), None);
    }
}
