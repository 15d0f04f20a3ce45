//! Real clients against the real binary, as a user would run them: HTTPie
//! (Debian's `httpie`) logs in with its default JSON and reads
//! `access_token`; Node's own `fetch` (Debian's `nodejs`) logs in, tests and
//! logs out over HTTPS with the self-signed certificate trusted through
//! `NODE_EXTRA_CA_CERTS` (examples/client.mjs); the tutorial's client with
//! Python's requests (examples/client.py). `make test` installs them all
//! (scripts/install-packages.sh): without them these tests fail, they do
//! not skip. Loopback only.

use std::process::{Command, Output};

use testkit::server::Running;
use testkit::tls::TempDir;

const BINARY: &str = env!("CARGO_BIN_EXE_token-server");

fn run(program: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(program)
        .args(args)
        .envs(env.iter().copied())
        .output()
        .unwrap_or_else(|error| {
            panic!(
                "cannot run {program} ({error}): `make test` installs it (scripts/install-packages.sh)"
            )
        })
}

/// Debian's Python, which `python3-requests` is installed for (a `python3`
/// earlier on the PATH, pyenv's say, may not have it).
fn python() -> &'static str {
    if std::path::Path::new("/usr/bin/python3").exists() {
        "/usr/bin/python3"
    } else {
        "python3"
    }
}

fn example(name: &str) -> String {
    format!("{}/examples/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn httpie_logs_in_with_its_default_json_and_reads_access_token() {
    let server = Running::start(BINARY, &[]);
    let login = run(
        "http",
        &[
            "--ignore-stdin",
            "--print=b",
            "POST",
            &format!("{}/login", server.address),
            "username=magigo",
            "password=123456",
        ],
        &[],
    );
    assert!(login.status.success(), "{login:?}");
    let answer: serde_json::Value = serde_json::from_slice(&login.stdout).unwrap();
    assert_eq!(answer["token_type"], "Bearer");
    assert_eq!(answer["expires_in"], 7200);
    let token = answer["access_token"].as_str().unwrap();
    let test = run(
        "http",
        &[
            "--ignore-stdin",
            "--print=b",
            &format!("{}/test", server.address),
            &format!("Authorization:Bearer {token}"),
            // HTTPie asks for JSON only when it sends JSON.
            "Accept:application/json",
        ],
        &[],
    );
    let answer: serde_json::Value = serde_json::from_slice(&test.stdout).unwrap();
    assert_eq!(answer["active"], true);
    assert_eq!(answer["username"], "magigo");
    // A wrong password: 401 (HTTPie exits 4 for a 4xx with --check-status).
    let wrong = run(
        "http",
        &[
            "--ignore-stdin",
            "--check-status",
            "--print=b",
            "POST",
            &format!("{}/login", server.address),
            "username=magigo",
            "password=wrong",
        ],
        &[],
    );
    assert_eq!(wrong.status.code(), Some(4));
    let answer: serde_json::Value = serde_json::from_slice(&wrong.stdout).unwrap();
    assert_eq!(answer["error"], "invalid_client");
}

#[test]
fn node_fetch_logs_in_tests_and_logs_out_over_https_with_node_extra_ca_certs() {
    let dir = TempDir::new();
    let certificate = dir.join("cert.pem");
    let server = Running::start_https(BINARY, &certificate, &[]);
    let output = run(
        "node",
        &[
            &example("client.mjs"),
            &format!("https://{}", server.address),
        ],
        &[("NODE_EXTRA_CA_CERTS", certificate.to_str().unwrap())],
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{output:?}");
    let steps: Vec<&str> = stdout
        .lines()
        .map(|line| line.split_once(':').map_or(line, |(step, _)| step))
        .collect();
    assert_eq!(steps, ["login", "test", "logout", "test again"], "{stdout}");
    assert!(
        stdout.contains("test again: 401 {\"error\":\"invalid_token\""),
        "{stdout}"
    );
}

#[test]
fn the_tutorials_client_with_python_requests_over_http_and_https() {
    let server = Running::start(BINARY, &[]);
    let output = run(
        python(),
        &[&example("client.py"), &format!("http://{}", server.address)],
        &[],
    );
    assert!(output.status.success(), "{output:?}");
    assert!(String::from_utf8_lossy(&output.stdout).ends_with("test: data\n"));
    let dir = TempDir::new();
    let certificate = dir.join("cert.pem");
    let server = Running::start_https(BINARY, &certificate, &[]);
    let output = run(
        python(),
        &[
            &example("client.py"),
            &format!("https://{}", server.address),
            certificate.to_str().unwrap(),
        ],
        &[],
    );
    assert!(output.status.success(), "{output:?}");
}
