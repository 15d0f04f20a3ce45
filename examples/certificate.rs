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
    let today = time::OffsetDateTime::now_utc().date();
    let date = |days: i64| {
        let date = today + time::Duration::days(days);
        (date.year(), u8::from(date.month()), date.day())
    };
    let pem = testkit::tls::certificate_for(Path::new(key), &names, date(-1), date(365));
    if let Err(error) = std::fs::write(certificate, pem) {
        eprintln!("certificate: cannot write {certificate}: {error}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
