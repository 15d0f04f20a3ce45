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
//!     cargo run --example client -- http://127.0.0.1:5000 [NAME:PASSWORD]
//!
//! It prints the token, then what `/test` says of it: `data`, or `error`. It
//! exits 1 when the login is refused or the server cannot be reached, and 2
//! on bad arguments.

use std::process::ExitCode;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

const USAGE: &str = "usage: client URL [NAME:PASSWORD]   (default magigo:123456)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (url, credentials) = match args.as_slice() {
        [url] => (url.as_str(), "magigo:123456"),
        [url, credentials] => (url.as_str(), credentials.as_str()),
        _ => return usage_error("give the server's URL, and the credentials if not magigo's"),
    };
    if !url.starts_with("http://") || !credentials.contains(':') {
        return usage_error(&format!(
            "'{url}' is not an http:// URL, or '{credentials}' not NAME:PASSWORD"
        ));
    }
    match run(url.trim_end_matches('/'), credentials) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("client: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(url: &str, credentials: &str) -> Result<(), String> {
    // A 401 is an answer to show, like any other: `requests` does not turn it
    // into an error either.
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();

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
