//! What the accept thread, the connections' threads and the [`Server`]
//! share: the options the program gave, the queue of whole requests, and the
//! open connections. A module of its own, so that the server and the
//! connections' threads both use it and neither uses the other.
//!
//! [`Server`]: crate::Server

use std::collections::HashMap;
use std::io;
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use crate::queue::Queue;
use crate::refusal::Refusal;
use crate::request::Request;

/// How a server treats its connections, and where it reports what it does
/// by itself.
pub struct Options {
    /// How long a connection may stay silent between requests before it is
    /// closed, and how long a client may take to take an answer before it is
    /// cut off.
    pub idle_timeout: Duration,
    /// How long a request may take to arrive whole, head and body, from its
    /// first byte; a late one gets 408 and its connection is closed.
    pub request_timeout: Duration,
    /// The largest body read. A larger one is not read (a chunked one only to
    /// `body_limit + 1` bytes), and its connection is closed after the answer.
    pub body_limit: usize,
    /// HTTPS: with a config, every connection speaks TLS (see `DESIGN.md`);
    /// without, plain HTTP.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// Called, on the connection's thread, after each answer the server gave
    /// by itself (see [`Refusal`]), with the client's address and the time
    /// from the request's first byte: for a log.
    pub on_refusal: Option<OnRefusal>,
    /// Called when the server could not accept a connection, or start its
    /// thread (see [`ServerError`]): at most once a second for each, for a log.
    pub on_error: Option<OnError>,
}

/// What [`Options::on_refusal`] holds: called with the client's address, the
/// time from the request's first byte, and the refusal.
pub type OnRefusal = Box<dyn Fn(SocketAddr, Duration, Refusal) + Send + Sync>;

/// What [`Options::on_error`] holds.
pub type OnError = Box<dyn Fn(&ServerError) + Send + Sync>;

impl Default for Options {
    /// 5 s idle (Apache's `KeepAliveTimeout`), 10 s for a request (within
    /// nginx's `client_header_timeout` of 60 s and Apache's
    /// `RequestReadTimeout` of 20-40 s: a request is a few hundred bytes),
    /// 8 KiB of body (nginx's `client_body_buffer_size`), plain HTTP, and
    /// nobody told of refusals or errors. token-server's defaults are these.
    fn default() -> Options {
        Options {
            idle_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(10),
            body_limit: 8 * 1024,
            tls: None,
            on_refusal: None,
            on_error: None,
        }
    }
}

/// A problem of the server's own, not of any one client: it could not
/// accept a connection (out of file descriptors, say) or start a thread for
/// one. The server goes on: it tries again, and a connection without a
/// thread is closed.
#[derive(Debug)]
pub struct ServerError {
    /// What failed: "cannot accept a connection", "cannot start a thread for
    /// a connection".
    pub what: &'static str,
    pub error: io::Error,
    /// How many more times it failed since the last report, unreported (a
    /// report is made at most once a second).
    pub unreported: u64,
}

/// What the accept thread, the connections' threads and the `Server` share.
pub(crate) struct Shared {
    pub(crate) queue: Queue<Message>,
    pub(crate) options: Options,
    /// Where the server listens (for the answer to plain HTTP on an HTTPS
    /// port).
    pub(crate) local_addr: SocketAddr,
    /// Set once by `stop`: no more connections, no more requests.
    pub(crate) stopping: AtomicBool,
    /// Every open connection, so that `stop` can close the idle ones.
    pub(crate) connections: Mutex<Connections>,
    pub(crate) connections_closed: Condvar,
}

pub(crate) enum Message {
    Request(Request),
    ListenerFailed(io::Error),
}

#[derive(Default)]
pub(crate) struct Connections {
    pub(crate) open: HashMap<u64, Arc<TcpStream>>,
    pub(crate) next_id: u64,
}

impl Shared {
    pub(crate) fn connections(&self) -> MutexGuard<'_, Connections> {
        // The lock is never held across anything that could panic; if it were
        // poisoned, the map is still whole.
        self.connections
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    /// A new connection, known to `stop`; its id.
    pub(crate) fn open_connection(&self, socket: Arc<TcpStream>) -> u64 {
        let mut connections = self.connections();
        let id = connections.next_id;
        connections.next_id += 1;
        connections.open.insert(id, socket);
        id
    }

    /// The connection `id` has closed: its socket is released with the last
    /// reference, and `wait_for_connections` may return.
    pub(crate) fn forget_connection(&self, id: u64) {
        let mut connections = self.connections();
        connections.open.remove(&id);
        if connections.open.is_empty() {
            self.connections_closed.notify_all();
        }
    }
}
