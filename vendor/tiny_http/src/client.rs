//! token-server fork: a connection's own thread. It alone reads and writes its
//! socket: it reads a whole request (head and body), hands it to the server's
//! queue, waits for the answer, writes it, and only then reads the next
//! request. A client that is slow, stalled or malformed holds up this thread
//! and nothing else, and there is at most one request per connection in
//! memory. (Upstream tiny_http let the thread that answers read bodies and
//! write answers on the socket; that is what this file replaced.)

use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::body::{self, BodyError, Source};
use crate::connection::Connection;
use crate::head::{self, Framing, Parsed, Refused};
use crate::request::{AnswerSender, Parts};
use crate::{HTTPVersion, Message, Refusal, Request, Shared};

/// How much is read from the socket at a time.
const READ_SIZE: usize = 4096;
/// After its last answer, how long a connection may take to close from its
/// end, and how much it may still send meanwhile (see `close_gracefully`).
const LINGER: Duration = Duration::from_secs(1);
const LINGER_BYTES: usize = 256 * 1024;

/// Serves one connection until it closes.
pub(crate) fn serve(connection: &Connection, remote_addr: Option<SocketAddr>, server: &Shared) {
    let options = &server.options;
    // A client that takes no answer for this long is cut off.
    if connection.set_write_timeout(options.idle_timeout).is_err() {
        return;
    }
    let mut incoming = Incoming::new(connection, options.idle_timeout);
    let (answers, answer_received) = mpsc::channel();
    loop {
        // Between requests: wait for the next one's first byte, at most the
        // idle timeout. Nothing came (or the client closed): close quietly.
        incoming.deadline = None;
        if incoming.buffered().is_empty() && !matches!(incoming.fill(), Ok(read) if read > 0) {
            return;
        }
        // From its first byte, the request has until its deadline to arrive.
        let started = Instant::now();
        incoming.deadline = options.request_timeout.map(|timeout| started + timeout);
        let answer_refusal = |refused: Refused| {
            refuse(connection, remote_addr, server, refused, started);
        };

        let head = loop {
            match head::parse(incoming.buffered()) {
                Ok(Parsed::Complete(head, length)) => {
                    incoming.consume(length);
                    break head;
                }
                // More bytes, until they can change that answer.
                Ok(Parsed::Partial) => loop {
                    let parsed = incoming.buffered().len();
                    match incoming.fill() {
                        Ok(read) if read > 0 => {}
                        Err(BodyError::TimedOut) => return answer_refusal(timed_out(None)),
                        // The client left in the middle of its request.
                        _ => return,
                    }
                    if head::worth_parsing_again(incoming.buffered(), parsed) {
                        break;
                    }
                },
                Err(refused) => return answer_refusal(refused),
            }
        };
        let refusal_of_this = |status, reason| Refused {
            status,
            reason,
            method: Some(head.method.to_string()),
            target: Some(head.target.clone()),
        };

        // A client that sent `Expect: 100-continue` waits for this before it
        // sends its body; it is sent only for a body that will be read.
        let body_is_read = match head.framing {
            Framing::Empty => false,
            Framing::Length(length) => length <= options.body_limit as u64,
            Framing::Chunked => true,
        };
        if head.expects_continue
            && body_is_read
            && head.version == HTTPVersion(1, 1)
            && write_all(connection, b"HTTP/1.1 100 Continue\r\n\r\n").is_err()
        {
            return;
        }
        let body = match body::read(&mut incoming, head.framing, options.body_limit) {
            Ok(body) => body,
            Err(BodyError::TimedOut) => return answer_refusal(timed_out(Some(&head))),
            Err(BodyError::Closed) => return,
            Err(BodyError::Refused(status, reason)) => {
                return answer_refusal(refusal_of_this(status, reason));
            }
        };

        let parts = Parts {
            method: head.method,
            path: head.target,
            http_version: head.version,
            headers: head.headers,
            remote_addr,
            body_length: head.framing.declared_length(),
            body: body.bytes,
            // A body left unread would be read as the next request: never.
            closes: !head.keep_alive || !body.complete,
        };
        let answer = AnswerSender {
            sender: answers.clone(),
            stopping: server.stopping.clone(),
        };
        let request = Request::new(parts, Some(answer));
        if server.messages.push(Message::NewRequest(request)).is_err() {
            // The server is stopping and takes no more requests.
            return;
        }
        let Ok(answer) = answer_received.recv() else {
            return;
        };
        if write_all(connection, &answer.bytes).is_err() {
            return;
        }
        if answer.closes {
            return close_gracefully(connection);
        }
    }
}

/// The server's own answer to a request it will not hand over, written with
/// `Connection: close`, reported, and the connection closed.
fn refuse(
    connection: &Connection,
    remote_addr: Option<SocketAddr>,
    server: &Shared,
    refused: Refused,
    started: Instant,
) {
    let text = match refused.status {
        400 => "bad request",
        408 => "request timeout",
        414 => "uri too long",
        417 => "expectation failed",
        431 => "header fields too large",
        501 => "not implemented",
        505 => "http version not supported",
        _ => "error",
    };
    let answer = crate::Response::from_string(text)
        .with_status_code(refused.status)
        .with_header(plain_text());
    if let Ok(bytes) = answer.serialize(&HTTPVersion(1, 1), false, true) {
        let _ = write_all(connection, &bytes);
    }
    if let Some(on_refusal) = &server.options.on_refusal {
        on_refusal(&Refusal {
            remote_addr,
            method: refused.method,
            url: refused.target,
            status: refused.status,
            reason: refused.reason,
            elapsed: started.elapsed(),
        });
    }
    close_gracefully(connection);
}

fn timed_out(head: Option<&head::Head>) -> Refused {
    Refused {
        status: 408,
        reason: "request timeout",
        method: head.map(|head| head.method.to_string()),
        target: head.map(|head| head.target.clone()),
    }
}

fn plain_text() -> crate::Header {
    crate::Header::from_bytes("Content-Type", "text/plain; charset=utf-8").expect("a valid header")
}

fn write_all(connection: &Connection, bytes: &[u8]) -> io::Result<()> {
    let mut writer = connection;
    writer.write_all(bytes)?;
    writer.flush()
}

/// Ends the connection after its last answer. The sending side is closed at
/// once (the client reads the answer, then the end); what the client still
/// sends (an unread body, pipelined requests) is read and dropped, for a
/// moment, before the socket is closed: closing a socket with unread bytes
/// sends a reset, which can destroy the answer before the client has read it.
/// None of those bytes is ever read as a request.
fn close_gracefully(connection: &Connection) {
    let _ = connection.shutdown(Shutdown::Write);
    let deadline = Instant::now() + LINGER;
    let mut scratch = [0u8; READ_SIZE];
    let mut dropped = 0;
    let mut reader = connection;
    while dropped < LINGER_BYTES {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || connection.set_read_timeout(Some(left)).is_err() {
            return;
        }
        match reader.read(&mut scratch) {
            Ok(0) => return,
            Ok(read) => dropped += read,
            Err(error) if error.kind() == ErrorKind::Interrupted => {}
            Err(_) => return,
        }
    }
}

/// The reading side of a connection: its socket and the bytes read from it
/// but not used yet (the rest of a head, pipelined requests).
struct Incoming<'a> {
    connection: &'a Connection,
    /// Zeroed once and reused: `buffer[start..end]` is read and not used yet.
    buffer: Vec<u8>,
    start: usize,
    end: usize,
    idle_timeout: Option<Duration>,
    /// The current request's deadline; `None` between requests, when the idle
    /// timeout applies.
    deadline: Option<Instant>,
    /// The read timeout the socket has now, to set it only when it changes.
    read_timeout: Option<Option<Duration>>,
}

impl<'a> Incoming<'a> {
    fn new(connection: &'a Connection, idle_timeout: Option<Duration>) -> Incoming<'a> {
        Incoming {
            connection,
            buffer: vec![0; READ_SIZE],
            start: 0,
            end: 0,
            idle_timeout,
            deadline: None,
            read_timeout: None,
        }
    }
}

impl Source for Incoming<'_> {
    fn buffered(&self) -> &[u8] {
        &self.buffer[self.start..self.end]
    }

    fn consume(&mut self, count: usize) {
        self.start = (self.start + count).min(self.end);
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
    }

    fn fill(&mut self) -> Result<usize, BodyError> {
        let timeout = match self.deadline {
            None => self.idle_timeout,
            Some(deadline) => {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(BodyError::TimedOut);
                }
                Some(left)
            }
        };
        if self.read_timeout != Some(timeout) {
            self.connection
                .set_read_timeout(timeout)
                .map_err(|_| BodyError::Closed)?;
            self.read_timeout = Some(timeout);
        }
        // Room for READ_SIZE more bytes: the unused ones move to the front,
        // and the buffer grows only when a head or chunk line needs it.
        if self.start > 0 {
            self.buffer.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.buffer.len() - self.end < READ_SIZE {
            self.buffer.resize(self.end + READ_SIZE, 0);
        }
        let mut reader = self.connection;
        let result = loop {
            match reader.read(&mut self.buffer[self.end..]) {
                Err(error) if error.kind() == ErrorKind::Interrupted => continue,
                result => break result,
            }
        };
        match result {
            Ok(read) => {
                self.end += read;
                Ok(read)
            }
            Err(error) if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                Err(BodyError::TimedOut)
            }
            Err(_) => Err(BodyError::Closed),
        }
    }
}
