//! Users from a file (`--users-file`), so that no password shows in `ps`,
//! and none is kept in clear: Argon2id and bcrypt hashes, lines in clear
//! (hashed at load, warned about), its errors at start, the warning for a
//! file others may read or write, and SIGHUP, which reads it again. Through
//! the real binary; loopback only.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use testkit::data::basic;
use testkit::server::Running;
use testkit::tls::TempDir;

const BINARY: &str = env!("CARGO_BIN_EXE_token-server");

/// Writes `text` to `path`, readable by its owner only.
fn write_private(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

fn login(server: &Running, user_colon_password: &str) -> (u16, String) {
    let authorization = format!("Authorization: {}", basic(user_colon_password));
    let reply = server.request("GET", "/login", &[&authorization], "");
    (reply.status, reply.body)
}

fn check(server: &Running, token: &str) -> String {
    server.get(&format!("/test?token={token}")).body
}

#[test]
fn the_files_users_log_in_and_the_default_user_is_gone() {
    let dir = TempDir::new();
    let file = dir.join("users.txt");
    let hashed = |name: &str, password: &str| {
        let hash = token_server::passwords::Hash::new_argon2id(password.as_bytes()).unwrap();
        format!("{name}:{}\n", hash.as_str())
    };
    let text = format!(
        "# the team\n{}{}",
        hashed("ann", "secret"),
        hashed("bob", "a:b")
    );
    write_private(&file, &text);
    let server = Running::start(
        BINARY,
        &["--users-file", file.to_str().unwrap(), "--user", "cy:3"],
    );
    assert_eq!(login(&server, "ann:secret").0, 200);
    assert_eq!(login(&server, "bob:a:b").0, 200);
    assert_eq!(login(&server, "cy:3").0, 200);
    assert_eq!(login(&server, "magigo:123456").0, 401);
    // Nothing to warn of: only its owner may read it, and no password is
    // in clear.
    std::thread::sleep(Duration::from_millis(100));
    assert!(!server.stderr().contains("warning"), "{}", server.stderr());
}

#[test]
fn each_error_of_the_file_is_one_line_and_exit_2() {
    let dir = TempDir::new();
    let file = dir.join("users.txt");
    let shown = file.display().to_string();
    let cases = [
        ("ann:1\nbob\n", format!("{shown}:2: not NAME:HASH (no ':')")),
        (":1\n", format!("{shown}:1: the name is empty")),
        (
            "ann:\n",
            format!("{shown}:1: user 'ann' has an empty password"),
        ),
        (
            "ann:1\nann:2\n",
            format!("{shown}:2: user 'ann' is given twice"),
        ),
        (
            "cy:1\n",
            format!("{shown}:1: user 'cy' is given by --user too"),
        ),
        (
            "ann:{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=\n",
            format!(
                "{shown}:1: a SHA-1 hash (weak): make a new one with token-server hash-password"
            ),
        ),
        (
            "ann:$apr1$x$y\n",
            format!(
                "{shown}:1: an Apache MD5 hash (weak): make a new one with token-server hash-password"
            ),
        ),
        (
            "ann:$1$x$y\n",
            format!(
                "{shown}:1: an MD5-crypt hash (weak): make a new one with token-server hash-password"
            ),
        ),
        (
            "ann:$5$x$y\n",
            format!(
                "{shown}:1: a SHA-256-crypt hash (weak): make a new one with token-server hash-password"
            ),
        ),
        (
            "ann:$6$x$y\n",
            format!(
                "{shown}:1: a SHA-512-crypt hash (weak): make a new one with token-server hash-password"
            ),
        ),
        (
            "ann:$2y$10$tooshort\n",
            format!(
                "{shown}:1: a malformed bcrypt hash (the hash format is malformed; expected 60 ASCII bytes)"
            ),
        ),
    ];
    for (text, expected) in cases {
        write_private(&file, text);
        crate::assert_refused_at_start(
            &["--users-file", file.to_str().unwrap(), "--user", "cy:2"],
            &expected,
        );
    }
    let missing = dir.join("missing.txt");
    crate::assert_refused_at_start(
        &["--users-file", missing.to_str().unwrap()],
        &format!(
            "{}: cannot read it: No such file or directory (os error 2)",
            missing.display()
        ),
    );
}

#[test]
fn a_file_others_may_read_is_a_warning_at_start() {
    let dir = TempDir::new();
    let file = dir.join("users.txt");
    std::fs::write(&file, "ann:secret\n").unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let server = Running::start(BINARY, &["--users-file", file.to_str().unwrap()]);
    let stderr = server.wait_for_stderr("warning");
    assert_eq!(
        stderr.lines().next(),
        Some(
            format!(
                "token-server: warning: {} may be read by group or others (mode 644): chmod 600 {}",
                file.display(),
                file.display()
            )
            .as_str()
        )
    );
    assert_eq!(login(&server, "ann:secret").0, 200);
}

#[test]
fn sighup_reads_the_file_again_and_keeps_the_tokens_of_users_who_stayed_the_same() {
    let dir = TempDir::new();
    let file = dir.join("users.txt");
    write_private(&file, "kept:1\nchanged:2\ngone:3\n");
    let server = Running::start(BINARY, &["--users-file", file.to_str().unwrap()]);
    let (_, kept) = login(&server, "kept:1");
    let (_, changed) = login(&server, "changed:2");
    let (_, gone) = login(&server, "gone:3");
    write_private(&file, "kept:1\nchanged:new\nnew:4\n");
    server.signal("HUP");
    let stderr = server.wait_for_stderr("reloaded");
    assert!(
        stderr.contains(&format!(
            "token-server: reloaded 3 users from {}\n",
            file.display()
        )),
        "{stderr}"
    );
    assert_eq!(check(&server, &kept), "data");
    assert_eq!(check(&server, &changed), "error");
    assert_eq!(check(&server, &gone), "error");
    assert_eq!(login(&server, "changed:2").0, 401);
    assert_eq!(login(&server, "changed:new").0, 200);
    assert_eq!(login(&server, "new:4").0, 200);
    assert_eq!(login(&server, "gone:3").0, 401);
}

#[test]
fn sighup_with_a_broken_file_leaves_the_users_as_they_were() {
    let dir = TempDir::new();
    let file = dir.join("users.txt");
    write_private(&file, "ann:1\n");
    let mut server = Running::start(BINARY, &["--users-file", file.to_str().unwrap()]);
    let (_, token) = login(&server, "ann:1");
    write_private(&file, "ann:1\nbob\n");
    server.signal("HUP");
    let stderr = server.wait_for_stderr("stay as they were");
    assert!(
        stderr.contains(&format!(
            "token-server: {}:2: not NAME:HASH (no ':'); the users stay as they were\n",
            file.display()
        )),
        "{stderr}"
    );
    assert_eq!(check(&server, &token), "data");
    assert_eq!(login(&server, "ann:1").0, 200);
    assert!(server.is_alive());
}

#[test]
fn without_a_users_file_sighup_stops_the_server_as_a_closed_terminal_would() {
    use std::os::unix::process::ExitStatusExt;
    // Started as a terminal's shell starts it, with SIGHUP at its default
    // action even when the tests run under `nohup` (which ignores it, and a
    // child inherits that): coreutils' `env --default-signal`.
    let mut server = Running::start_command(std::process::Command::new("env").args([
        "--default-signal=HUP",
        BINARY,
        "--port",
        "0",
    ]));
    server.signal("HUP");
    let status = server
        .wait_for_exit(Duration::from_secs(2))
        .expect("stopped");
    assert_eq!(status.signal(), Some(1));
}

/// The hashes checked in under `testkit/data`: an htpasswd file of bcrypt
/// lines (from Debian's apache2-utils), used as it is, and a line of
/// `token-server hash-password`.
fn data_file(name: &str) -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/testkit/data/").to_string() + name;
    std::fs::read_to_string(path).unwrap()
}

#[test]
fn an_htpasswd_file_of_bcrypt_lines_works_as_it_is_and_weak_costs_are_warned() {
    let dir = TempDir::new();
    let file = dir.join("users.txt");
    let text = data_file("htpasswd-bcrypt.txt") + &data_file("users-argon2id.txt");
    write_private(&file, &text);
    let server = Running::start(BINARY, &["--users-file", file.to_str().unwrap()]);
    assert_eq!(login(&server, "ann:secret").0, 200);
    assert_eq!(login(&server, "bob:a:b").0, 200);
    assert_eq!(login(&server, "cy:pass word").0, 200);
    assert_eq!(login(&server, "dan:correct horse").0, 200);
    assert_eq!(login(&server, "dan:correct horsE").0, 401);
    assert_eq!(login(&server, "cy:pass").0, 401);
    let warnings: Vec<String> = server
        .stderr()
        .lines()
        .filter(|line| line.contains("warning"))
        .map(str::to_string)
        .collect();
    assert_eq!(
        warnings,
        [format!(
            "token-server: warning: {}:3: a bcrypt hash of cost 5, under OWASP's minimum of 10: htpasswd -nbBC 12 NAME PASSWORD makes a stronger one",
            file.display()
        )]
    );
}

#[test]
fn a_line_in_clear_is_hashed_at_load_and_warned_about() {
    let dir = TempDir::new();
    let file = dir.join("users.txt");
    write_private(&file, "ann:secret\n");
    let server = Running::start(BINARY, &["--users-file", file.to_str().unwrap()]);
    let stderr = server.wait_for_stderr("in clear");
    assert_eq!(
        stderr.lines().next(),
        Some(format!(
            "token-server: warning: {}:1: ann's password is in clear: replace it with the line that token-server hash-password --user ann prints",
            file.display()
        ).as_str())
    );
    assert_eq!(login(&server, "ann:secret").0, 200);
}

#[test]
fn a_file_others_may_write_is_a_warning_too() {
    let dir = TempDir::new();
    let file = dir.join("users.txt");
    std::fs::write(&file, data_file("users-argon2id.txt")).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o602)).unwrap();
    let server = Running::start(BINARY, &["--users-file", file.to_str().unwrap()]);
    let stderr = server.wait_for_stderr("warning");
    assert_eq!(
        stderr.lines().next(),
        Some(format!(
            "token-server: warning: {} may be written by group or others (mode 602): chmod 600 {}",
            file.display(),
            file.display()
        ).as_str())
    );
}

#[test]
fn a_reload_warns_again_and_keeps_the_token_of_an_unchanged_hash() {
    let dir = TempDir::new();
    let file = dir.join("users.txt");
    let text = data_file("htpasswd-bcrypt.txt");
    write_private(&file, &text);
    let server = Running::start(BINARY, &["--users-file", file.to_str().unwrap()]);
    let (status, token) = login(&server, "bob:a:b");
    assert_eq!(status, 200);
    // The same hashes, and one user more.
    write_private(&file, &(text + &data_file("users-argon2id.txt")));
    server.signal("HUP");
    let stderr = server.wait_for_stderr("reloaded");
    let weak = format!(
        "token-server: warning: {}:3: a bcrypt hash of cost 5, under OWASP's minimum of 10",
        file.display()
    );
    assert_eq!(stderr.matches(&weak).count(), 2, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "token-server: reloaded 4 users from {}\n",
            file.display()
        )),
        "{stderr}"
    );
    assert_eq!(check(&server, &token), "data");
    assert_eq!(login(&server, "dan:correct horse").0, 200);
}
