//! Guessing from many addresses. The budgets per address (`budgets`) stop
//! one machine, not many: an attacker with a botnet, or with an IPv6 /48
//! (65,536 /64s), gets N guesses per user name from each address. So each
//! user name also has one budget for all the addresses it does not know, as
//! OWASP's "device cookies" scheme has for clients without a cookie (here an
//! address stands for the device, since curl and scripts keep no cookies):
//!
//! - an address (an IPv6 /64) is **known** for a user once a login as that
//!   user succeeded from it, for 30 days after the last one; known addresses
//!   keep only their own budgets, so an attack from elsewhere never locks the
//!   real user out where they usually log in;
//! - **unknown** addresses, all together, get 4N failed logins per user name
//!   an hour (20 with the default), refilled evenly; past it, a login for that
//!   name from any unknown address is refused before its password is looked
//!   at, the same for a name that does not exist as for one that does.
//!
//! Both tables are bounded (`MAX_KNOWN`, `MAX_NAMES`) and making room is no
//! way to free a name under attack: the names whose budgets are closest to
//! full go first, so an attacker who fails on many other names to push one
//! out must spend more on each of them than on the one they want. Everything
//! is a pure function of (state, address, name, now), owned by the request
//! loop: no lock.

use std::collections::{BTreeSet, HashMap, VecDeque};

use crate::guarding::budgets::Source;

/// The most (user name, address) pairs known at once.
pub const MAX_KNOWN: usize = 100_000;
/// The most user names with failures from unknown addresses at once.
pub const MAX_NAMES: usize = 100_000;
/// How long an address stays known after a successful login from it.
pub(crate) const KNOWN_FOR_SECONDS: f64 = 30.0 * 86_400.0;
/// The budget of unknown addresses refills whole in this long.
const REFILL_SECONDS: f64 = 3600.0;

/// A user name, as `budgets` keeps it: a keyed hash.
pub(crate) type NameHash = u64;

pub struct ManyAddresses {
    /// 4N: failed logins a name may have from unknown addresses an hour;
    /// 0: off.
    size: f64,
    /// (name, address) -> the time of its last successful login.
    known: HashMap<(NameHash, Source), f64>,
    /// The known pairs in the order of their last success, oldest first;
    /// an entry whose pair succeeded again since is stale and skipped.
    known_order: VecDeque<((NameHash, Source), f64)>,
    /// A name's budget for unknown addresses: what was left just after its
    /// last failure, and when that was.
    names: HashMap<NameHash, (f64, f64)>,
    /// The same names by when each budget will be full again, soonest
    /// first: those go first when room is needed, and once full they are
    /// forgotten. (A budget refills at the same rate for every name, so that
    /// order does not change with time.)
    by_full_at: BTreeSet<(u64, NameHash)>,
}

impl ManyAddresses {
    /// With N = `max_failures`; 0 turns it off.
    pub fn new(max_failures: u32) -> ManyAddresses {
        ManyAddresses {
            size: 4.0 * f64::from(max_failures),
            known: HashMap::new(),
            known_order: VecDeque::new(),
            names: HashMap::new(),
            by_full_at: BTreeSet::new(),
        }
    }

    /// Whether `source` is known for `name` at `now`.
    pub(crate) fn is_known(&self, name: NameHash, source: Source, now: f64) -> bool {
        self.known
            .get(&(name, source))
            .is_some_and(|&succeeded_at| now - succeeded_at < KNOWN_FOR_SECONDS)
    }

    /// `Err(seconds until one more attempt is allowed)` when a login for
    /// `name` from `source`, an unknown address, may not be tried now.
    pub fn check(&self, name: NameHash, source: Source, now: f64) -> Result<(), u64> {
        if self.size == 0.0 || self.is_known(name, source, now) {
            return Ok(());
        }
        let left = self.left(name, now);
        if left >= 1.0 {
            return Ok(());
        }
        let wait = ((1.0 - left) / self.rate()).ceil();
        Err((wait as u64).max(1))
    }

    /// A login for `name` from `source` failed (or its check is under way):
    /// from an unknown address, it takes one from the name's budget.
    pub fn failed(&mut self, name: NameHash, source: Source, now: f64) {
        if self.size == 0.0 || self.is_known(name, source, now) {
            return;
        }
        let left = (self.left(name, now) - 1.0).max(0.0);
        self.forget_full(now);
        if !self.names.contains_key(&name) && self.names.len() >= MAX_NAMES {
            self.make_room(now, left);
            if self.names.len() >= MAX_NAMES {
                return;
            }
        }
        self.set(name, left, now);
    }

    /// A login for `name` from `source` succeeded: the failure its check
    /// counted is given back, and the address is known from now on.
    pub fn succeeded(&mut self, name: NameHash, source: Source, now: f64) {
        if self.size == 0.0 {
            return;
        }
        if !self.is_known(name, source, now)
            && let Some(&(left, failed_at)) = self.names.get(&name)
        {
            let given_back = (left + 1.0).min(self.size);
            self.set(name, given_back, failed_at);
        }
        self.forget_old_known(now);
        let key = (name, source);
        if !self.known.contains_key(&key) && self.known.len() >= MAX_KNOWN {
            // The pair whose last success is oldest goes first.
            while let Some((oldest, at)) = self.known_order.pop_front() {
                if self.known.get(&oldest) == Some(&at) {
                    self.known.remove(&oldest);
                    break;
                }
            }
        }
        self.known.insert(key, now);
        self.known_order.push_back((key, now));
        if self.known_order.len() > 2 * self.known.len() + 1024 {
            let known = &self.known;
            self.known_order
                .retain(|(key, at)| known.get(key) == Some(at));
        }
    }

    /// How many names have failures from unknown addresses, and how many
    /// (name, address) pairs are known.
    pub fn len(&self) -> (usize, usize) {
        (self.names.len(), self.known.len())
    }

    fn rate(&self) -> f64 {
        self.size / REFILL_SECONDS
    }

    /// The failures `name`'s budget allows at `now`.
    fn left(&self, name: NameHash, now: f64) -> f64 {
        match self.names.get(&name) {
            None => self.size,
            Some(&(left, failed_at)) => {
                (left + (now - failed_at).max(0.0) * self.rate()).min(self.size)
            }
        }
    }

    /// When a budget with `left` at `at` is full again.
    fn full_at(&self, left: f64, at: f64) -> f64 {
        at + (self.size - left) / self.rate()
    }

    fn set(&mut self, name: NameHash, left: f64, at: f64) {
        if let Some((old_left, old_at)) = self.names.insert(name, (left, at)) {
            let old = self.full_at(old_left, old_at);
            self.by_full_at.remove(&(order_key(old), name));
        }
        self.by_full_at
            .insert((order_key(self.full_at(left, at)), name));
    }

    /// Forgets the names whose budgets are full again.
    fn forget_full(&mut self, now: f64) {
        while let Some(&(full_at, name)) = self.by_full_at.first() {
            if f64::from_bits(full_at) > now {
                break;
            }
            self.by_full_at.pop_first();
            self.names.remove(&name);
        }
    }

    /// At the cap: forgets the name whose budget is closest to full, if it
    /// is fuller than `incoming`'s would be (otherwise the newcomer is the
    /// one not counted, and the names under attack stay).
    fn make_room(&mut self, now: f64, incoming: f64) {
        let Some(&(_, name)) = self.by_full_at.first() else {
            return;
        };
        if self.left(name, now) >= incoming {
            self.by_full_at.pop_first();
            self.names.remove(&name);
        }
    }

    /// Forgets the pairs whose last success is 30 days old.
    fn forget_old_known(&mut self, now: f64) {
        while let Some(&(key, at)) = self.known_order.front() {
            if now - at < KNOWN_FOR_SECONDS {
                break;
            }
            self.known_order.pop_front();
            if self.known.get(&key) == Some(&at) {
                self.known.remove(&key);
            }
        }
    }
}

/// A time (positive seconds) as a key that sorts as the time does.
fn order_key(time: f64) -> u64 {
    time.max(0.0).to_bits()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: f64 = 1_800_000_000.0;
    const MAGIGO: NameHash = 1;

    fn source(index: u32) -> Source {
        Source::V4(index.to_be_bytes())
    }

    #[test]
    fn unknown_addresses_share_4n_failures_an_hour_for_a_name() {
        let mut many = ManyAddresses::new(5);
        for index in 0..20 {
            assert_eq!(many.check(MAGIGO, source(index), NOW), Ok(()));
            many.failed(MAGIGO, source(index), NOW);
        }
        // The 21st, from yet another address: one more every 180 s.
        assert_eq!(many.check(MAGIGO, source(1000), NOW), Err(180));
        // Another name is not affected.
        assert_eq!(many.check(2, source(1000), NOW), Ok(()));
        // Refilled evenly: one after 180 s, all after an hour.
        assert_eq!(many.check(MAGIGO, source(1001), NOW + 180.0), Ok(()));
        many.failed(MAGIGO, source(1001), NOW + 180.0);
        assert!(many.check(MAGIGO, source(1002), NOW + 180.0).is_err());
        assert_eq!(
            many.check(MAGIGO, source(1002), NOW + 3600.0 + 180.0),
            Ok(())
        );
    }

    #[test]
    fn a_success_makes_an_address_known_and_known_addresses_are_not_affected() {
        let mut many = ManyAddresses::new(5);
        let home = source(7);
        many.succeeded(MAGIGO, home, NOW);
        for index in 100..200 {
            many.failed(MAGIGO, source(index), NOW);
        }
        assert!(many.check(MAGIGO, source(300), NOW).is_err());
        assert_eq!(many.check(MAGIGO, home, NOW), Ok(()));
        // A failure from home counts only against home's own budgets.
        many.failed(MAGIGO, home, NOW);
        assert_eq!(many.check(MAGIGO, home, NOW), Ok(()));
    }

    #[test]
    fn a_known_address_is_forgotten_30_days_after_its_last_success() {
        let mut many = ManyAddresses::new(5);
        let home = source(7);
        many.succeeded(MAGIGO, home, NOW);
        assert!(many.is_known(MAGIGO, home, NOW + KNOWN_FOR_SECONDS - 1.0));
        many.succeeded(MAGIGO, home, NOW + 10.0 * 86_400.0);
        assert!(many.is_known(MAGIGO, home, NOW + KNOWN_FOR_SECONDS + 1.0));
        assert!(!many.is_known(MAGIGO, home, NOW + 41.0 * 86_400.0));
        // And its entry goes with the next success of anyone.
        many.succeeded(2, source(8), NOW + 41.0 * 86_400.0);
        assert_eq!(many.len().1, 1);
    }

    #[test]
    fn a_success_from_an_unknown_address_gives_its_check_back() {
        let mut many = ManyAddresses::new(5);
        for index in 0..20 {
            many.failed(MAGIGO, source(index), NOW);
        }
        assert!(many.check(MAGIGO, source(50), NOW).is_err());
        // The check that passed had been counted as a failure.
        many.succeeded(MAGIGO, source(19), NOW);
        assert_eq!(many.check(MAGIGO, source(50), NOW), Ok(()));
    }

    #[test]
    fn zero_turns_it_off() {
        let mut many = ManyAddresses::new(0);
        for index in 0..100 {
            many.failed(MAGIGO, source(index), NOW);
        }
        assert_eq!(many.check(MAGIGO, source(200), NOW), Ok(()));
        assert_eq!(many.len(), (0, 0));
    }

    #[test]
    fn failing_on_many_other_names_does_not_free_the_one_under_attack() {
        let mut many = ManyAddresses::new(5);
        for index in 0..20 {
            many.failed(MAGIGO, source(index), NOW);
        }
        assert!(many.check(MAGIGO, source(99), NOW).is_err());
        // The attacker fails once on each of MAX_NAMES other names.
        for name in 10..(10 + MAX_NAMES as u64) {
            many.failed(name, source(1), NOW + 1.0);
        }
        assert!(many.len().0 <= MAX_NAMES);
        assert!(
            many.check(MAGIGO, source(99), NOW + 1.0).is_err(),
            "the name under attack was freed"
        );
    }

    #[test]
    fn the_tables_are_bounded() {
        let mut many = ManyAddresses::new(5);
        for index in 0..(MAX_KNOWN as u32 + 10) {
            many.succeeded(MAGIGO, source(index), NOW + f64::from(index) * 1e-3);
        }
        assert_eq!(many.len().1, MAX_KNOWN);
        // The oldest successes went first.
        assert!(!many.is_known(MAGIGO, source(0), NOW + 200.0));
        assert!(many.is_known(MAGIGO, source(MAX_KNOWN as u32 + 9), NOW + 200.0));
        for name in 0..(MAX_NAMES as u64 + 10) {
            many.failed(name + 100, source(1), NOW + 200.0);
        }
        assert!(many.len().0 <= MAX_NAMES);
    }
}
