//! The request log: one line per request on stderr, with secrets hidden.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::time::Duration;

use tiny_http::{Header, Method};

/// How much the server says about each request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verbosity {
    /// Nothing per request.
    Quiet,
    /// One line per request.
    Normal,
    /// One line per request, then its headers.
    Verbose,
}

/// Query parameters whose values never reach the log.
const SECRET_PARAMETERS: [&str; 3] = ["token", "access_token", "password"];

/// `127.0.0.1:53412 GET /test?token=*** 401 0.05ms (token expired)`, with a
/// newline. The reason in brackets is the server's own note on why a request was
/// refused; the client only ever sees `error`.
pub fn request_line(
    client: Option<&SocketAddr>,
    method: &Method,
    url: &str,
    status: u16,
    elapsed: Duration,
    reason: Option<&str>,
) -> String {
    // Written piece by piece into one String: this runs for every request.
    let mut line = String::with_capacity(128);
    match client {
        Some(client) => {
            let _ = write!(line, "{client}");
        }
        None => line.push('-'),
    }
    line.push(' ');
    push_printable(&mut line, method.as_str());
    line.push(' ');
    push_printable(&mut line, &masked_url(url));
    let milliseconds = elapsed.as_secs_f64() * 1000.0;
    let _ = write!(line, " {status} {milliseconds:.2}ms");
    if let Some(reason) = reason {
        let _ = write!(line, " ({reason})");
    }
    line.push('\n');
    line
}

/// The request's headers, one per line and indented, as the tutorial printed
/// them; an Authorization value is cut to its scheme (`Basic ***`).
pub fn header_lines(headers: &[Header]) -> String {
    let mut lines = String::new();
    for header in headers {
        let value = header.value.as_str();
        let secret =
            header.field.equiv("Authorization") || header.field.equiv("Proxy-Authorization");
        lines.push_str("    ");
        push_printable(&mut lines, header.field.as_str().as_str());
        lines.push_str(": ");
        if secret {
            push_printable(&mut lines, value.split_whitespace().next().unwrap_or(""));
            lines.push_str(" ***");
        } else {
            push_printable(&mut lines, value);
        }
        lines.push('\n');
    }
    lines
}

/// The request target with the value of every `token`, `access_token` and
/// `password` parameter replaced by `***`.
pub fn masked_url(url: &str) -> Cow<'_, str> {
    let Some((path, query)) = url.split_once('?') else {
        return Cow::Borrowed(url);
    };
    // Most queries cannot hold a secret: no such name, not even percent-encoded.
    let may_hold_secret =
        query.contains('%') || SECRET_PARAMETERS.iter().any(|name| query.contains(name));
    if !may_hold_secret {
        return Cow::Borrowed(url);
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

/// True for `token`, `access_token` and `password`, also percent-encoded
/// (`%74oken`), since the server decodes names before it looks at them.
fn is_secret_name(raw_name: &str) -> bool {
    if !raw_name.contains(['%', '+']) {
        return SECRET_PARAMETERS.contains(&raw_name);
    }
    url::form_urlencoded::parse(raw_name.as_bytes())
        .any(|(name, _)| SECRET_PARAMETERS.contains(&name.as_ref()))
}

/// Appends `text` with its control characters escaped, so that a request cannot
/// write fake lines or terminal escapes into the log.
fn push_printable(line: &mut String, text: &str) {
    for c in text.chars() {
        if c.is_control() {
            line.extend(c.escape_default());
        } else {
            line.push(c);
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
    fn request_line_has_client_method_path_status_time() {
        let client: SocketAddr = "127.0.0.1:4000".parse().unwrap();
        let line = request_line(
            Some(&client),
            &Method::Get,
            "/test?token=secret",
            401,
            Duration::from_micros(120),
            Some("token expired"),
        );
        assert_eq!(
            line,
            "127.0.0.1:4000 GET /test?token=*** 401 0.12ms (token expired)\n"
        );
    }

    #[test]
    fn request_line_escapes_control_characters() {
        let line = request_line(
            None,
            &Method::Get,
            "/a\nfake 200",
            404,
            Duration::ZERO,
            None,
        );
        assert_eq!(line, "- GET /a\\nfake 200 404 0.00ms\n");
    }

    #[test]
    fn header_lines_cut_authorization_to_scheme() {
        let headers = vec![
            Header::from_bytes("Host", "127.0.0.1:5000").unwrap(),
            Header::from_bytes("Authorization", testkit::data::MAGIGO_BASIC).unwrap(),
        ];
        assert_eq!(
            header_lines(&headers),
            "    Host: 127.0.0.1:5000\n    Authorization: Basic ***\n"
        );
    }
}
