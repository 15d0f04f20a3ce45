//! Where credentials and tokens come from, each read by one small parser.
//!
//! Login credentials: `Authorization: Basic base64(user:password)` (RFC 7617), or
//! the fields `username` and `password` of a POSTed form. Tokens (RFC 6750):
//! `Authorization: Bearer TOKEN`, the query parameter `token`, or the form field
//! `token`; `access_token`, RFC 6750's own name, is accepted wherever `token` is.

use std::borrow::Cow;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use zeroize::{Zeroize, Zeroizing};

/// The query parameters and form fields that carry a token.
pub(crate) const TOKEN_FIELDS: [&str; 2] = ["token", "access_token"];
/// The form fields that carry login credentials.
pub(crate) const USER_FIELD: &str = "username";
pub(crate) const PASSWORD_FIELD: &str = "password";

/// True for a field whose value is a secret, a token or a password: the log
/// shows such a value as `***`.
pub(crate) fn is_secret_field(name: &str) -> bool {
    TOKEN_FIELDS.contains(&name) || name == PASSWORD_FIELD
}

/// A user name and password, as the client sent them: `user:password` in
/// one string (as Basic sends them, so that reading them copies nothing),
/// split at its first `:`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    text: String,
    colon: usize,
}

impl Credentials {
    pub fn new(user: &str, password: &str) -> Credentials {
        Credentials {
            text: format!("{user}:{password}"),
            colon: user.len(),
        }
    }

    /// `user:password` as it came; `None` without a `:`.
    fn from_text(text: String) -> Option<Credentials> {
        let colon = text.find(':')?;
        Some(Credentials { text, colon })
    }

    /// Everything before the first `:`.
    pub fn user(&self) -> &str {
        &self.text[..self.colon]
    }

    /// Everything after the first `:` (so it may hold `:`).
    pub fn password(&self) -> &str {
        &self.text[self.colon + 1..]
    }

    /// The password alone, for the hashing pool, which wipes it when it is
    /// done; the rest is wiped here.
    pub(crate) fn into_password(mut self) -> Zeroizing<String> {
        let mut text = std::mem::take(&mut self.text);
        let password = Zeroizing::new(text.split_off(self.colon + 1));
        text.zeroize();
        password
    }
}

/// A password is wiped from memory when its credentials go, so that no
/// freed memory holds it in clear.
impl Drop for Credentials {
    fn drop(&mut self) {
        self.text.zeroize();
    }
}

/// What a login request carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CredentialsInput {
    Missing,
    /// Present but unreadable: bad base64, no `:`, not UTF-8, a form with only
    /// one of its two fields.
    Malformed,
    /// Sent in two places at once (Basic header and form, or two headers).
    Several,
    One(Credentials),
}

/// What a `/test` or `/logout` request carries: the token, borrowed from
/// the request when it needs no decoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TokenInput<'a> {
    Missing,
    /// Sent in more than one place, or more than once: RFC 6750 allows one.
    Several,
    One(Cow<'a, str>),
}

/// Splits an Authorization value into its scheme and the rest, trimmed:
/// `"Basic bWFn..."` gives `("Basic", "bWFn...")`.
pub(crate) fn split_scheme(authorization: &str) -> (&str, &str) {
    let authorization = authorization.trim();
    match authorization.split_once(|c: char| c.is_ascii_whitespace()) {
        Some((scheme, rest)) => (scheme, rest.trim()),
        None => (authorization, ""),
    }
}

/// Reads `Basic base64(user:password)`. The user is everything before the first
/// `:` and the password everything after it, so a password may hold `:` (the
/// tutorial crashed on that). `None` for another scheme or anything malformed.
pub(crate) fn basic_credentials(authorization: &str) -> Option<Credentials> {
    let (scheme, encoded) = split_scheme(authorization);
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = STANDARD.decode(encoded).ok()?;
    Credentials::from_text(String::from_utf8(decoded).ok()?)
}

/// Finds the login credentials among the Authorization headers, the form
/// (`application/x-www-form-urlencoded`, empty when there is none) and the
/// JSON body (`{"username": ..., "password": ...}`, empty when there is
/// none). Headers of other schemes (a Bearer token, say) are not credentials
/// and are ignored. The same credentials in two places (a browser that kept
/// the Basic ones a user typed into its box, and the same in the form) are
/// one; different ones are `Several`.
pub(crate) fn find_credentials<'a>(
    authorizations: impl IntoIterator<Item = &'a str>,
    form: &[u8],
    json: &[u8],
) -> CredentialsInput {
    // Each place that holds credentials: `None` when they were unreadable.
    let mut found: Vec<Option<Credentials>> = Vec::new();
    for authorization in authorizations {
        let (scheme, _) = split_scheme(authorization);
        if scheme.eq_ignore_ascii_case("basic") {
            found.push(basic_credentials(authorization));
        }
    }
    let mut users = fields_named(form, &[USER_FIELD]);
    let mut passwords = fields_named(form, &[PASSWORD_FIELD]);
    let (user, password) = (users.next(), passwords.next());
    if user.is_some() || password.is_some() {
        found.push(match (user, password, users.next(), passwords.next()) {
            (Some(user), Some(password), None, None) => Some(Credentials::new(&user, &password)),
            _ => None,
        });
    }
    if !json.is_empty() {
        found.push(json_credentials(json));
    }
    let Some(first) = found.pop() else {
        return CredentialsInput::Missing;
    };
    let Some(first) = first else {
        return if found.is_empty() {
            CredentialsInput::Malformed
        } else {
            CredentialsInput::Several
        };
    };
    if found.iter().all(|other| other.as_ref() == Some(&first)) {
        CredentialsInput::One(first)
    } else {
        CredentialsInput::Several
    }
}

/// `{"username": "...", "password": "..."}`, and nothing else: HTTPie's and
/// `fetch`'s way to send a login. `None` for invalid JSON or another shape.
fn json_credentials(json: &[u8]) -> Option<Credentials> {
    let serde_json::Value::Object(mut members) = serde_json::from_slice(json).ok()? else {
        return None;
    };
    let (Some(serde_json::Value::String(user)), Some(serde_json::Value::String(mut password))) =
        (members.remove(USER_FIELD), members.remove(PASSWORD_FIELD))
    else {
        return None;
    };
    let credentials = members
        .is_empty()
        .then(|| Credentials::new(&user, &password));
    password.zeroize();
    credentials
}

/// Finds the token among the Authorization headers, the query (the part of
/// the target after `?`) and the form (empty when there is none). Exactly one
/// of them may carry it, once.
pub(crate) fn find_token<'a>(
    authorizations: impl IntoIterator<Item = &'a str>,
    query: &'a [u8],
    form: &'a [u8],
) -> TokenInput<'a> {
    let mut found = None;
    let mut count = 0;
    for authorization in authorizations {
        let (scheme, token) = split_scheme(authorization);
        if scheme.eq_ignore_ascii_case("bearer") {
            count += 1;
            found = Some(Cow::Borrowed(token));
        }
    }
    // A `+` pasted raw into a URL or a form arrives as a space, and base64 has
    // no spaces, so each space is turned back into the `+` it was.
    for encoded in [query, form] {
        for value in fields_named(encoded, &TOKEN_FIELDS) {
            count += 1;
            found = Some(match value {
                Cow::Borrowed(value) if !value.contains(' ') => Cow::Borrowed(value),
                value => Cow::Owned(value.replace(' ', "+")),
            });
        }
    }
    match (count, found) {
        (1, Some(token)) => TokenInput::One(token),
        (0, _) | (_, None) => TokenInput::Missing,
        _ => TokenInput::Several,
    }
}

/// The values of the fields named one of `names` in `encoded`, an
/// `application/x-www-form-urlencoded` text (a query or a form body),
/// decoded. Invalid UTF-8 becomes U+FFFD, which matches no user and no token.
fn fields_named<'a>(
    encoded: &'a [u8],
    names: &'a [&'a str],
) -> impl Iterator<Item = Cow<'a, str>> + 'a {
    url::form_urlencoded::parse(encoded)
        .filter(move |(name, _)| names.contains(&name.as_ref()))
        .map(|(_, value)| value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use testkit::data::{MAGIGO_BASIC, basic};

    fn credentials(user: &str, password: &str) -> Credentials {
        Credentials::new(user, password)
    }

    #[test]
    fn basic_credentials_ok() {
        assert_eq!(
            basic_credentials(MAGIGO_BASIC),
            Some(credentials("magigo", "123456"))
        );
    }

    #[test]
    fn basic_credentials_scheme_in_any_case() {
        assert_eq!(
            basic_credentials(&MAGIGO_BASIC.replace("Basic", "bAsIc")),
            Some(credentials("magigo", "123456"))
        );
    }

    #[test]
    fn basic_credentials_password_with_colons() {
        assert_eq!(
            basic_credentials(&basic("magigo:a:b:c")),
            Some(credentials("magigo", "a:b:c"))
        );
    }

    #[test]
    fn basic_credentials_empty_password() {
        assert_eq!(
            basic_credentials(&basic("magigo:")),
            Some(credentials("magigo", ""))
        );
    }

    #[test]
    fn basic_credentials_utf8() {
        assert_eq!(
            basic_credentials(&basic("josé:mot de passe€")),
            Some(credentials("josé", "mot de passe€"))
        );
    }

    #[test]
    fn basic_credentials_no_colon() {
        assert_eq!(basic_credentials(&basic("magigo")), None);
    }

    #[test]
    fn basic_credentials_bad_base64() {
        assert_eq!(basic_credentials("Basic %%%"), None);
    }

    #[test]
    fn basic_credentials_not_utf8() {
        let header = format!("Basic {}", STANDARD.encode(b"\xff:\xfe"));
        assert_eq!(basic_credentials(&header), None);
    }

    #[test]
    fn basic_credentials_other_scheme() {
        assert_eq!(
            basic_credentials(&MAGIGO_BASIC.replace("Basic", "Bearer")),
            None
        );
    }

    #[test]
    fn basic_credentials_scheme_only() {
        assert_eq!(basic_credentials("Basic"), None);
        assert_eq!(basic_credentials(""), None);
    }

    #[test]
    fn find_credentials_none() {
        assert_eq!(find_credentials([], b"", b""), CredentialsInput::Missing);
    }

    #[test]
    fn find_credentials_ignores_bearer() {
        assert_eq!(
            find_credentials(["Bearer abc"], b"", b""),
            CredentialsInput::Missing
        );
    }

    #[test]
    fn find_credentials_from_header() {
        assert_eq!(
            find_credentials([basic("magigo:123456").as_str()], b"", b""),
            CredentialsInput::One(credentials("magigo", "123456"))
        );
    }

    #[test]
    fn find_credentials_from_form() {
        let form = b"username=magigo&password=123456";
        assert_eq!(
            find_credentials([], form, b""),
            CredentialsInput::One(credentials("magigo", "123456"))
        );
    }

    #[test]
    fn find_credentials_form_missing_password() {
        assert_eq!(
            find_credentials([], b"username=magigo", b""),
            CredentialsInput::Malformed
        );
    }

    #[test]
    fn find_credentials_form_twice_the_same_field() {
        let form = b"username=a&username=b&password=1";
        assert_eq!(find_credentials([], form, b""), CredentialsInput::Malformed);
    }

    #[test]
    fn find_credentials_malformed_header() {
        assert_eq!(
            find_credentials(["Basic !!!"], b"", b""),
            CredentialsInput::Malformed
        );
    }

    #[test]
    fn find_credentials_header_and_form() {
        // The same ones in both places are one credential (a browser that
        // kept what was typed into its box); different ones are not.
        let form = b"username=magigo&password=123456";
        assert_eq!(
            find_credentials([basic("magigo:123456").as_str()], form, b""),
            CredentialsInput::One(credentials("magigo", "123456"))
        );
        assert_eq!(
            find_credentials([basic("magigo:654321").as_str()], form, b""),
            CredentialsInput::Several
        );
        assert_eq!(
            find_credentials([basic("magigo:123456").as_str(), "Basic !!!"], b"", b""),
            CredentialsInput::Several
        );
    }

    #[test]
    fn find_credentials_from_json() {
        assert_eq!(
            find_credentials([], b"", br#"{"username": "magigo", "password": "12:34"}"#),
            CredentialsInput::One(credentials("magigo", "12:34"))
        );
        for malformed in [
            &br#"{"username": "magigo"}"#[..],
            br#"{"username": "magigo", "password": 123456}"#,
            br#"{"username": "magigo", "password": "x", "extra": 1}"#,
            br#"["magigo", "123456"]"#,
            b"username=magigo&password=123456",
            b"{",
        ] {
            assert_eq!(
                find_credentials([], b"", malformed),
                CredentialsInput::Malformed,
                "{}",
                String::from_utf8_lossy(malformed)
            );
        }
        assert_eq!(
            find_credentials(
                [basic("magigo:123456").as_str()],
                b"",
                br#"{"username": "magigo", "password": "123456"}"#
            ),
            CredentialsInput::One(credentials("magigo", "123456"))
        );
    }

    #[test]
    fn find_token_none() {
        assert_eq!(find_token([], b"", b""), TokenInput::Missing);
    }

    #[test]
    fn find_token_from_bearer() {
        assert_eq!(
            find_token(["Bearer abc="], b"", b""),
            TokenInput::One("abc=".into())
        );
        assert_eq!(
            find_token(["bearer abc="], b"", b""),
            TokenInput::One("abc=".into())
        );
    }

    #[test]
    fn find_token_ignores_basic() {
        assert_eq!(
            find_token([basic("magigo:123456").as_str()], b"", b""),
            TokenInput::Missing
        );
    }

    #[test]
    fn find_token_from_query_with_space_back_to_plus() {
        assert_eq!(
            find_token([], b"token=ab+c%2Bd=", b""),
            TokenInput::One("ab+c+d=".into())
        );
    }

    #[test]
    fn find_token_access_token_name() {
        assert_eq!(
            find_token([], b"access_token=abc", b""),
            TokenInput::One("abc".into())
        );
    }

    #[test]
    fn find_token_from_form() {
        assert_eq!(
            find_token([], b"", b"token=abc"),
            TokenInput::One("abc".into())
        );
    }

    #[test]
    fn find_token_empty_value_is_still_a_token() {
        assert_eq!(find_token([], b"token=", b""), TokenInput::One("".into()));
    }

    #[test]
    fn find_token_twice_in_query() {
        assert_eq!(find_token([], b"token=a&token=a", b""), TokenInput::Several);
    }

    #[test]
    fn find_token_token_and_access_token() {
        assert_eq!(
            find_token([], b"token=a&access_token=a", b""),
            TokenInput::Several
        );
    }

    #[test]
    fn find_token_header_and_query() {
        assert_eq!(
            find_token(["Bearer a"], b"token=a", b""),
            TokenInput::Several
        );
    }

    #[test]
    fn find_token_two_headers() {
        assert_eq!(
            find_token(["Bearer a", "Bearer a"], b"", b""),
            TokenInput::Several
        );
    }

    #[test]
    fn find_token_not_utf8_becomes_u_fffd() {
        assert_eq!(
            find_token([], b"token=%ff", b""),
            TokenInput::One("\u{fffd}".into())
        );
    }

    #[test]
    fn find_token_in_query_and_form() {
        assert_eq!(
            find_token([], b"token=a", b"access_token=a"),
            TokenInput::Several
        );
    }

    #[test]
    fn secret_fields_are_the_token_fields_and_the_password() {
        for name in TOKEN_FIELDS {
            assert!(is_secret_field(name), "{name}");
        }
        assert!(is_secret_field(PASSWORD_FIELD));
        assert!(!is_secret_field(USER_FIELD));
        assert!(!is_secret_field("tokens"));
    }
}
