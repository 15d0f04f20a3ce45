//! The hashes a users file may hold, read, checked and made.
//!
//! - Argon2id, as a PHC string: `$argon2id$v=19$m=19456,t=2,p=1$SALT$HASH`,
//!   what `token-server hash-password` prints, with OWASP's parameters
//!   (RustCrypto's `argon2`, whose defaults they are).
//! - bcrypt, `$2y$`, `$2b$` or `$2a$`, what `htpasswd -nbB` prints, so that
//!   an Apache or nginx htpasswd file of bcrypt lines works as it is (the
//!   `bcrypt` crate).
//!
//! A check costs tens of milliseconds of CPU on purpose: it runs on the
//! hashing pool (`pool`), never on the request loop.

use argon2::{Algorithm, Argon2, Block, Params, PasswordHash, Version};
use zeroize::Zeroizing;

/// A password's hash, as a users file holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hash {
    /// An Argon2id PHC string.
    Argon2id(String),
    /// A bcrypt hash, `$2y$...`, 60 characters.
    Bcrypt(String),
}

/// Why a users file's hash is not taken, or is taken with a warning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HashProblem {
    /// A kind of hash not taken, named for what it is: an error.
    NotTaken(String),
    /// A hash of a kind taken, but malformed: an error.
    Malformed(String),
}

/// OWASP's minimum bcrypt cost (htpasswd's default is 5).
pub(crate) const BCRYPT_MIN_COST: u32 = 10;

/// OWASP's Argon2id settings, all equally strong: (m in KiB, t). A hash
/// weaker than every one of them is warned about.
const ARGON2_EQUIVALENTS: [(u32, u32); 5] = [
    (47_104, 1),
    (19_456, 2),
    (12_288, 3),
    (9_216, 4),
    (7_168, 5),
];

const MAKE_A_NEW_ONE: &str = "make a new one with token-server hash-password";

impl Hash {
    /// The hash `text` holds; `Ok(None)` when it is no hash at all (a
    /// password in clear, from the file format before hashes).
    pub fn parse(text: &str) -> Result<Option<Hash>, HashProblem> {
        let not_taken =
            |what: &str| Err(HashProblem::NotTaken(format!("{what}: {MAKE_A_NEW_ONE}")));
        if text.starts_with("$argon2id$") {
            let parsed = PasswordHash::new(text).map_err(|error| {
                HashProblem::Malformed(format!("a malformed Argon2id hash ({error})"))
            })?;
            Params::try_from(&parsed).map_err(|error| {
                HashProblem::Malformed(format!("a malformed Argon2id hash ({error})"))
            })?;
            if parsed.salt.is_none() || parsed.hash.is_none() {
                return Err(HashProblem::Malformed(
                    "a malformed Argon2id hash (no salt or no hash)".to_string(),
                ));
            }
            return Ok(Some(Hash::Argon2id(text.to_string())));
        }
        for prefix in ["$2y$", "$2b$", "$2a$"] {
            if text.starts_with(prefix) {
                let parts: bcrypt::HashParts = text.parse().map_err(|error| {
                    let why = match error {
                        bcrypt::BcryptError::InvalidHash(why) => why.to_string(),
                        other => other.to_string(),
                    };
                    HashProblem::Malformed(format!("a malformed bcrypt hash ({why})"))
                })?;
                if !(4..=31).contains(&parts.get_cost()) {
                    return Err(HashProblem::Malformed(format!(
                        "a malformed bcrypt hash (cost {} is not from 4 to 31)",
                        parts.get_cost()
                    )));
                }
                return Ok(Some(Hash::Bcrypt(text.to_string())));
            }
        }
        match text {
            _ if text.starts_with("{SHA}") => not_taken("a SHA-1 hash (weak)"),
            _ if text.starts_with("$apr1$") => not_taken("an Apache MD5 hash (weak)"),
            _ if text.starts_with("$1$") => not_taken("an MD5-crypt hash (weak)"),
            _ if text.starts_with("$5$") => not_taken("a SHA-256-crypt hash (weak)"),
            _ if text.starts_with("$6$") => not_taken("a SHA-512-crypt hash (weak)"),
            _ if text.starts_with("$argon2i$") => {
                not_taken("an Argon2i hash (only Argon2id is taken)")
            }
            _ if text.starts_with("$argon2d$") => {
                not_taken("an Argon2d hash (only Argon2id is taken)")
            }
            _ if text.starts_with("$2x$") => not_taken("a bcrypt $2x$ hash (from a buggy bcrypt)"),
            _ => Ok(None),
        }
    }

    /// A new Argon2id hash of `password`, with OWASP's parameters (m=19456
    /// KiB, t=2, p=1) and a 16-byte salt from the operating system.
    pub fn new_argon2id(password: &[u8]) -> Result<Hash, String> {
        Hash::new_argon2id_in(password, &mut Vec::new())
    }

    /// `new_argon2id`, with Argon2's memory in `memory`, kept by the caller
    /// from one hash to the next (a users file of many lines in clear): a
    /// new 19 MiB block for each hash would leave the allocator's heap in
    /// pieces that the next one cannot use.
    pub(crate) fn new_argon2id_in(
        password: &[u8],
        memory: &mut Vec<Block>,
    ) -> Result<Hash, String> {
        use base64::Engine;
        use base64::engine::general_purpose::STANDARD_NO_PAD;
        let failed = |error: &dyn std::fmt::Display| format!("cannot hash the password: {error}");
        let mut salt = [0u8; 16];
        getrandom::fill(&mut salt).map_err(|error| failed(&error))?;
        let params = Params::DEFAULT;
        let blocks = params.block_count();
        if memory.len() < blocks {
            memory.resize(blocks, Block::new());
        }
        let mut output = [0u8; Params::DEFAULT_OUTPUT_LEN];
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
            .hash_password_into_with_memory(password, &salt, &mut output, &mut memory[..blocks])
            .map_err(|error| failed(&error))?;
        // The PHC string format: `$argon2id$v=19$m=..,t=..,p=..$SALT$HASH`,
        // salt and hash in base64 without padding.
        Ok(Hash::Argon2id(format!(
            "$argon2id$v=19$m={},t={},p={}${}${}",
            params.m_cost(),
            params.t_cost(),
            params.p_cost(),
            STANDARD_NO_PAD.encode(salt),
            STANDARD_NO_PAD.encode(output)
        )))
    }

    /// Whether `password` is the one this hashes, with the hash's own
    /// algorithm and parameters. Slow on purpose: never on the request loop.
    pub fn verify(&self, password: &[u8]) -> bool {
        self.verify_in(password, &mut Vec::new())
    }

    /// `verify`, with Argon2's memory (19 MiB with OWASP's parameters) in
    /// `memory`, which a hashing thread keeps from one check to the next: the
    /// pool's memory is its threads' and stays so, however many logins come.
    pub fn verify_in(&self, password: &[u8], memory: &mut Vec<Block>) -> bool {
        let text = match self {
            Hash::Argon2id(text) => text,
            Hash::Bcrypt(text) => return bcrypt::verify(password, text).unwrap_or(false),
        };
        let Ok(parsed) = PasswordHash::new(text) else {
            return false;
        };
        let (Some(salt), Some(expected), Ok(params)) =
            (&parsed.salt, &parsed.hash, Params::try_from(&parsed))
        else {
            return false;
        };
        let version = match parsed.version.map(Version::try_from) {
            None => Version::V0x13,
            Some(Ok(version)) => version,
            Some(Err(_)) => return false,
        };
        let blocks = params.block_count();
        if memory.len() < blocks {
            memory.resize(blocks, Block::new());
        }
        let mut computed = Zeroizing::new(vec![0u8; expected.len()]);
        let hashed = Argon2::new(Algorithm::Argon2id, version, params)
            .hash_password_into_with_memory(
                password,
                salt.as_ref(),
                &mut computed,
                &mut memory[..blocks],
            );
        hashed.is_ok() && same_bytes(&computed, expected.as_bytes())
    }

    /// A warning when the hash is weaker than OWASP's minimum: bcrypt under
    /// cost 10, Argon2id below every one of its equivalent settings.
    pub(crate) fn weakness(&self) -> Option<String> {
        match self {
            Hash::Argon2id(text) => {
                let parsed = PasswordHash::new(text).ok()?;
                let params = Params::try_from(&parsed).ok()?;
                let (m, t) = (params.m_cost(), params.t_cost());
                let strong = ARGON2_EQUIVALENTS
                    .iter()
                    .any(|&(min_m, min_t)| m >= min_m && t >= min_t);
                (!strong).then(|| {
                    format!(
                        "an Argon2id hash weaker than OWASP's minimum (m={m} t={t}; m=19456 t=2 or an equivalent): {MAKE_A_NEW_ONE}"
                    )
                })
            }
            Hash::Bcrypt(text) => {
                let cost = text.parse::<bcrypt::HashParts>().ok()?.get_cost();
                (cost < BCRYPT_MIN_COST).then(|| {
                    format!(
                        "a bcrypt hash of cost {cost}, under OWASP's minimum of {BCRYPT_MIN_COST}: htpasswd -nbBC 12 NAME PASSWORD makes a stronger one"
                    )
                })
            }
        }
    }

    /// The hash as a users file holds it.
    pub fn as_str(&self) -> &str {
        match self {
            Hash::Argon2id(text) | Hash::Bcrypt(text) => text,
        }
    }
}

/// Compares two hashes in time that depends on their lengths only.
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .fold(0u8, |difference, (x, y)| difference | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::PasswordHasher;

    /// `htpasswd -nbB ann secret` (Debian's apache2-utils): cost 5.
    const HTPASSWD_BCRYPT: &str = "$2y$05$8S1Jn1vbstcvINvQxrsDGOxQ5fkYrRs.bq0ws9uEfeTCWwm9aAz5W";

    #[test]
    fn argon2id_made_here_verifies_and_has_owasp_parameters() {
        let hash = Hash::new_argon2id(b"correct horse").unwrap();
        assert!(
            hash.as_str().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash:?}"
        );
        assert!(hash.verify(b"correct horse"));
        assert!(!hash.verify(b"correct horsE"));
        assert_eq!(hash.weakness(), None);
        assert_eq!(Hash::parse(hash.as_str()), Ok(Some(hash.clone())));
        // Another salt each time.
        assert_ne!(Hash::new_argon2id(b"correct horse").unwrap(), hash);
    }

    #[test]
    fn kinds_not_taken_are_named_for_what_they_are() {
        for (text, what) in [
            ("{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=", "a SHA-1 hash (weak)"),
            ("$apr1$abc$def", "an Apache MD5 hash (weak)"),
            ("$1$abc$def", "an MD5-crypt hash (weak)"),
            ("$5$abc$def", "a SHA-256-crypt hash (weak)"),
            ("$6$abc$def", "a SHA-512-crypt hash (weak)"),
        ] {
            assert_eq!(
                Hash::parse(text),
                Err(HashProblem::NotTaken(format!(
                    "{what}: make a new one with token-server hash-password"
                ))),
                "{text}"
            );
        }
    }

    #[test]
    fn malformed_hashes_of_kinds_taken_are_errors() {
        for text in [
            "$argon2id$v=19$m=19456,t=2,p=1$",
            "$argon2id$nonsense",
            "$2y$05$tooshort",
            "$2b$xx$8S1Jn1vbstcvINvQxrsDGOxQ5fkYrRs.bq0ws9uEfeTCWwm9aAz5W",
        ] {
            assert!(
                matches!(Hash::parse(text), Err(HashProblem::Malformed(_))),
                "{text}"
            );
        }
    }

    #[test]
    fn anything_else_is_a_password_in_clear() {
        for text in ["123456", "$ecret", "2y$", "argon2id"] {
            assert_eq!(Hash::parse(text), Ok(None), "{text}");
        }
    }

    #[test]
    fn weak_parameters_are_warned_about() {
        let weak = Argon2::from(Params::new(4096, 3, 1, None).unwrap())
            .hash_password(b"pw")
            .unwrap()
            .to_string();
        let weak = Hash::parse(&weak).unwrap().unwrap();
        assert!(weak.verify(b"pw"));
        assert_eq!(
            weak.weakness().as_deref(),
            Some(
                "an Argon2id hash weaker than OWASP's minimum (m=4096 t=3; m=19456 t=2 or an equivalent): make a new one with token-server hash-password"
            )
        );
        let equivalent = Argon2::from(Params::new(12_288, 3, 1, None).unwrap())
            .hash_password(b"pw")
            .unwrap()
            .to_string();
        assert_eq!(Hash::parse(&equivalent).unwrap().unwrap().weakness(), None);
    }

    #[test]
    fn bcrypt_from_htpasswd_verifies_and_its_cost_is_warned_about() {
        let hash = Hash::parse(HTPASSWD_BCRYPT).unwrap().unwrap();
        assert!(hash.verify(b"secret"));
        assert!(!hash.verify(b"Secret"));
        assert_eq!(
            hash.weakness().as_deref(),
            Some(
                "a bcrypt hash of cost 5, under OWASP's minimum of 10: htpasswd -nbBC 12 NAME PASSWORD makes a stronger one"
            )
        );
    }
}
