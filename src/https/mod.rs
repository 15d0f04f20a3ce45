//! HTTPS: the certificate the connections speak TLS with (`certificate`):
//! PEM files, or a self-signed pair kept beside FILE and trusted once. The
//! TLS itself runs on each connection's thread, in the tiny_http fork
//! (`vendor/tiny_http/src/tls.rs`).

pub mod certificate;

pub use certificate::{CertificateSource, Https, load, sha256_fingerprint};
