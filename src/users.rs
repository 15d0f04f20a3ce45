//! The users and their one current token each, in a plain `HashMap`.
//!
//! The tutorial appended every token it issued to a list that only grew. Here each
//! user holds only their newest token: a new login replaces it and a logout
//! removes it, so memory stays flat however many logins happen, and "only the
//! newest token is valid" is simply "the token equals the stored one".

use std::collections::HashMap;
use std::sync::Arc;

use crate::passwords::Hash;
use crate::token;

/// Why a token was refused. The tutorial's `vertify_token` returned -1 and 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenProblem {
    /// Not the user's current token: unknown, replaced, revoked or undecodable.
    Unknown,
    /// The user's current token, but past its expiry.
    Expired,
}

pub struct Users {
    accounts: HashMap<String, Account>,
    token_lifetime_seconds: f64,
    /// What an unknown name's password is checked against, so that the
    /// check costs what a real user's does (zero2prod checks against a
    /// dummy hash for the same reason): the first user's own hash, of the
    /// same kind and cost as theirs. The verdict of that check is never
    /// used: an unknown name is refused whatever it says.
    dummy: Arc<Hash>,
}

struct Account {
    /// The password's hash: the server never keeps a password in clear.
    hash: Arc<Hash>,
    current_token: Option<String>,
}

impl Users {
    /// `accounts` are (name, password hash) pairs; tokens live
    /// `token_lifetime_seconds`.
    pub(crate) fn with_hashes(
        accounts: Vec<(String, Arc<Hash>)>,
        token_lifetime_seconds: f64,
    ) -> Users {
        let dummy = dummy_for(&accounts);
        let accounts = accounts
            .into_iter()
            .map(|(name, hash)| {
                let account = Account {
                    hash,
                    current_token: None,
                };
                (name, account)
            })
            .collect();
        Users {
            accounts,
            token_lifetime_seconds,
            dummy,
        }
    }

    /// `accounts` are (name, password) pairs, each hashed here (Argon2id):
    /// for tests and tools; the server hashes at start (`passwords`).
    pub fn new(accounts: Vec<(String, String)>, token_lifetime_seconds: f64) -> Users {
        Users::with_hashes(hash_all(accounts), token_lifetime_seconds)
    }

    /// The users from now on are `accounts` (a reload of `--users-file`): a
    /// user who is gone, or whose hash changed, loses their token; the
    /// others keep theirs.
    pub fn replace(&mut self, accounts: Vec<(String, Arc<Hash>)>) {
        let mut before = std::mem::take(&mut self.accounts);
        self.dummy = dummy_for(&accounts);
        self.accounts = accounts
            .into_iter()
            .map(|(name, hash)| {
                let current_token = before
                    .remove(&name)
                    .filter(|account| account.hash == hash)
                    .and_then(|account| account.current_token);
                let account = Account {
                    hash,
                    current_token,
                };
                (name, account)
            })
            .collect();
    }

    /// Whether a user of this name exists.
    pub fn has(&self, name: &str) -> bool {
        self.accounts.contains_key(name)
    }

    /// The hash a login for `name` is checked against: the user's, or, for
    /// a name that does not exist, the dummy, so that the check takes the
    /// same time. The flag says whether the user exists.
    pub(crate) fn hash_to_check(&self, name: &str) -> (Arc<Hash>, bool) {
        match self.accounts.get(name) {
            Some(account) => (Arc::clone(&account.hash), true),
            None => (Arc::clone(&self.dummy), false),
        }
    }

    /// Whether `hash` is still `name`'s hash: a reload while a check was under
    /// way may have changed it, or removed the user.
    pub(crate) fn still_has(&self, name: &str, hash: &Arc<Hash>) -> bool {
        self.accounts
            .get(name)
            .is_some_and(|account| account.hash == *hash)
    }

    /// How many users there are.
    pub fn len(&self) -> usize {
        self.accounts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty()
    }

    /// Issues a new token for `name`, whose password was just checked, that
    /// replaces the user's previous one. `None` for a user who is gone.
    pub fn issue_token(&mut self, name: &str, now: f64) -> Option<String> {
        let account = self.accounts.get_mut(name)?;
        let expires_at = now + self.token_lifetime_seconds;
        let new_token = token::encode(name, token::random_part(), expires_at);
        account.current_token = Some(new_token.clone());
        Some(new_token)
    }

    /// Checks the password here, on this thread, and issues a token when it
    /// matches: for tests and tools. The server checks on its hashing pool
    /// (`routes::handle` hands the check over).
    pub fn login(&mut self, name: &str, password: &str, now: f64) -> Option<String> {
        let (hash, exists) = self.hash_to_check(name);
        let matched = hash.verify(password.as_bytes());
        if !(matched && exists) {
            return None;
        }
        self.issue_token(name, now)
    }

    /// Says whose token this is, if it is that user's current token and not
    /// expired. The order is the tutorial's: first "is it the current token",
    /// then "is it expired".
    pub fn check(&self, token: &str, now: f64) -> Result<&str, TokenProblem> {
        self.check_until(token, now).map(|(name, _expires_at)| name)
    }

    /// `check`, and when the token expires (Unix seconds), for the answers
    /// that say so.
    pub(crate) fn check_until(&self, token: &str, now: f64) -> Result<(&str, f64), TokenProblem> {
        let (name, claims) = self.find_current(token)?;
        if claims.expires_at < now {
            return Err(TokenProblem::Expired);
        }
        Ok((name, claims.expires_at))
    }

    /// Revokes the user's current token, expired or not, and says whose it was.
    pub fn logout(&mut self, token: &str) -> Result<String, TokenProblem> {
        let (name, _claims) = self.find_current(token)?;
        let name = name.to_string();
        if let Some(account) = self.accounts.get_mut(&name) {
            account.current_token = None;
        }
        Ok(name)
    }

    /// The user's current token, whatever it is: for tests.
    #[cfg(test)]
    pub(crate) fn check_any(&self, name: &str) -> Option<String> {
        self.accounts.get(name)?.current_token.clone()
    }

    /// Stores `token` as the user's current one, as a login would: for tests
    /// that need a token with a known expiry, like the tutorial's.
    #[cfg(test)]
    pub(crate) fn set_current_token(&mut self, name: &str, token: &str) {
        if let Some(account) = self.accounts.get_mut(name) {
            account.current_token = Some(token.to_string());
        }
    }

    fn find_current(&self, token: &str) -> Result<(&str, token::Claims), TokenProblem> {
        let claims = token::decode(token).ok_or(TokenProblem::Unknown)?;
        let (name, account) = self
            .accounts
            .get_key_value(&claims.user)
            .ok_or(TokenProblem::Unknown)?;
        let current = account.current_token.as_deref().unwrap_or("");
        if !same_secret(token, current) {
            return Err(TokenProblem::Unknown);
        }
        Ok((name, claims))
    }
}

/// Hashes each password (Argon2id, OWASP's parameters); a password that
/// cannot be hashed (none can fail with these parameters) leaves its user
/// out.
pub fn hash_all(accounts: Vec<(String, String)>) -> Vec<(String, Arc<Hash>)> {
    // Argon2's memory, once for them all.
    let mut memory = Vec::new();
    accounts
        .into_iter()
        .filter_map(|(name, password)| {
            let password = zeroize::Zeroizing::new(password);
            let hash = Hash::new_argon2id_in(password.as_bytes(), &mut memory).ok()?;
            Some((name, Arc::new(hash)))
        })
        .collect()
}

/// The hash an unknown name is checked against: the first user's, or, with
/// no users at all, an Argon2id hash with OWASP's parameters of a password
/// nobody knows (made once with `token-server hash-password`; no hash is
/// computed at start for it).
fn dummy_for(accounts: &[(String, Arc<Hash>)]) -> Arc<Hash> {
    const NOBODY: &str = "$argon2id$v=19$m=19456,t=2,p=1$vcfsbxoNkXJbKEI3jmuXfg$vOIjax6s4aK1rSipuqBCIHFjzhh6PdxgYm8tJh3Qe7Q";
    match accounts.first() {
        Some((_, hash)) => Arc::clone(hash),
        None => Arc::new(Hash::Argon2id(NOBODY.to_string())),
    }
}

/// Compares two secrets in time that depends on their lengths only, never on
/// where they first differ, so an attacker cannot find a password or a token one
/// byte at a time by timing the answers. (The length itself may still show.)
fn same_secret(given: &str, expected: &str) -> bool {
    let given = given.as_bytes();
    let expected = expected.as_bytes();
    let mut difference = given.len() ^ expected.len();
    for i in 0..given.len().max(expected.len()) {
        let a = given.get(i).copied().unwrap_or(0);
        let b = expected.get(i).copied().unwrap_or(0);
        difference |= usize::from(a ^ b);
    }
    difference == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use testkit::data::TUTORIAL_TOKEN;

    fn tutorial_users() -> Users {
        Users::new(vec![("magigo".into(), "123456".into())], 7200.0)
    }

    #[test]
    fn tutorial_token_valid_before_expiry() {
        let mut users = tutorial_users();
        users.set_current_token("magigo", TUTORIAL_TOKEN);
        assert_eq!(users.check(TUTORIAL_TOKEN, 1472450500.0), Ok("magigo"));
    }

    #[test]
    fn tutorial_token_valid_at_expiry_instant() {
        let mut users = tutorial_users();
        users.set_current_token("magigo", TUTORIAL_TOKEN);
        assert_eq!(users.check(TUTORIAL_TOKEN, 1472450500.34), Ok("magigo"));
    }

    #[test]
    fn tutorial_token_expired_after_expiry() {
        let mut users = tutorial_users();
        users.set_current_token("magigo", TUTORIAL_TOKEN);
        assert_eq!(
            users.check(TUTORIAL_TOKEN, 1472450501.0),
            Err(TokenProblem::Expired)
        );
    }

    #[test]
    fn tutorial_token_unknown_when_never_issued() {
        let users = tutorial_users();
        assert_eq!(
            users.check(TUTORIAL_TOKEN, 1472450500.0),
            Err(TokenProblem::Unknown)
        );
    }

    #[test]
    fn login_right_password_issues_token_expiring_after_ttl() {
        let mut users = tutorial_users();
        let token = users.login("magigo", "123456", 1000.0).unwrap();
        let claims = token::decode(&token).unwrap();
        assert_eq!(claims.user, "magigo");
        assert_eq!(claims.expires_at, 8200.0);
        assert_eq!(users.check(&token, 1000.0), Ok("magigo"));
    }

    #[test]
    fn login_wrong_password() {
        let mut users = tutorial_users();
        assert_eq!(users.login("magigo", "12345", 1000.0), None);
        assert_eq!(users.login("magigo", "1234567", 1000.0), None);
        assert_eq!(users.login("magigo", "", 1000.0), None);
    }

    #[test]
    fn login_unknown_user() {
        let mut users = tutorial_users();
        assert_eq!(users.login("nobody", "123456", 1000.0), None);
    }

    #[test]
    fn new_login_replaces_previous_token() {
        let mut users = tutorial_users();
        let first = users.login("magigo", "123456", 1000.0).unwrap();
        let second = users.login("magigo", "123456", 1001.0).unwrap();
        assert_ne!(first, second);
        assert_eq!(users.check(&first, 1002.0), Err(TokenProblem::Unknown));
        assert_eq!(users.check(&second, 1002.0), Ok("magigo"));
    }

    #[test]
    fn replaced_token_is_unknown_even_when_expired() {
        // The tutorial checks "current?" before "expired?".
        let mut users = tutorial_users();
        let first = users.login("magigo", "123456", 1000.0).unwrap();
        users.login("magigo", "123456", 1001.0).unwrap();
        assert_eq!(users.check(&first, 99_999.0), Err(TokenProblem::Unknown));
    }

    #[test]
    fn logout_revokes_current_token() {
        let mut users = tutorial_users();
        let token = users.login("magigo", "123456", 1000.0).unwrap();
        assert_eq!(users.logout(&token), Ok("magigo".to_string()));
        assert_eq!(users.check(&token, 1000.0), Err(TokenProblem::Unknown));
        assert_eq!(users.logout(&token), Err(TokenProblem::Unknown));
    }

    #[test]
    fn logout_accepts_expired_current_token() {
        let mut users = tutorial_users();
        users.set_current_token("magigo", TUTORIAL_TOKEN);
        assert_eq!(users.logout(TUTORIAL_TOKEN), Ok("magigo".to_string()));
    }

    #[test]
    fn each_user_keeps_own_token() {
        let mut users = Users::new(
            vec![("a".into(), "1".into()), ("b".into(), "2".into())],
            60.0,
        );
        let token_a = users.login("a", "1", 0.0).unwrap();
        let token_b = users.login("b", "2", 0.0).unwrap();
        assert_eq!(users.check(&token_a, 1.0), Ok("a"));
        assert_eq!(users.check(&token_b, 1.0), Ok("b"));
    }

    #[test]
    fn forged_token_with_right_user_is_unknown() {
        let mut users = tutorial_users();
        users.login("magigo", "123456", 1000.0).unwrap();
        let forged = token::encode("magigo", 0.5, 9_999_999_999.0);
        assert_eq!(users.check(&forged, 1000.0), Err(TokenProblem::Unknown));
    }

    #[test]
    fn a_replacement_keeps_the_tokens_of_users_who_stay_as_they_were() {
        let mut users = Users::new(
            vec![
                ("kept".into(), "1".into()),
                ("changed".into(), "2".into()),
                ("gone".into(), "3".into()),
            ],
            60.0,
        );
        let kept = users.login("kept", "1", 0.0).unwrap();
        let changed = users.login("changed", "2", 0.0).unwrap();
        let gone = users.login("gone", "3", 0.0).unwrap();
        let kept_hash = users.hash_to_check("kept").0;
        let mut replacement = vec![("kept".to_string(), kept_hash)];
        replacement.extend(hash_all(vec![
            ("changed".into(), "new".into()),
            ("new".into(), "4".into()),
        ]));
        users.replace(replacement);
        assert_eq!(users.len(), 3);
        assert_eq!(users.check(&kept, 1.0), Ok("kept"));
        assert_eq!(users.check(&changed, 1.0), Err(TokenProblem::Unknown));
        assert_eq!(users.check(&gone, 1.0), Err(TokenProblem::Unknown));
        assert_eq!(users.login("changed", "2", 1.0), None);
        assert!(users.login("changed", "new", 1.0).is_some());
        assert!(users.login("new", "4", 1.0).is_some());
        assert_eq!(users.login("gone", "3", 1.0), None);
    }

    #[test]
    fn same_secret_cases() {
        assert!(same_secret("123456", "123456"));
        assert!(same_secret("", ""));
        assert!(!same_secret("123456", "123457"));
        assert!(!same_secret("123456", "1234567"));
        assert!(!same_secret("1234567", "123456"));
        assert!(!same_secret("", "123456"));
        // A NUL byte must not pass for "past the end".
        assert!(!same_secret("123456\0", "123456"));
    }
}
