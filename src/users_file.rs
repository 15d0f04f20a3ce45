//! `--users-file FILE`: the users, one `NAME:PASSWORD` a line, so that their
//! passwords stay off the command line, where `ps` shows them to every user
//! of the machine (as Apache's htpasswd files and nginx's
//! `auth_basic_user_file` keep them; unlike those, the passwords are as
//! written, not hashed: see the end of the README's "On a network"). The
//! server reads it at start, and again on SIGHUP.

use std::collections::HashSet;
use std::fs;
use std::path::Path;

/// Reads the users of the file at `path`, after those given with `--user`
/// (`given`), whose names the file may not give again. `Err` is one line:
/// `FILE:LINE: reason`, or `FILE: reason` for the file as a whole.
pub fn read(path: &Path, given: &[(String, String)]) -> Result<Vec<(String, String)>, String> {
    let bytes =
        fs::read(path).map_err(|error| format!("{}: cannot read it: {error}", path.display()))?;
    parse(path, &bytes, given)
}

/// The users of `text`, the contents of the file at `path` (for the errors):
/// split at the first `:` as Basic credentials are, UTF-8, blank lines and
/// lines starting with `#` skipped; a line ending in CRLF loses its CR.
pub fn parse(
    path: &Path,
    text: &[u8],
    given: &[(String, String)],
) -> Result<Vec<(String, String)>, String> {
    let mut users: Vec<(String, String)> = Vec::new();
    // The names seen so far: a name given twice is found at once, not by
    // reading the list again (100,000 users load in well under a second).
    let mut names: HashSet<&str> = given.iter().map(|(name, _)| name.as_str()).collect();
    // A byte order mark (Windows' Notepad writes one) is no part of a name.
    let text = text.strip_prefix("\u{feff}".as_bytes()).unwrap_or(text);
    for (index, line) in text.split(|&byte| byte == b'\n').enumerate() {
        let error = |reason: String| format!("{}:{}: {reason}", path.display(), index + 1);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let line = std::str::from_utf8(line).map_err(|_| error("not UTF-8".to_string()))?;
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((name, password)) = line.split_once(':') else {
            return Err(error("not NAME:PASSWORD (no ':')".to_string()));
        };
        if name.is_empty() {
            return Err(error("the name is empty".to_string()));
        }
        if password.is_empty() {
            return Err(error(format!("user '{name}' has an empty password")));
        }
        if !names.insert(name) {
            if given.iter().any(|(given, _)| given == name) {
                return Err(error(format!("user '{name}' is given by --user too")));
            }
            return Err(error(format!("user '{name}' is given twice")));
        }
        users.push((name.to_string(), password.to_string()));
    }
    Ok(users)
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

    fn parsed(text: &str) -> Result<Vec<(String, String)>, String> {
        parse(Path::new("users.txt"), text.as_bytes(), &[])
    }

    fn users(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(name, password)| (name.to_string(), password.to_string()))
            .collect()
    }

    #[test]
    fn names_and_passwords_split_at_the_first_colon() {
        assert_eq!(
            parsed("# the team\nann:secret\n\nbob:a:b c\r\n  \njosé:mot de passe€\n"),
            Ok(users(&[
                ("ann", "secret"),
                ("bob", "a:b c"),
                ("josé", "mot de passe€")
            ]))
        );
        assert_eq!(parsed(""), Ok(Vec::new()));
    }

    #[test]
    fn each_error_names_the_file_and_the_line() {
        assert_eq!(
            parsed("ann:x\nbob\n"),
            Err("users.txt:2: not NAME:PASSWORD (no ':')".into())
        );
        assert_eq!(parsed(":x\n"), Err("users.txt:1: the name is empty".into()));
        assert_eq!(
            parsed("# x\nann:\n"),
            Err("users.txt:2: user 'ann' has an empty password".into())
        );
        assert_eq!(
            parsed("ann:1\nbob:2\nann:3\n"),
            Err("users.txt:3: user 'ann' is given twice".into())
        );
        assert_eq!(
            parse(Path::new("users.txt"), b"ok:1\nbad:\xff\n", &[]),
            Err("users.txt:2: not UTF-8".into())
        );
        assert_eq!(
            parse(Path::new("users.txt"), b"ann:1\n", &users(&[("ann", "2")])),
            Err("users.txt:1: user 'ann' is given by --user too".into())
        );
    }

    #[test]
    fn a_file_that_cannot_be_read() {
        let error = read(Path::new("/no/such/users.txt"), &[]).unwrap_err();
        assert_eq!(
            error,
            "/no/such/users.txt: cannot read it: No such file or directory (os error 2)"
        );
    }

    #[test]
    fn a_byte_order_mark_is_no_part_of_the_first_name() {
        assert_eq!(
            parse(
                Path::new("users.txt"),
                "\u{feff}ann:1\nbob:2\n".as_bytes(),
                &[]
            ),
            Ok(users(&[("ann", "1"), ("bob", "2")]))
        );
    }

    #[test]
    fn a_hundred_thousand_users_are_read_once_each() {
        let text: String = (0..100_000)
            .map(|index| format!("user{index}:pw{index}\n"))
            .collect();
        let read = parse(Path::new("users.txt"), text.as_bytes(), &[]).unwrap();
        assert_eq!(read.len(), 100_000);
        let twice = format!("{text}user7:again\n");
        assert_eq!(
            parse(Path::new("users.txt"), twice.as_bytes(), &[]),
            Err("users.txt:100001: user 'user7' is given twice".into())
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
