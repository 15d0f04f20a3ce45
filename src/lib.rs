//! token-server: the Flask tutorial's token login, in Rust.
//!
//! A client logs in with HTTP Basic credentials and gets a token,
//! `base64("UID:RANDOM:EXPIRY")`. It shows that token to `/test`, which answers
//! `data` while the token is the user's newest one and has not expired.
//!
//! `main.rs` only reads the command line and starts [`server::serve`]. Everything
//! a request meets is here: [`routes::handle`] answers one request, as a plain
//! function of the request, the server's state and the current time, so tests can
//! call it without a socket and with any clock.
#![forbid(unsafe_code)]

pub mod accept;
pub mod answer;
pub mod answer_forms;
pub mod auth;
pub mod calendar;
pub mod cli;
pub mod log_line;
pub mod log_writer;
pub mod many_addresses;
pub mod other_sites;
pub mod pages;
pub mod passwords;
pub mod routes;
pub mod server;
pub mod throttle;
pub mod tls;
pub mod token;
pub mod users;
pub mod users_file;
