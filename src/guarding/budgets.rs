//! Guessing slowed down: failed attempts are counted per client address
//! (IPv6 per /64, as one host gets a whole /64), in buckets that refill over
//! a minute, as Django REST framework's throttles, django-axes and fail2ban
//! do. With N = `--max-failures` (default 5; 0 turns it off):
//!
//! - a user name, from one address: N failed logins, then one more every
//!   60/N s (OWASP: throttle per account);
//! - one address, all user names together: 4N failed logins a minute (per
//!   source, so that trying many names is no way around it);
//! - one address: 12N failed token checks a minute.
//!
//! A bucket holds the failures still allowed; each failure takes one, and
//! time puts them back, up to the bucket's size. Past a budget, the request
//! is answered 429 with `Retry-After` before its credentials or token are
//! looked at. A successful login refills that name's bucket for that address
//! only, so a user who mistyped is not held up, while the address's budget
//! for all names stays spent (a valid account is no way to reset it).
//!
//! The table takes bounded memory: a bucket is full again a minute after its
//! last failure at the latest, and is then forgotten; and the table holds at
//! most `MAX_ENTRIES`, the entries whose last failure is oldest going first,
//! but never one that still refuses (a guesser is not freed by others'
//! failures). The buckets are kept in the order they last failed, so each
//! failure costs the same small time however full the table is: no sweep of
//! the whole table, ever.
//!
//! And for each user name, one more budget shared by all the addresses that
//! name does not know (`many_addresses`): the budgets per address stop one
//! machine, not a botnet.
//!
//! Everything here is a pure function of (state, address, now), for tests
//! with any clock; it lives with `Users` in the request loop, which alone
//! touches it, so it needs no lock.

use std::collections::hash_map::RandomState;
use std::collections::{HashMap, VecDeque};
use std::hash::BuildHasher;
use std::net::IpAddr;

use crate::guarding::many_addresses::ManyAddresses;

/// The most entries the table holds.
pub const MAX_ENTRIES: usize = 100_000;

/// Every bucket refills whole in this long.
const REFILL_SECONDS: f64 = 60.0;

/// The failed attempts of each client address.
pub struct Budgets {
    /// N; 0: nothing is counted, nothing refused.
    max_failures: u32,
    buckets: HashMap<Key, Bucket>,
    /// Every failure's bucket and time, oldest first: the buckets in the
    /// order they last failed. An entry whose bucket failed again since, or
    /// is gone, is stale and skipped.
    order: VecDeque<(Key, f64)>,
    /// The budget of unknown addresses for each name, and the addresses
    /// each name knows.
    many: ManyAddresses,
    /// Names are kept as keyed hashes (the key is random for each server):
    /// an entry's size does not grow with a name's length, and nobody can
    /// pick names that collide.
    names: RandomState,
}

/// Where attempts come from: an IPv4 address, or an IPv6 /64.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    V4([u8; 4]),
    V6([u8; 8]),
}

/// Which budget a bucket is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Budget {
    /// Failed logins for one user name.
    LoginsForName,
    /// Failed logins, all names together.
    Logins,
    /// Failed token checks.
    TokenChecks,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    source: Source,
    budget: Budget,
    /// The user name's hash, for `LoginsForName`; 0 for the others.
    name: u64,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    /// Failures still allowed just after the last one.
    left: f64,
    /// When the last failure was (Unix seconds).
    failed_at: f64,
}

/// A budget that is spent: what the 429 says and the log says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Spent {
    /// Whole seconds until an attempt is allowed again, at least 1.
    pub retry_after: u64,
    /// For the log: `too many failed logins for magigo from 127.0.0.1`.
    pub reason: String,
}

impl Source {
    /// An address's source: IPv4 as it is (an IPv4-mapped IPv6 address too),
    /// IPv6 by its first 64 bits.
    pub fn of(address: IpAddr) -> Source {
        match address {
            IpAddr::V4(v4) => Source::V4(v4.octets()),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => Source::V4(v4.octets()),
                None => {
                    let mut prefix = [0u8; 8];
                    prefix.copy_from_slice(&v6.octets()[..8]);
                    Source::V6(prefix)
                }
            },
        }
    }
}

impl std::fmt::Display for Source {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::V4(octets) => write!(formatter, "{}", std::net::Ipv4Addr::from(*octets)),
            Source::V6(prefix) => {
                let mut octets = [0u8; 16];
                octets[..8].copy_from_slice(prefix);
                write!(formatter, "{}/64", std::net::Ipv6Addr::from(octets))
            }
        }
    }
}

impl Budgets {
    /// Budgets of `max_failures` (N) failed logins a name; 0 turns them off.
    pub fn new(max_failures: u32) -> Budgets {
        Budgets {
            max_failures,
            buckets: HashMap::new(),
            order: VecDeque::new(),
            many: ManyAddresses::new(max_failures),
            names: RandomState::new(),
        }
    }

    /// How many entries the table holds now.
    pub fn len(&self) -> usize {
        self.buckets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buckets.is_empty()
    }

    /// `Err` when `address` may try no login now, whatever the name.
    pub(crate) fn check_logins(&self, address: IpAddr, now: f64) -> Result<(), Spent> {
        let key = self.key(address, Budget::Logins, None);
        self.check(key, now).map_err(|retry_after| Spent {
            retry_after,
            reason: format!("too many failed logins from {}", key.source),
        })
    }

    /// `Err` when `address` may not try a login for `name` now. The log
    /// shows the name as `shown` (see `routes::shown_name`).
    pub(crate) fn check_login(
        &self,
        address: IpAddr,
        name: &str,
        shown: &str,
        now: f64,
    ) -> Result<(), Spent> {
        let key = self.key(address, Budget::LoginsForName, Some(name));
        self.check(key, now).map_err(|retry_after| Spent {
            retry_after,
            reason: format!("too many failed logins for {shown} from {}", key.source),
        })
    }

    /// `Err` when a login for `name` may not be tried from `address` now
    /// because `address` is unknown for `name` and the name's budget for
    /// unknown addresses is spent (see `many_addresses`).
    pub(crate) fn check_unknown(
        &self,
        address: IpAddr,
        name: &str,
        shown: &str,
        now: f64,
    ) -> Result<(), Spent> {
        let name_hash = self.names.hash_one(name);
        self.many
            .check(name_hash, Source::of(address), now)
            .map_err(|retry_after| Spent {
                retry_after,
                reason: format!("too many failed logins for {shown} from unknown addresses"),
            })
    }

    /// `Err` when `address` may check no token now.
    pub(crate) fn check_tokens(&self, address: IpAddr, now: f64) -> Result<(), Spent> {
        let key = self.key(address, Budget::TokenChecks, None);
        self.check(key, now).map_err(|retry_after| Spent {
            retry_after,
            reason: format!("too many failed token checks from {}", key.source),
        })
    }

    /// A login for `name` from `address` failed: it counts against that
    /// name's budget and the address's.
    pub(crate) fn login_failed(&mut self, address: IpAddr, name: &str, now: f64) {
        if self.max_failures == 0 {
            return;
        }
        self.fail(self.key(address, Budget::LoginsForName, Some(name)), now);
        self.fail(self.key(address, Budget::Logins, None), now);
        let name_hash = self.names.hash_one(name);
        self.many.failed(name_hash, Source::of(address), now);
    }

    /// A login for `name` from `address` succeeded: that name's budget for
    /// that address is whole again (the address's for all names is not).
    pub(crate) fn login_succeeded(&mut self, address: IpAddr, name: &str) {
        let key = self.key(address, Budget::LoginsForName, Some(name));
        self.buckets.remove(&key);
    }

    /// A password check for a login for `name` from `address` passed: it
    /// was counted as a failure while it was under way (`login_failed`), so
    /// the address's budget for all names gets that one back (and the name's
    /// for unknown addresses), that name's budget for that address is whole
    /// again, and the address is known for the name from now on.
    pub(crate) fn login_check_passed(&mut self, address: IpAddr, name: &str, now: f64) {
        if self.max_failures == 0 {
            return;
        }
        self.login_succeeded(address, name);
        let name_hash = self.names.hash_one(name);
        self.many.succeeded(name_hash, Source::of(address), now);
        let key = self.key(address, Budget::Logins, None);
        let size = self.size(Budget::Logins);
        if let Some(bucket) = self.buckets.get_mut(&key) {
            bucket.left = (bucket.left + 1.0).min(size);
        }
    }

    /// A token check from `address` failed (a 401 of `/test` or `/logout`).
    pub fn token_check_failed(&mut self, address: IpAddr, now: f64) {
        self.fail(self.key(address, Budget::TokenChecks, None), now);
    }

    fn key(&self, address: IpAddr, budget: Budget, name: Option<&str>) -> Key {
        Key {
            source: Source::of(address),
            budget,
            name: name.map_or(0, |name| self.names.hash_one(name)),
        }
    }

    /// How many failures a bucket of `budget` holds, full.
    fn size(&self, budget: Budget) -> f64 {
        let n = f64::from(self.max_failures);
        match budget {
            Budget::LoginsForName => n,
            Budget::Logins => 4.0 * n,
            Budget::TokenChecks => 12.0 * n,
        }
    }

    /// The failures `key`'s bucket allows at `now`.
    fn left(&self, key: &Key, now: f64) -> f64 {
        let size = self.size(key.budget);
        match self.buckets.get(key) {
            None => size,
            Some(bucket) => {
                let refilled = (now - bucket.failed_at).max(0.0) * size / REFILL_SECONDS;
                (bucket.left + refilled).min(size)
            }
        }
    }

    /// `Err(seconds until one more attempt is allowed)` when the bucket
    /// holds less than one.
    fn check(&self, key: Key, now: f64) -> Result<(), u64> {
        if self.max_failures == 0 {
            return Ok(());
        }
        let left = self.left(&key, now);
        if left >= 1.0 {
            return Ok(());
        }
        let per_second = self.size(key.budget) / REFILL_SECONDS;
        let wait = ((1.0 - left) / per_second).ceil();
        // At least 1 (RFC 6585 4), and a whole number of seconds.
        Err((wait as u64).max(1))
    }

    fn fail(&mut self, key: Key, now: f64) {
        if self.max_failures == 0 {
            return;
        }
        let left = (self.left(&key, now) - 1.0).max(0.0);
        self.forget_refilled(now);
        if self.buckets.len() >= MAX_ENTRIES
            && !self.buckets.contains_key(&key)
            && !self.make_room(now)
        {
            // Every bucket tried still refuses: this failure goes uncounted
            // rather than free a guesser (it takes a table full of refused
            // addresses, each of which spent its budget).
            return;
        }
        self.buckets.insert(
            key,
            Bucket {
                left,
                failed_at: now,
            },
        );
        self.order.push_back((key, now));
        // Stale entries are dropped once they are half the list: each
        // failure pays for one, on average.
        if self.order.len() > 2 * self.buckets.len() + 1024 {
            let buckets = &self.buckets;
            self.order.retain(|(key, at)| is_current(buckets, key, *at));
        }
    }

    /// Forgets the buckets whose last failure is a minute old, from the
    /// front of the order: they are full again, as good as none.
    fn forget_refilled(&mut self, now: f64) {
        while let Some(&(key, at)) = self.order.front() {
            if now - at < REFILL_SECONDS {
                break;
            }
            self.order.pop_front();
            if is_current(&self.buckets, &key, at) {
                self.buckets.remove(&key);
            }
        }
        if self.buckets.capacity() > 4 * self.buckets.len().max(1024) {
            self.buckets.shrink_to(2 * self.buckets.len());
            self.order.shrink_to(2 * self.order.len());
        }
    }

    /// At the cap: forgets the least recently failed bucket that does not
    /// refuse now. One that still refuses keeps its place (at the back);
    /// after `MAKE_ROOM_TRIES` of those, `false`: no room is made.
    fn make_room(&mut self, now: f64) -> bool {
        for _ in 0..MAKE_ROOM_TRIES {
            let Some((key, at)) = self.order.pop_front() else {
                return false;
            };
            if !is_current(&self.buckets, &key, at) {
                continue;
            }
            if self.left(&key, now) >= 1.0 {
                self.buckets.remove(&key);
                return true;
            }
            self.order.push_back((key, at));
        }
        false
    }
}

/// Whether the order's entry `(key, at)` is its bucket's last failure.
fn is_current(buckets: &HashMap<Key, Bucket>, key: &Key, at: f64) -> bool {
    buckets
        .get(key)
        .is_some_and(|bucket| bucket.failed_at == at)
}

/// How many buckets making room looks at, at most, for one that does not
/// refuse.
const MAKE_ROOM_TRIES: usize = 64;

#[cfg(test)]
impl Budgets {
    /// Whether `address` has a bucket of failed token checks.
    fn has_token_bucket(&self, address: IpAddr) -> bool {
        self.buckets
            .contains_key(&self.key(address, Budget::TokenChecks, None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: f64 = 1_800_000_000.0;

    fn address(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn n_failed_logins_then_one_more_every_60_over_n_seconds() {
        let mut budgets = Budgets::new(5);
        let client = address("192.0.2.1");
        for _ in 0..5 {
            assert_eq!(budgets.check_login(client, "magigo", "magigo", NOW), Ok(()));
            budgets.login_failed(client, "magigo", NOW);
        }
        let spent = budgets
            .check_login(client, "magigo", "magigo", NOW)
            .unwrap_err();
        assert_eq!(spent.retry_after, 12);
        assert_eq!(
            spent.reason,
            "too many failed logins for magigo from 192.0.2.1"
        );
        assert!(
            budgets
                .check_login(client, "magigo", "magigo", NOW + 11.9)
                .is_err()
        );
        assert_eq!(
            budgets
                .check_login(client, "magigo", "magigo", NOW + 11.9)
                .unwrap_err()
                .retry_after,
            1
        );
        assert_eq!(
            budgets.check_login(client, "magigo", "magigo", NOW + 12.0),
            Ok(())
        );
        budgets.login_failed(client, "magigo", NOW + 12.0);
        assert_eq!(
            budgets
                .check_login(client, "magigo", "magigo", NOW + 12.0)
                .unwrap_err()
                .retry_after,
            12
        );
        // A minute after the last failure, the whole budget is back.
        let later = NOW + 12.0 + 60.0;
        for _ in 0..5 {
            assert_eq!(
                budgets.check_login(client, "magigo", "magigo", later),
                Ok(())
            );
            budgets.login_failed(client, "magigo", later);
        }
        assert!(
            budgets
                .check_login(client, "magigo", "magigo", later)
                .is_err()
        );
    }

    #[test]
    fn an_unknown_name_is_counted_as_a_real_one() {
        let mut budgets = Budgets::new(5);
        let client = address("192.0.2.1");
        for name in ["magigo", "nobody"] {
            for _ in 0..5 {
                budgets.login_failed(client, name, NOW);
            }
            let spent = budgets.check_login(client, name, name, NOW).unwrap_err();
            assert_eq!(spent.retry_after, 12, "{name}");
        }
    }

    #[test]
    fn all_names_together_get_4n_a_minute() {
        let mut budgets = Budgets::new(5);
        let client = address("192.0.2.1");
        for index in 0..20 {
            let name = format!("user{index}");
            assert_eq!(budgets.check_logins(client, NOW), Ok(()));
            assert_eq!(budgets.check_login(client, &name, &name, NOW), Ok(()));
            budgets.login_failed(client, &name, NOW);
        }
        let spent = budgets.check_logins(client, NOW).unwrap_err();
        // 20 a minute: one every 3 s.
        assert_eq!(spent.retry_after, 3);
        assert_eq!(spent.reason, "too many failed logins from 192.0.2.1");
        // Another address is not held up.
        assert_eq!(budgets.check_logins(address("192.0.2.2"), NOW), Ok(()));
        assert_eq!(budgets.check_logins(client, NOW + 3.0), Ok(()));
    }

    #[test]
    fn a_success_refills_that_name_at_that_address_only() {
        let mut budgets = Budgets::new(5);
        let (client, other) = (address("192.0.2.1"), address("192.0.2.2"));
        for _ in 0..5 {
            budgets.login_failed(client, "magigo", NOW);
            budgets.login_failed(other, "magigo", NOW);
            budgets.login_failed(client, "ann", NOW);
        }
        budgets.login_succeeded(client, "magigo");
        assert_eq!(budgets.check_login(client, "magigo", "magigo", NOW), Ok(()));
        assert!(budgets.check_login(other, "magigo", "magigo", NOW).is_err());
        assert!(budgets.check_login(client, "ann", "ann", NOW).is_err());
        // The address's budget for all names stays spent: 10 of 20.
        for _ in 0..10 {
            budgets.login_failed(client, "x", NOW);
        }
        assert!(budgets.check_logins(client, NOW).is_err());
    }

    #[test]
    fn failed_token_checks_get_12n_a_minute() {
        let mut budgets = Budgets::new(5);
        let client = address("192.0.2.1");
        for _ in 0..60 {
            assert_eq!(budgets.check_tokens(client, NOW), Ok(()));
            budgets.token_check_failed(client, NOW);
        }
        let spent = budgets.check_tokens(client, NOW).unwrap_err();
        assert_eq!(spent.retry_after, 1);
        assert_eq!(spent.reason, "too many failed token checks from 192.0.2.1");
        assert_eq!(budgets.check_tokens(client, NOW + 1.0), Ok(()));
    }

    #[test]
    fn zero_turns_it_off() {
        let mut budgets = Budgets::new(0);
        let client = address("192.0.2.1");
        for _ in 0..1000 {
            budgets.login_failed(client, "magigo", NOW);
            budgets.token_check_failed(client, NOW);
        }
        assert_eq!(budgets.check_login(client, "magigo", "magigo", NOW), Ok(()));
        assert_eq!(budgets.check_logins(client, NOW), Ok(()));
        assert_eq!(budgets.check_tokens(client, NOW), Ok(()));
        assert!(budgets.is_empty());
    }

    #[test]
    fn ipv6_is_counted_per_64() {
        let mut budgets = Budgets::new(1);
        budgets.login_failed(address("2001:db8:1:2::1"), "magigo", NOW);
        let spent = budgets
            .check_login(address("2001:db8:1:2:ffff::9"), "magigo", "magigo", NOW)
            .unwrap_err();
        assert_eq!(
            spent.reason,
            "too many failed logins for magigo from 2001:db8:1:2::/64"
        );
        assert_eq!(
            budgets.check_login(address("2001:db8:1:3::1"), "magigo", "magigo", NOW),
            Ok(())
        );
        // An IPv4-mapped address is its IPv4 address.
        budgets.login_failed(address("::ffff:192.0.2.7"), "ann", NOW);
        assert!(
            budgets
                .check_login(address("192.0.2.7"), "ann", "ann", NOW)
                .is_err()
        );
    }

    #[test]
    fn full_buckets_are_forgotten() {
        let mut budgets = Budgets::new(5);
        for index in 0..1000u32 {
            let client = IpAddr::from(index.to_be_bytes());
            budgets.login_failed(client, "magigo", NOW);
        }
        // A name's bucket and the address's for each.
        assert_eq!(budgets.len(), 2000);
        // A minute later, the next failure sweeps the full ones away.
        budgets.token_check_failed(address("192.0.2.1"), NOW + 60.0);
        assert_eq!(budgets.len(), 1);
    }

    #[test]
    fn at_the_cap_the_least_recently_failed_go_first() {
        let mut budgets = Budgets::new(5);
        let clients: Vec<IpAddr> = (0..MAX_ENTRIES as u32 + 10)
            .map(|index| IpAddr::from((index + 1).to_be_bytes()))
            .collect();
        for (index, client) in clients.iter().enumerate() {
            budgets.token_check_failed(*client, NOW + index as f64 * 1e-5);
        }
        // One goes for each that comes, the least recently failed first.
        assert_eq!(budgets.len(), MAX_ENTRIES);
        assert!(!budgets.has_token_bucket(clients[0]));
        assert!(!budgets.has_token_bucket(clients[9]));
        assert!(budgets.has_token_bucket(clients[10]));
        assert!(budgets.has_token_bucket(clients[MAX_ENTRIES / 2]));
        assert!(budgets.has_token_bucket(*clients.last().unwrap()));
    }

    #[test]
    fn making_room_never_frees_an_address_that_is_still_refused() {
        let mut budgets = Budgets::new(5);
        let guesser = address("192.0.2.1");
        for _ in 0..5 {
            budgets.login_failed(guesser, "magigo", NOW);
        }
        assert!(
            budgets
                .check_login(guesser, "magigo", "magigo", NOW)
                .is_err()
        );
        // Others fail on token checks until the table is full, and beyond.
        for index in 0..MAX_ENTRIES as u32 + 1000 {
            let client = IpAddr::from((index + 0x0a00_0000).to_be_bytes());
            budgets.token_check_failed(client, NOW + 1.0);
        }
        assert!(budgets.len() <= MAX_ENTRIES);
        let refused = budgets.check_login(guesser, "magigo", "magigo", NOW + 1.0);
        assert!(refused.is_err(), "{refused:?}");
    }
}
