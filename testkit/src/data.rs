//! The tutorial's test data, in one place.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// The tutorial's one user and password: token-server's default user.
pub const USER: &str = "magigo";
pub const PASSWORD: &str = "123456";

/// The `Authorization` value that logs in as magigo:123456.
pub const MAGIGO_BASIC: &str = "Basic bWFnaWdvOjEyMzQ1Ng==";

/// The tutorial's example token...
pub const TUTORIAL_TOKEN: &str = "bWFnaWdvOjAuNjMxNDU2NDIyNjMyOjE0NzI0NTA1MDAuMzQ=";
/// ...and what it decodes to: user, random part, expiry (Unix seconds).
pub const TUTORIAL_TOKEN_TEXT: &str = "magigo:0.631456422632:1472450500.34";

/// `Basic base64(user:password)`, an `Authorization` value.
pub fn basic(user_colon_password: &str) -> String {
    format!("Basic {}", STANDARD.encode(user_colon_password))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magigo_basic_is_the_default_user() {
        assert_eq!(MAGIGO_BASIC, basic(&format!("{USER}:{PASSWORD}")));
    }

    #[test]
    fn tutorial_token_decodes_to_its_text() {
        let decoded = STANDARD.decode(TUTORIAL_TOKEN).unwrap();
        assert_eq!(decoded, TUTORIAL_TOKEN_TEXT.as_bytes());
    }
}
