//! The two pages of `/`: plain text with curl lines, for a terminal and for
//! scripts, and HTML with forms, for a browser (see `accept`).

/// What both pages show: where the server is, and how to try it.
pub(crate) struct Usage<'a> {
    /// `http://127.0.0.1:5000`: the address a client can use.
    pub base: &'a str,
    /// The tutorial's user and password, when they are the server's (no
    /// `--user` or `--users-file`); else the pages say `NAME:PASSWORD`.
    pub default_user: Option<(&'a str, &'a str)>,
    /// `curl`, or `curl --cacert FILE` for a self-signed certificate.
    pub curl: &'a str,
    /// The self-signed certificate's file, over HTTPS with
    /// `--tls-self-signed`: the page says how to trust it.
    pub certificate: Option<&'a str>,
}

/// What the HTML page allows, and nothing more: its own inline style, and
/// forms sent to this server. No script, and nothing loaded from elsewhere.
pub(crate) const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The style of every page (`document`).
const STYLE: &str = "body { font-family: system-ui, sans-serif; max-width: 42rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.45; color: #222; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; }
form { border: 1px solid #bbb; border-radius: 6px; padding: 0.2rem 1rem 1rem; margin: 1rem 0; }
h2 { font-size: 1.1rem; }
label { display: block; margin: 0.4rem 0; }
input { display: block; width: 100%; box-sizing: border-box; padding: 0.3rem; font: 0.95rem ui-monospace, monospace; }
button { margin-top: 0.4rem; padding: 0.3rem 1rem; }
.hint { color: #555; }
pre { background: #f3f3f3; padding: 0.6rem; overflow-x: auto; }
.token { user-select: all; word-break: break-all; background: #f3f3f3; padding: 0.2rem; }";

/// The routes people use, and what each does, as both pages list them (a
/// test checks that `routes::handle` routes each).
pub const ROUTES: [(&str, &str); 4] = [
    ("/index", "answers Hello"),
    (
        "/login",
        "HTTP Basic credentials in, a new token out (it replaces your last one)",
    ),
    (
        "/test",
        "?token=TOKEN answers data, or error when the token is not your newest or has expired",
    ),
    (
        "/logout",
        "?token=TOKEN answers ok, and the token stops working",
    ),
];

/// The text page. The one page written for people rather than for `$(...)`:
/// it ends with a newline, so that a terminal's prompt starts on a line of
/// its own.
pub(crate) fn text(usage: &Usage) -> String {
    format!(
        "token-server: hands out login tokens and checks them.

{}
Every route takes GET, HEAD and POST. A token may also come as `Authorization: Bearer TOKEN`.
Try it (-f: a refused login fails the command instead of setting TOKEN to `error`):

{}",
        ROUTES
            .map(|(path, what)| format!("  {path:<9} {what}\n"))
            .concat(),
        curl_lines(usage)
    )
}

/// The copy-paste curl session, as both pages show it.
fn curl_lines(usage: &Usage) -> String {
    let Usage { base, curl, .. } = usage;
    let credentials = match usage.default_user {
        Some((name, password)) => format!("{name}:{password}"),
        None => "NAME:PASSWORD".to_string(),
    };
    format!(
        "  TOKEN=$({curl} -sf -u {credentials} {base}/login)
  {curl} -s \"{base}/test?token=$TOKEN\"
  {curl} -s \"{base}/logout?token=$TOKEN\"
"
    )
}

/// The HTML page: the tutorial's three steps as forms (log in with a POST of
/// `username` and `password`, the tutorial's "passing POST parameters"; test
/// a token; log out), the routes, and the same curl lines. Their answers are
/// pages too (`answer_forms::html`).
pub(crate) fn html(usage: &Usage) -> String {
    // The address may come from the client's Host header (see
    // `routes::usage`), so everything from outside is escaped.
    let curl_lines = escape(&curl_lines(usage));
    // Trusted once: the server uses the same pair at every start.
    let trust = match usage.certificate {
        Some(file) => format!(
            "<h2>Trusting this certificate</h2>
<p>It is self-signed, in <code>{file}</code>, and the same at every start: trust it once. Chromium and Firefox on Linux read it from NSS (<code>libnss3-tools</code>):</p>
<pre>certutil -d sql:$HOME/.pki/nssdb -A -t P,, -n token-server -i {file}</pre>
<p>Or the whole system: <code>cp {file} /usr/local/share/ca-certificates/token-server.crt &amp;&amp; update-ca-certificates</code>.</p>
",
            file = escape(file)
        ),
        None => String::new(),
    };
    let user_hint = match usage.default_user {
        Some((name, password)) => format!(
            "<p class=\"hint\">The tutorial's user: <code>{}</code>, password <code>{}</code>.</p>\n",
            escape(name),
            escape(password)
        ),
        _ => String::new(),
    };
    let routes = ROUTES
        .map(|(path, what)| format!("<li><code>{path}</code> {}</li>\n", escape(what)))
        .concat();
    let body = format!(
        r#"<h1>token-server</h1>
<p>Hands out login tokens and checks them: the Flask tutorial's token login. A browser gets each answer as a page with the next step; a script gets plain text.</p>
<form method="post" action="/login">
<h2>1. Log in</h2>
{user_hint}<label>User <input name="username" autocomplete="username" required></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">Log in</button> <span class="hint">answers a new token (it replaces your last one), or <code>error</code></span>
</form>
<form method="get" action="/test">
<h2>2. Test a token</h2>
<label>Token <input name="token" autocomplete="off" required></label>
<button type="submit">Test</button> <span class="hint">answers <code>data</code> for your newest token before it expires, else <code>error</code></span>
</form>
<form method="post" action="/logout">
<h2>3. Log out</h2>
<label>Token <input name="token" autocomplete="off" required></label>
<button type="submit">Log out</button> <span class="hint">answers <code>ok</code>, and the token stops working</span>
</form>
<h2>The routes</h2>
<ul>
{routes}</ul>
<p>Every route takes GET, HEAD and POST. With curl:</p>
<pre>{curl_lines}</pre>
{trust}
"#
    );
    document("token-server", &body)
}

/// A whole page: `body` under `title`, with the pages' style, no script.
pub(crate) fn document(title: &str, body: &str) -> String {
    format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
{STYLE}
</style>
</head>
<body>
{body}</body>
</html>
"#
    )
}

/// `text` with `&`, `<`, `>`, `"` and `'` as HTML writes them.
pub(crate) fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_html_reads() {
        assert_eq!(
            escape(r#"<a href="x">Tom & 'Jerry'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;"
        );
    }
}
