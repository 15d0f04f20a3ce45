//! The token: `base64("UID:RANDOM:EXPIRY")`, made exactly as the tutorial makes it.
//!
//! A token is not secret from the one who holds it: anyone can decode it and read
//! the user id and the expiry. What makes it worth something is that the server
//! keeps each user's newest token and accepts only that exact string, and the
//! random part makes that string hard for anyone else to guess.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// What a decoded token says about itself.
#[derive(Debug, Clone, PartialEq)]
pub struct Claims {
    pub user: String,
    /// Unix seconds; the token is valid while `expires_at >= now`.
    pub expires_at: f64,
}

/// Makes the token for `user`, with the tutorial's layout: the random number as
/// Rust prints it (always in [0, 1), never in exponent form) and the expiry with
/// two decimals, like the tutorial's `1472450500.34`.
pub fn encode(user: &str, random: f64, expires_at: f64) -> String {
    STANDARD.encode(format!("{user}:{random}:{expires_at:.2}"))
}

/// Reads a token back. `None` for anything that is not base64 of
/// `UID:RANDOM:EXPIRY` with a finite number for EXPIRY.
pub fn decode(token: &str) -> Option<Claims> {
    let bytes = STANDARD.decode(token).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    // The user id cannot hold a `:` (Basic credentials end it at the first one),
    // so the first `:` ends it here too, and the last one starts the expiry.
    let (user, rest) = text.split_once(':')?;
    let (_random, expiry) = rest.rsplit_once(':')?;
    let expires_at: f64 = expiry.parse().ok()?;
    if user.is_empty() || !expires_at.is_finite() {
        return None;
    }
    Some(Claims {
        user: user.to_string(),
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
    fn decode_not_utf8() {
        assert_eq!(decode(&STANDARD.encode(b"\xff\xfe:0.5:1")), None);
    }
}
