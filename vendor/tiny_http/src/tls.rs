//! token-server fork: TLS on a connection's own thread. Before the first
//! request, the thread looks at the first byte the client sent: a TLS
//! handshake record (0x16) starts the handshake, with `rustls`; a letter is
//! plain HTTP, which gets a plain-HTTP 400 saying where HTTPS is; anything
//! else is closed. All of it, handshake included, must happen before the
//! first request's deadline, so a client that stalls holds up this thread
//! alone, and only that long. (Upstream tiny_http shook hands on its accept
//! thread, so one slow client stalled every new connection.)

use std::io::ErrorKind;
use std::sync::Arc;
use std::time::Instant;

use rustls::{ServerConfig, ServerConnection};

use crate::address::address_for_client;
use crate::connection::Connection;
use crate::method::Version;
use crate::refusal::{ReadError, Refusal};
use crate::response::Response;
use crate::shared::Shared;

/// Why a connection that should speak TLS does not.
pub(crate) enum NoTls {
    /// The client closed before it sent a byte: nothing to say.
    Closed,
    /// Refused, answered already when there was an answer to give: to be
    /// reported, then the connection closed.
    Refused(Refusal),
}

/// The first byte of a TLS record that carries a handshake message.
const HANDSHAKE_RECORD: u8 = 0x16;

/// Starts TLS on `connection` with `config`, before `deadline`.
pub(crate) fn start(
    connection: &mut Connection<'_>,
    config: &Arc<ServerConfig>,
    deadline: Instant,
    shared: &Shared,
) -> Result<(), NoTls> {
    match first_byte(connection, deadline)? {
        HANDSHAKE_RECORD => shake_hands(connection, config, deadline),
        byte if byte.is_ascii_alphabetic() => Err(answer_plain_http(connection, deadline, shared)),
        _ => Err(NoTls::Refused(Refusal::unanswered("not TLS"))),
    }
}

/// Waits for the client's first byte, without taking it.
fn first_byte(connection: &mut Connection<'_>, deadline: Instant) -> Result<u8, NoTls> {
    let mut first = [0u8; 1];
    loop {
        connection
            .read_until(deadline)
            .map_err(|error| match error {
                ReadError::TimedOut => {
                    NoTls::Refused(Refusal::unanswered("no TLS handshake in time"))
                }
                _ => NoTls::Closed,
            })?;
        match connection.socket.peek(&mut first) {
            Ok(0) => return Err(NoTls::Closed),
            Ok(_) => return Ok(first[0]),
            Err(error) if error.kind() == ErrorKind::Interrupted => {}
            // Timed out: the next `read_until` says so.
            Err(error) if error.kind() == ErrorKind::WouldBlock => {}
            Err(_) => return Err(NoTls::Closed),
        }
    }
}

/// Drives the handshake one socket read or write at a time, checking the
/// deadline before each, so that a client that trickles its bytes (one every
/// second, say) meets it as surely as one that stalls. (rustls'
/// `complete_io` loops over many reads in one call, each with the socket's
/// whole timeout.)
fn shake_hands(
    connection: &mut Connection<'_>,
    config: &Arc<ServerConfig>,
    deadline: Instant,
) -> Result<(), NoTls> {
    let refused = |reason: String| NoTls::Refused(Refusal::unanswered(reason));
    let late = || refused("TLS handshake not finished in time".to_string());
    let mut tls = ServerConnection::new(Arc::clone(config))
        .map_err(|error| refused(format!("TLS: {error}")))?;
    let mut socket = connection.socket;
    loop {
        while tls.wants_write() {
            connection.write_until(deadline).map_err(|_| late())?;
            match tls.write_tls(&mut socket) {
                Ok(_) => {}
                Err(error) if error.kind() == ErrorKind::Interrupted => {}
                Err(error)
                    if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(_) => return Err(refused("TLS handshake: the client closed".to_string())),
            }
        }
        if !tls.is_handshaking() {
            break;
        }
        connection.read_until(deadline).map_err(|_| late())?;
        match tls.read_tls(&mut socket) {
            Ok(0) => return Err(refused("TLS handshake: the client closed".to_string())),
            Ok(_) => {}
            // Timed out or interrupted: the deadline is checked again above.
            Err(error)
                if matches!(
                    error.kind(),
                    ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                ) => {}
            Err(_) => return Err(refused("TLS handshake: the client closed".to_string())),
        }
        if let Err(error) = tls.process_new_packets() {
            // A TLS error (an alert the client sent, no protocol or cipher in
            // common): rustls' own alert goes out, if it can at once.
            let _ = connection.write_until(deadline);
            let _ = tls.write_tls(&mut socket);
            return Err(refused(format!("TLS handshake failed: {error}")));
        }
    }
    connection.tls = Some(Box::new(tls));
    Ok(())
}

/// A plain HTTP request to this HTTPS port: read its head (for its `Host`),
/// and answer, in plain HTTP, 400 with the address to use instead, as nginx
/// answers "The plain HTTP request was sent to HTTPS port".
fn answer_plain_http(connection: &mut Connection<'_>, deadline: Instant, shared: &Shared) -> NoTls {
    connection.deadline = Some(deadline);
    let head = connection.read_head();
    if matches!(head, Err(ReadError::Closed)) {
        return NoTls::Closed;
    }
    let head = head.ok();
    let host = head.as_ref().and_then(|head| head.headers.first("Host"));
    let address = address_for_client(shared.local_addr, host);
    let answer = Response::new(
        400,
        format!("this port speaks HTTPS: https://{address}/").into_bytes(),
    )
    .with_header("Content-Type", "text/plain; charset=utf-8");
    let mut out = Vec::new();
    answer.write_to(&mut out, Version::Http11, false, true);
    let _ = connection.write_all(&out);
    let refusal = Refusal::new(400, "plain HTTP to the HTTPS port");
    NoTls::Refused(match head {
        Some(head) => refusal.of(Some(head.method.as_str()), Some(head.headers.target())),
        None => refusal,
    })
}
