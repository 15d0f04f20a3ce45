//! The request log's lines: one per answer, with secrets hidden. The request
//! loop (and, for the server's own refusals, a connection's thread) gives the
//! facts of a line, an [`Entry`], to `log_writer`, whose thread formats them
//! here and writes them to stderr: none of this work is the loop's.

use std::borrow::Cow;
use std::cell::RefCell;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::auth;

/// What one log line says about one answer: its facts, as the loop had them,
/// not yet formatted.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// When the answer was given.
    pub time: SystemTime,
    pub client: Option<SocketAddr>,
    /// `None` for a request too broken to have one.
    pub method: Option<Cow<'static, str>>,
    /// The target, with its query; `None` for a request too broken to have one.
    pub url: Option<String>,
    /// `None` for a connection closed unanswered (a TLS handshake that failed).
    pub status: Option<u16>,
    /// How long the answer took.
    pub elapsed: Duration,
    /// Why a request was refused ("token expired"), or whose token or login
    /// it was ("magigo"). The client never sees it.
    pub note: Option<Cow<'static, str>>,
    /// With `--verbose`, the request's header fields, shown under the line.
    pub headers: Vec<(String, String)>,
}

impl Entry {
    /// About how many bytes its line takes (for the log's bound on what
    /// waits).
    pub fn size(&self) -> usize {
        let headers: usize = self
            .headers
            .iter()
            .map(|(name, value)| name.len() + value.len() + 8)
            .sum();
        80 + self.url.as_ref().map_or(0, String::len)
            + self.note.as_ref().map_or(0, |note| note.len())
            + headers
    }
}

/// `2026-11-27T11:02:03.456Z 127.0.0.1:53412 GET /test?token=*** 200 0.05ms (magigo)`,
/// with a newline; `-` where the request had no client address, method,
/// path or status, and the note in brackets; with `--verbose`, the header
/// lines after it.
pub fn line(entry: &Entry) -> String {
    let mut line = String::with_capacity(160);
    push_line(&mut line, entry);
    line
}

/// Appends `entry`'s line (see [`line`]) to `out`.
pub(crate) fn push_line(out: &mut String, entry: &Entry) {
    // Written piece by piece: this runs for every request.
    let line = out;
    push_timestamp(line, entry.time);
    line.push(' ');
    match entry.client {
        Some(client) => {
            let _ = write!(line, "{client}");
        }
        None => line.push('-'),
    }
    line.push(' ');
    push_printable(line, entry.method.as_deref().unwrap_or("-"));
    line.push(' ');
    push_printable(line, &masked_url(entry.url.as_deref().unwrap_or("-")));
    match entry.status {
        Some(status) => {
            let _ = write!(line, " {status}");
        }
        None => line.push_str(" -"),
    }
    // `0.05ms`: milliseconds with two decimals, rounded.
    let hundredths = (entry.elapsed.as_micros() + 5) / 10;
    let _ = write!(line, " {}.{:02}ms", hundredths / 100, hundredths % 100);
    if let Some(note) = &entry.note {
        line.push_str(" (");
        push_printable(line, note);
        line.push(')');
    }
    line.push('\n');
    push_header_lines(line, &entry.headers);
}

/// `2026-11-27T11:02:03.456Z`: RFC 3339, in UTC, with milliseconds.
fn push_timestamp(line: &mut String, time: SystemTime) {
    // The part up to the seconds changes once a second: made once a second,
    // not once a line (the log is written for every request).
    thread_local! {
        static SECOND: RefCell<(u64, String)> = const { RefCell::new((u64::MAX, String::new())) };
    }
    let since_epoch = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let seconds = since_epoch.as_secs();
    SECOND.with(|second| {
        let mut second = second.borrow_mut();
        if second.0 != seconds {
            let utc = i64::try_from(seconds)
                .ok()
                .and_then(|seconds| time::OffsetDateTime::from_unix_timestamp(seconds).ok())
                .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
            // A `Date` shows as `2026-11-27`.
            let text = format!(
                "{}T{:02}:{:02}:{:02}.",
                utc.date(),
                utc.hour(),
                utc.minute(),
                utc.second(),
            );
            *second = (seconds, text);
        }
        line.push_str(&second.1);
    });
    let _ = write!(line, "{:03}Z", since_epoch.subsec_millis());
}

/// The request's headers, one per line and indented, as the tutorial printed
/// them; an Authorization value is cut to its scheme (`Basic ***`).
fn push_header_lines(lines: &mut String, headers: &[(String, String)]) {
    for (name, value) in headers {
        let secret = name.eq_ignore_ascii_case("Authorization")
            || name.eq_ignore_ascii_case("Proxy-Authorization");
        // A page's address may hold a token in its query, or credentials.
        let holds_url = name.eq_ignore_ascii_case("Referer") || name.eq_ignore_ascii_case("Origin");
        lines.push_str("    ");
        push_printable(lines, name);
        lines.push_str(": ");
        if secret {
            // `Basic ***`; a value with no scheme may be the secret itself.
            match value.trim().split_once(char::is_whitespace) {
                Some((scheme, _secret)) => {
                    push_printable(lines, scheme);
                    lines.push_str(" ***");
                }
                None => lines.push_str("***"),
            }
        } else if holds_url {
            push_printable(lines, &masked_url(value));
        } else {
            push_printable(lines, value);
        }
        lines.push('\n');
    }
}

/// The request target with the value of every secret parameter (a token or a
/// password: `auth::is_secret_field`) replaced by `***`.
pub(crate) fn masked_url(url: &str) -> Cow<'_, str> {
    let url = masked_userinfo(url);
    let Some((path, query)) = url.split_once('?') else {
        return url;
    };
    // Most queries cannot hold a secret: no such name, not even percent-encoded
    // (every secret name holds `token` or `password`).
    let may_hold_secret = query.contains(['%', '+'])
        || query.contains("token")
        || query.contains(auth::PASSWORD_FIELD);
    if !may_hold_secret {
        return url;
    }
    let mut masked = String::with_capacity(url.len());
    masked.push_str(path);
    masked.push('?');
    for (index, parameter) in query.split('&').enumerate() {
        if index > 0 {
            masked.push('&');
        }
        match parameter.split_once('=') {
            Some((raw_name, _value)) if is_secret_name(raw_name) => {
                masked.push_str(raw_name);
                masked.push_str("=***");
            }
            _ => masked.push_str(parameter),
        }
    }
    Cow::Owned(masked)
}

/// An absolute URL with its userinfo (`http://user:password@host/`) shown
/// as `http://***@host/`: a password the client put there stays out.
fn masked_userinfo(url: &str) -> Cow<'_, str> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return Cow::Borrowed(url);
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else {
        return Cow::Borrowed(url);
    };
    Cow::Owned(format!("{scheme}://***{}", &rest[at..]))
}

/// A name the client chose (a user name, a `Host`), as the log shows it: as
/// it is when it holds only letters, digits and `.-_@+:`; otherwise in double
/// quotes, with quotes, backslashes and brackets escaped, so that it can
/// neither add fields to a line nor close its brackets (a fail2ban filter
/// reads the address after `from`). Control characters are escaped when the
/// line is written.
pub(crate) fn quoted(name: &str) -> Cow<'_, str> {
    let plain = !name.is_empty()
        && name
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b".-_@+:".contains(&byte));
    if plain {
        return Cow::Borrowed(name);
    }
    let mut quoted = String::with_capacity(name.len() + 2);
    quoted.push('"');
    for c in name.chars() {
        if matches!(c, '"' | '\\' | '(' | ')' | '[' | ']') {
            quoted.push('\\');
        }
        quoted.push(c);
    }
    quoted.push('"');
    Cow::Owned(quoted)
}

/// True for a secret field's name, also percent-encoded (`%74oken`), since
/// the server decodes names before it looks at them.
fn is_secret_name(raw_name: &str) -> bool {
    if !raw_name.contains(['%', '+']) {
        return auth::is_secret_field(raw_name);
    }
    url::form_urlencoded::parse(raw_name.as_bytes()).any(|(name, _)| auth::is_secret_field(&name))
}

/// Appends `text` with its control characters escaped, so that a request cannot
/// write fake lines or terminal escapes into the log; anything not ASCII is
/// escaped too (`\u{e9}`), so that bytes a client put in a header value show
/// as what they were.
fn push_printable(line: &mut String, text: &str) {
    for c in text.chars() {
        if c == ' ' || c.is_ascii_graphic() {
            line.push(c);
        } else {
            line.extend(c.escape_default());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masked_url_hides_token() {
        assert_eq!(masked_url("/test?token=abc%3D"), "/test?token=***");
    }

    #[test]
    fn masked_url_hides_access_token_and_password_keeps_others() {
        assert_eq!(
            masked_url("/x?a=1&access_token=abc&password=p&b=2"),
            "/x?a=1&access_token=***&password=***&b=2"
        );
    }

    #[test]
    fn masked_url_hides_percent_encoded_name() {
        assert_eq!(masked_url("/test?%74oken=abc"), "/test?%74oken=***");
    }

    #[test]
    fn masked_url_keeps_query_without_secrets() {
        assert_eq!(masked_url("/index?a=1&b=2"), "/index?a=1&b=2");
    }

    #[test]
    fn masked_url_without_query() {
        assert_eq!(masked_url("/index"), "/index");
    }

    #[test]
    fn masked_url_hides_every_repeat() {
        assert_eq!(
            masked_url("/test?token=a&token=b"),
            "/test?token=***&token=***"
        );
    }

    #[test]
    fn timestamps_across_leap_days_and_years() {
        // Checked with Python's datetime.
        for (millis, expected) in [
            (0, "1970-01-01T00:00:00.000Z"),
            (951_782_400_000, "2000-02-29T00:00:00.000Z"),
            (1_798_761_599_999, "2026-12-31T23:59:59.999Z"),
            (4_107_542_399_001, "2100-02-28T23:59:59.001Z"),
        ] {
            let mut line = String::new();
            push_timestamp(&mut line, UNIX_EPOCH + Duration::from_millis(millis));
            assert_eq!(line, expected);
        }
    }

    /// 2026-11-27T11:02:03.456Z.
    fn example_time() -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(1_795_777_323_456)
    }

    /// An entry at that time, with nothing known but the status.
    fn entry(status: u16) -> Entry {
        Entry {
            time: example_time(),
            client: None,
            method: None,
            url: None,
            status: Some(status),
            elapsed: Duration::ZERO,
            note: None,
            headers: Vec::new(),
        }
    }

    #[test]
    fn line_has_time_client_method_path_status_duration_and_note() {
        let line = line(&Entry {
            client: Some("127.0.0.1:53412".parse().unwrap()),
            method: Some("GET".into()),
            url: Some("/test?token=secret".into()),
            elapsed: Duration::from_micros(50),
            note: Some("magigo".into()),
            ..entry(200)
        });
        assert_eq!(
            line,
            "2026-11-27T11:02:03.456Z 127.0.0.1:53412 GET /test?token=*** 200 0.05ms (magigo)\n"
        );
    }

    #[test]
    fn line_of_a_request_without_method_or_path() {
        let line = line(&Entry {
            note: Some("bare LF in the head".into()),
            ..entry(400)
        });
        assert_eq!(
            line,
            "2026-11-27T11:02:03.456Z - - - 400 0.00ms (bare LF in the head)\n"
        );
    }

    #[test]
    fn line_of_a_connection_closed_unanswered() {
        let line = line(&Entry {
            status: None,
            client: Some("[::1]:40000".parse().unwrap()),
            note: Some("TLS handshake not finished in time".into()),
            elapsed: Duration::from_millis(10_000),
            ..entry(0)
        });
        assert_eq!(
            line,
            "2026-11-27T11:02:03.456Z [::1]:40000 - - - 10000.00ms (TLS handshake not finished in time)\n"
        );
    }

    #[test]
    fn line_escapes_control_characters_and_non_ascii() {
        let line = line(&Entry {
            method: Some("GET".into()),
            url: Some("/a\nfake 200\u{1b}[31m".into()),
            note: Some("caf\u{e9}".into()),
            ..entry(404)
        });
        assert_eq!(
            line,
            "2026-11-27T11:02:03.456Z - GET /a\\nfake 200\\u{1b}[31m 404 0.00ms (caf\\u{e9})\n"
        );
    }

    #[test]
    fn timestamps_of_known_dates() {
        let at = |seconds: u64, millis: u64| {
            let mut text = String::new();
            push_timestamp(
                &mut text,
                UNIX_EPOCH + Duration::from_millis(seconds * 1000 + millis),
            );
            text
        };
        assert_eq!(at(0, 0), "1970-01-01T00:00:00.000Z");
        // The tutorial's token expires at 1472450500.34.
        assert_eq!(at(1_472_450_500, 340), "2016-08-29T06:01:40.340Z");
        // Leap days, a century that is not a leap year, and one that is.
        assert_eq!(at(951_782_400, 0), "2000-02-29T00:00:00.000Z");
        assert_eq!(at(4_107_542_399, 999), "2100-02-28T23:59:59.999Z");
        assert_eq!(at(4_107_542_400, 0), "2100-03-01T00:00:00.000Z");
        assert_eq!(at(1_709_164_800, 1), "2024-02-29T00:00:00.001Z");
        assert_eq!(at(1_798_761_599, 0), "2026-12-31T23:59:59.000Z");
    }

    #[test]
    fn every_secret_field_the_parser_reads_is_masked() {
        let mut names = auth::TOKEN_FIELDS.to_vec();
        names.push(auth::PASSWORD_FIELD);
        for name in names {
            assert_eq!(
                masked_url(&format!("/x?a=1&{name}=secret")),
                format!("/x?a=1&{name}=***")
            );
        }
    }

    #[test]
    fn verbose_header_lines_cut_authorization_to_its_scheme() {
        let headers = vec![
            ("Host".to_string(), "127.0.0.1:5000".to_string()),
            (
                "Authorization".to_string(),
                testkit::data::MAGIGO_BASIC.to_string(),
            ),
        ];
        let line = line(&Entry {
            headers,
            ..entry(200)
        });
        assert_eq!(
            line,
            "2026-11-27T11:02:03.456Z - - - 200 0.00ms\n    Host: 127.0.0.1:5000\n    Authorization: Basic ***\n"
        );
    }

    #[test]
    fn a_target_with_userinfo_is_masked() {
        assert_eq!(
            masked_url("http://magigo:SECRET@127.0.0.1:5000/login"),
            "http://***@127.0.0.1:5000/login"
        );
        assert_eq!(
            masked_url("http://u:p@host/test?token=abc&x=1"),
            "http://***@host/test?token=***&x=1"
        );
        // An `@` in the query is no userinfo.
        assert_eq!(masked_url("http://host/x?a=b@c"), "http://host/x?a=b@c");
    }

    #[test]
    fn verbose_masks_referer_and_origin_and_a_schemeless_authorization() {
        let headers = vec![
            (
                "Referer".to_string(),
                "http://127.0.0.1:5000/test?token=c2VjcmV0".to_string(),
            ),
            (
                "Origin".to_string(),
                "http://u:p@127.0.0.1:5000".to_string(),
            ),
            ("Authorization".to_string(), "SECRET".to_string()),
        ];
        let line = line(&Entry {
            headers,
            ..entry(200)
        });
        assert_eq!(
            line,
            "2026-11-27T11:02:03.456Z - - - 200 0.00ms\n    Referer: http://127.0.0.1:5000/test?token=***\n    Origin: http://***@127.0.0.1:5000\n    Authorization: ***\n"
        );
        assert!(!line.contains("SECRET") && !line.contains("c2VjcmV0"));
    }

    #[test]
    fn a_name_is_quoted_unless_it_is_plain() {
        assert_eq!(quoted("magigo"), "magigo");
        assert_eq!(quoted("ann.lee@example.org"), "ann.lee@example.org");
        assert_eq!(quoted("a b"), "\"a b\"");
        assert_eq!(quoted("x) (y"), r#""x\) \(y""#);
        assert_eq!(quoted("say \"hi\" \\"), r#""say \"hi\" \\""#);
        assert_eq!(quoted(""), "\"\"");
    }
}
