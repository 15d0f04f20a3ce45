//! The token: `base64("UID:RANDOM:EXPIRY")`, made exactly as the tutorial makes it.
//!
//! A token is not secret from the one who holds it: anyone can decode it and read
//! the user id and the expiry. What makes it worth something is that the server
//! keeps each user's newest token and accepts only that exact string, and the
//! random part makes that string impossible for anyone else to guess.

use std::collections::hash_map::RandomState;
use std::fmt::Write as _;
use std::hash::{BuildHasher, Hasher};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// What a decoded token says about itself.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Claims {
    pub user: String,
    /// Unix seconds; the token is valid while `expires_at >= now`.
    pub expires_at: f64,
}

/// Makes the token for `user`, with the tutorial's layout: the random number as
/// Python writes it, and the expiry with two decimals, like the tutorial's
/// `1472450500.34`.
pub(crate) fn encode(user: &str, random: f64, expires_at: f64) -> String {
    let mut text = String::with_capacity(user.len() + 40);
    text.push_str(user);
    text.push(':');
    push_python_float(&mut text, random);
    let _ = write!(text, ":{expires_at:.2}");
    STANDARD.encode(text)
}

/// A token's random part: a float in [0, 1), like Python's `random.random()`.
///
/// It comes from a `fastrand` generator seeded, for this one token, from the
/// operating system's random source (`getrandom`, the crate `rand` uses for
/// its `OsRng`). fastrand on its own seeds each thread once, from the clock and
/// the thread: someone who sees enough tokens could work out its state and
/// compute the next token of any user. With a fresh seed from the OS for
/// each token, seeing any number of tokens, one's own included, tells
/// nothing about the next one.
pub(crate) fn random_part() -> f64 {
    // The OS's source does not fail on the systems this runs on; should it,
    // std's `RandomState` keys, which it took from the same source when the
    // thread started, still make a seed nobody can predict.
    let seed = getrandom::u64().unwrap_or_else(|_| RandomState::new().build_hasher().finish());
    fastrand::Rng::with_seed(seed).f64()
}

/// `number` as Python 3's `str()` writes a float in [0, 1): the shortest text
/// that reads back as the same number (Rust's `{}` too), but `0.0` for zero
/// and an exponent below 0.0001 (`1.5e-05`, where Rust writes `0.000015`).
/// For the tests, which hold it to Python's own answers.
#[cfg(test)]
fn python_float_text(number: f64) -> String {
    let mut text = String::new();
    push_python_float(&mut text, number);
    text
}

/// Appends `number` as Python 3's `str()` writes a float in [0, 1): the
/// shortest text that reads back as the same number, but `0.0` for zero and
/// an exponent below 0.0001 (`1.5e-05`, where Rust writes `0.000015`).
fn push_python_float(text: &mut String, number: f64) {
    if number == 0.0 {
        text.push_str("0.0");
    } else if number.abs() >= 1e-4 {
        let _ = write!(text, "{number}");
    } else {
        // `{:e}` is also the shortest round-trip form: `1.5e-5`. Python writes
        // the exponent with a sign and at least two digits.
        let exponential = format!("{number:e}");
        match exponential.split_once("e-") {
            Some((mantissa, exponent)) => {
                let _ = write!(text, "{mantissa}e-{exponent:0>2}");
            }
            None => text.push_str(&exponential),
        }
    }
}

/// Reads a token back. `None` for anything that is not base64 of
/// `UID:RANDOM:EXPIRY` with a finite number for EXPIRY.
pub(crate) fn decode(token: &str) -> Option<Claims> {
    let bytes = STANDARD.decode(token).ok()?;
    let mut text = String::from_utf8(bytes).ok()?;
    // The user id cannot hold a `:` (Basic credentials end it at the first one),
    // so the first `:` ends it here too, and the last one starts the expiry.
    let (user, rest) = text.split_once(':')?;
    let (_random, expiry) = rest.rsplit_once(':')?;
    let expires_at: f64 = expiry.parse().ok()?;
    if user.is_empty() || !expires_at.is_finite() {
        return None;
    }
    // The user id is the text's start: what is left of it, not a copy.
    let user_length = user.len();
    text.truncate(user_length);
    Some(Claims {
        user: text,
        expires_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use testkit::data::{TUTORIAL_TOKEN, TUTORIAL_TOKEN_TEXT};

    #[test]
    fn decode_tutorial_example() {
        let text = STANDARD.decode(TUTORIAL_TOKEN).unwrap();
        assert_eq!(text, TUTORIAL_TOKEN_TEXT.as_bytes());
        let claims = decode(TUTORIAL_TOKEN).unwrap();
        assert_eq!(claims.user, "magigo");
        assert_eq!(claims.expires_at, 1472450500.34);
    }

    #[test]
    fn encode_reproduces_tutorial_example() {
        assert_eq!(
            encode("magigo", 0.631456422632, 1472450500.34),
            TUTORIAL_TOKEN
        );
    }

    #[test]
    fn encode_then_decode_round_trip() {
        let token = encode("alice", 0.5, 1_800_000_000.126);
        let claims = decode(&token).unwrap();
        assert_eq!(claims.user, "alice");
        assert_eq!(claims.expires_at, 1_800_000_000.13);
    }

    #[test]
    fn decode_not_base64() {
        assert_eq!(decode("not base64!"), None);
    }

    #[test]
    fn decode_empty() {
        assert_eq!(decode(""), None);
    }

    #[test]
    fn decode_no_colon() {
        assert_eq!(decode(&STANDARD.encode("magigo")), None);
    }

    #[test]
    fn decode_one_colon_only() {
        assert_eq!(decode(&STANDARD.encode("magigo:1472450500.34")), None);
    }

    #[test]
    fn decode_expiry_not_a_number() {
        assert_eq!(decode(&STANDARD.encode("magigo:0.5:soon")), None);
    }

    #[test]
    fn decode_expiry_not_finite() {
        assert_eq!(decode(&STANDARD.encode("magigo:0.5:inf")), None);
        assert_eq!(decode(&STANDARD.encode("magigo:0.5:NaN")), None);
    }

    #[test]
    fn decode_empty_user() {
        assert_eq!(decode(&STANDARD.encode(":0.5:1472450500.34")), None);
    }

    #[test]
    fn random_part_is_in_0_1_and_written_as_python_writes_it() {
        for _ in 0..1000 {
            let random = random_part();
            assert!((0.0..1.0).contains(&random), "{random}");
            let text = python_float_text(random);
            assert_eq!(text.parse::<f64>(), Ok(random), "{text}");
        }
    }

    #[test]
    fn random_parts_differ() {
        let parts: std::collections::HashSet<u64> =
            (0..1000).map(|_| random_part().to_bits()).collect();
        assert_eq!(parts.len(), 1000);
    }

    #[test]
    fn python_float_text_of_known_numbers() {
        // What Python 3 prints for each: `str(0.631456422632)` and so on.
        let cases = [
            (0.631456422632, "0.631456422632"),
            (0.6314564226320001, "0.6314564226320001"),
            (0.5, "0.5"),
            (0.0, "0.0"),
            (0.0001, "0.0001"),
            (0.00012, "0.00012"),
            (0.00001, "1e-05"),
            (1.5e-7, "1.5e-07"),
            (2.2250738585072014e-308, "2.2250738585072014e-308"),
            (0.9999999999999999, "0.9999999999999999"),
        ];
        for (number, python) in cases {
            assert_eq!(python_float_text(number), python, "{number:e}");
        }
    }

    #[test]
    fn decode_not_utf8() {
        assert_eq!(decode(&STANDARD.encode(b"\xff\xfe:0.5:1")), None);
    }
}
