use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

enum Control<T> {
    Elem(T),
    Unblock,
}

/// The queue between the connections' threads, which push whole requests,
/// and the thread (or threads) that answer them.
pub struct MessagesQueue<T>
where
    T: Send,
{
    state: Mutex<State<T>>,
    condvar: Condvar,
}

struct State<T> {
    queue: VecDeque<Control<T>>,
    /// token-server fork: closed by `Server::stop`: nothing more is pushed,
    /// and pops return what is left, then `None`.
    closed: bool,
    /// token-server fork: threads waiting in a pop. A push wakes one only if
    /// there is one (waking costs a system call even when nobody waits, and
    /// under load the answering thread rarely waits).
    waiting: usize,
}

impl<T> MessagesQueue<T>
where
    T: Send,
{
    pub fn with_capacity(capacity: usize) -> Arc<MessagesQueue<T>> {
        Arc::new(MessagesQueue {
            state: Mutex::new(State {
                queue: VecDeque::with_capacity(capacity),
                closed: false,
                waiting: 0,
            }),
            condvar: Condvar::new(),
        })
    }

    // A panic never happens while the lock is held, so a poisoned lock still
    // guards a whole queue.
    fn state(&self) -> MutexGuard<'_, State<T>> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Pushes an element to the queue; gives it back if the queue is closed.
    pub fn push(&self, value: T) -> Result<(), T> {
        let mut state = self.state();
        if state.closed {
            return Err(value);
        }
        state.queue.push_back(Control::Elem(value));
        if state.waiting > 0 {
            self.condvar.notify_one();
        }
        Ok(())
    }

    /// Unblock one thread stuck in pop loop.
    pub fn unblock(&self) {
        let mut state = self.state();
        state.queue.push_back(Control::Unblock);
        self.condvar.notify_one();
    }

    /// token-server fork: no more pushes; every thread waiting in `pop` wakes.
    pub fn close(&self) {
        let mut state = self.state();
        state.closed = true;
        self.condvar.notify_all();
    }

    /// Pops an element. Blocks until one is available.
    /// Returns None in case unblock() was issued, or the queue is closed and
    /// empty.
    pub fn pop(&self) -> Option<T> {
        let mut state = self.state();
        loop {
            match state.queue.pop_front() {
                Some(Control::Elem(value)) => return Some(value),
                Some(Control::Unblock) => return None,
                None if state.closed => return None,
                None => (),
            }
            state.waiting += 1;
            state = self
                .condvar
                .wait(state)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            state.waiting -= 1;
        }
    }

    /// Tries to pop an element without blocking.
    pub fn try_pop(&self) -> Option<T> {
        let mut state = self.state();
        match state.queue.pop_front() {
            Some(Control::Elem(value)) => Some(value),
            Some(Control::Unblock) | None => None,
        }
    }

    /// Tries to pop an element without blocking
    /// more than the specified timeout duration
    /// or unblock() was issued
    pub fn pop_timeout(&self, timeout: Duration) -> Option<T> {
        let deadline = Instant::now() + timeout;
        let mut state = self.state();
        loop {
            match state.queue.pop_front() {
                Some(Control::Elem(value)) => return Some(value),
                Some(Control::Unblock) => return None,
                None if state.closed => return None,
                None => (),
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            state.waiting += 1;
            state = match self.condvar.wait_timeout(state, left) {
                Ok((state, _)) => state,
                Err(poisoned) => poisoned.into_inner().0,
            };
            state.waiting -= 1;
        }
    }
}
