//! token-server: the Flask tutorial's token login, in Rust.
//!
//! A client logs in with HTTP Basic credentials and gets a token,
//! `base64("UID:RANDOM:EXPIRY")`. It shows that token to `/test`, which answers
//! `data` while the token is the user's newest one and has not expired.
//!
//! `main.rs` only reads the command line and starts [`server::serve`]. Everything
//! a request meets is here: `routes::handle` answers one request, as a plain
//! function of the request, the server's state and the current time, so tests can
//! call it without a socket and with any clock ([`routes::handle_here`] does,
//! with the password check on the caller's thread).
#![forbid(unsafe_code)]

// The tutorial's path: read these and you have read the whole tutorial.
pub mod answer;
pub mod auth;
pub mod cli;
pub mod pages;
pub mod routes;
pub mod server;
pub mod token;
pub mod users;

// What a real server adds, each in a wing named for its idea.
pub mod answer_forms;
pub mod guarding;
pub mod https;
pub mod log;
pub mod passwords;
