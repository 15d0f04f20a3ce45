use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::Duration;

/// Manages a collection of threads.
///
/// A new thread is created every time all the existing threads are full.
/// Any idle thread will automatically die after a few seconds.
pub struct TaskPool {
    sharing: Arc<Sharing>,
}

struct Sharing {
    // list of the tasks to be done by worker threads
    todo: Mutex<VecDeque<Box<dyn FnMut() + Send>>>,

    // condvar that will be notified whenever a task is added to `todo`
    condvar: Condvar,

    // number of total worker threads running
    active_tasks: AtomicUsize,

    // number of idle worker threads
    waiting_tasks: AtomicUsize,
}

/// Minimum number of active threads.
static MIN_THREADS: usize = 4;

struct Registration<'a> {
    nb: &'a AtomicUsize,
}

impl<'a> Registration<'a> {
    fn new(nb: &'a AtomicUsize) -> Registration<'a> {
        nb.fetch_add(1, Ordering::Release);
        Registration { nb }
    }
}

impl<'a> Drop for Registration<'a> {
    fn drop(&mut self) {
        self.nb.fetch_sub(1, Ordering::Release);
    }
}

impl TaskPool {
    pub fn new() -> TaskPool {
        let pool = TaskPool {
            sharing: Arc::new(Sharing {
                todo: Mutex::new(VecDeque::new()),
                condvar: Condvar::new(),
                active_tasks: AtomicUsize::new(0),
                waiting_tasks: AtomicUsize::new(0),
            }),
        };

        for _ in 0..MIN_THREADS {
            pool.add_thread(None)
        }

        pool
    }

    /// Executes a function in a thread.
    /// If no thread is available, spawns a new one.
    pub fn spawn(&self, code: Box<dyn FnMut() + Send>) {
        let mut queue = self.sharing.todo.lock().unwrap();

        // token-server patch: this used to queue the connection whenever at least
        // one thread was idle. In a burst of connections, several were queued for
        // the same idle thread before it woke, and as each thread serves one
        // connection for the connection's whole life, the extra ones waited until
        // some other client closed: with 16 keep-alive clients, 12 got no answer.
        // Now a connection is queued only while idle threads outnumber the
        // connections already queued for them; otherwise it gets a new thread.
        if self.sharing.waiting_tasks.load(Ordering::Acquire) > queue.len() {
            queue.push_back(code);
            self.sharing.condvar.notify_one();
        } else {
            self.add_thread(Some(code));
        }
    }

    fn add_thread(&self, initial_fn: Option<Box<dyn FnMut() + Send>>) {
        let sharing = self.sharing.clone();

        // token-server patch: `thread::spawn` panicked (in the accept thread) when
        // the system refused a new thread; now the connection is dropped, closed.
        let spawned = thread::Builder::new().spawn(move || {
            let sharing = sharing;
            let _active_guard = Registration::new(&sharing.active_tasks);

            if let Some(mut f) = initial_fn {
                f();
            }

            loop {
                let mut task: Box<dyn FnMut() + Send> = {
                    let mut todo = sharing.todo.lock().unwrap();

                    let task;
                    loop {
                        if let Some(poped_task) = todo.pop_front() {
                            task = poped_task;
                            break;
                        }
                        let _waiting_guard = Registration::new(&sharing.waiting_tasks);

                        let received =
                            if sharing.active_tasks.load(Ordering::Acquire) <= MIN_THREADS {
                                todo = sharing.condvar.wait(todo).unwrap();
                                true
                            } else {
                                let (new_lock, waitres) = sharing
                                    .condvar
                                    .wait_timeout(todo, Duration::from_millis(5000))
                                    .unwrap();
                                todo = new_lock;
                                !waitres.timed_out()
                            };

                        if !received && todo.is_empty() {
                            return;
                        }
                    }

                    task
                };

                task();
            }
        });
        if let Err(e) = spawned {
            log::error!("Could not start a thread for a connection: {}", e);
        }
    }
}

impl Drop for TaskPool {
    fn drop(&mut self) {
        self.sharing
            .active_tasks
            .store(999_999_999, Ordering::Release);
        self.sharing.condvar.notify_all();
    }
}

// token-server patch: the pool's promise, that a task starts at once even when
// many arrive together, checked without sockets.
#[cfg(test)]
mod tests {
    use super::TaskPool;
    use std::sync::mpsc;
    use std::sync::{Arc, Barrier};
    use std::time::Duration;

    #[test]
    fn a_burst_of_long_tasks_all_start() {
        for _ in 0..20 {
            let pool = TaskPool::new();
            // Let the pool's first threads reach their idle wait.
            std::thread::sleep(Duration::from_millis(20));
            let tasks = 16;
            // Each task, like a keep-alive connection, runs until all have started.
            let all_started = Arc::new(Barrier::new(tasks + 1));
            let (started, started_signals) = mpsc::channel();
            for _ in 0..tasks {
                let all_started = Arc::clone(&all_started);
                let started = started.clone();
                pool.spawn(Box::new(move || {
                    started.send(()).ok();
                    all_started.wait();
                }));
            }
            for task in 0..tasks {
                let signal = started_signals.recv_timeout(Duration::from_secs(5));
                assert!(signal.is_ok(), "only {} of {} tasks started", task, tasks);
            }
            all_started.wait();
        }
    }
}
