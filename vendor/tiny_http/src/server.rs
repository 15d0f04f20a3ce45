//! The server: the accept thread, one thread per connection, and the queue
//! of whole requests that [`Server::recv`] hands out.

use std::io;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::connection_thread;
use crate::queue::{Popped, Queue};
use crate::request::Request;
use crate::shared::{Connections, Message, Options, ServerError, Shared};

/// Why [`Server::recv`] returned without a request.
#[derive(Debug)]
pub enum NoRequest {
    /// [`Server::stop`] was called, and every request already read has been
    /// handed out.
    Stopped,
    /// [`Server::wake`] was called.
    Woken,
    /// The listening socket failed: no connection will come any more.
    ListenerFailed(io::Error),
}

/// An HTTP/1.1 server: it listens, reads whole requests on a thread per
/// connection, and hands them out one at a time through [`Server::recv`].
///
/// Dropping it stops it as [`Server::stop`] does, and answers 500 to the
/// requests still waiting in its queue.
pub struct Server {
    shared: Arc<Shared>,
    local_addr: SocketAddr,
}

impl Server {
    /// Serves on `listener` (bound by the caller, to any address and port),
    /// with these options. `Err` if its address cannot be read or the accept
    /// thread cannot start.
    pub fn from_listener(listener: TcpListener, options: Options) -> io::Result<Server> {
        let local_addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            queue: Queue::new(),
            options,
            local_addr,
            stopping: AtomicBool::new(false),
            connections: Mutex::new(Connections::default()),
            connections_closed: Condvar::new(),
        });
        let accepting = Arc::clone(&shared);
        thread::Builder::new()
            .name("accept".to_string())
            .spawn(move || accept_connections(&listener, &accepting))?;
        Ok(Server { shared, local_addr })
    }

    /// The address the server listens on (with the real port, for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The next request, waiting for one if need be. After [`stop`](Server::stop),
    /// the requests already read are still handed out, then
    /// `Err(NoRequest::Stopped)`.
    pub fn recv(&self) -> Result<Request, NoRequest> {
        match self.shared.queue.pop() {
            Popped::Item(Message::Request(request)) => Ok(request),
            Popped::Item(Message::ListenerFailed(error)) => Err(NoRequest::ListenerFailed(error)),
            Popped::Woken => Err(NoRequest::Woken),
            Popped::Closed => Err(NoRequest::Stopped),
        }
    }

    /// Makes the next [`recv`](Server::recv) (the one waiting now, or else the
    /// next one) return `Err(NoRequest::Woken)`, before any request waiting:
    /// from any thread (a signal's, say), with news for the thread that
    /// answers, which sees it at once, however busy.
    pub fn wake(&self) {
        self.shared.queue.wake();
    }

    /// Stops the server gracefully, from any thread: it accepts no more
    /// connections and closes the idle ones; the requests already read are
    /// still handed out by `recv`, and their answers still go out, each with
    /// `Connection: close`. Calling it again does nothing.
    pub fn stop(&self) {
        if self.shared.stopping.swap(true, Ordering::SeqCst) {
            return;
        }
        self.shared.queue.close();
        // The accept thread waits in `accept`: a connection wakes it, and it
        // sees it is time to stop.
        wake_accept_thread(self.local_addr);
        // A connection waiting for its client to send (the next request, the
        // rest of one) reads the end now and closes; one whose request is
        // being answered still sends the answer.
        for socket in self.shared.connections().open.values() {
            let _ = socket.shutdown(Shutdown::Read);
        }
    }

    /// After [`stop`](Server::stop), waits up to `limit` for every connection
    /// to close (their last answers sent). True when all did.
    pub fn wait_for_connections(&self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        let mut connections = self.shared.connections();
        while !connections.open.is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            connections = match self
                .shared
                .connections_closed
                .wait_timeout(connections, left)
            {
                Ok((connections, _)) => connections,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
        true
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
        // Requests nobody will take now: each, dropped, answers 500 and closes
        // its connection, whose thread would otherwise wait for it forever.
        drop(self.shared.queue.drain());
    }
}

/// The accept thread: a thread for each connection, until the server stops.
///
/// token-server fork: an accept error used to stop it for good. Errors that
/// pass (out of file descriptors or memory, a client that gave up while
/// queued) are now waited out, with a pause growing from 5 to 100 ms (Go's
/// net/http grows it to 1 s; a shorter one answers sooner once descriptors
/// come free, and an accept ten times a second costs nothing), and reported
/// through `Options::on_error`; other errors end `recv`.
fn accept_connections(listener: &TcpListener, shared: &Arc<Shared>) {
    let mut pause = Duration::from_millis(5);
    let mut accept_errors = Reports::new("cannot accept a connection");
    let mut thread_errors = Reports::new("cannot start a thread for a connection");
    loop {
        let accepted = listener.accept();
        if shared.is_stopping() {
            return;
        }
        let (socket, client) = match accepted {
            Ok(accepted) => accepted,
            Err(error) if is_client_gone(&error) => continue,
            Err(error) if is_passing(&error) => {
                accept_errors.report(error, shared);
                thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(100));
                continue;
            }
            Err(error) => {
                let _ = shared.queue.push(Message::ListenerFailed(error));
                return;
            }
        };
        pause = Duration::from_millis(5);
        // Answers are written whole, one buffer each: no need to wait for more.
        let _ = socket.set_nodelay(true);
        let socket = Arc::new(socket);
        let id = shared.open_connection(Arc::clone(&socket));
        let serving = Arc::clone(shared);
        let spawned = thread::Builder::new()
            .name("connection".to_string())
            .stack_size(CONNECTION_STACK)
            .spawn(move || {
                connection_thread::serve(&socket, client, &serving);
                serving.forget_connection(id);
            });
        if let Err(error) = spawned {
            // No thread for it: it is closed unanswered, and the server goes on.
            shared.forget_connection(id);
            thread_errors.report(error, shared);
        }
    }
}

/// A connection's thread needs little stack: it reads into the heap, and
/// httparse's 100 header slots take about 3 KiB.
const CONNECTION_STACK: usize = 256 * 1024;

/// Reports of one kind of error, at most one a second: the first at once,
/// the next one a second later at the earliest, with how many came between.
struct Reports {
    what: &'static str,
    last: Option<Instant>,
    unreported: u64,
}

impl Reports {
    fn new(what: &'static str) -> Reports {
        Reports {
            what,
            last: None,
            unreported: 0,
        }
    }

    fn report(&mut self, error: io::Error, shared: &Shared) {
        let Some(unreported) = self.due(Instant::now()) else {
            return;
        };
        let report = ServerError {
            what: self.what,
            error,
            unreported,
        };
        if let Some(on_error) = &shared.options.on_error {
            on_error(&report);
        }
    }

    /// Whether an error at `now` is reported: `Some(how many were not since
    /// the last report)`, or `None` (it is counted) within a second of it.
    fn due(&mut self, now: Instant) -> Option<u64> {
        if self
            .last
            .is_some_and(|last| now.duration_since(last) < Duration::from_secs(1))
        {
            self.unreported += 1;
            return None;
        }
        self.last = Some(now);
        Some(std::mem::take(&mut self.unreported))
    }
}

/// A client that gave up before it was accepted: nothing to report.
fn is_client_gone(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset
    )
}

/// The accept errors that pass by themselves, as Go's net/http treats them:
/// out of file descriptors (EMFILE, ENFILE: 24 and 23 on Linux and the BSDs)
/// or memory, an interrupted call.
fn is_passing(error: &io::Error) -> bool {
    matches!(error.raw_os_error(), Some(23 | 24))
        || matches!(
            error.kind(),
            io::ErrorKind::Interrupted
                | io::ErrorKind::WouldBlock
                | io::ErrorKind::TimedOut
                | io::ErrorKind::OutOfMemory
        )
}

/// Connects briefly to the server's own address, so that the accept thread,
/// waiting in `accept`, wakes up.
fn wake_accept_thread(mut address: SocketAddr) {
    // Connecting to 0.0.0.0 or :: is not portable: loopback is the same server.
    if address.ip().is_unspecified() {
        let loopback: std::net::IpAddr = match address {
            SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        };
        address.set_ip(loopback);
    }
    if let Ok(stream) = TcpStream::connect_timeout(&address, Duration::from_secs(1)) {
        let _ = stream.shutdown(Shutdown::Both);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_reported_at_most_once_a_second_with_a_count() {
        let mut reports = Reports::new("cannot accept a connection");
        let start = Instant::now();
        let at = |millis: u64| start + Duration::from_millis(millis);
        assert_eq!(reports.due(at(0)), Some(0));
        assert_eq!(reports.due(at(100)), None);
        assert_eq!(reports.due(at(999)), None);
        assert_eq!(reports.due(at(1000)), Some(2));
        assert_eq!(reports.due(at(5000)), Some(0));
    }
}
