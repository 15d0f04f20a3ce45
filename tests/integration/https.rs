//! token-server over HTTPS, the real binary over real TLS: the tutorial's
//! session with the self-signed certificate trusted (not ignored), the banner
//! that names it, certificate files in each format `--tls-key` reads, what a
//! plain-HTTP client and a client that trusts nothing get, and the graceful
//! stop's `close_notify`. Loopback only.

use std::time::Duration;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use testkit::client::{self, Connection};
use testkit::server::Running;
use testkit::tls::{TempDir, Transport, certificate_for, key_file, write_loopback_certificate};

const BINARY: &str = env!("CARGO_BIN_EXE_token-server");

#[test]
fn the_tutorial_session_over_https_with_the_certificate_trusted() {
    let dir = TempDir::new();
    let certificate = dir.join("cert.pem");
    let server = Running::start_https(BINARY, &certificate, &[]);
    let token = server.login();
    let reply = server.get(&format!("/test?token={token}"));
    assert_eq!((reply.status, reply.body.as_str()), (200, "data"));
    let newer = server.login();
    let reply = server.get(&format!("/test?token={token}"));
    assert_eq!((reply.status, reply.body.as_str()), (401, "error"));
    let reply = server.get(&format!("/test?token={newer}"));
    assert_eq!((reply.status, reply.body.as_str()), (200, "data"));
    // The usage page's curl lines name the scheme the server speaks.
    let usage = server.get("/");
    assert!(
        usage.body.contains(&format!(
            "TOKEN=$(curl --cacert {} -sf -u magigo:123456 https://{}/login)",
            certificate.display(),
            server.address
        )),
        "{}",
        usage.body
    );
}

#[test]
fn the_banner_says_https_and_names_the_certificate_with_its_fingerprint() {
    let dir = TempDir::new();
    let certificate = dir.join("cert.pem");
    let server = Running::start_https(BINARY, &certificate, &[]);
    let pem = std::fs::read(&certificate).unwrap();
    let der = CertificateDer::from_pem_slice(&pem).unwrap();
    let fingerprint = token_server::https::sha256_fingerprint(&der);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while server.stdout.lock().unwrap().is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(
        server.stdout.lock().unwrap().clone(),
        [format!(
            "certificate {} (SHA-256 {fingerprint})",
            certificate.display()
        )]
    );
    assert_eq!(fingerprint.len(), 32 * 3 - 1);
}

#[test]
fn the_self_signed_certificate_is_for_localhost_127_0_0_1_and_1() {
    let dir = TempDir::new();
    let certificate = dir.join("cert.pem");
    let server = Running::start_https(BINARY, &certificate, &["--host", "::1"]);
    for name in ["localhost", "::1"] {
        let mut connection = Connection::open_named(
            &server.address,
            Some(name),
            Duration::from_secs(5),
            &server.transport,
        )
        .unwrap();
        let reply = connection
            .exchange(client::get("/index").as_bytes())
            .unwrap();
        assert_eq!(reply.body, "Hello", "{name}");
    }
    let old = server.transport.clone();
    drop(server);
    let server = Running::start_https(BINARY, &certificate, &[]);
    let mut connection =
        Connection::open_over(&server.address, Duration::from_secs(5), &server.transport).unwrap();
    let reply = connection
        .exchange(client::get("/index").as_bytes())
        .unwrap();
    assert_eq!(reply.body, "Hello", "127.0.0.1");
    // The next start uses the pair again: a client that trusted it once
    // still does.
    let mut connection =
        Connection::open_over(&server.address, Duration::from_secs(5), &old).unwrap();
    let reply = connection
        .exchange(client::get("/index").as_bytes())
        .unwrap();
    assert_eq!(reply.body, "Hello");
}

#[test]
fn the_self_signed_pair_is_kept_and_used_again_while_it_will_do() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new();
    let certificate = dir.join("cert.pem");
    let key = dir.join("cert.pem.key");
    let first = Running::start_https(BINARY, &certificate, &[]);
    first.wait_for_stderr("made a new self-signed certificate");
    assert_eq!(
        first.stderr().lines().next(),
        Some(
            format!(
                "token-server: made a new self-signed certificate {} (its key in {}): trust it once, it is used again at every start while it is valid",
                certificate.display(),
                key.display()
            )
            .as_str()
        )
    );
    let mode = std::fs::metadata(&key).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let pem = std::fs::read(&certificate).unwrap();
    drop(first);

    let again = Running::start_https(BINARY, &certificate, &[]);
    assert_eq!(again.get("/index").body, "Hello");
    assert!(!again.stderr().contains("made a new"), "{}", again.stderr());
    assert_eq!(std::fs::read(&certificate).unwrap(), pem);
    drop(again);

    // Another --host: the certificate does not cover it, a new pair.
    let other_host = Running::start_https(BINARY, &certificate, &["--host", "127.0.0.2"]);
    other_host.wait_for_stderr("made a new self-signed certificate");
    assert_ne!(std::fs::read(&certificate).unwrap(), pem);
    drop(other_host);

    // A key that group or others may read: refused, one line, exit 2.
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    crate::assert_refused_at_start(
        &["--tls-self-signed", certificate.to_str().unwrap()],
        &format!(
            "--tls-self-signed: {} may be read by group or others (mode 644): chmod 600 {} (or delete it for a new pair)",
            key.display(),
            key.display()
        ),
    );
}

#[test]
fn keep_alive_over_https() {
    let dir = TempDir::new();
    let server = Running::start_https(BINARY, &dir.join("cert.pem"), &[]);
    let mut connection =
        Connection::open_over(&server.address, Duration::from_secs(5), &server.transport).unwrap();
    for _ in 0..5 {
        let reply = connection
            .exchange(client::get("/index").as_bytes())
            .unwrap();
        assert_eq!((reply.status, reply.body.as_str()), (200, "Hello"));
        assert!(!reply.says_close());
    }
}

#[test]
fn certificate_files_with_each_kind_of_key() {
    let dir = TempDir::new();
    for (pkcs8, key) in [
        ("rsa-pkcs8.pem", "rsa-pkcs1.pem"),
        ("rsa-pkcs8.pem", "rsa-pkcs8.pem"),
        ("ec-pkcs8.pem", "ec-sec1.pem"),
        ("ec-pkcs8.pem", "ec-pkcs8.pem"),
    ] {
        let cert = dir.join(&format!("{key}.crt"));
        write_loopback_certificate(&cert, pkcs8);
        let key_path = key_file(key);
        let mut server = Running::start(
            BINARY,
            &[
                "--tls-cert",
                cert.to_str().unwrap(),
                "--tls-key",
                key_path.to_str().unwrap(),
            ],
        );
        server.transport = Transport::trusting_file(&cert).unwrap();
        let token = server.login();
        let reply = server.get(&format!("/test?token={token}"));
        assert_eq!(reply.body, "data", "{key}");
        assert!(server.stdout.lock().unwrap().is_empty(), "{key}");
    }
}

#[test]
fn an_expired_certificate_is_a_warning_at_start() {
    let dir = TempDir::new();
    let cert = dir.join("old.pem");
    let pem = certificate_for(
        &key_file("ec-pkcs8.pem"),
        &["127.0.0.1"],
        (2020, 1, 1),
        (2021, 1, 1),
    );
    std::fs::write(&cert, pem).unwrap();
    let key = key_file("ec-pkcs8.pem");
    let server = Running::start(
        BINARY,
        &[
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
    );
    let stderr = server.wait_for_stderr("warning");
    assert_eq!(
        stderr.lines().next(),
        Some(
            format!(
                "token-server: warning: the certificate in {} expired on 2021-01-01: clients will refuse it",
                cert.display()
            )
            .as_str()
        )
    );
}

#[test]
fn plain_http_to_the_https_port_is_told_where_https_is_and_logged() {
    let dir = TempDir::new();
    let server = Running::start_https(BINARY, &dir.join("cert.pem"), &[]);
    let reply = client::send_raw(&server.address, b"GET /index HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (
            400,
            format!("this port speaks HTTPS: https://{}/", server.address).as_str()
        )
    );
    assert!(reply.says_close());
    let log = server.wait_for_stderr("(plain HTTP to the HTTPS port)");
    assert!(log.contains(" GET /index 400 "), "{log}");
}

/// Listening on all addresses, the plain-HTTP answer names the address the
/// client used (its Host), as the usage page does, and only a plain one.
#[test]
fn plain_http_on_all_addresses_is_told_the_host_it_used_if_plain() {
    let dir = TempDir::new();
    let server = Running::start_https(BINARY, &dir.join("cert.pem"), &["--host", "0.0.0.0"]);
    let port = server.address.rsplit_once(':').unwrap().1;
    let loopback = format!("127.0.0.1:{port}");
    for (host, shown) in [
        (format!("example.org:{port}"), format!("example.org:{port}")),
        ("$(id)".to_string(), format!("0.0.0.0:{port}")),
        ("a;reboot;".to_string(), format!("0.0.0.0:{port}")),
    ] {
        let request = format!("GET /index HTTP/1.1\r\nHost: {host}\r\n\r\n");
        let reply = client::send_raw(&loopback, request.as_bytes());
        assert_eq!(
            (reply.status, reply.body),
            (400, format!("this port speaks HTTPS: https://{shown}/")),
            "{host}"
        );
    }
}

#[test]
fn a_failed_handshake_is_one_log_line_with_its_reason() {
    let dir = TempDir::new();
    let server = Running::start_https(BINARY, &dir.join("cert.pem"), &[]);
    // A client that trusts another certificate.
    let other = dir.join("other.pem");
    write_loopback_certificate(&other, "ec-pkcs8.pem");
    let distrustful = Transport::trusting_file(&other).unwrap();
    let mut connection =
        Connection::open_over(&server.address, Duration::from_secs(5), &distrustful).unwrap();
    assert!(
        connection
            .exchange(client::get("/index").as_bytes())
            .is_err()
    );
    let log = server.wait_for_stderr("(TLS handshake failed");
    let lines: Vec<&str> = log.lines().filter(|line| line.contains("TLS")).collect();
    assert_eq!(lines.len(), 1, "{log}");
    // time, client, then no method, path or status.
    let parts: Vec<&str> = lines[0].splitn(6, ' ').collect();
    assert_eq!(&parts[2..5], ["-", "-", "-"], "{log}");
    assert!(
        parts[5].contains("(TLS handshake failed: received fatal alert: "),
        "{log}"
    );
}

#[test]
fn sigterm_over_https_sends_close_notify_and_exits_0() {
    let dir = TempDir::new();
    let mut server = Running::start_https(BINARY, &dir.join("cert.pem"), &[]);
    let mut idle =
        Connection::open_over(&server.address, Duration::from_secs(5), &server.transport).unwrap();
    let reply = idle.exchange(client::get("/index").as_bytes()).unwrap();
    assert_eq!(reply.body, "Hello");
    server.signal("TERM");
    let status = server.wait_for_exit(Duration::from_secs(2));
    assert_eq!(status.and_then(|status| status.code()), Some(0));
    // A clean end: rustls reads 0 bytes only after the peer's close_notify.
    let mut byte = [0u8; 1];
    let read = std::io::Read::read(idle.tls_stream(), &mut byte);
    assert_eq!(read.map_err(|error| error.kind()), Ok(0));
}

#[test]
fn a_self_signed_file_that_is_a_symbolic_link_is_left_alone() {
    let dir = TempDir::new();
    // A copy of a CA bundle, which the link points at.
    let bundle = dir.join("bundle.pem");
    write_loopback_certificate(&bundle, "ec-pkcs8.pem");
    let before = std::fs::read(&bundle).unwrap();
    let link = dir.join("cert.pem");
    std::os::unix::fs::symlink(&bundle, &link).unwrap();
    crate::assert_refused_at_start(
        &["--tls-self-signed", link.to_str().unwrap()],
        &format!(
            "--tls-self-signed {}: the file is a symbolic link; not written through it",
            link.display()
        ),
    );
    assert_eq!(std::fs::read(&bundle).unwrap(), before);
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
}

#[test]
fn a_key_rustls_cannot_use_says_why() {
    for (cert, key, why) in [
        (
            "rsa-1024-cert.pem",
            "rsa-1024-pkcs8.pem",
            "RSA keys of 1024 bits are too small: rustls' ring provider takes 2048 bits or more",
        ),
        (
            "ec-p521-cert.pem",
            "ec-p521-pkcs8.pem",
            "P-521 is not supported by rustls' ring provider: use a P-256 or P-384 key",
        ),
    ] {
        let (cert, key) = (key_file(cert), key_file(key));
        crate::assert_refused_at_start(
            &[
                "--tls-cert",
                cert.to_str().unwrap(),
                "--tls-key",
                key.to_str().unwrap(),
            ],
            &format!("--tls-key {}: {why}", key.display()),
        );
    }
}
