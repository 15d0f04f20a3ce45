//! The hashing pool: a fixed number of threads that check passwords against
//! their hashes, so that the request loop, which answers every request one
//! at a time, never computes a hash. A check costs tens of milliseconds of
//! CPU on purpose; on the loop, every login would stall every other client
//! that long, and a login flood would stop all token checks. Node.js does
//! the same with bcrypt on libuv's thread pool; zero2prod with
//! `spawn_blocking`.
//!
//! ```text
//! request loop ──check──▶ queue ──▶ hashing threads (lower priority)
//!      ▲                                   │
//!      └──── verdict, then a wake-up ◀─────┘
//! ```
//!
//! The loop hands over a check and goes on answering; a thread takes it,
//! computes, sends the verdict back and wakes the loop (`Server::wake`, as
//! SIGHUP's reload does), which alone issues the token. How many checks may
//! wait is the loop's to count (`routes::App`): it answers 503 past that.

use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread;

use zeroize::Zeroizing;

use super::Hash;

/// One password to check against one hash; `id` says which login it is.
pub struct Check {
    pub id: u64,
    pub password: Zeroizing<String>,
    pub hash: Arc<Hash>,
}

/// What a check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Verdict {
    pub id: u64,
    pub matched: bool,
}

/// The pool's threads and the ways to them and back.
pub struct Pool {
    checks: Sender<Check>,
    verdicts: Receiver<Verdict>,
    /// How many threads check.
    pub threads: usize,
}

/// How much less urgent the hashing threads are than the rest of the
/// server (a `nice` value: 10 of 19).
const NICENESS: i32 = 10;

impl Pool {
    /// Starts `threads` hashing threads. After each verdict, `wake` is
    /// called, so that the request loop picks it up (`verdicts`).
    pub fn start(threads: usize, wake: Arc<dyn Fn() + Send + Sync>) -> std::io::Result<Pool> {
        let (checks, queue) = mpsc::channel::<Check>();
        let (verdicts, verdicts_back) = mpsc::channel::<Verdict>();
        let queue = Arc::new(Mutex::new(queue));
        for index in 0..threads.max(1) {
            let queue = Arc::clone(&queue);
            let verdicts = verdicts.clone();
            let wake = Arc::clone(&wake);
            thread::Builder::new()
                .name(format!("hashing-{index}"))
                .spawn(move || check_until_closed(&queue, &verdicts, wake.as_ref()))?;
        }
        Ok(Pool {
            checks,
            verdicts: verdicts_back,
            threads: threads.max(1),
        })
    }

    /// The verdicts that came back since the last look, without waiting.
    pub(crate) fn verdicts(&self) -> impl Iterator<Item = Verdict> + '_ {
        self.verdicts.try_iter()
    }

    /// The next verdict, waiting up to `limit` for it.
    pub(crate) fn next_verdict(&self, limit: std::time::Duration) -> Option<Verdict> {
        self.verdicts.recv_timeout(limit).ok()
    }

    /// Hands `check` to the pool; `false` if its threads are gone.
    pub fn submit(&self, check: Check) -> bool {
        self.checks.send(check).is_ok()
    }
}

fn check_until_closed(
    queue: &Mutex<Receiver<Check>>,
    verdicts: &Sender<Verdict>,
    wake: &(dyn Fn() + Send + Sync),
) {
    lower_this_threads_priority();
    // Argon2's memory, kept from one check to the next.
    let mut memory = Vec::new();
    loop {
        let next = match queue.lock() {
            Ok(queue) => queue.recv(),
            Err(_) => return,
        };
        let Ok(check) = next else {
            return;
        };
        let matched = check.hash.verify_in(check.password.as_bytes(), &mut memory);
        // The password is wiped as `check` goes (Zeroizing).
        drop(check.password);
        if verdicts
            .send(Verdict {
                id: check.id,
                matched,
            })
            .is_err()
        {
            return;
        }
        wake();
    }
}

/// On Linux, `setpriority` on a thread's id sets that thread's niceness
/// alone: the hashing threads give way to the request loop and the
/// connections' threads when the cores are busy. Not fatal if it fails.
fn lower_this_threads_priority() {
    let this_thread = rustix::thread::gettid();
    let _ = rustix::process::setpriority_process(Some(this_thread), NICENESS);
}
