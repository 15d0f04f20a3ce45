//! The request log's writer: a thread of its own formats the lines and writes
//! them, so that neither the work of a line nor a slow or stuck stderr ever
//! holds up the request loop.
//!
//! The loop only appends a line's facts (a [`Record`]) to a list. Up to 1 MiB
//! of lines may wait there; if nobody reads stderr and that fills up, further
//! lines are dropped and counted, and once stderr takes lines again the count
//! is written: `token-server: 3 log lines dropped`.

use std::io::Write;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use crate::log::line::{self, Entry};

/// One thing for the log.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    /// An answer's line, from its facts.
    Answer(Entry),
    /// A line of the server's own (a reload, an accept error), with its
    /// newline.
    Text(String),
}

impl Record {
    /// About how many bytes it takes, written.
    fn size(&self) -> usize {
        match self {
            Record::Answer(entry) => entry.size(),
            Record::Text(text) => text.len(),
        }
    }
}

/// The most bytes of log lines waiting to be written.
pub(crate) const MAX_WAITING: usize = 1024 * 1024;
/// Lines are written in batches: once this much waits, or...
const BATCH: usize = 64 * 1024;
/// ...this long after the first line of a batch. Under load that is one
/// write (and one wake-up of this thread) for hundreds of lines, not one each;
/// a line still shows within a fiftieth of a second.
const BATCH_DELAY: Duration = Duration::from_millis(20);

/// A handle on the writer; clones write to the same one.
#[derive(Clone)]
pub struct LogWriter {
    shared: Arc<Shared>,
}

struct Shared {
    waiting: Mutex<Waiting>,
    /// Signalled when lines arrive, when they are written, and at the end.
    changed: Condvar,
}

#[derive(Default)]
struct Waiting {
    records: Vec<Record>,
    /// What `records` take, written, about.
    bytes: usize,
    /// Lines dropped since the last count was written.
    dropped: u64,
    /// No more lines will come: write what is left and stop.
    finished: bool,
    /// The writer thread has written everything and stopped.
    done: bool,
}

impl LogWriter {
    /// Starts the writer thread, writing to `output` (stderr, or a pipe in
    /// tests).
    pub fn start(output: impl Write + Send + 'static) -> std::io::Result<LogWriter> {
        let shared = Arc::new(Shared {
            waiting: Mutex::new(Waiting::default()),
            changed: Condvar::new(),
        });
        let writing = Arc::clone(&shared);
        thread::Builder::new()
            .name("log".to_string())
            .spawn(move || write_lines(&writing, output))?;
        Ok(LogWriter { shared })
    }

    /// Queues `record` to be written, or drops and counts it when 1 MiB is
    /// already waiting. Never waits on the output, and formats nothing.
    pub fn write(&self, record: Record) {
        let size = record.size();
        let mut waiting = self.shared.waiting();
        if waiting.bytes + size > MAX_WAITING {
            waiting.dropped += 1;
            return;
        }
        let before = waiting.bytes;
        waiting.records.push(record);
        waiting.bytes += size;
        // The writer waits for a first line, then for a batch to fill.
        if before == 0 || (before < BATCH && waiting.bytes >= BATCH) {
            self.shared.changed.notify_one();
        }
    }

    /// Queues a line of the server's own (with its newline).
    pub(crate) fn write_line(&self, line: &str) {
        self.write(Record::Text(line.to_string()));
    }

    /// Writes `last` after every line queued so far, and waits (up to
    /// `limit`) until all of it is written; lines queued later are not
    /// written. False when the output did not take it all in time: then
    /// whatever is left is lost with the process.
    pub fn finish(&self, last: &str, limit: Duration) -> bool {
        {
            let mut waiting = self.shared.waiting();
            // The last words are written even when the buffer is full.
            waiting.bytes += last.len();
            waiting.records.push(Record::Text(last.to_string()));
            waiting.finished = true;
            self.shared.changed.notify_all();
        }
        let deadline = Instant::now() + limit;
        let mut waiting = self.shared.waiting();
        while !waiting.done {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            waiting = match self.shared.changed.wait_timeout(waiting, left) {
                Ok((waiting, _)) => waiting,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
        true
    }
}

impl Shared {
    fn waiting(&self) -> MutexGuard<'_, Waiting> {
        // Nothing panics while the lock is held; a poisoned lock still guards
        // whole data.
        self.waiting
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The writer thread: takes all waiting records at once, formats them,
/// writes them, and then, if lines were dropped meanwhile, how many.
fn write_lines(shared: &Shared, mut output: impl Write) {
    // Both reused: the records taken, and the text they make.
    let mut records = Vec::new();
    let mut text = String::new();
    loop {
        let (dropped, finished) = {
            let mut waiting = shared.waiting();
            while waiting.records.is_empty() && waiting.dropped == 0 && !waiting.finished {
                waiting = shared
                    .changed
                    .wait(waiting)
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
            }
            if waiting.bytes < BATCH && !waiting.finished {
                waiting = match shared.changed.wait_timeout(waiting, BATCH_DELAY) {
                    Ok((waiting, _)) => waiting,
                    Err(poisoned) => poisoned.into_inner().0,
                };
            }
            std::mem::swap(&mut records, &mut waiting.records);
            waiting.bytes = 0;
            (std::mem::take(&mut waiting.dropped), waiting.finished)
        };
        text.clear();
        for record in records.drain(..) {
            match record {
                Record::Answer(entry) => line::push_line(&mut text, &entry),
                Record::Text(line) => text.push_str(&line),
            }
        }
        // Lines are dropped only while the list is full, so the dropped ones
        // came after every line taken: the count goes after them. (An error
        // means stderr is closed; there is nowhere else to say so.)
        let _ = output.write_all(text.as_bytes());
        if dropped > 0 {
            let _ = writeln!(output, "token-server: {dropped} log lines dropped");
        }
        let _ = output.flush();
        if finished && shared.waiting().records.is_empty() {
            let mut waiting = shared.waiting();
            waiting.done = true;
            shared.changed.notify_all();
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io;
    use std::sync::mpsc;

    /// An output that holds its first write until `release` says go (as a
    /// pipe nobody reads does), and collects what it gets.
    struct Stuck {
        release: mpsc::Receiver<()>,
        released: bool,
        written: Arc<Mutex<Vec<u8>>>,
    }

    impl Write for Stuck {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            if !self.released {
                let _ = self.release.recv();
                self.released = true;
            }
            self.written.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn stuck() -> (Stuck, mpsc::Sender<()>, Arc<Mutex<Vec<u8>>>) {
        let (release, released) = mpsc::channel();
        let written = Arc::new(Mutex::new(Vec::new()));
        let output = Stuck {
            release: released,
            released: false,
            written: Arc::clone(&written),
        };
        (output, release, written)
    }

    #[test]
    fn lines_are_written_in_order_and_finish_writes_the_last() {
        let (output, release, written) = stuck();
        release.send(()).unwrap();
        let log = LogWriter::start(output).unwrap();
        log.write_line("one\n");
        log.write_line("two\n");
        assert!(log.finish("bye\n", Duration::from_secs(5)));
        assert_eq!(*written.lock().unwrap(), b"one\ntwo\nbye\n");
    }

    #[test]
    fn a_stuck_output_never_blocks_and_drops_are_counted() {
        let (output, release, written) = stuck();
        let log = LogWriter::start(output).unwrap();
        // The first line goes to the writer, which gets stuck writing it.
        log.write_line("first\n");
        while !log.shared.waiting().records.is_empty() {
            thread::yield_now();
        }
        let line = "x".repeat(1023) + "\n";
        let fitting = MAX_WAITING / line.len();
        for _ in 0..fitting + 3 {
            log.write_line(&line);
        }
        assert_eq!(log.shared.waiting().dropped, 3);
        release.send(()).unwrap();
        assert!(log.finish("", Duration::from_secs(5)));
        let written = String::from_utf8(written.lock().unwrap().clone()).unwrap();
        assert!(written.starts_with("first\n"));
        assert_eq!(written.matches(&line).count(), fitting);
        assert!(written.ends_with("token-server: 3 log lines dropped\n"));
    }

    #[test]
    fn finish_gives_up_on_an_output_that_never_takes_lines() {
        let (output, _release, _) = stuck();
        let log = LogWriter::start(output).unwrap();
        log.write_line("never written\n");
        let started = Instant::now();
        assert!(!log.finish("bye\n", Duration::from_millis(100)));
        assert!(started.elapsed() < Duration::from_secs(2));
    }
}
