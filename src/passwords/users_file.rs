//! `--users-file FILE`: the users, one `NAME:HASH` a line, so that their
//! passwords stay off the command line (where `ps` shows them to every user
//! of the machine) and are never kept in clear: HASH is an Argon2id PHC
//! string (`token-server hash-password`) or a bcrypt hash (`htpasswd -nbB`),
//! as Apache's htpasswd files and nginx's `auth_basic_user_file` keep them.
//! A line in clear, from the format before hashes, is taken, hashed here and
//! warned about. The server reads the file at start, and again on SIGHUP,
//! both off the request loop.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::Path;
use std::sync::Arc;

use zeroize::Zeroizing;

use crate::passwords::{Hash, HashProblem};

/// What a users file gave.
#[derive(Debug, Default)]
pub struct Loaded {
    /// (name, hash), in the file's order.
    pub users: Vec<(String, Arc<Hash>)>,
    /// One line each: `FILE:LINE: ...` (weak hashes, passwords in clear).
    pub warnings: Vec<String>,
    /// The hashes made here of passwords in clear, by name: the next read
    /// checks a line in clear against them, so that a password that did not
    /// change keeps its hash (and its user their token).
    pub made_of_clear: HashMap<String, Arc<Hash>>,
}

/// Reads the users of the file at `path`, after those given with `--user`
/// (`given`, their names), whose names the file may not give again;
/// `before` is the previous read's `made_of_clear`. `Err` is one line:
/// `FILE:LINE: reason`, or `FILE: reason` for the file as a whole.
pub fn read(
    path: &Path,
    given: &[String],
    before: &HashMap<String, Arc<Hash>>,
) -> Result<Loaded, String> {
    let bytes = Zeroizing::new(
        fs::read(path).map_err(|error| format!("{}: cannot read it: {error}", path.display()))?,
    );
    parse(path, &bytes, given, before)
}

/// The users of `text`, the contents of the file at `path` (for the errors):
/// split at the first `:` as Basic credentials are, UTF-8, blank lines and
/// lines starting with `#` skipped; a line ending in CRLF loses its CR.
/// Linear in the number of lines (but for lines in clear, each hashed).
pub(crate) fn parse(
    path: &Path,
    text: &[u8],
    given: &[String],
    before: &HashMap<String, Arc<Hash>>,
) -> Result<Loaded, String> {
    let mut loaded = Loaded::default();
    // Argon2's memory, for the lines in clear: once for them all.
    let mut memory = Vec::new();
    // The names seen so far: a name given twice is found at once, not by
    // reading the list again (100,000 users load in well under a second).
    let mut names: HashSet<&str> = given.iter().map(String::as_str).collect();
    // A byte order mark (Windows' Notepad writes one) is no part of a name.
    let text = text.strip_prefix("\u{feff}".as_bytes()).unwrap_or(text);
    for (index, line) in text.split(|&byte| byte == b'\n').enumerate() {
        let at = format!("{}:{}", path.display(), index + 1);
        let error = |reason: String| format!("{at}: {reason}");
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let line = std::str::from_utf8(line).map_err(|_| error("not UTF-8".to_string()))?;
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((name, secret)) = line.split_once(':') else {
            return Err(error("not NAME:HASH (no ':')".to_string()));
        };
        if name.is_empty() {
            return Err(error("the name is empty".to_string()));
        }
        if secret.is_empty() {
            return Err(error(format!("user '{name}' has an empty password")));
        }
        if !names.insert(name) {
            if given.iter().any(|given| given == name) {
                return Err(error(format!("user '{name}' is given by --user too")));
            }
            return Err(error(format!("user '{name}' is given twice")));
        }
        let hash = match Hash::parse(secret) {
            Ok(Some(hash)) => {
                if let Some(weakness) = hash.weakness() {
                    loaded.warnings.push(error(weakness));
                }
                Arc::new(hash)
            }
            Err(HashProblem::NotTaken(reason) | HashProblem::Malformed(reason)) => {
                return Err(error(reason));
            }
            Ok(None) => {
                loaded.warnings.push(error(format!(
                    "{name}'s password is in clear: replace it with the line that token-server hash-password --user {name} prints"
                )));
                let hash = match before.get(name) {
                    Some(hash) if hash.verify_in(secret.as_bytes(), &mut memory) => {
                        Arc::clone(hash)
                    }
                    _ => Arc::new(
                        Hash::new_argon2id_in(secret.as_bytes(), &mut memory).map_err(&error)?,
                    ),
                };
                loaded
                    .made_of_clear
                    .insert(name.to_string(), Arc::clone(&hash));
                hash
            }
        };
        loaded.users.push((name.to_string(), hash));
    }
    Ok(loaded)
}

/// A warning when group or others may read the file at `path` (the
/// passwords in it are theirs to read too) or write it (they could add a
/// user of their own), as sshd's StrictModes refuses both.
pub fn permission_warning(path: &Path) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let mode = fs::metadata(path).ok()?.permissions().mode();
    let what = match (mode & 0o044 != 0, mode & 0o022 != 0) {
        (false, false) => return None,
        (true, false) => "read",
        (false, true) => "written",
        (true, true) => "read and written",
    };
    Some(format!(
        "{} may be {what} by group or others (mode {:o}): chmod 600 {}",
        path.display(),
        mode & 0o777,
        path.display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `htpasswd -nbB ann secret` (Debian's apache2-utils), cost 5.
    const ANN_BCRYPT: &str = "$2y$05$8S1Jn1vbstcvINvQxrsDGOxQ5fkYrRs.bq0ws9uEfeTCWwm9aAz5W";

    fn parsed(text: &str) -> Result<Loaded, String> {
        parse(
            Path::new("users.txt"),
            text.as_bytes(),
            &[],
            &HashMap::new(),
        )
    }

    fn names(loaded: &Loaded) -> Vec<&str> {
        loaded.users.iter().map(|(name, _)| name.as_str()).collect()
    }

    #[test]
    fn hashes_of_each_kind_and_lines_in_clear() {
        let argon = Hash::new_argon2id(b"pw").unwrap();
        let text = format!(
            "# the team\nann:{ANN_BCRYPT}\n\nbob:{}\r\n  \njosé:mot de passe€\n",
            argon.as_str()
        );
        let loaded = parsed(&text).unwrap();
        assert_eq!(names(&loaded), ["ann", "bob", "josé"]);
        assert!(loaded.users[0].1.verify(b"secret"));
        assert!(loaded.users[1].1.verify(b"pw"));
        assert!(loaded.users[2].1.verify("mot de passe€".as_bytes()));
        assert_eq!(
            loaded.warnings,
            [
                "users.txt:2: a bcrypt hash of cost 5, under OWASP's minimum of 10: htpasswd -nbBC 12 NAME PASSWORD makes a stronger one",
                "users.txt:6: josé's password is in clear: replace it with the line that token-server hash-password --user josé prints",
            ]
        );
        assert!(parsed("").unwrap().users.is_empty());
    }

    #[test]
    fn each_error_names_the_file_and_the_line() {
        let error = |text: &str| parsed(text).unwrap_err();
        assert_eq!(error("ann:x\nbob\n"), "users.txt:2: not NAME:HASH (no ':')");
        assert_eq!(error(":x\n"), "users.txt:1: the name is empty");
        assert_eq!(
            error("# x\nann:\n"),
            "users.txt:2: user 'ann' has an empty password"
        );
        assert_eq!(
            error(&format!(
                "ann:{ANN_BCRYPT}\nbob:{ANN_BCRYPT}\nann:{ANN_BCRYPT}\n"
            )),
            "users.txt:3: user 'ann' is given twice"
        );
        assert_eq!(
            error("ann:{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=\n"),
            "users.txt:1: a SHA-1 hash (weak): make a new one with token-server hash-password"
        );
        assert_eq!(
            error("ann:$apr1$x$y\n"),
            "users.txt:1: an Apache MD5 hash (weak): make a new one with token-server hash-password"
        );
        assert!(error("ann:$2y$05$short\n").starts_with("users.txt:1: a malformed bcrypt hash"));
        assert!(
            error("ann:$argon2id$v=19$junk\n")
                .starts_with("users.txt:1: a malformed Argon2id hash")
        );
        assert_eq!(
            parse(
                Path::new("users.txt"),
                b"ok:1\nbad:\xff\n",
                &[],
                &HashMap::new()
            )
            .unwrap_err(),
            "users.txt:2: not UTF-8"
        );
        assert_eq!(
            parse(
                Path::new("users.txt"),
                b"ann:1\n",
                &["ann".to_string()],
                &HashMap::new()
            )
            .unwrap_err(),
            "users.txt:1: user 'ann' is given by --user too"
        );
    }

    #[test]
    fn a_password_in_clear_that_did_not_change_keeps_its_hash() {
        let first = parsed("ann:pw1\nbob:pw2\n").unwrap();
        let again = parse(
            Path::new("users.txt"),
            b"ann:pw1\nbob:changed\n",
            &[],
            &first.made_of_clear,
        )
        .unwrap();
        assert!(Arc::ptr_eq(&first.users[0].1, &again.users[0].1));
        assert_ne!(first.users[1].1, again.users[1].1);
    }

    #[test]
    fn a_file_that_cannot_be_read() {
        let error = read(Path::new("/no/such/users.txt"), &[], &HashMap::new()).unwrap_err();
        assert_eq!(
            error,
            "/no/such/users.txt: cannot read it: No such file or directory (os error 2)"
        );
    }

    #[test]
    fn a_byte_order_mark_is_no_part_of_the_first_name() {
        let loaded = parsed(&format!("\u{feff}ann:{ANN_BCRYPT}\n")).unwrap();
        assert_eq!(names(&loaded), ["ann"]);
    }

    #[test]
    fn a_hundred_thousand_users_load_in_one_pass() {
        let text: String = (0..100_000)
            .map(|index| format!("user{index}:{ANN_BCRYPT}\n"))
            .collect();
        // Each name is looked up once (a quadratic read took 14.6 s here
        // for 100,000 users; `make bench` prints the time this takes).
        let loaded = parsed(&text).unwrap();
        assert_eq!(loaded.users.len(), 100_000);
        let twice = format!("{text}user7:{ANN_BCRYPT}\n");
        assert_eq!(
            parsed(&twice).unwrap_err(),
            "users.txt:100001: user 'user7' is given twice"
        );
    }

    #[test]
    fn a_file_others_may_read_or_write_is_warned_about() {
        use std::os::unix::fs::PermissionsExt;
        let path = std::env::temp_dir().join(format!("users-mode-{}.txt", std::process::id()));
        fs::write(&path, "ann:1\n").unwrap();
        let shown = path.display().to_string();
        for (mode, warning) in [
            (0o600, None),
            (0o640, Some("read")),
            (0o602, Some("written")),
            (0o620, Some("written")),
            (0o666, Some("read and written")),
        ] {
            fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
            let expected = warning.map(|what| {
                format!(
                    "{shown} may be {what} by group or others (mode {mode:o}): chmod 600 {shown}"
                )
            });
            assert_eq!(permission_warning(&path), expected, "{mode:o}");
        }
        fs::remove_file(&path).unwrap();
    }
}
