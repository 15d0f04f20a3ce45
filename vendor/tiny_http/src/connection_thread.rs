//! token-server fork: a connection's own thread. It alone reads and writes its
//! socket: it reads a whole request (head and body), hands it to the server's
//! queue, waits for the answer, writes it, and only then reads the next
//! request. A client that is slow, stalled or malformed holds up this thread
//! and nothing else, and there is at most one request per connection in
//! memory. (Upstream tiny_http let the thread that answers read bodies and
//! write answers on the socket; that is what this file replaced.)

use std::net::{SocketAddr, TcpStream};
use std::sync::mpsc::{self, Receiver};
use std::time::Instant;

use crate::body;
use crate::connection::Connection;
use crate::head::Framing;
use crate::method::{Method, Version};
use crate::refusal::{ReadError, Refusal};
use crate::request::{Parts, Request};
use crate::response::Response;
use crate::shared::{Message, Shared};
use crate::tls::{self, NoTls};

/// Serves one connection until it closes: TLS first if the server speaks
/// HTTPS, then request after request, each read whole, handed over,
/// answered.
pub(crate) fn serve(socket: &TcpStream, client: SocketAddr, shared: &Shared) {
    let options = &shared.options;
    let accepted = Instant::now();
    let mut connection = Connection::new(socket, options.idle_timeout, options.request_timeout);
    // Over TLS, the handshake counts toward the first request's deadline.
    let mut first_deadline = None;
    if let Some(config) = &options.tls {
        let deadline = accepted + options.request_timeout;
        match tls::start(&mut connection, config, deadline, shared) {
            Ok(()) => first_deadline = Some(deadline),
            Err(NoTls::Closed) => return,
            Err(NoTls::Refused(refusal)) => {
                // Only an answer needs a graceful close (see
                // `close_gracefully`); with none, the socket is just closed.
                let answered = refusal.status.is_some();
                report(client, accepted, refusal, shared);
                if answered {
                    connection.close_gracefully();
                }
                return;
            }
        }
    }
    let (answers, answered) = mpsc::channel();
    loop {
        // Between requests: the next one's first byte may take up to the idle
        // timeout. Nothing came, or the client closed: close quietly.
        // Its deadline starts with its first byte (or the handshake's).
        if !connection.wait_for_next_request(first_deadline.take()) {
            return connection.close_quietly();
        }
        let started = connection.started.unwrap_or_else(Instant::now);
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
            // The client has gone, or takes nothing: nobody to say more to.
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
    let head = connection.read_head()?;
    let of_this = |refusal: Refusal| {
        ReadError::Refused(refusal.of(Some(head.method.as_str()), Some(head.headers.target())))
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
        headers: head.headers,
        remote_addr: client,
        body: body.bytes,
        body_read: body.complete,
    };
    Ok((parts, delivery))
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
    if let Some(status) = refusal.status {
        let answer = Response::new(status, refusal.body().as_bytes())
            .with_header("Content-Type", "text/plain; charset=utf-8");
        let mut out = std::mem::take(&mut connection.out);
        answer.write_to(&mut out, Version::Http11, false, true);
        let _ = connection.write_all(&out);
    }
    report(client, started, refusal, shared);
    connection.close_gracefully();
}

/// Tells `Options::on_refusal` of `refusal`, for a request that started at
/// `started`.
fn report(client: SocketAddr, started: Instant, refusal: Refusal, shared: &Shared) {
    if let Some(on_refusal) = &shared.options.on_refusal {
        on_refusal(client, started.elapsed(), refusal);
    }
}
