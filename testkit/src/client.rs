//! A raw HTTP/1.1 client. Requests go out byte for byte as given, and answers
//! are parsed as they come off the socket, so a test sees exactly what a
//! client sees, malformed requests included.

use std::io::{self, BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use crate::tls::{Stream, Transport};

/// How long [`send_raw`] waits for the server: far longer than any answer
/// takes, short enough that a hung server fails the test instead of hanging it.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// An answer as it came off the socket.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// 0 when nothing came back that looked like an HTTP answer.
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    /// The value of the first header of this name (in any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(field, _)| field.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// True when the answer says the server closes the connection after it.
    pub fn says_close(&self) -> bool {
        self.header("Connection")
            .is_some_and(|value| value.eq_ignore_ascii_case("close"))
    }
}

/// The text of a request: `METHOD TARGET HTTP/1.1`, `Host: localhost` (a name
/// a server bound to loopback takes on its token routes), the given
/// header lines (`"Authorization: Basic ..."`), and the body with its
/// `Content-Length` when there is one.
pub fn request(method: &str, target: &str, headers: &[&str], body: &str) -> String {
    let mut raw = format!("{method} {target} HTTP/1.1\r\nHost: localhost\r\n");
    for header in headers {
        raw.push_str(header);
        raw.push_str("\r\n");
    }
    if !body.is_empty() {
        raw.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    raw.push_str("\r\n");
    raw.push_str(body);
    raw
}

/// `GET TARGET` as [`request`] writes it.
pub fn get(target: &str) -> String {
    request("GET", target, &[], "")
}

/// Writes `raw` on a new connection, reads until the server closes it (or
/// [`PATIENCE`] runs out), and parses the first answer.
pub fn send_raw(address: &str, raw: &[u8]) -> Reply {
    parse_reply(&send_raw_bytes(address, raw))
}

/// As [`send_raw`], but everything that came back, unparsed: for a test that
/// counts answers.
pub fn send_raw_bytes(address: &str, raw: &[u8]) -> Vec<u8> {
    send_raw_bytes_over(address, &Transport::Plain, raw)
}

/// As [`send_raw_bytes`], over `transport`.
pub fn send_raw_bytes_over(address: &str, transport: &Transport, raw: &[u8]) -> Vec<u8> {
    let Ok(mut connection) = Connection::open_over(address, PATIENCE, transport) else {
        return Vec::new();
    };
    // A write cut short by the server closing early still leaves its answer
    // to read.
    let _ = connection.send(raw);
    connection.rest()
}

/// Parses one HTTP answer: status line, headers, and the body to the end of
/// `answer` (or to its `Content-Length`, when there is one).
pub fn parse_reply(answer: &[u8]) -> Reply {
    let text = String::from_utf8_lossy(answer);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap_or("")
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.to_string(), value.trim().to_string()))
        .collect();
    let mut reply = Reply {
        status,
        headers,
        body: body.to_string(),
    };
    if let Some(length) = reply
        .header("Content-Length")
        .and_then(|length| length.parse::<usize>().ok())
        && length < reply.body.len()
    {
        reply.body.truncate(length);
    }
    reply
}

/// The answers in `bytes`, one after the other, each framed by its
/// `Content-Length` (token-server always sends one).
pub fn split_replies(mut bytes: &[u8]) -> Vec<Reply> {
    let mut replies = Vec::new();
    while let Some(head_end) = bytes.windows(4).position(|window| window == b"\r\n\r\n") {
        let reply = parse_reply(&bytes[..head_end + 4]);
        let length: usize = reply
            .header("Content-Length")
            .and_then(|length| length.parse().ok())
            .unwrap_or(0);
        let end = (head_end + 4 + length).min(bytes.len());
        replies.push(parse_reply(&bytes[..end]));
        bytes = &bytes[end..];
    }
    replies
}

/// One connection, kept open: send requests, read answers one at a time.
pub struct Connection {
    reader: BufReader<Stream>,
}

impl Connection {
    /// Connects over plain TCP, with `timeout` as the longest wait for the
    /// connection and for any read.
    pub fn open(address: impl ToSocketAddrs, timeout: Duration) -> io::Result<Connection> {
        Connection::open_over(address, timeout, &Transport::Plain)
    }

    /// Connects over `transport` (the TLS handshake happens at the first send
    /// or read); over TLS, the certificate must be for the address's IP.
    pub fn open_over(
        address: impl ToSocketAddrs,
        timeout: Duration,
        transport: &Transport,
    ) -> io::Result<Connection> {
        Connection::open_named(address, None, timeout, transport)
    }

    /// As [`Connection::open_over`]; over TLS, the certificate must be for
    /// `name` (`localhost`, say) when there is one.
    pub fn open_named(
        address: impl ToSocketAddrs,
        name: Option<&str>,
        timeout: Duration,
        transport: &Transport,
    ) -> io::Result<Connection> {
        Connection::open_from(None, address, name, timeout, transport)
    }

    /// As [`Connection::open`], from the local address `from` (any loopback
    /// address, 127.0.0.2 say: the server sees the connection come from
    /// there).
    pub fn open_from_address(
        from: std::net::IpAddr,
        address: impl ToSocketAddrs,
        timeout: Duration,
    ) -> io::Result<Connection> {
        Connection::open_from(Some(from), address, None, timeout, &Transport::Plain)
    }

    fn open_from(
        from: Option<std::net::IpAddr>,
        address: impl ToSocketAddrs,
        name: Option<&str>,
        timeout: Duration,
        transport: &Transport,
    ) -> io::Result<Connection> {
        let address = address
            .to_socket_addrs()?
            .next()
            .ok_or_else(|| io::Error::new(ErrorKind::InvalidInput, "no address"))?;
        let socket = match from {
            None => TcpStream::connect_timeout(&address, timeout)?,
            Some(from) => {
                use socket2::{Domain, Protocol, Socket, Type};
                let socket = Socket::new(
                    Domain::for_address(address),
                    Type::STREAM,
                    Some(Protocol::TCP),
                )?;
                socket.bind(&std::net::SocketAddr::new(from, 0).into())?;
                socket.connect_timeout(&address.into(), timeout)?;
                TcpStream::from(socket)
            }
        };
        socket.set_nodelay(true)?;
        socket.set_read_timeout(Some(timeout))?;
        let ip = address.ip().to_string();
        let stream = Stream::new(socket, name.unwrap_or(&ip), transport)?;
        Ok(Connection {
            reader: BufReader::new(stream),
        })
    }

    /// The socket itself, for what this type does not do (a half close, a
    /// different timeout).
    pub fn stream(&self) -> &TcpStream {
        self.reader.get_ref().socket()
    }

    /// The stream, plain or TLS (to finish a handshake now, say).
    pub fn tls_stream(&mut self) -> &mut Stream {
        self.reader.get_mut()
    }

    /// Writes `raw` as it is.
    pub fn send(&mut self, raw: &[u8]) -> io::Result<()> {
        let stream = self.reader.get_mut();
        stream.write_all(raw)?;
        stream.flush()
    }

    /// Sends `raw`, then reads one answer.
    pub fn exchange(&mut self, raw: &[u8]) -> io::Result<Reply> {
        self.send(raw)?;
        self.read_reply()
    }

    /// Reads exactly one answer, its body framed by `Content-Length` (token-
    /// server always sends one). An error when the server closes first.
    pub fn read_reply(&mut self) -> io::Result<Reply> {
        self.read_reply_framed(true)
    }

    /// Reads one answer to a HEAD request: its head only, whatever its
    /// `Content-Length` says.
    pub fn read_head_reply(&mut self) -> io::Result<Reply> {
        self.read_reply_framed(false)
    }

    fn read_reply_framed(&mut self, with_body: bool) -> io::Result<Reply> {
        let mut head = Vec::new();
        loop {
            let mut line = Vec::new();
            if self.reader.read_until(b'\n', &mut line)? == 0 {
                return Err(io::Error::new(
                    ErrorKind::UnexpectedEof,
                    "the server closed the connection before a whole answer",
                ));
            }
            head.extend_from_slice(&line);
            if line == b"\r\n" {
                break;
            }
        }
        let mut reply = parse_reply(&head);
        let length = reply
            .header("Content-Length")
            .and_then(|length| length.parse::<usize>().ok())
            .unwrap_or(0);
        if with_body {
            let mut body = vec![0; length];
            self.reader.read_exact(&mut body)?;
            reply.body = String::from_utf8_lossy(&body).into_owned();
        }
        Ok(reply)
    }

    /// Everything still to come until the server closes the connection (or the
    /// read timeout passes). A reset counts as a close.
    pub fn rest(&mut self) -> Vec<u8> {
        let mut rest = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            match self.reader.read(&mut chunk) {
                Ok(0) | Err(_) => return rest,
                Ok(read) => rest.extend_from_slice(&chunk[..read]),
            }
        }
    }

    /// True when the server has closed the connection: a read ends (EOF or a
    /// reset) without data within the read timeout.
    pub fn is_closed_by_server(&mut self) -> bool {
        let mut byte = [0u8; 1];
        match self.reader.read(&mut byte) {
            Ok(0) => true,
            Ok(_) => false,
            Err(error) => !matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
        }
    }

    /// Closes the sending half (over TLS, after `close_notify`): the server
    /// reads end-of-file after the bytes already sent.
    pub fn close_sending(&mut self) -> io::Result<()> {
        self.reader.get_mut().close_sending()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_reply_reads_status_headers_and_body() {
        let reply = parse_reply(
            b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 5\r\nWWW-Authenticate: Basic x\r\n\r\nerror",
        );
        assert_eq!(reply.status, 401);
        assert_eq!(reply.header("www-authenticate"), Some("Basic x"));
        assert_eq!(reply.body, "error");
    }

    #[test]
    fn parse_reply_stops_at_content_length() {
        let reply =
            parse_reply(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n");
        assert_eq!(reply.body, "ok");
    }

    #[test]
    fn split_replies_frames_each_by_its_length() {
        let replies = split_replies(
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
        );
        assert_eq!(replies.len(), 2);
        assert_eq!((replies[0].status, replies[0].body.as_str()), (200, "ok"));
        assert_eq!((replies[1].status, replies[1].body.as_str()), (404, ""));
    }

    #[test]
    fn parse_reply_of_nothing_is_status_0() {
        assert_eq!(parse_reply(b"").status, 0);
    }

    #[test]
    fn request_has_host_and_content_length() {
        assert_eq!(
            request("POST", "/login", &["A: b"], "x=1"),
            "POST /login HTTP/1.1\r\nHost: localhost\r\nA: b\r\nContent-Length: 3\r\n\r\nx=1"
        );
    }
}
