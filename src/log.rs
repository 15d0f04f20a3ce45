//! The request log: one line per request on stderr, with secrets hidden.

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
    let client = client.map_or_else(|| "-".to_string(), SocketAddr::to_string);
    let milliseconds = elapsed.as_secs_f64() * 1000.0;
    let mut line = format!(
        "{client} {} {} {status} {milliseconds:.2}ms",
        printable(method.as_str()),
        printable(&masked_url(url))
    );
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
        let name = header.field.as_str().as_str();
        let value = header.value.as_str();
        let shown =
            if header.field.equiv("Authorization") || header.field.equiv("Proxy-Authorization") {
                let scheme = value.split_whitespace().next().unwrap_or("");
                format!("{scheme} ***")
            } else {
                value.to_string()
            };
        let _ = writeln!(lines, "    {}: {}", printable(name), printable(&shown));
    }
    lines
}

/// The request target with the value of every `token`, `access_token` and
/// `password` parameter replaced by `***`.
pub fn masked_url(url: &str) -> String {
    let Some((path, query)) = url.split_once('?') else {
        return url.to_string();
    };
    let parameters: Vec<String> = query
        .split('&')
        .map(|parameter| {
            let Some((raw_name, _value)) = parameter.split_once('=') else {
                return parameter.to_string();
            };
            let is_secret = url::form_urlencoded::parse(raw_name.as_bytes())
                .any(|(name, _)| SECRET_PARAMETERS.contains(&name.as_ref()));
            if is_secret {
                format!("{raw_name}=***")
            } else {
                parameter.to_string()
            }
        })
        .collect();
    format!("{path}?{}", parameters.join("&"))
}

/// Escapes control characters, so that a request cannot write fake lines or
/// terminal escapes into the log.
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
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
            Header::from_bytes("Authorization", "Basic bWFnaWdvOjEyMzQ1Ng==").unwrap(),
        ];
        assert_eq!(
            header_lines(&headers),
            "    Host: 127.0.0.1:5000\n    Authorization: Basic ***\n"
        );
    }
}
