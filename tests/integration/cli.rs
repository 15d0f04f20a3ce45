//! The command line of the real binary: banner, exit statuses, error lines.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output};

use testkit::server::Running;
use testkit::tls::{TempDir, key_file, write_loopback_certificate};

const BINARY: &str = env!("CARGO_BIN_EXE_token-server");

fn run(args: &[&str]) -> Output {
    Command::new(BINARY)
        .args(args)
        .output()
        .expect("run token-server")
}

#[test]
fn banner_is_the_first_line_with_the_real_port() {
    let server = Running::start(BINARY, &[]);
    let (host, port) = server.address.rsplit_once(':').unwrap();
    assert_eq!(host, "127.0.0.1");
    assert_ne!(port.parse::<u16>().unwrap(), 0);
}

#[test]
fn bad_arguments_exit_2_with_one_line_and_usage() {
    let cases: [&[&str]; 12] = [
        &["--user", "ann:"],
        &["--max-failures", "many"],
        &["--port", "abc"],
        &["--port", "70000"],
        &["--port"],
        &["--ttl", "0"],
        &["--user", "nocolon"],
        &["--bogus"],
        &["--quiet", "--verbose"],
        &["extra"],
        // A newline in a value is written escaped: the error stays one line.
        &["--port", "1\n2"],
        &["--bogus\nx"],
    ];
    for args in cases {
        let output = run(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        let mut lines = stderr.lines();
        let first = lines.next().unwrap_or("");
        assert!(first.starts_with("token-server: "), "{args:?}: {stderr}");
        assert!(
            lines
                .next()
                .unwrap_or("")
                .starts_with("usage: token-server"),
            "{args:?}: {stderr}"
        );
        // The error's one line, then the usage's seven.
        assert_eq!(stderr.lines().count(), 8, "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(output.stdout.is_empty());
    }
}

#[test]
fn port_taken_exits_1_with_one_line() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let output = run(&["--port", &port]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with(&format!(
            "token-server: cannot listen on 127.0.0.1:{port}: "
        )),
        "{stderr}"
    );
    // It says how to get out of it.
    assert!(
        stderr.trim_end().ends_with(
            "; another program has this port: pick another with --port 8080 (make run PORT=8080), or --port 0 for any free one"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(output.stdout.is_empty());
}

#[test]
fn host_that_cannot_be_bound_exits_1_with_one_line() {
    // 192.0.2.1 is a documentation address that no interface here has.
    let output = run(&["--host", "192.0.2.1", "--port", "0"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("token-server: cannot listen on 192.0.2.1:0: "),
        "{stderr}"
    );
}

/// REFERENCE.md's command-line block is `--help`, word for word: the usage,
/// the options and their defaults are written once, in `cli.rs`.
#[test]
fn the_reference_shows_what_help_prints() {
    let reference = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/REFERENCE.md"))
        .expect("REFERENCE.md");
    let section = reference
        .split_once("## Command line\n")
        .map(|(_, rest)| rest)
        .expect("a Command line section");
    let block = section
        .split_once("```\n")
        .and_then(|(_, rest)| rest.split_once("\n```"))
        .map(|(block, _)| block)
        .expect("a block in the Command line section");
    let help = run(&["--help"]);
    assert_eq!(block, String::from_utf8_lossy(&help.stdout).trim_end());
}

#[test]
fn a_file_name_with_a_newline_is_one_line_escaped() {
    crate::assert_refused_at_start(
        &["--users-file", "no\nsuch"],
        "no\\nsuch: cannot read it: No such file or directory (os error 2)",
    );
}

#[test]
fn help_and_version_exit_0() {
    let help = run(&["--help"]);
    assert_eq!(help.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&help.stdout).contains("--ttl SECONDS"));
    let version = run(&["--version"]);
    assert_eq!(version.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&version.stdout),
        format!("token-server {}\n", env!("CARGO_PKG_VERSION"))
    );
}

/// A file given to `--tls-...` that will not do: one line naming the file and
/// the problem, exit status 2, nothing on stdout.
fn path(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn each_tls_file_that_will_not_do_is_one_line_and_exit_2() {
    let dir = TempDir::new();
    let cert = dir.join("cert.pem");
    write_loopback_certificate(&cert, "ec-pkcs8.pem");
    let key = key_file("ec-pkcs8.pem");
    let other_key = key_file("rsa-pkcs8.pem");
    let missing = dir.join("missing.pem");
    let not_pem = dir.join("notes.txt");
    std::fs::write(&not_pem, "just some words\n").unwrap();
    let unwritable = dir.join("no/such/folder/cert.pem");
    let broken = dir.join("broken.pem");
    std::fs::write(&broken, "-----BEGIN CERTIFICATE-----\nMIIB\n").unwrap();
    let cases: Vec<(Vec<&str>, String)> = vec![
        (
            vec!["--tls-cert", path(&missing), "--tls-key", path(&key)],
            format!(
                "--tls-cert {}: cannot read it: No such file or directory (os error 2)",
                missing.display()
            ),
        ),
        (
            vec!["--tls-cert", path(&cert), "--tls-key", path(&missing)],
            format!(
                "--tls-key {}: cannot read it: No such file or directory (os error 2)",
                missing.display()
            ),
        ),
        (
            vec!["--tls-cert", path(&key), "--tls-key", path(&key)],
            format!(
                "--tls-cert {}: no certificate in it (a PEM \"CERTIFICATE\" section)",
                key.display()
            ),
        ),
        (
            vec!["--tls-cert", path(&not_pem), "--tls-key", path(&key)],
            format!(
                "--tls-cert {}: no certificate in it (a PEM \"CERTIFICATE\" section)",
                not_pem.display()
            ),
        ),
        (
            vec!["--tls-cert", path(&broken), "--tls-key", path(&key)],
            format!(
                "--tls-cert {}: not PEM: a section has no end line (-----END CERTIFICATE-----)",
                broken.display()
            ),
        ),
        (
            vec!["--tls-cert", path(&cert), "--tls-key", path(&cert)],
            format!(
                "--tls-key {}: no private key in it (PKCS#8, PKCS#1 or SEC1 PEM; an encrypted key must be decrypted first)",
                cert.display()
            ),
        ),
        (
            vec!["--tls-cert", path(&cert), "--tls-key", path(&other_key)],
            format!(
                "--tls-key {}: the key does not match the certificate in {}",
                other_key.display(),
                cert.display()
            ),
        ),
        (
            vec!["--tls-cert", path(&dir.path), "--tls-key", path(&key)],
            format!(
                "--tls-cert {}: cannot read it: Is a directory (os error 21)",
                dir.path.display()
            ),
        ),
        (
            vec!["--tls-self-signed", path(&not_pem)],
            format!(
                "--tls-self-signed {}: the file exists and is not a certificate; not overwritten",
                not_pem.display()
            ),
        ),
        (
            vec!["--tls-self-signed", path(&unwritable)],
            format!(
                "--tls-self-signed {}: cannot write it: No such file or directory (os error 2)",
                unwritable.display()
            ),
        ),
    ];
    for (args, expected) in cases {
        crate::assert_refused_at_start(&args, &expected);
    }
    // Nothing was overwritten.
    assert_eq!(
        std::fs::read_to_string(&not_pem).unwrap(),
        "just some words\n"
    );
}

#[test]
fn tls_options_that_do_not_go_together_are_bad_arguments() {
    for args in [
        &["--tls-cert", "c.pem"][..],
        &["--tls-key", "k.pem"],
        &[
            "--tls-self-signed",
            "a.pem",
            "--tls-cert",
            "c.pem",
            "--tls-key",
            "k.pem",
        ],
    ] {
        let output = run(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr
                .lines()
                .nth(1)
                .unwrap_or("")
                .starts_with("usage: token-server"),
            "{stderr}"
        );
    }
}
