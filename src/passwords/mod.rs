//! Passwords, never kept in clear: a slow, salted hash of each (OWASP's
//! Password Storage Cheat Sheet), checked off the request loop.
//!
//! - `hash`: the kinds of hash taken (Argon2id PHC strings, bcrypt), how
//!   each is read, checked and made, and which are too weak;
//! - `pool`: the threads that check a password against its hash, so that
//!   the request loop never computes one;
//! - `users_file`: `--users-file`, one `NAME:HASH` a line;
//! - `hash_password`: `token-server hash-password`, which makes a line.

pub mod hash;
pub mod hash_password;
pub mod pool;
pub mod users_file;

pub use hash::{Hash, HashProblem};
