//! The client side of HTTPS for the tests and tools: how a connection runs
//! (plain TCP, or TLS trusting a given certificate), and the raw bytes of a
//! TLS handshake's first message, for tests that stop in the middle of one.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};

/// What a connection runs over.
#[derive(Clone)]
pub enum Transport {
    Plain,
    /// TLS, trusting the certificates of one config.
    Tls(Arc<ClientConfig>),
}

impl Transport {
    /// TLS, trusting the certificates of the PEM file at `path` (what a
    /// server's `--tls-self-signed` wrote, or a CA's), like `curl --cacert`.
    pub fn trusting_file(path: &Path) -> io::Result<Transport> {
        let pem = std::fs::read(path)?;
        let certificates = CertificateDer::pem_slice_iter(&pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(io::Error::other)?;
        Transport::trusting(certificates)
    }

    /// TLS, trusting these certificates only.
    pub fn trusting(certificates: Vec<CertificateDer<'static>>) -> io::Result<Transport> {
        let mut roots = RootCertStore::empty();
        for certificate in certificates {
            roots.add(certificate).map_err(io::Error::other)?;
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(io::Error::other)?
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Transport::Tls(Arc::new(config)))
    }

    pub fn is_tls(&self) -> bool {
        matches!(self, Transport::Tls(_))
    }

    /// `http` or `https`.
    pub fn scheme(&self) -> &'static str {
        if self.is_tls() { "https" } else { "http" }
    }
}

/// A connection's byte stream, plain or through TLS.
pub enum Stream {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
}

impl Stream {
    /// Over `transport`, on `socket`; `host` (an IP address or a name) is what
    /// the certificate must be for. The handshake happens at the first read or
    /// write.
    pub fn new(socket: TcpStream, host: &str, transport: &Transport) -> io::Result<Stream> {
        match transport {
            Transport::Plain => Ok(Stream::Plain(socket)),
            Transport::Tls(config) => {
                let name = ServerName::try_from(host.to_string()).map_err(io::Error::other)?;
                let connection =
                    ClientConnection::new(Arc::clone(config), name).map_err(io::Error::other)?;
                Ok(Stream::Tls(Box::new(StreamOwned::new(connection, socket))))
            }
        }
    }

    pub fn socket(&self) -> &TcpStream {
        match self {
            Stream::Plain(socket) => socket,
            Stream::Tls(tls) => tls.get_ref(),
        }
    }

    /// Over TLS: the handshake now (rather than at the first read or write).
    pub fn finish_handshake(&mut self) -> io::Result<()> {
        if let Stream::Tls(tls) = self {
            while tls.conn.is_handshaking() {
                tls.conn.complete_io(&mut tls.sock)?;
            }
        }
        Ok(())
    }

    /// Over TLS, `close_notify` first; then the sending half is closed.
    pub fn close_sending(&mut self) -> io::Result<()> {
        if let Stream::Tls(tls) = self {
            tls.conn.send_close_notify();
            tls.flush()?;
        }
        self.socket().shutdown(std::net::Shutdown::Write)
    }
}

impl Read for Stream {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        let tls = match self {
            Stream::Plain(socket) => return socket.read(buffer),
            Stream::Tls(tls) => tls,
        };
        // Not rustls' own `Stream::read`: it first writes whatever is still
        // waiting to go, and fails the read when that write fails (the server
        // stopped reading: what it answered is still there to read).
        loop {
            match tls.conn.reader().read(buffer) {
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {}
                result => return result,
            }
            if tls.conn.is_handshaking() {
                tls.conn.complete_io(&mut tls.sock)?;
                continue;
            }
            tls.conn.read_tls(&mut tls.sock)?;
            tls.conn
                .process_new_packets()
                .map_err(|error| io::Error::new(io::ErrorKind::InvalidData, error))?;
        }
    }
}

impl Write for Stream {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(socket) => socket.write(bytes),
            Stream::Tls(tls) => tls.write(bytes),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain(socket) => socket.flush(),
            Stream::Tls(tls) => tls.flush(),
        }
    }
}

/// The bytes a TLS client sends first: its ClientHello, in one record.
pub fn client_hello() -> Vec<u8> {
    let transport = Transport::trusting(Vec::new());
    let config = match transport {
        Ok(Transport::Tls(config)) => config,
        _ => unreachable!("a TLS transport"),
    };
    let name = ServerName::try_from("localhost").expect("a valid name");
    let mut connection = ClientConnection::new(config, name).expect("a client connection");
    let mut hello = Vec::new();
    while connection.wants_write() {
        if connection.write_tls(&mut hello).is_err() {
            break;
        }
    }
    hello
}

/// A test key of `keys/` (see its README): `rsa-pkcs1.pem`, `ec-sec1.pem`...
pub fn key_file(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("keys")
        .join(name)
}

/// A PEM certificate for the key of the PKCS#8 PEM file `key`, for `names`,
/// valid from `from` to `to` (year, month, day), signed by itself.
pub fn certificate_for(
    key: &Path,
    names: &[&str],
    from: (i32, u8, u8),
    to: (i32, u8, u8),
) -> String {
    let pem = std::fs::read_to_string(key).expect("a test key");
    let key = rcgen::KeyPair::from_pem(&pem).expect("a PKCS#8 key");
    let names: Vec<String> = names.iter().map(|name| name.to_string()).collect();
    let mut params = rcgen::CertificateParams::new(names).expect("valid names");
    params.not_before = rcgen::date_time_ymd(from.0, from.1, from.2);
    params.not_after = rcgen::date_time_ymd(to.0, to.1, to.2);
    params.self_signed(&key).expect("a certificate").pem()
}

/// Writes to `path` a certificate for 127.0.0.1, valid from 2026 to 2040,
/// for the test key `key_name` (a PKCS#8 file of `keys/`).
pub fn write_loopback_certificate(path: &Path, key_name: &str) {
    let pem = certificate_for(
        &key_file(key_name),
        &["127.0.0.1"],
        (2026, 1, 1),
        (2040, 1, 1),
    );
    std::fs::write(path, pem).expect("a certificate written");
}

/// A folder of its own under the system's temporary folder, removed with
/// everything in it when dropped.
pub struct TempDir {
    pub path: std::path::PathBuf,
}

impl TempDir {
    pub fn new() -> TempDir {
        use std::sync::atomic::{AtomicU32, Ordering};
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "token-server-test-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        );
        let path = std::env::temp_dir().join(name);
        std::fs::create_dir_all(&path).expect("a temporary folder");
        TempDir { path }
    }

    /// `name` in this folder.
    pub fn join(&self, name: &str) -> std::path::PathBuf {
        self.path.join(name)
    }
}

impl Default for TempDir {
    fn default() -> TempDir {
        TempDir::new()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}
