//! The queue between the connections' threads, which push whole requests,
//! and the thread that answers them (`Server::recv`).

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, MutexGuard};

pub(crate) struct Queue<T> {
    state: Mutex<State<T>>,
    changed: Condvar,
}

struct State<T> {
    items: VecDeque<T>,
    /// Closed by `Server::stop`: nothing more is pushed, and pops return what
    /// is left, then `Closed`.
    closed: bool,
    /// `wake` calls not yet seen by a pop.
    wakes: usize,
    /// Threads waiting in `pop`. A push wakes one only if there is one
    /// (waking costs a system call even when nobody waits, and under load
    /// the answering thread rarely waits).
    waiting: usize,
}

/// What `pop` found.
pub(crate) enum Popped<T> {
    Item(T),
    /// `wake` was called.
    Woken,
    /// The queue is closed and empty.
    Closed,
}

impl<T> Queue<T> {
    pub(crate) fn new() -> Queue<T> {
        Queue {
            state: Mutex::new(State {
                items: VecDeque::with_capacity(64),
                closed: false,
                wakes: 0,
                waiting: 0,
            }),
            changed: Condvar::new(),
        }
    }

    // Nothing panics while the lock is held, so a poisoned lock still guards
    // a whole queue.
    fn state(&self) -> MutexGuard<'_, State<T>> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Pushes an item; gives it back if the queue is closed.
    pub(crate) fn push(&self, item: T) -> Result<(), T> {
        let mut state = self.state();
        if state.closed {
            return Err(item);
        }
        state.items.push_back(item);
        if state.waiting > 0 {
            self.changed.notify_one();
        }
        Ok(())
    }

    /// Makes the next `pop` return `Woken`, before any item (so that news
    /// from another thread is seen at once, even under load).
    pub(crate) fn wake(&self) {
        let mut state = self.state();
        state.wakes += 1;
        self.changed.notify_one();
    }

    /// No more pushes; every thread waiting in `pop` wakes.
    pub(crate) fn close(&self) {
        let mut state = self.state();
        state.closed = true;
        self.changed.notify_all();
    }

    /// The next item, waiting for one if need be.
    pub(crate) fn pop(&self) -> Popped<T> {
        let mut state = self.state();
        loop {
            if state.wakes > 0 {
                state.wakes -= 1;
                return Popped::Woken;
            }
            if let Some(item) = state.items.pop_front() {
                return Popped::Item(item);
            }
            if state.closed {
                return Popped::Closed;
            }
            state.waiting += 1;
            state = self
                .changed
                .wait(state)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            state.waiting -= 1;
        }
    }

    /// Takes every item left, without waiting.
    pub(crate) fn drain(&self) -> Vec<T> {
        self.state().items.drain(..).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::thread;

    #[test]
    fn wakes_then_items_then_closed() {
        let queue = Queue::new();
        queue.push(1).unwrap();
        queue.wake();
        queue.push(2).unwrap();
        assert!(matches!(queue.pop(), Popped::Woken));
        assert!(matches!(queue.pop(), Popped::Item(1)));
        assert!(matches!(queue.pop(), Popped::Item(2)));
        queue.push(3).unwrap();
        queue.close();
        assert_eq!(queue.push(4), Err(4));
        assert!(matches!(queue.pop(), Popped::Item(3)));
        assert!(matches!(queue.pop(), Popped::Closed));
    }

    #[test]
    fn a_waiting_pop_is_woken() {
        let queue = Arc::new(Queue::<u8>::new());
        let waiting = Arc::clone(&queue);
        let popper = thread::spawn(move || matches!(waiting.pop(), Popped::Woken));
        thread::sleep(std::time::Duration::from_millis(50));
        queue.wake();
        assert!(popper.join().unwrap());
    }
}
