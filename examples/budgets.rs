//! What a failing `/test` costs the request loop when the budgets' table is
//! empty and when it is at its cap (100,000 entries), each failure from a new
//! address, so that each one inserts a bucket and, at the cap, makes room.
//! Then what an entry of the tables of guessing from many addresses takes
//! at their bounds. `make bench` runs it; the figures are medians of five
//! rounds.
//!
//!     cargo run --release --example budgets [-- --requests 100000]

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Instant;

use tiny_http::{Method, Request, TestRequest};
use token_server::cli::Config;
use token_server::guarding::budgets::{MAX_ENTRIES, Source};
use token_server::guarding::many_addresses::{MAX_KNOWN, MAX_NAMES, ManyAddresses};
use token_server::routes::{self, App};

const NOW: f64 = 1_800_000_000.0;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let requests: u32 = match args.as_slice() {
        [flag, count] if flag == "--requests" => count.parse().unwrap_or(100_000),
        _ => 100_000,
    };
    // First, while no memory freed by the rest can be taken again.
    let (known_bytes, names_bytes) = many_addresses_memory();
    let mut empty = Vec::new();
    let mut full = Vec::new();
    for round in 0..5u32 {
        empty.push(per_request(&mut new_app(false), requests, round));
        full.push(per_request(&mut new_app(true), requests, round));
    }
    let (empty, full) = (median(empty), median(full));
    println!("a failing /test, each from a new address, {requests} a round, median of 5 rounds:");
    println!("  table empty        {empty:8.2} us a request");
    println!(
        "  table at its cap   {full:8.2} us a request ({:.2}x)",
        full / empty
    );
    println!("guessing from many addresses, its two tables at their bounds:");
    println!("  known (name, address) pairs: {known_bytes:.0} bytes an entry");
    println!("  names with failures from unknown addresses: {names_bytes:.0} bytes an entry");
    println!(
        "RESULT budgets_empty_us={empty:.2} budgets_full_us={full:.2} known_bytes={known_bytes:.0} names_bytes={names_bytes:.0}"
    );
}

/// The memory each entry of `many_addresses`' tables takes at its bound:
/// this process's RSS before and after filling each.
fn many_addresses_memory() -> (f64, f64) {
    let rss = || testkit::process::rss_kib(std::process::id()).unwrap_or(0) as f64 * 1024.0;
    let mut many = ManyAddresses::new(5);
    let before = rss();
    for index in 0..MAX_KNOWN as u32 {
        many.succeeded(
            1,
            Source::V4(index.to_be_bytes()),
            NOW + f64::from(index) * 1e-3,
        );
    }
    let known = (rss() - before) / MAX_KNOWN as f64;
    let before = rss();
    for name in 0..MAX_NAMES as u64 {
        many.failed(name + 10, Source::V4([10, 0, 0, 1]), NOW + 200.0);
    }
    let names = (rss() - before) / MAX_NAMES as f64;
    assert_eq!(many.len(), (MAX_NAMES, MAX_KNOWN));
    (known, names)
}

/// A server's state; with `full`, its budgets' table at the cap, every
/// entry a minute from being forgotten.
fn new_app(full: bool) -> App {
    let mut app = App::new(&Config::default(), "127.0.0.1:5000".parse().unwrap());
    if full {
        for index in 0..MAX_ENTRIES as u32 {
            let address = IpAddr::V4(Ipv4Addr::from(0x0b00_0000 + index));
            app.budgets.token_check_failed(address, NOW);
        }
    }
    app
}

/// Microseconds per failing `/test` over `requests` new addresses.
fn per_request(app: &mut App, requests: u32, round: u32) -> f64 {
    let requests_made: Vec<Request> = (0..requests)
        .map(|index| {
            let address = Ipv4Addr::from(0x0c00_0000 + round * 0x0010_0000 + index);
            TestRequest::new()
                .with_method(Method::Get)
                .with_path("/test?token=bm9ib2R5OjAuNToxOTAwMDAwMDAw")
                .with_remote_addr(SocketAddr::new(IpAddr::V4(address), 1000))
                .into()
        })
        .collect();
    let started = Instant::now();
    for request in &requests_made {
        let answer = routes::handle_here(request, app, NOW + 1.0);
        assert_eq!(answer.status, 401);
    }
    started.elapsed().as_secs_f64() * 1e6 / f64::from(requests)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}
