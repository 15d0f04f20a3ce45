//! Where the HTTPS certificate comes from: PEM files (`--tls-cert FILE
//! --tls-key FILE`), or a key pair and self-signed certificate made at start
//! (`--tls-self-signed FILE`), the certificate written to FILE so that a
//! client can trust it (`curl --cacert FILE`). Either way, the result is the
//! `rustls::ServerConfig` that tiny_http's connections speak TLS with: TLS
//! 1.3 and 1.2, no client certificates, ALPN `http/1.1`, the `ring` provider.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use rustls::ServerConfig;
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use time::{Duration, OffsetDateTime};
use yasna::Tag;

/// Where the certificate comes from (`--tls-...`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertificateSource {
    /// `--tls-cert FILE --tls-key FILE`: a PEM chain and its private key.
    Files { cert: PathBuf, key: PathBuf },
    /// `--tls-self-signed FILE`: the certificate in FILE and its key in
    /// FILE.key (mode 0600), made at the first start and used again while
    /// valid, so that a client trusts it once.
    SelfSigned(PathBuf),
}

/// What the server needs to speak HTTPS, and what it says about it at start.
pub struct Https {
    pub config: Arc<ServerConfig>,
    /// `--tls-self-signed`: the file the certificate was written to, and its
    /// SHA-256 fingerprint (`AB:CD:...`), for the banner.
    pub written: Option<(PathBuf, String)>,
    /// A certificate that is expired, or not valid yet: what to warn of.
    pub warning: Option<String>,
    /// `--tls-self-signed` made a new pair (none was there, or it would not
    /// do any more): the line that says so.
    pub made_new: Option<String>,
}

/// The names a self-signed certificate is for, besides `--host` when it
/// names one host.
const SELF_SIGNED_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// Builds the HTTPS config for `source`, at time `now`; `host` is `--host`.
/// `Err` is one line naming the file and the problem.
pub fn load(source: &CertificateSource, host: &str, now: SystemTime) -> Result<Https, String> {
    let mut made_new = None;
    let (chain, key, written) = match source {
        CertificateSource::Files { cert, key } => (read_chain(cert)?, read_key(key)?, None),
        CertificateSource::SelfSigned(path) => {
            let names = self_signed_names(host);
            let key_path = self_signed_key_path(path);
            let (der, key) = match reuse_self_signed(path, &key_path, &names, now)? {
                Some(pair) => pair,
                None => {
                    let (certificate, key_pair) = self_signed(&names, now)?;
                    write_certificate(path, &certificate)?;
                    write_key(&key_path, &key_pair)?;
                    made_new = Some(format!(
                        "made a new self-signed certificate {} (its key in {}): trust it once, it is used again at every start while it is valid",
                        path.display(),
                        key_path.display()
                    ));
                    let key =
                        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key_pair.serialize_der()));
                    (certificate.der().clone(), key)
                }
            };
            let fingerprint = sha256_fingerprint(&der);
            (vec![der], key, Some((path.clone(), fingerprint)))
        }
    };
    let warning = match source {
        CertificateSource::Files { cert, .. } => validity_warning(cert, &chain[0], now),
        CertificateSource::SelfSigned(_) => None,
    };
    let unusable = unusable_key(&key);
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| format!("TLS: {error}"))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|error| match (error, source) {
            (rustls::Error::InconsistentKeys(_), CertificateSource::Files { cert, key }) => {
                format!(
                    "--tls-key {}: the key does not match the certificate in {}",
                    key.display(),
                    cert.display()
                )
            }
            (error, CertificateSource::Files { key, .. }) => match &unusable {
                Some(why) => format!("--tls-key {}: {why}", key.display()),
                None => format!(
                    "--tls-key {}: the key cannot be used: {error}",
                    key.display()
                ),
            },
            (error, CertificateSource::SelfSigned(path)) => {
                format!("--tls-self-signed {}: {error}", path.display())
            }
        })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Https {
        config: Arc::new(config),
        written,
        warning,
        made_new,
    })
}

/// Why rustls' ring provider will not take `key`, in words, for the keys it
/// refuses with only "failed to parse private key": an RSA key under 2048
/// bits, and a P-521 key. `None` for any other.
fn unusable_key(key: &PrivateKeyDer<'_>) -> Option<String> {
    // secp521r1, 1.3.132.0.35, as DER.
    const P521: [u8; 7] = [0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23];
    // rsaEncryption, 1.2.840.113549.1.1.1, as DER.
    const RSA: [u8; 11] = [
        0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01,
    ];
    let der = key.secret_der();
    let contains = |needle: &[u8]| der.windows(needle.len()).any(|window| window == needle);
    if contains(&P521) {
        return Some(
            "P-521 is not supported by rustls' ring provider: use a P-256 or P-384 key".to_string(),
        );
    }
    // RSAPrivateKey (RFC 8017 A.1.2): version, then the modulus; in PKCS#8
    // (RFC 5208), inside an OCTET STRING after the version and the algorithm.
    let pkcs8_contents = |info: &mut yasna::BERReaderSeq| {
        skip(info.next())?;
        skip(info.next())?;
        let key = info.next().read_bytes()?;
        while info.read_optional(skip)?.is_some() {}
        Ok(key)
    };
    let rsa_private_key = match key {
        PrivateKeyDer::Pkcs1(_) => der.to_vec(),
        PrivateKeyDer::Pkcs8(_) if contains(&RSA) => {
            yasna::parse_der(der, |reader| reader.read_sequence(pkcs8_contents)).ok()?
        }
        _ => return None,
    };
    let (modulus, _) = yasna::parse_der(&rsa_private_key, |reader| {
        reader.read_sequence(|fields| {
            skip(fields.next())?;
            let modulus = fields.next().read_bigint_bytes()?;
            while fields.read_optional(skip)?.is_some() {}
            Ok(modulus)
        })
    })
    .ok()?;
    let modulus = &modulus[modulus.iter().take_while(|&&byte| byte == 0).count()..];
    let bits = modulus.len() * 8
        - modulus
            .first()
            .map_or(0, |byte| byte.leading_zeros() as usize);
    (bits < 2048).then(|| {
        format!(
            "RSA keys of {bits} bits are too small: rustls' ring provider takes 2048 bits or more"
        )
    })
}

fn read_file(flag: &str, path: &Path) -> Result<Vec<u8>, String> {
    fs::read(path).map_err(|error| format!("{flag} {}: cannot read it: {error}", path.display()))
}

/// The certificates of a PEM file, the server's first: rustls' own reading.
fn read_chain(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let pem = read_file("--tls-cert", path)?;
    let bad = |problem: String| format!("--tls-cert {}: {problem}", path.display());
    let chain = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| bad(pem_problem(&error)))?;
    if chain.is_empty() {
        return Err(bad(
            "no certificate in it (a PEM \"CERTIFICATE\" section)".to_string()
        ));
    }
    Ok(chain)
}

/// The private key of a PEM file: PKCS#8, PKCS#1 (RSA) or SEC1 (EC).
fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, String> {
    let pem = read_file("--tls-key", path)?;
    PrivateKeyDer::from_pem_slice(&pem).map_err(|error| {
        let problem = match error {
            pem::Error::NoItemsFound => {
                "no private key in it (PKCS#8, PKCS#1 or SEC1 PEM; an encrypted key must be decrypted first)".to_string()
            }
            error => pem_problem(&error),
        };
        format!("--tls-key {}: {problem}", path.display())
    })
}

/// A PEM reading error in a few words (rustls' own shows bytes as numbers).
fn pem_problem(error: &pem::Error) -> String {
    match error {
        pem::Error::MissingSectionEnd { end_marker } => format!(
            "not PEM: a section has no end line (-----END {}-----)",
            String::from_utf8_lossy(end_marker)
        ),
        pem::Error::IllegalSectionStart { .. } => "not PEM: a bad BEGIN line".to_string(),
        pem::Error::Base64Decode(_) => "not PEM: a section is not base64".to_string(),
        error => format!("not PEM: {error}"),
    }
}

/// The names a self-signed certificate is for: `localhost`, `127.0.0.1`,
/// `::1`, and `host` when it names one host.
fn self_signed_names(host: &str) -> Vec<String> {
    let mut names: Vec<String> = SELF_SIGNED_NAMES
        .iter()
        .map(|name| name.to_string())
        .collect();
    let names_one_host = !host
        .parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_unspecified());
    if names_one_host && !names.iter().any(|name| name == host) {
        names.push(host.to_string());
    }
    names
}

/// Where `--tls-self-signed FILE` keeps its key: FILE.key.
pub(crate) fn self_signed_key_path(path: &Path) -> PathBuf {
    let mut key = path.as_os_str().to_owned();
    key.push(".key");
    PathBuf::from(key)
}

/// The certificate in `path` and its key in `key_path`, when both are there
/// and will do: the key matches, the certificate is valid for at least
/// another day and covers `names`. `Ok(None)`: a new pair is to be made.
/// `Err`: a key file that group or others may read (a key to replace).
fn reuse_self_signed(
    path: &Path,
    key_path: &Path,
    names: &[String],
    now: SystemTime,
) -> Result<Option<(CertificateDer<'static>, PrivateKeyDer<'static>)>, String> {
    use std::os::unix::fs::PermissionsExt;
    let Ok(metadata) = fs::symlink_metadata(key_path) else {
        return Ok(None);
    };
    let mode = metadata.permissions().mode();
    if mode & 0o044 != 0 {
        return Err(format!(
            "--tls-self-signed: {} may be read by group or others (mode {:o}): chmod 600 {} (or delete it for a new pair)",
            key_path.display(),
            mode & 0o777,
            key_path.display()
        ));
    }
    let (Ok(certificate_pem), Ok(key_pem)) = (fs::read(path), fs::read(key_path)) else {
        return Ok(None);
    };
    let (Ok(der), Ok(key)) = (
        CertificateDer::from_pem_slice(&certificate_pem),
        PrivateKeyDer::from_pem_slice(&key_pem),
    ) else {
        return Ok(None);
    };
    let now_seconds = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs() as i64;
    let valid_a_day_more = validity(&der).is_some_and(|(not_before, not_after)| {
        not_before.unix_timestamp() <= now_seconds
            && not_after.unix_timestamp() - now_seconds >= 86_400
    });
    let covers_the_names = webpki::EndEntityCert::try_from(&der).is_ok_and(|certificate| {
        names.iter().all(|name| {
            rustls::pki_types::ServerName::try_from(name.as_str())
                .is_ok_and(|name| certificate.verify_is_valid_for_subject_name(&name).is_ok())
        })
    });
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let key_matches = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .is_ok_and(|builder| {
            builder
                .with_no_client_auth()
                .with_single_cert(vec![der.clone()], key.clone_key())
                .is_ok()
        });
    Ok((valid_a_day_more && covers_the_names && key_matches).then_some((der, key)))
}

/// A new key pair, and a certificate for it, signed by itself, for `names`,
/// valid from yesterday (for a client whose clock is a little behind) for a
/// year.
fn self_signed(
    names: &[String],
    now: SystemTime,
) -> Result<(rcgen::Certificate, rcgen::KeyPair), String> {
    let failed =
        |error: rcgen::Error| format!("--tls-self-signed: cannot make a certificate: {error}");
    let mut params = rcgen::CertificateParams::new(names.to_vec()).map_err(failed)?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "token-server, self-signed");
    // rcgen takes dates of years up to 9999, as time does.
    let seconds = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    let midnight = |days: i64| {
        i64::try_from(seconds)
            .ok()
            .and_then(|seconds| OffsetDateTime::from_unix_timestamp(seconds).ok())
            .and_then(|now| now.date().checked_add(Duration::days(days)))
            .map(|date| date.midnight().assume_utc())
            .ok_or("--tls-self-signed: the clock says a year past 9999".to_string())
    };
    params.not_before = midnight(-1)?;
    params.not_after = midnight(365)?;
    let key = rcgen::KeyPair::generate().map_err(failed)?;
    let certificate = params.self_signed(&key).map_err(failed)?;
    Ok((certificate, key))
}

/// Writes the key to `path`, readable by its owner only, beside it and
/// renamed into place, never through a symbolic link.
fn write_key(path: &Path, key: &rcgen::KeyPair) -> Result<(), String> {
    let shown = path.display();
    if fs::symlink_metadata(path).is_ok_and(|metadata| metadata.file_type().is_symlink()) {
        return Err(format!(
            "--tls-self-signed: {shown} is a symbolic link; not written through it"
        ));
    }
    let pem = zeroize::Zeroizing::new(key.serialize_pem());
    write_beside_and_rename(path, pem.as_bytes(), 0o600)
        .map_err(|error| format!("--tls-self-signed: cannot write {shown}: {error}"))
}

/// Writes the certificate to `path`, but never over a file that is anything
/// else than a certificate (a typo must not cost a file), and never through
/// a symbolic link (it could point at a file of someone else's, a CA bundle
/// say).
fn write_certificate(path: &Path, certificate: &rcgen::Certificate) -> Result<(), String> {
    let shown = path.display();
    if fs::symlink_metadata(path).is_ok_and(|metadata| metadata.file_type().is_symlink()) {
        return Err(format!(
            "--tls-self-signed {shown}: the file is a symbolic link; not written through it"
        ));
    }
    if let Ok(existing) = fs::read(path)
        && !(existing.starts_with(b"-----BEGIN CERTIFICATE-----")
            && CertificateDer::pem_slice_iter(&existing).all(|item| item.is_ok()))
    {
        return Err(format!(
            "--tls-self-signed {shown}: the file exists and is not a certificate; not overwritten"
        ));
    }
    write_beside_and_rename(path, certificate.pem().as_bytes(), 0o644)
        .map_err(|error| format!("--tls-self-signed {shown}: cannot write it: {error}"))
}

/// Writes `bytes` to a new file beside `path` (created, never opened through
/// a link), then renames it to `path`: a reader sees the old file or the
/// new one, never half of one, and a link at `path` is replaced, not
/// followed.
fn write_beside_and_rename(path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let temporary = path.with_file_name(format!(
        ".{name}.{}.{}.tmp",
        std::process::id(),
        fastrand::u32(..)
    ));
    let written = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(&temporary)
        .and_then(|mut file| {
            file.write_all(bytes)?;
            file.sync_all()
        })
        .and_then(|()| fs::rename(&temporary, path));
    if written.is_err() {
        let _ = fs::remove_file(&temporary);
    }
    written
}

/// `AB:CD:...`, as `openssl x509 -fingerprint -sha256` writes it.
pub fn sha256_fingerprint(der: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, der);
    let hex: Vec<String> = digest
        .as_ref()
        .iter()
        .map(|byte| format!("{byte:02X}"))
        .collect();
    hex.join(":")
}

/// A warning when the certificate is expired or not valid yet at `now`.
fn validity_warning(path: &Path, der: &[u8], now: SystemTime) -> Option<String> {
    let (not_before, not_after) = validity(der)?;
    let now = now.duration_since(UNIX_EPOCH).ok()?.as_secs() as i64;
    let shown = path.display();
    // A `Date` shows as `2021-01-01`.
    if now > not_after.unix_timestamp() {
        Some(format!(
            "the certificate in {shown} expired on {}: clients will refuse it",
            not_after.date()
        ))
    } else if now < not_before.unix_timestamp() {
        Some(format!(
            "the certificate in {shown} is not valid before {}: clients will refuse it",
            not_before.date()
        ))
    } else {
        None
    }
}

/// A certificate's validity, (notBefore, notAfter), read from
/// its DER (RFC 5280 4.1): Certificate, then tbsCertificate, then the
/// optional version, serialNumber, signature, issuer, and validity. `None`
/// for anything else. Read with yasna, the DER crate rcgen writes
/// certificates with.
pub(crate) fn validity(der: &[u8]) -> Option<(OffsetDateTime, OffsetDateTime)> {
    yasna::parse_der(der, |reader| {
        reader.read_sequence(|certificate| {
            let validity = certificate.next().read_sequence(|tbs| {
                tbs.read_optional(|version| version.read_tagged(Tag::context(0), skip))?;
                for _ in ["serialNumber", "signature", "issuer"] {
                    skip(tbs.next())?;
                }
                let validity = tbs.next().read_sequence(|validity| {
                    Ok((read_time(validity.next())?, read_time(validity.next())?))
                })?;
                // subject, subjectPublicKeyInfo, and the optional rest.
                while tbs.read_optional(skip)?.is_some() {}
                Ok(validity)
            })?;
            for _ in ["signatureAlgorithm", "signatureValue"] {
                skip(certificate.next())?;
            }
            Ok(validity)
        })
    })
    .ok()
}

/// UTCTime (years 1950-2049) or GeneralizedTime.
fn read_time(reader: yasna::BERReader) -> yasna::ASN1Result<OffsetDateTime> {
    Ok(match reader.lookahead_tag()? {
        yasna::tags::TAG_UTCTIME => *reader.read_utctime()?.datetime(),
        _ => *reader.read_generalized_time()?.datetime(),
    })
}

/// Reads past an item, whatever it is.
fn skip(reader: yasna::BERReader) -> yasna::ASN1Result<()> {
    reader.read_der().map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn certificate_valid(from: (i32, u8, u8), to: (i32, u8, u8)) -> Vec<u8> {
        let mut params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
        params.not_before = rcgen::date_time_ymd(from.0, from.1, from.2);
        params.not_after = rcgen::date_time_ymd(to.0, to.1, to.2);
        let key = rcgen::KeyPair::generate().unwrap();
        params.self_signed(&key).unwrap().der().to_vec()
    }

    #[test]
    fn validity_of_utc_and_generalized_times() {
        // rcgen writes UTCTime for years before 2050, GeneralizedTime after.
        let der = certificate_valid((2026, 11, 30), (2027, 12, 1));
        let days = rcgen::date_time_ymd;
        assert_eq!(
            validity(&der),
            Some((days(2026, 11, 30), days(2027, 12, 1)))
        );
        let der = certificate_valid((1975, 1, 1), (4096, 1, 1));
        assert_eq!(validity(&der), Some((days(1975, 1, 1), days(4096, 1, 1))));
    }

    #[test]
    fn validity_of_anything_else_is_none() {
        assert_eq!(validity(b""), None);
        assert_eq!(validity(b"\x30\x82\xff\xff"), None);
        assert_eq!(validity(b"\x30\x03\x02\x01\x00"), None);
        let der = certificate_valid((2026, 1, 1), (2027, 1, 1));
        assert_eq!(validity(&der[..der.len() / 2]), None);
    }

    #[test]
    fn a_warning_for_an_expired_certificate_and_one_not_yet_valid() {
        let der = certificate_valid((2020, 1, 1), (2021, 1, 1));
        let now = UNIX_EPOCH + std::time::Duration::from_secs(1_800_000_000);
        let path = Path::new("cert.pem");
        assert_eq!(
            validity_warning(path, &der, now).as_deref(),
            Some("the certificate in cert.pem expired on 2021-01-01: clients will refuse it")
        );
        let der = certificate_valid((2030, 1, 1), (2031, 1, 1));
        assert_eq!(
            validity_warning(path, &der, now).as_deref(),
            Some(
                "the certificate in cert.pem is not valid before 2030-01-01: clients will refuse it"
            )
        );
        let der = certificate_valid((2020, 1, 1), (2031, 1, 1));
        assert_eq!(validity_warning(path, &der, now), None);
    }

    #[test]
    fn a_fingerprint_as_openssl_writes_it() {
        // `printf abc | sha256sum`
        assert_eq!(
            sha256_fingerprint(b"abc"),
            "BA:78:16:BF:8F:01:CF:EA:41:41:40:DE:5D:AE:22:23:B0:03:61:A3:96:17:7A:9C:B4:10:FF:61:F2:00:15:AD"
        );
    }
}
