//! The command line of the real binary: banner, exit statuses, error lines.

use std::net::TcpListener;
use std::process::{Command, Output};

use testkit::server::Running;

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
    let cases: [&[&str]; 8] = [
        &["--port", "abc"],
        &["--port", "70000"],
        &["--port"],
        &["--ttl", "0"],
        &["--user", "nocolon"],
        &["--bogus"],
        &["--quiet", "--verbose"],
        &["extra"],
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

/// The README's command-line block is `--help`, word for word: the usage,
/// the options and their defaults are written once, in `cli.rs`.
#[test]
fn the_readme_shows_what_help_prints() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let section = readme
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
