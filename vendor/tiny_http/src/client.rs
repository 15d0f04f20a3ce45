//! token-server fork: a connection's own thread. It alone reads and writes its
//! socket: it reads a whole request (head and body), hands it to the server's
//! queue, waits for the answer, writes it, and only then reads the next
//! request. A client that is slow, stalled or malformed holds up this thread
//! and nothing else, and there is at most one request per connection in
//! memory. (Upstream tiny_http let the thread that answers read bodies and
//! write answers on the socket; that is what this file replaced.)

use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use crate::body::{self, Source};
use crate::head::{self, Framing, Head, Parsed};
use crate::method::{Method, Version};
use crate::refusal::{ReadError, Refusal};
use crate::request::{Parts, Request};
use crate::response::Response;
use crate::server::{Message, Shared};

/// How much is read from the socket at a time.
const READ_SIZE: usize = 4096;
/// After its last answer, how long a connection may take to close from its
/// end, and how much it may still send meanwhile (see `close_gracefully`).
const LINGER: Duration = Duration::from_secs(1);
const LINGER_BYTES: usize = 256 * 1024;

/// Serves one connection until it closes: request after request, each read
/// whole, handed over, answered.
pub(crate) fn serve(socket: &TcpStream, client: SocketAddr, shared: &Shared) {
    let options = &shared.options;
    let mut connection = Connection::new(socket, options.idle_timeout);
    let (answers, answered) = mpsc::channel();
    loop {
        // Between requests: the next one's first byte may take up to the idle
        // timeout. Nothing came, or the client closed: close quietly.
        if !connection.wait_for_next_request() {
            return;
        }
        let started = Instant::now();
        connection.deadline = Some(started + options.request_timeout);
        let (parts, delivery) = match read_request(&mut connection, client, shared) {
            Ok(read) => read,
            Err(ReadError::Refused(refusal)) => {
                return refuse(&mut connection, client, started, refusal, shared);
            }
            Err(ReadError::TimedOut | ReadError::Closed) => return,
        };
        let request = Request::new(parts, Some(answers.clone()));
        // The server is stopping and takes no more requests.
        if shared.queue.push(Message::Request(request)).is_err() {
            return;
        }
        let Some(closes) = write_answer(&mut connection, &answered, &delivery, shared) else {
            return;
        };
        if closes {
            return connection.close_gracefully();
        }
    }
}

/// What writing a request's answer needs to know of the request.
struct Delivery {
    version: Version,
    /// An answer to HEAD: no body.
    head_only: bool,
    /// The client asked, or its body was left unread (and would be read as
    /// the next request): the connection closes after the answer.
    closes: bool,
}

/// Reads one whole request: its head, then its body, up to the limit.
fn read_request(
    connection: &mut Connection<'_>,
    client: SocketAddr,
    shared: &Shared,
) -> Result<(Parts, Delivery), ReadError> {
    let head = read_head(connection)?;
    let of_this = |refusal: Refusal| {
        ReadError::Refused(refusal.of(Some(head.method.as_str()), Some(&head.target)))
    };
    // A client that sent `Expect: 100-continue` waits for this before it
    // sends its body; it is sent only for a body that will be read.
    let body_is_read = match head.framing {
        Framing::Empty => false,
        Framing::Length(length) => length <= shared.options.body_limit as u64,
        Framing::Chunked => true,
    };
    if head.expects_continue
        && body_is_read
        && head.version == Version::Http11
        && connection
            .write_all(b"HTTP/1.1 100 Continue\r\n\r\n")
            .is_err()
    {
        return Err(ReadError::Closed);
    }
    let body = match body::read(connection, head.framing, shared.options.body_limit) {
        Ok(body) => body,
        Err(ReadError::TimedOut) => return Err(of_this(Refusal::new(408, "request timeout"))),
        Err(ReadError::Refused(refusal)) => return Err(of_this(refusal)),
        Err(ReadError::Closed) => return Err(ReadError::Closed),
    };
    let delivery = Delivery {
        version: head.version,
        head_only: head.method == Method::Head,
        closes: !head.keep_alive || !body.complete,
    };
    let parts = Parts {
        method: head.method,
        target: head.target,
        headers: head.headers,
        remote_addr: client,
        body: body.bytes,
        body_read: body.complete,
    };
    Ok((parts, delivery))
}

/// Reads until the buffer holds a whole head, and parses it.
fn read_head(connection: &mut Connection<'_>) -> Result<Head, ReadError> {
    loop {
        match head::parse(connection.buffered())? {
            Parsed::Complete(head, length) => {
                connection.consume(length);
                return Ok(head);
            }
            // More bytes, until they can change that answer.
            Parsed::Partial => {
                let parsed = connection.buffered().len();
                loop {
                    match connection.fill() {
                        Ok(0) => return Err(ReadError::Closed),
                        Ok(_) if head::worth_parsing_again(connection.buffered(), parsed) => break,
                        Ok(_) => {}
                        Err(ReadError::TimedOut) => {
                            return Err(head::timed_out(connection.buffered()).into());
                        }
                        Err(error) => return Err(error),
                    }
                }
            }
        }
    }
}

/// Waits for the answer to the request just handed over, and writes it.
/// `Some(true)` when the connection closes after it, `None` when it failed
/// (the client has gone or takes nothing).
fn write_answer(
    connection: &mut Connection<'_>,
    answered: &Receiver<Option<Response>>,
    delivery: &Delivery,
    shared: &Shared,
) -> Option<bool> {
    // `None`: the request was dropped unanswered; the client gets a 500.
    let (response, closes) = match answered.recv().ok()? {
        Some(response) => (response, delivery.closes || shared.is_stopping()),
        None => (Response::new(500, &b""[..]), true),
    };
    let mut out = std::mem::take(&mut connection.out);
    response.write_to(&mut out, delivery.version, delivery.head_only, closes);
    let written = connection.write_all(&out);
    connection.out = out;
    written.ok().map(|()| closes)
}

/// The server's own answer to a request it will not hand over, written with
/// `Connection: close`, reported, and the connection closed.
fn refuse(
    connection: &mut Connection<'_>,
    client: SocketAddr,
    started: Instant,
    refusal: Refusal,
    shared: &Shared,
) {
    let answer = Response::new(refusal.status, refusal.body().as_bytes())
        .with_header("Content-Type", "text/plain; charset=utf-8");
    let mut out = Vec::new();
    answer.write_to(&mut out, Version::Http11, false, true);
    let _ = connection.write_all(&out);
    if let Some(on_refusal) = &shared.options.on_refusal {
        on_refusal(client, started.elapsed(), refusal);
    }
    connection.close_gracefully();
}

/// A connection's socket, the bytes read from it but not used yet (the rest
/// of a head, pipelined requests), and its deadlines.
struct Connection<'a> {
    socket: &'a TcpStream,
    /// Zeroed once and reused: `buffer[start..end]` is read and not used yet.
    buffer: Vec<u8>,
    start: usize,
    end: usize,
    /// Reused for every answer.
    out: Vec<u8>,
    idle_timeout: Duration,
    /// The current request's deadline; `None` between requests, when the idle
    /// timeout applies.
    deadline: Option<Instant>,
    /// The timeouts the socket has now, to set them only when they change.
    read_timeout: Option<Duration>,
    write_timeout: Option<Duration>,
}

impl<'a> Connection<'a> {
    fn new(socket: &'a TcpStream, idle_timeout: Duration) -> Connection<'a> {
        Connection {
            socket,
            buffer: vec![0; READ_SIZE],
            start: 0,
            end: 0,
            out: Vec::new(),
            idle_timeout,
            deadline: None,
            read_timeout: None,
            write_timeout: None,
        }
    }

    /// True once the next request's first byte is here (maybe it already
    /// is: pipelined), false when the client closed or sent nothing for the
    /// idle timeout.
    fn wait_for_next_request(&mut self) -> bool {
        self.deadline = None;
        !self.buffered().is_empty() || matches!(self.fill(), Ok(read) if read > 0)
    }

    /// Writes all of `bytes` within the idle timeout, however the client
    /// reads: `Err` if it did not take them in time (or has gone).
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        // Each write may wait the idle timeout; after one that could not
        // write everything, the rest must go before the deadline, so that a
        // client that reads a little now and then cannot hold this thread
        // for longer. (The socket timeout alone limits each write, not the
        // answer.)
        let deadline = Instant::now() + self.idle_timeout;
        self.set_write_timeout(self.idle_timeout)?;
        let mut rest = bytes;
        let mut writer = self.socket;
        loop {
            match writer.write(rest) {
                Ok(0) => return Err(ErrorKind::WriteZero.into()),
                Ok(written) => rest = &rest[written..],
                Err(error) if error.kind() == ErrorKind::Interrupted => {}
                Err(error) => return Err(error),
            }
            if rest.is_empty() {
                return Ok(());
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(ErrorKind::TimedOut.into());
            }
            self.set_write_timeout(left)?;
        }
    }

    fn set_write_timeout(&mut self, timeout: Duration) -> io::Result<()> {
        if self.write_timeout != Some(timeout) {
            self.socket.set_write_timeout(Some(timeout))?;
            self.write_timeout = Some(timeout);
        }
        Ok(())
    }

    /// Ends the connection after its last answer. The sending side is closed
    /// at once (the client reads the answer, then the end); what the client
    /// still sends (an unread body, pipelined requests) is read and dropped,
    /// for a moment, before the socket is closed: closing a socket with unread
    /// bytes sends a reset, which can destroy the answer before the client has
    /// read it. None of those bytes is ever read as a request.
    fn close_gracefully(&mut self) {
        let _ = self.socket.shutdown(Shutdown::Write);
        let deadline = Instant::now() + LINGER;
        let mut dropped = 0;
        let mut reader = self.socket;
        while dropped < LINGER_BYTES {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || self.socket.set_read_timeout(Some(left)).is_err() {
                return;
            }
            match reader.read(&mut self.buffer) {
                Ok(0) => return,
                Ok(read) => dropped += read,
                Err(error) if error.kind() == ErrorKind::Interrupted => {}
                Err(_) => return,
            }
        }
    }
}

impl Source for Connection<'_> {
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

    fn fill(&mut self) -> Result<usize, ReadError> {
        let timeout = match self.deadline {
            None => self.idle_timeout,
            Some(deadline) => {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(ReadError::TimedOut);
                }
                left
            }
        };
        if self.read_timeout != Some(timeout) {
            self.socket
                .set_read_timeout(Some(timeout))
                .map_err(|_| ReadError::Closed)?;
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
        let mut reader = self.socket;
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
                Err(ReadError::TimedOut)
            }
            Err(_) => Err(ReadError::Closed),
        }
    }
}
