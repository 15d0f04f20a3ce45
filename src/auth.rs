//! Where credentials and tokens come from, each read by one small parser.
//!
//! Login credentials: `Authorization: Basic base64(user:password)` (RFC 7617), or
//! the fields `username` and `password` of a POSTed form. Tokens (RFC 6750):
//! `Authorization: Bearer TOKEN`, the query parameter `token`, or the form field
//! `token`; `access_token`, RFC 6750's own name, is accepted wherever `token` is.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// A user name and password, as the client sent them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub user: String,
    pub password: String,
}

/// What a login request carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialsInput {
    Missing,
    /// Present but unreadable: bad base64, no `:`, not UTF-8, a form with only
    /// one of its two fields.
    Malformed,
    /// Sent in two places at once (Basic header and form, or two headers).
    Several,
    One(Credentials),
}

/// What a `/test` or `/logout` request carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenInput {
    Missing,
    /// Sent in more than one place, or more than once: RFC 6750 allows one.
    Several,
    One(String),
}

/// Splits an Authorization value into its scheme and the rest, trimmed:
/// `"Basic bWFn..."` gives `("Basic", "bWFn...")`.
pub fn split_scheme(authorization: &str) -> (&str, &str) {
    let authorization = authorization.trim();
    match authorization.split_once(|c: char| c.is_ascii_whitespace()) {
        Some((scheme, rest)) => (scheme, rest.trim()),
        None => (authorization, ""),
    }
}

/// Reads `Basic base64(user:password)`. The user is everything before the first
/// `:` and the password everything after it, so a password may hold `:` (the
/// tutorial crashed on that). `None` for another scheme or anything malformed.
pub fn basic_credentials(authorization: &str) -> Option<Credentials> {
    let (scheme, encoded) = split_scheme(authorization);
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = STANDARD.decode(encoded).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some(Credentials {
        user: user.to_string(),
        password: password.to_string(),
    })
}

/// Finds the login credentials among the Authorization headers and the form.
/// Headers of other schemes (a Bearer token, say) are not credentials and are
/// ignored.
pub fn find_credentials(authorizations: &[&str], form: &[(String, String)]) -> CredentialsInput {
    let mut found = Vec::new();
    for authorization in authorizations {
        let (scheme, _) = split_scheme(authorization);
        if scheme.eq_ignore_ascii_case("basic") {
            found.push(basic_credentials(authorization));
        }
    }
    let usernames = field_values(form, &["username"]);
    let passwords = field_values(form, &["password"]);
    if !usernames.is_empty() || !passwords.is_empty() {
        let from_form = match (usernames.as_slice(), passwords.as_slice()) {
            ([user], [password]) => Some(Credentials {
                user: user.to_string(),
                password: password.to_string(),
            }),
            _ => None,
        };
        found.push(from_form);
    }
    match found.as_slice() {
        [] => CredentialsInput::Missing,
        [Some(credentials)] => CredentialsInput::One(credentials.clone()),
        [None] => CredentialsInput::Malformed,
        _ => CredentialsInput::Several,
    }
}

/// Finds the token among the Authorization headers, the query's parameters and
/// the form's fields. Exactly one of them may carry it, once.
pub fn find_token(
    authorizations: &[&str],
    query: &[(String, String)],
    form: &[(String, String)],
) -> TokenInput {
    let mut found: Vec<String> = Vec::new();
    for authorization in authorizations {
        let (scheme, token) = split_scheme(authorization);
        if scheme.eq_ignore_ascii_case("bearer") {
            found.push(token.to_string());
        }
    }
    // A `+` pasted raw into a URL or a form arrives as a space, and base64 has
    // no spaces, so each space is turned back into the `+` it was.
    for fields in [query, form] {
        for value in field_values(fields, &["token", "access_token"]) {
            found.push(value.replace(' ', "+"));
        }
    }
    match found.len() {
        0 => TokenInput::Missing,
        1 => TokenInput::One(found.remove(0)),
        _ => TokenInput::Several,
    }
}

/// Decodes `application/x-www-form-urlencoded` text: a query string or a form
/// body. Invalid UTF-8 becomes U+FFFD, which matches no user and no token.
pub fn decode_fields(encoded: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(encoded)
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect()
}

fn field_values<'a>(fields: &'a [(String, String)], names: &[&str]) -> Vec<&'a str> {
    fields
        .iter()
        .filter(|(name, _)| names.contains(&name.as_str()))
        .map(|(_, value)| value.as_str())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use testkit::data::{MAGIGO_BASIC, basic};

    fn credentials(user: &str, password: &str) -> Credentials {
        Credentials {
            user: user.into(),
            password: password.into(),
        }
    }

    fn fields(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect()
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
        assert_eq!(find_credentials(&[], &[]), CredentialsInput::Missing);
    }

    #[test]
    fn find_credentials_ignores_bearer() {
        assert_eq!(
            find_credentials(&["Bearer abc"], &[]),
            CredentialsInput::Missing
        );
    }

    #[test]
    fn find_credentials_from_header() {
        assert_eq!(
            find_credentials(&[&basic("magigo:123456")], &[]),
            CredentialsInput::One(credentials("magigo", "123456"))
        );
    }

    #[test]
    fn find_credentials_from_form() {
        let form = fields(&[("username", "magigo"), ("password", "123456")]);
        assert_eq!(
            find_credentials(&[], &form),
            CredentialsInput::One(credentials("magigo", "123456"))
        );
    }

    #[test]
    fn find_credentials_form_missing_password() {
        let form = fields(&[("username", "magigo")]);
        assert_eq!(find_credentials(&[], &form), CredentialsInput::Malformed);
    }

    #[test]
    fn find_credentials_form_twice_the_same_field() {
        let form = fields(&[("username", "a"), ("username", "b"), ("password", "1")]);
        assert_eq!(find_credentials(&[], &form), CredentialsInput::Malformed);
    }

    #[test]
    fn find_credentials_malformed_header() {
        assert_eq!(
            find_credentials(&["Basic !!!"], &[]),
            CredentialsInput::Malformed
        );
    }

    #[test]
    fn find_credentials_header_and_form() {
        let form = fields(&[("username", "magigo"), ("password", "123456")]);
        assert_eq!(
            find_credentials(&[&basic("magigo:123456")], &form),
            CredentialsInput::Several
        );
    }

    #[test]
    fn find_token_none() {
        assert_eq!(find_token(&[], &[], &[]), TokenInput::Missing);
    }

    #[test]
    fn find_token_from_bearer() {
        assert_eq!(
            find_token(&["Bearer abc="], &[], &[]),
            TokenInput::One("abc=".into())
        );
        assert_eq!(
            find_token(&["bearer abc="], &[], &[]),
            TokenInput::One("abc=".into())
        );
    }

    #[test]
    fn find_token_ignores_basic() {
        assert_eq!(
            find_token(&[&basic("magigo:123456")], &[], &[]),
            TokenInput::Missing
        );
    }

    #[test]
    fn find_token_from_query_with_space_back_to_plus() {
        let query = decode_fields(b"token=ab+c%2Bd=");
        assert_eq!(
            find_token(&[], &query, &[]),
            TokenInput::One("ab+c+d=".into())
        );
    }

    #[test]
    fn find_token_access_token_name() {
        let query = decode_fields(b"access_token=abc");
        assert_eq!(find_token(&[], &query, &[]), TokenInput::One("abc".into()));
    }

    #[test]
    fn find_token_from_form() {
        let form = fields(&[("token", "abc")]);
        assert_eq!(find_token(&[], &[], &form), TokenInput::One("abc".into()));
    }

    #[test]
    fn find_token_empty_value_is_still_a_token() {
        let query = decode_fields(b"token=");
        assert_eq!(find_token(&[], &query, &[]), TokenInput::One("".into()));
    }

    #[test]
    fn find_token_twice_in_query() {
        let query = decode_fields(b"token=a&token=a");
        assert_eq!(find_token(&[], &query, &[]), TokenInput::Several);
    }

    #[test]
    fn find_token_token_and_access_token() {
        let query = decode_fields(b"token=a&access_token=a");
        assert_eq!(find_token(&[], &query, &[]), TokenInput::Several);
    }

    #[test]
    fn find_token_header_and_query() {
        let query = decode_fields(b"token=a");
        assert_eq!(find_token(&["Bearer a"], &query, &[]), TokenInput::Several);
    }

    #[test]
    fn find_token_two_headers() {
        assert_eq!(
            find_token(&["Bearer a", "Bearer a"], &[], &[]),
            TokenInput::Several
        );
    }

    #[test]
    fn decode_fields_not_utf8() {
        assert_eq!(
            decode_fields(b"token=%ff"),
            vec![("token".to_string(), "\u{fffd}".to_string())]
        );
    }
}
