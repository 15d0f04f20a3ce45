//! The tutorial's client, in Rust. Its `client.py` takes two steps with
//! Python's `requests`:
//!
//! ```python
//! r = requests.get(url + '/login', auth=('magigo', '123456'))  # the token
//! r = requests.get(url + '/test', params={'token': token})     # data
//! ```
//!
//! and so does this, with `ureq` (blocking, like `requests` and like this
//! server):
//!
//!     cargo run --example client -- URL [NAME:PASSWORD] [--cacert FILE]
//!
//! URL is `http://127.0.0.1:5000` or, for a server with a `--tls-` option,
//! `https://...`; `--cacert FILE` trusts the certificate in FILE (what
//! `--tls-self-signed FILE` wrote), as `curl --cacert` and requests'
//! `verify=FILE` do. Without it, an https server's certificate must come from
//! a public CA (Mozilla's list). It prints the token, then what `/test` says
//! of it: `data`, or `error`. It exits 1 when the login is refused or the
//! server cannot be reached, and 2 on bad arguments.

use std::process::ExitCode;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ureq::tls::{Certificate, RootCerts, TlsConfig};

const USAGE: &str = "usage: client URL [NAME:PASSWORD] [--cacert FILE]   (default magigo:123456)";

fn main() -> ExitCode {
    let mut positional = Vec::new();
    let mut cacert = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--cacert" {
            match args.next() {
                Some(file) => cacert = Some(file),
                None => return usage_error("--cacert needs a file"),
            }
        } else {
            positional.push(arg);
        }
    }
    let (url, credentials) = match positional.as_slice() {
        [url] => (url.as_str(), "magigo:123456"),
        [url, credentials] => (url.as_str(), credentials.as_str()),
        _ => return usage_error("give the server's URL, and the credentials if not magigo's"),
    };
    let is_url = url.starts_with("http://") || url.starts_with("https://");
    if !is_url || !credentials.contains(':') {
        return usage_error(&format!(
            "'{url}' is not an http:// or https:// URL, or '{credentials}' not NAME:PASSWORD"
        ));
    }
    let agent = match agent(cacert.as_deref()) {
        Ok(agent) => agent,
        Err(message) => return usage_error(&message),
    };
    match run(&agent, url.trim_end_matches('/'), credentials) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("client: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The HTTP client: a 401 is an answer to show, like any other (`requests`
/// does not turn it into an error either); with `cacert`, trusting the
/// certificates in that PEM file only.
fn agent(cacert: Option<&str>) -> Result<ureq::Agent, String> {
    let mut tls = TlsConfig::builder();
    if let Some(file) = cacert {
        let pem = std::fs::read(file).map_err(|error| format!("--cacert {file}: {error}"))?;
        let certificate = Certificate::from_pem(&pem)
            .map_err(|error| format!("--cacert {file}: no certificate in it ({error})"))?;
        tls = tls.root_certs(RootCerts::new_with_certs(&[certificate]));
    }
    Ok(ureq::Agent::config_builder()
        .http_status_as_error(false)
        .tls_config(tls.build())
        .build()
        .into())
}

fn run(agent: &ureq::Agent, url: &str, credentials: &str) -> Result<(), String> {
    // Step 1: log in with HTTP Basic credentials (`auth=(...)` in requests).
    let basic = format!("Basic {}", STANDARD.encode(credentials));
    let mut login = agent
        .get(format!("{url}/login"))
        .header("Authorization", &basic)
        .call()
        .map_err(|error| format!("cannot reach {url}: {error}"))?;
    let token = read_body(&mut login)?;
    if login.status() != 200 {
        return Err(format!("login refused: {} {token}", login.status()));
    }
    println!("{token}");

    // Step 2: show the token to /test (`params={'token': token}`): ureq
    // percent-encodes it, so a `+` in it arrives as a `+`.
    let mut test = agent
        .get(format!("{url}/test"))
        .query("token", &token)
        .call()
        .map_err(|error| format!("cannot reach {url}: {error}"))?;
    println!("{}", read_body(&mut test)?);
    Ok(())
}

fn read_body(response: &mut ureq::http::Response<ureq::Body>) -> Result<String, String> {
    response
        .body_mut()
        .read_to_string()
        .map_err(|error| format!("cannot read the answer: {error}"))
}

fn usage_error(message: &str) -> ExitCode {
    eprintln!("client: {message}\n{USAGE}");
    ExitCode::from(2)
}
