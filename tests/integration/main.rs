//! token-server's integration tests: the real binary on a free port, over
//! real sockets, and real clients against it. One test binary of modules,
//! as ripgrep and cargo keep theirs: cargo links it once, not once a file.
//! `cargo test --test integration browser::` runs one module.

mod browser;
mod cli;
mod clients;
mod connections;
mod guessing;
mod http;
mod https;
mod passwords;
mod properties;
mod stopping;
mod users;

/// Runs `token-server --port 0 ARGS...` and checks that it would not start,
/// as the spec says of a bad argument or file: exit status 2, nothing on
/// stdout, and `token-server: EXPECTED` as the one line on stderr.
fn assert_refused_at_start(args: &[&str], expected: &str) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_token-server"))
        .args(["--port", "0"])
        .args(args)
        .output()
        .expect("run token-server");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
    assert_eq!(stderr, format!("token-server: {expected}\n"), "{args:?}");
    assert!(output.stdout.is_empty(), "{args:?}");
}
