//! How many heap allocations a request costs token-server: the whole server
//! (its request loop, tiny_http's connection threads, its log writer) runs
//! in this process, under an allocator that counts; the requests come from
//! another process (`examples/load.rs`), so that the client's allocations are
//! not counted. `make bench` runs it.
//!
//!     cargo run --release --example allocations -- LOAD [--requests 100000] [--log]
//!
//! LOAD is the path of the load generator. Prints, for `/test` and for
//! `/login` (16 keep-alive clients), allocations per request on the request
//! loop's thread and in the whole server, then `RESULT` lines.
//!
//! The counting allocator is the one `unsafe` here: `GlobalAlloc` is an
//! unsafe trait (the compiler cannot check that an allocator hands out
//! memory correctly); this one only counts, then hands every call to the
//! system's allocator unchanged. token-server itself forbids `unsafe`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io;
use std::process::{Command, ExitCode, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;

use token_server::cli::{Config, Verbosity};
use token_server::log::writer::LogWriter;
use token_server::passwords::pool::Pool;
use token_server::routes::App;
use token_server::server;

struct Counting;

static ALL: AtomicU64 = AtomicU64::new(0);
static LOOP: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// Set on the request loop's thread.
    static IN_LOOP: Cell<bool> = const { Cell::new(false) };
}

fn count() {
    ALL.fetch_add(1, Ordering::Relaxed);
    if IN_LOOP.with(Cell::get) {
        LOOP.fetch_add(1, Ordering::Relaxed);
    }
}

// SAFETY: every method hands its arguments to `System` as they came and
// returns what `System` returned; counting touches no memory of the caller's.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: the caller keeps `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        // SAFETY: `pointer` came from `System` with this `layout`.
        unsafe { System.dealloc(pointer, layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: `pointer` came from `System` with this `layout`.
        unsafe { System.realloc(pointer, layout, new_size) }
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(load) = args.first() else {
        eprintln!("usage: allocations LOAD [--requests N] [--log]");
        return ExitCode::from(2);
    };
    let requests: u64 = args
        .iter()
        .position(|arg| arg == "--requests")
        .and_then(|at| args.get(at + 1))
        .and_then(|value| value.parse().ok())
        .unwrap_or(100_000);
    let with_log = args.iter().any(|arg| arg == "--log");
    match run(load, requests, with_log) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("allocations: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run(load: &str, requests: u64, with_log: bool) -> io::Result<()> {
    let users = Command::new(load)
        .args(["--print-user-args", "16"])
        .output()?;
    let users = String::from_utf8_lossy(&users.stdout).into_owned();
    let mut config = Config {
        port: 0,
        verbosity: if with_log {
            Verbosity::Normal
        } else {
            Verbosity::Quiet
        },
        default_users: false,
        users: Vec::new(),
        ..Config::default()
    };
    for user in users.split_whitespace().filter(|word| *word != "--user") {
        if let Some((name, password)) = user.split_once(':') {
            config.users.push((name.to_string(), password.to_string()));
        }
    }
    // The log goes nowhere: its lines are formatted and written all the same.
    let log = LogWriter::start(io::sink())?;
    let http_server = Arc::new(server::listen(&config, None, &log).map_err(io::Error::other)?);
    let address = http_server.local_addr();
    let mut app = App::new(&config, address);
    let serving = Arc::clone(&http_server);
    let log_of_loop = log.clone();
    let verbosity = config.verbosity;
    let waker = Arc::clone(&http_server);
    let hash_threads = config.hash_threads;
    let request_loop = thread::spawn(move || {
        IN_LOOP.with(|in_loop| in_loop.set(true));
        let Ok(pool) = Pool::start(hash_threads, Arc::new(move || waker.wake())) else {
            return;
        };
        let _ = server::serve(&serving, &mut app, &log_of_loop, verbosity, None, &pool);
    });
    let shown = if with_log { "with the log" } else { "--quiet" };
    for mix in ["test", "login"] {
        // A first run, so that every buffer that grows once has grown.
        load_run(load, &address.to_string(), mix, 2_000)?;
        let (all_before, loop_before) = (ALL.load(Ordering::SeqCst), LOOP.load(Ordering::SeqCst));
        let answered = load_run(load, &address.to_string(), mix, requests)?;
        let all = ALL.load(Ordering::SeqCst) - all_before;
        let in_loop = LOOP.load(Ordering::SeqCst) - loop_before;
        let per = |count: u64| count as f64 / answered.max(1) as f64;
        println!(
            "/{mix} {shown}: {:.2} allocations a request on the loop's thread, {:.2} in the whole server ({answered} requests)",
            per(in_loop),
            per(all)
        );
        println!(
            "RESULT mix={mix} log={with_log} loop={:.2} all={:.2} requests={answered}",
            per(in_loop),
            per(all)
        );
    }
    http_server.stop();
    let _ = request_loop.join();
    log.finish("", std::time::Duration::from_millis(100));
    Ok(())
}

/// One run of the load generator: how many answers it got.
fn load_run(load: &str, address: &str, mix: &str, requests: u64) -> io::Result<u64> {
    let output = Command::new(load)
        .args([
            "--address",
            address,
            "--clients",
            "16",
            "--seconds",
            "120",
            "--mix",
            mix,
        ])
        .args(["--requests", &requests.to_string()])
        .stderr(Stdio::inherit())
        .output()?;
    let text = String::from_utf8_lossy(&output.stdout);
    let answers = text
        .lines()
        .find(|line| line.starts_with("RESULT"))
        .and_then(|line| {
            line.split(' ')
                .find_map(|field| field.strip_prefix("answers="))
        })
        .and_then(|answers| answers.parse().ok())
        .ok_or_else(|| io::Error::other(format!("no RESULT from {load}")))?;
    Ok(answers)
}
