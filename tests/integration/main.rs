//! token-server's integration tests: the real binary on a free port, over
//! real sockets, and real clients against it. One test binary of modules,
//! as ripgrep and cargo keep theirs: cargo links it once, not once a file.
//! `cargo test --test integration browser::` runs one module.

mod browser;
mod cli;
mod clients;
mod connections;
mod guessing;
mod http;
mod https;
mod passwords;
mod properties;
mod stopping;
mod users;
