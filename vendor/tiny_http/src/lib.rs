//! # Simple usage
//!
//! ## Creating the server
//!
//! The easiest way to create a server is to call `Server::http()`.
//!
//! The `http()` function returns an `IoResult<Server>` which will return an error
//! in the case where the server creation fails (for example if the listening port is already
//! occupied).
//!
//! ```no_run
//! let server = tiny_http::Server::http("0.0.0.0:0").unwrap();
//! ```
//!
//! A newly-created `Server` will immediately start listening for incoming connections and HTTP
//! requests.
//!
//! ## Receiving requests
//!
//! Calling `server.recv()` will block until the next request is available.
//! This function returns an `IoResult<Request>`, so you need to handle the possible errors.
//!
//! ```no_run
//! # let server = tiny_http::Server::http("0.0.0.0:0").unwrap();
//!
//! loop {
//!     // blocks until the next request is received
//!     let request = match server.recv() {
//!         Ok(rq) => rq,
//!         Err(e) => { println!("error: {}", e); break }
//!     };
//!
//!     // do something with the request
//!     // ...
//! }
//! ```
//!
//! In a real-case scenario, you will probably want to spawn multiple worker tasks and call
//! `server.recv()` on all of them. Like this:
//!
//! ```no_run
//! # use std::sync::Arc;
//! # use std::thread;
//! # let server = tiny_http::Server::http("0.0.0.0:0").unwrap();
//! let server = Arc::new(server);
//! let mut guards = Vec::with_capacity(4);
//!
//! for _ in (0 .. 4) {
//!     let server = server.clone();
//!
//!     let guard = thread::spawn(move || {
//!         loop {
//!             let rq = server.recv().unwrap();
//!
//!             // ...
//!         }
//!     });
//!
//!     guards.push(guard);
//! }
//! ```
//!
//! If you don't want to block, you can call `server.try_recv()` instead.
//!
//! ## Handling requests
//!
//! The `Request` object returned by `server.recv()` contains informations about the client's request.
//! The most useful methods are probably `request.method()` and `request.url()` which return
//! the requested method (`GET`, `POST`, etc.) and url.
//!
//! To handle a request, you need to create a `Response` object. See the docs of this object for
//! more infos. Here is an example of creating a `Response` from a file:
//!
//! ```no_run
//! # use std::fs::File;
//! # use std::path::Path;
//! let response = tiny_http::Response::from_file(File::open(&Path::new("image.png")).unwrap());
//! ```
//!
//! All that remains to do is call `request.respond()` (token-server fork: it
//! writes the answer into a buffer that the connection's own thread sends, so
//! it never waits on the client):
//!
//! ```no_run
//! # use std::fs::File;
//! # use std::path::Path;
//! # let server = tiny_http::Server::http("0.0.0.0:0").unwrap();
//! # let request = server.recv().unwrap();
//! # let response = tiny_http::Response::from_file(File::open(&Path::new("image.png")).unwrap());
//! let _ = request.respond(response);
//! ```
#![forbid(unsafe_code)]
#![deny(rust_2018_idioms)]
#![allow(clippy::match_like_matches_macro)]

//! # This fork (token-server)
//!
//! This is tiny_http 0.12.0 as token-server keeps it; `DESIGN.md`, beside
//! this crate's `Cargo.toml`, says what differs from upstream and why. In
//! short: every connection has a thread of its own that alone reads and
//! writes its socket; it reads request heads strictly and within bounds (with
//! `httparse`), and whole requests, body included, before handing them over;
//! [`Server::stop`] stops gracefully.

use std::collections::HashMap;
use std::error::Error;
use std::io::Error as IoError;
use std::io::ErrorKind as IoErrorKind;
use std::io::Result as IoResult;
use std::net::{Shutdown, SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use connection::Connection;
use util::MessagesQueue;

pub use common::{HTTPVersion, Header, HeaderField, Method, StatusCode};
pub use connection::{ConfigListenAddr, ListenAddr, Listener};
pub use head::{MAX_HEAD, MAX_HEADERS, MAX_REQUEST_LINE};
pub use request::Request;
pub use response::{Response, ResponseBox};
pub use test::TestRequest;

mod body;
mod client;
mod common;
mod connection;
mod head;
mod request;
mod response;
mod test;
mod util;

/// The main class of this library.
///
/// Destroying this object stops it as [`Server::stop`] does: the listening
/// socket is closed, and so is the reading side of every connection, so idle
/// ones close; requests that have already been returned by `recv()` can still
/// be answered.
pub struct Server {
    shared: Arc<Shared>,
    // result of TcpListener::local_addr()
    listening_addr: ListenAddr,
}

/// What the accept thread, the connections' threads and the `Server` share.
pub(crate) struct Shared {
    messages: Arc<MessagesQueue<Message>>,
    options: Options,
    /// Set once by `stop`: no more connections, no more requests.
    stopping: Arc<AtomicBool>,
    /// Every open connection, so that `stop` can close the idle ones.
    connections: Mutex<Connections>,
    connections_closed: Condvar,
}

#[derive(Default)]
struct Connections {
    open: HashMap<u64, Arc<Connection>>,
    next_id: u64,
}

enum Message {
    Error(IoError),
    NewRequest(Request),
}

impl From<IoError> for Message {
    fn from(e: IoError) -> Message {
        Message::Error(e)
    }
}

impl From<Request> for Message {
    fn from(rq: Request) -> Message {
        Message::NewRequest(rq)
    }
}

// this trait is to make sure that Server implements Share and Send
#[doc(hidden)]
#[allow(dead_code)]
trait MustBeShareDummy: Sync + Send {}
#[doc(hidden)]
impl MustBeShareDummy for Server {}

pub struct IncomingRequests<'a> {
    server: &'a Server,
}

/// Represents the parameters required to create a server.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The addresses to try to listen to.
    pub addr: ConfigListenAddr,
}

/// token-server fork: how a server treats its connections.
#[derive(Clone)]
pub struct Options {
    /// How long a connection may stay silent between requests before it is
    /// closed, and how long a client may take to accept an answer before it
    /// is cut off. `None`: no limit.
    pub idle_timeout: Option<Duration>,
    /// How long a request may take to arrive whole, head and body, from its
    /// first byte; a late one gets 408 and its connection is closed. `None`:
    /// no limit.
    pub request_timeout: Option<Duration>,
    /// The largest body read. A larger one is not read (a chunked one only to
    /// `body_limit + 1` bytes), and its connection is closed after the answer.
    pub body_limit: usize,
    /// Called, on the connection's thread, after each answer the server gives
    /// by itself (see [`Refusal`]); for a log.
    pub on_refusal: Option<RefusalHandler>,
}

/// What [`Options::on_refusal`] holds.
pub type RefusalHandler = Arc<dyn Fn(&Refusal) + Send + Sync>;

impl Default for Options {
    /// 5 s idle, 10 s for a request, 8 KiB of body (Apache's `KeepAliveTimeout`,
    /// nginx's `client_header_timeout` order, nginx's `client_body_buffer_size`).
    fn default() -> Options {
        Options {
            idle_timeout: Some(Duration::from_secs(5)),
            request_timeout: Some(Duration::from_secs(10)),
            body_limit: 8 * 1024,
            on_refusal: None,
        }
    }
}

/// token-server fork: an answer the server gave by itself, to a request it
/// did not hand over: a head that is malformed (400), too long (414, 431), of
/// another HTTP version (505), with an unsupported `Expect` (417) or transfer
/// coding (501), or a request that did not arrive in time (408). The
/// connection was closed after it.
#[derive(Debug, Clone)]
pub struct Refusal {
    pub remote_addr: Option<SocketAddr>,
    /// The method and target, when the request line could be read that far.
    pub method: Option<String>,
    pub url: Option<String>,
    pub status: u16,
    /// Why, in a few words ("bare LF in the head", "request timeout").
    pub reason: &'static str,
    /// From the request's first byte to the answer.
    pub elapsed: Duration,
}

impl Server {
    /// Shortcut for a simple server on a specific address.
    #[inline]
    pub fn http<A>(addr: A) -> Result<Server, Box<dyn Error + Send + Sync + 'static>>
    where
        A: ToSocketAddrs,
    {
        Server::new(ServerConfig {
            addr: ConfigListenAddr::from_socket_addrs(addr)?,
        })
    }

    #[cfg(unix)]
    #[inline]
    /// Shortcut for a UNIX socket server at a specific path
    pub fn http_unix(
        path: &std::path::Path,
    ) -> Result<Server, Box<dyn Error + Send + Sync + 'static>> {
        Server::new(ServerConfig {
            addr: ConfigListenAddr::unix_from_path(path),
        })
    }

    /// Builds a new server that listens on the specified address.
    pub fn new(config: ServerConfig) -> Result<Server, Box<dyn Error + Send + Sync + 'static>> {
        let listener = config.addr.bind()?;
        Self::from_listener(listener, Options::default())
    }

    /// Builds a new server using the specified listener, with these options.
    ///
    /// This is useful if you've constructed TcpListener using some less usual method
    /// such as from systemd. For other cases, you probably want the `new()` function.
    pub fn from_listener<L: Into<Listener>>(
        listener: L,
        options: Options,
    ) -> Result<Server, Box<dyn Error + Send + Sync + 'static>> {
        let listener = listener.into();
        let local_addr = listener.local_addr()?;
        log::debug!("Server listening on {}", local_addr);

        let shared = Arc::new(Shared {
            messages: MessagesQueue::with_capacity(8),
            options,
            stopping: Arc::new(AtomicBool::new(false)),
            connections: Mutex::new(Connections::default()),
            connections_closed: Condvar::new(),
        });
        let accepting = Arc::clone(&shared);
        thread::Builder::new()
            .name("accept".to_string())
            .spawn(move || accept_connections(&listener, &accepting))?;

        Ok(Server {
            shared,
            listening_addr: local_addr,
        })
    }

    /// Returns an iterator for all the incoming requests.
    ///
    /// The iterator will return `None` if the server socket is shutdown.
    #[inline]
    pub fn incoming_requests(&self) -> IncomingRequests<'_> {
        IncomingRequests { server: self }
    }

    /// Returns the address the server is listening to.
    #[inline]
    pub fn server_addr(&self) -> ListenAddr {
        self.listening_addr.clone()
    }

    /// Returns the number of clients currently connected to the server.
    pub fn num_connections(&self) -> usize {
        self.shared.connections().open.len()
    }

    /// Blocks until an HTTP request has been submitted and returns it.
    ///
    /// token-server fork: after [`stop`](Server::stop), the requests already
    /// read are still returned, then an error: see [`is_stopping`](Server::is_stopping).
    pub fn recv(&self) -> IoResult<Request> {
        match self.shared.messages.pop() {
            Some(Message::Error(err)) => Err(err),
            Some(Message::NewRequest(rq)) => Ok(rq),
            None if self.is_stopping() => Err(IoError::other("the server is stopping")),
            None => Err(IoError::other("thread unblocked")),
        }
    }

    /// Same as `recv()` but doesn't block longer than timeout
    pub fn recv_timeout(&self, timeout: Duration) -> IoResult<Option<Request>> {
        match self.shared.messages.pop_timeout(timeout) {
            Some(Message::Error(err)) => Err(err),
            Some(Message::NewRequest(rq)) => Ok(Some(rq)),
            None => Ok(None),
        }
    }

    /// Same as `recv()` but doesn't block.
    pub fn try_recv(&self) -> IoResult<Option<Request>> {
        match self.shared.messages.try_pop() {
            Some(Message::Error(err)) => Err(err),
            Some(Message::NewRequest(rq)) => Ok(Some(rq)),
            None => Ok(None),
        }
    }

    /// Unblock thread stuck in recv() or incoming_requests().
    /// If there are several such threads, only one is unblocked.
    /// This method allows graceful shutdown of server.
    pub fn unblock(&self) {
        self.shared.messages.unblock();
    }

    /// token-server fork: stops the server gracefully, from any thread (a
    /// signal handler's, say). It stops accepting connections and closes the
    /// idle ones; the requests already read are still handed out by `recv`,
    /// which then returns an error, and their answers still go out, each with
    /// `Connection: close`. Calling it again does nothing.
    pub fn stop(&self) {
        if self.shared.stopping.swap(true, Ordering::SeqCst) {
            return;
        }
        self.shared.messages.close();
        // The accept thread waits in `accept`: a connection wakes it, and it
        // sees it is time to stop.
        wake_accept_thread(&self.listening_addr);
        // A connection waiting for its client to send (the next request, the
        // rest of one) reads the end now and closes; one whose request is
        // being answered still sends the answer.
        for connection in self.shared.connections().open.values() {
            let _ = connection.shutdown(Shutdown::Read);
        }
    }

    /// token-server fork: true once [`stop`](Server::stop) was called.
    pub fn is_stopping(&self) -> bool {
        self.shared.stopping.load(Ordering::SeqCst)
    }

    /// token-server fork: after [`stop`](Server::stop), waits up to `limit`
    /// for every connection to close (their last answers sent). True when all
    /// did.
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

impl Shared {
    fn connections(&self) -> MutexGuard<'_, Connections> {
        // The lock is never held across anything that could panic; if it were
        // poisoned, the map is still whole.
        self.connections
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The accept thread: one thread per connection, until the server stops.
fn accept_connections(listener: &Listener, shared: &Arc<Shared>) {
    // token-server patch: on an accept error the loop used to report it and
    // stop for good. Errors that pass (out of file descriptors or memory, a
    // connection aborted before it was accepted) are now waited out, with a
    // pause growing from 5 to 100 ms (Go's net/http grows it to 1 s; a shorter
    // one answers sooner once descriptors come free, and an accept ten times
    // a second costs nothing); other errors still stop it.
    let mut pause = Duration::from_millis(5);
    log::debug!("Running accept thread");
    loop {
        let accepted = listener.accept();
        if shared.stopping.load(Ordering::SeqCst) {
            break;
        }
        let (connection, remote_addr) = match accepted {
            Ok(accepted) => accepted,
            Err(e) if accept_error_passes(&e) => {
                log::warn!("Error accepting new client, retrying: {}", e);
                thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(100));
                continue;
            }
            Err(e) => {
                log::error!("Error accepting new client: {}", e);
                let _ = shared.messages.push(e.into());
                break;
            }
        };
        pause = Duration::from_millis(5);
        // Answers are written whole, one buffer each: no need to wait for more.
        let _ = connection.set_nodelay(true);

        let connection = Arc::new(connection);
        let id = {
            let mut connections = shared.connections();
            let id = connections.next_id;
            connections.next_id += 1;
            connections.open.insert(id, Arc::clone(&connection));
            id
        };
        let serving = Arc::clone(shared);
        let spawned = thread::Builder::new()
            .name("connection".to_string())
            .stack_size(CONNECTION_STACK)
            .spawn(move || {
                client::serve(&connection, remote_addr, &serving);
                serving.forget_connection(id);
            });
        if let Err(e) = spawned {
            // No thread for it: it is closed (dropped) unanswered, and the
            // accept thread goes on.
            log::error!("Could not start a thread for a connection: {}", e);
            shared.forget_connection(id);
        }
    }
    log::debug!("Terminating accept thread");
}

/// A connection's thread needs little stack: it reads into the heap, and
/// httparse's 100 header slots take about 3 KiB.
const CONNECTION_STACK: usize = 256 * 1024;

impl Shared {
    /// The connection `id` has closed: its socket is released with the last
    /// reference, and `wait_for_connections` may return.
    fn forget_connection(&self, id: u64) {
        let mut connections = self.connections();
        connections.open.remove(&id);
        if connections.open.is_empty() {
            self.connections_closed.notify_all();
        }
    }
}

/// Connects briefly to the server's own address, so that the accept thread,
/// waiting in `accept`, wakes up.
fn wake_accept_thread(address: &ListenAddr) {
    let maybe_stream = match address {
        ListenAddr::IP(addr) => {
            let mut addr = *addr;
            // Connecting to 0.0.0.0 or :: is not portable: use loopback.
            if addr.ip().is_unspecified() {
                let loopback = match addr {
                    SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
                    SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
                };
                addr.set_ip(loopback);
            }
            TcpStream::connect_timeout(&addr, Duration::from_secs(1)).map(Connection::from)
        }
        #[cfg(unix)]
        ListenAddr::Unix(addr) => match addr.as_pathname() {
            Some(path) => std::os::unix::net::UnixStream::connect(path).map(Connection::from),
            None => return,
        },
    };
    if let Ok(stream) = maybe_stream {
        let _ = stream.shutdown(Shutdown::Both);
    }
}

/// token-server patch: the accept errors that pass by themselves, as Go's
/// net/http treats them: out of file descriptors (EMFILE, ENFILE: 24 and 23 on
/// Linux and the BSDs) or memory, and a client that gave up while queued.
fn accept_error_passes(error: &IoError) -> bool {
    matches!(error.raw_os_error(), Some(23) | Some(24))
        || matches!(
            error.kind(),
            IoErrorKind::ConnectionAborted
                | IoErrorKind::ConnectionReset
                | IoErrorKind::Interrupted
                | IoErrorKind::WouldBlock
                | IoErrorKind::TimedOut
                | IoErrorKind::OutOfMemory
        )
}

impl Iterator for IncomingRequests<'_> {
    type Item = Request;
    fn next(&mut self) -> Option<Request> {
        self.server.recv().ok()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
        // Requests nobody will take now: each, dropped, answers 500 and closes
        // its connection, whose thread would otherwise wait for it forever.
        while self.shared.messages.try_pop().is_some() {}

        #[cfg(unix)]
        if let ListenAddr::Unix(addr) = &self.listening_addr {
            if let Some(path) = addr.as_pathname() {
                let _ = std::fs::remove_file(path);
            }
        }
    }
}
