//! token-server fork: one connection as its thread sees it: the socket,
//! through TLS or not, the bytes read from it but not used yet (the rest of a
//! head, pipelined requests), and the deadlines every read and write keep.

use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};

use rustls::ServerConnection;

use crate::body::Source;
use crate::head::{self, Head, Parsed};
use crate::refusal::ReadError;

/// How much is read from the socket at a time.
const READ_SIZE: usize = 4096;
/// After its last answer, how long a connection may take to close from its
/// end, and how much it may still send meanwhile (see `close_gracefully`).
const LINGER: Duration = Duration::from_secs(1);
const LINGER_BYTES: usize = 256 * 1024;
/// How long a TLS `close_notify` may take to go out when the connection ends.
const CLOSE_NOTIFY_LIMIT: Duration = Duration::from_millis(200);

pub(crate) struct Connection<'a> {
    pub(crate) socket: &'a TcpStream,
    /// The TLS session, once TLS has started on this connection.
    pub(crate) tls: Option<Box<ServerConnection>>,
    /// Zeroed once and reused: `buffer[start..end]` is read and not used yet.
    buffer: Vec<u8>,
    start: usize,
    end: usize,
    /// Reused for every answer.
    pub(crate) out: Vec<u8>,
    idle_timeout: Duration,
    request_timeout: Duration,
    /// The current request's deadline; `None` between requests, when the idle
    /// timeout applies. It starts with the request's first byte off the
    /// socket: over TLS, the first byte of the record that carries it, so
    /// that a record trickled in byte by byte is late like a trickled head.
    pub(crate) deadline: Option<Instant>,
    /// When the current request's first byte came.
    pub(crate) started: Option<Instant>,
    /// The timeouts the socket has now, to set them only when they change.
    read_timeout: Option<Duration>,
    write_timeout: Option<Duration>,
}

impl<'a> Connection<'a> {
    pub(crate) fn new(
        socket: &'a TcpStream,
        idle_timeout: Duration,
        request_timeout: Duration,
    ) -> Connection<'a> {
        Connection {
            socket,
            tls: None,
            buffer: vec![0; READ_SIZE],
            start: 0,
            end: 0,
            out: Vec::new(),
            idle_timeout,
            request_timeout,
            deadline: None,
            started: None,
            read_timeout: None,
            write_timeout: None,
        }
    }

    /// True once the next request's first byte is here (maybe it already
    /// is: pipelined), false when the client closed or sent nothing for the
    /// idle timeout. `running` is a deadline already running (the TLS
    /// handshake's, for the first request); otherwise the request's deadline
    /// starts with its first byte. Over TLS, true also when a record began
    /// but its deadline passed before it was whole: the request is late.
    pub(crate) fn wait_for_next_request(&mut self, running: Option<Instant>) -> bool {
        self.deadline = running;
        self.started = None;
        if !self.buffered().is_empty() {
            self.begin_request();
            return true;
        }
        match self.fill() {
            Ok(read) => read > 0,
            Err(ReadError::TimedOut) => self.started.is_some(),
            Err(_) => false,
        }
    }

    /// The first byte of a request came: its deadline starts now, unless
    /// one is running already.
    fn begin_request(&mut self) {
        let now = Instant::now();
        self.started = Some(now);
        self.deadline.get_or_insert(now + self.request_timeout);
    }

    /// How long the next socket read may wait: until the request's deadline
    /// once its first byte came; before that, the idle timeout (and no
    /// longer than a deadline already running).
    fn read_limit(&mut self) -> Result<(), ReadError> {
        match (self.started, self.deadline) {
            (Some(_), Some(deadline)) => self.read_until(deadline),
            // Between requests: the idle timeout, the same each time, so the
            // socket's timeout is set once, not at every request.
            (_, None) => {
                let idle = self.idle_timeout;
                self.set_read_timeout(idle).map_err(|_| ReadError::Closed)
            }
            (None, Some(running)) => {
                let idle = Instant::now() + self.idle_timeout;
                self.read_until(running.min(idle))
            }
        }
    }

    /// Reads until the buffer holds a whole head, and parses it.
    pub(crate) fn read_head(&mut self) -> Result<Head, ReadError> {
        loop {
            match head::parse(self.buffered())? {
                Parsed::Complete(head, length) => {
                    self.consume(length);
                    return Ok(head);
                }
                // More bytes, until they can change that answer.
                Parsed::Partial => {
                    let parsed = self.buffered().len();
                    loop {
                        match self.fill() {
                            Ok(0) => return Err(ReadError::Closed),
                            Ok(_) if head::worth_parsing_again(self.buffered(), parsed) => break,
                            Ok(_) => {}
                            Err(ReadError::TimedOut) => {
                                return Err(head::timed_out(self.buffered()).into());
                            }
                            Err(error) => return Err(error),
                        }
                    }
                }
            }
        }
    }

    /// Sets the socket's read timeout to what is left before `deadline`;
    /// `Err(TimedOut)` when nothing is.
    pub(crate) fn read_until(&mut self, deadline: Instant) -> Result<(), ReadError> {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(ReadError::TimedOut);
        }
        self.set_read_timeout(left).map_err(|_| ReadError::Closed)
    }

    fn set_read_timeout(&mut self, timeout: Duration) -> io::Result<()> {
        if self.read_timeout != Some(timeout) {
            self.socket.set_read_timeout(Some(timeout))?;
            self.read_timeout = Some(timeout);
        }
        Ok(())
    }

    /// Writes all of `bytes` (through TLS, if it is on) within the idle
    /// timeout, however the client reads: `Err` if it did not take them in
    /// time (or has gone).
    pub(crate) fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.write_within(bytes, self.idle_timeout)
    }

    /// Writes all of `bytes` within `limit`.
    fn write_within(&mut self, bytes: &[u8], limit: Duration) -> io::Result<()> {
        // Each write may wait the whole limit; after one that could not
        // write everything, the rest must go before the deadline, so that a
        // client that reads a little now and then cannot hold this thread
        // for longer. (A socket timeout limits each write, not the answer.)
        let deadline = Instant::now() + limit;
        self.set_write_timeout(limit)?;
        let mut rest = bytes;
        let mut socket = self.socket;
        loop {
            let written = match &mut self.tls {
                None => socket.write(rest),
                Some(tls) => {
                    // rustls takes what its buffer has room for, and the
                    // socket takes the records it made.
                    let taken = tls.writer().write(rest)?;
                    rest = &rest[taken..];
                    if !tls.wants_write() {
                        Ok(0)
                    } else {
                        tls.write_tls(&mut socket)
                    }
                }
            };
            match written {
                Ok(0) if self.tls.is_none() => return Err(ErrorKind::WriteZero.into()),
                Ok(written) if self.tls.is_none() => rest = &rest[written..],
                Ok(_) => {}
                Err(error) if error.kind() == ErrorKind::Interrupted => continue,
                Err(error) if error.kind() == ErrorKind::WouldBlock => {}
                Err(error) => return Err(error),
            }
            let tls_waiting = self.tls.as_ref().is_some_and(|tls| tls.wants_write());
            if rest.is_empty() && !tls_waiting {
                return Ok(());
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(ErrorKind::TimedOut.into());
            }
            self.set_write_timeout(left)?;
        }
    }

    /// Sets the socket's write timeout to what is left before `deadline`.
    pub(crate) fn write_until(&mut self, deadline: Instant) -> io::Result<()> {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(ErrorKind::TimedOut.into());
        }
        self.set_write_timeout(left)
    }

    fn set_write_timeout(&mut self, timeout: Duration) -> io::Result<()> {
        if self.write_timeout != Some(timeout) {
            self.socket.set_write_timeout(Some(timeout))?;
            self.write_timeout = Some(timeout);
        }
        Ok(())
    }

    /// Ends the connection after its last answer. Over TLS, `close_notify`
    /// goes first. Then the sending side is closed (the client reads the
    /// answer, then the end); what the client still sends (an unread body,
    /// pipelined requests) is read and dropped, for a moment, before the
    /// socket is closed: closing a socket with unread bytes sends a reset,
    /// which can destroy the answer before the client has read it. None of
    /// those bytes is ever read as a request.
    pub(crate) fn close_gracefully(&mut self) {
        self.send_close_notify();
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

    /// Ends a connection with no answer due (idle, or its client gone):
    /// over TLS, with `close_notify`, so that the client knows nothing was
    /// cut short.
    pub(crate) fn close_quietly(&mut self) {
        self.send_close_notify();
    }

    fn send_close_notify(&mut self) {
        let Some(tls) = &mut self.tls else {
            return;
        };
        tls.send_close_notify();
        let _ = self.write_within(b"", CLOSE_NOTIFY_LIMIT);
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
        let read = if self.tls.is_some() {
            self.fill_from_tls()?
        } else {
            self.read_limit()?;
            read_socket(self.socket, &mut self.buffer[self.end..])?
        };
        // A request's first bytes (over TLS, maybe decrypted already with
        // the end of the one before): its deadline starts now, if not before.
        if read > 0 && self.started.is_none() {
            self.begin_request();
        }
        self.end += read;
        Ok(read)
    }
}

impl Connection<'_> {
    /// Over TLS: the plaintext rustls has decrypted already, else one more
    /// read of the socket at a time, each within the deadline, until a record
    /// is whole. (rustls' own `Stream` loops over many socket reads inside
    /// one call, each with the socket's whole timeout: a client trickling a
    /// record a byte at a time would never meet the deadline.)
    fn fill_from_tls(&mut self) -> Result<usize, ReadError> {
        loop {
            let Some(tls) = self.tls.as_mut() else {
                return Err(ReadError::Closed);
            };
            match tls.reader().read(&mut self.buffer[self.end..]) {
                // 0: the client's close_notify; the end, as a TCP close.
                Ok(read) => return Ok(read),
                Err(error) if error.kind() == ErrorKind::WouldBlock => {}
                Err(_) => return Err(ReadError::Closed),
            }
            self.read_limit()?;
            let mut socket = self.socket;
            let Some(tls) = self.tls.as_mut() else {
                return Err(ReadError::Closed);
            };
            let read = loop {
                match tls.read_tls(&mut socket) {
                    Err(error) if error.kind() == ErrorKind::Interrupted => {}
                    Err(error)
                        if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) =>
                    {
                        return Err(ReadError::TimedOut);
                    }
                    Err(_) => return Err(ReadError::Closed),
                    Ok(read) => break read,
                }
            };
            if read == 0 {
                return Err(ReadError::Closed);
            }
            let processed = tls.process_new_packets();
            let wants_write = tls.wants_write();
            if self.started.is_none() {
                self.begin_request();
            }
            // An alert to send, a key update's answer: sent within a moment.
            if wants_write {
                let _ = self.write_within(b"", CLOSE_NOTIFY_LIMIT);
            }
            if processed.is_err() {
                return Err(ReadError::Closed);
            }
        }
    }
}

/// One read of a plain socket, retried when a signal interrupted it.
fn read_socket(mut socket: &TcpStream, room: &mut [u8]) -> Result<usize, ReadError> {
    loop {
        match socket.read(room) {
            Ok(read) => return Ok(read),
            Err(error) if error.kind() == ErrorKind::Interrupted => {}
            Err(error) if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Err(ReadError::TimedOut);
            }
            Err(_) => return Err(ReadError::Closed),
        }
    }
}
