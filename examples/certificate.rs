//! A certificate for a test key, for the benchmark: token-server
//! (`--tls-cert`, `--tls-key`) and nginx serve the same one.
//!
//!     cargo run --example certificate -- KEY.pem CERT.pem [NAME...]
//!
//! KEY.pem is a PKCS#8 key (`testkit/keys/ec-pkcs8.pem`, say); CERT.pem is
//! written: a certificate for NAME... (default 127.0.0.1 and localhost),
//! signed by that key, valid from yesterday for a year.

use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [key, certificate, names @ ..] = args.as_slice() else {
        eprintln!("usage: certificate KEY.pem CERT.pem [NAME...]");
        return ExitCode::from(2);
    };
    let names: Vec<&str> = if names.is_empty() {
        vec!["127.0.0.1", "localhost"]
    } else {
        names.iter().map(String::as_str).collect()
    };
    let today = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_secs() / 86_400);
    let date = |days: u64| {
        let (year, month, day) = token_server::log::calendar::civil_date(days);
        (year as i32, month as u8, day as u8)
    };
    let pem = testkit::tls::certificate_for(
        Path::new(key),
        &names,
        date(today.saturating_sub(1)),
        date(today + 365),
    );
    if let Err(error) = std::fs::write(certificate, pem) {
        eprintln!("certificate: cannot write {certificate}: {error}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
