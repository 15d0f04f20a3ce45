//! What token-server's tests (`tests/`, `src/**/tests`) and its example tools
//! (`examples/`) share, so that none of it is written twice:
//!
//! - [`client`]: a raw HTTP/1.1 client, bytes out exactly as given and
//!   answers parsed as they come, so a test sees what a client sees;
//! - [`server`]: a token-server process on a free port, its address read from
//!   its banner, its stderr collected, stopped when dropped;
//! - [`flood`]: many connections at once, then how soon the server answers;
//! - [`process`]: what `/proc` says of a process (memory, threads, files);
//! - [`tls`]: the client side of HTTPS: plain or TLS connections, trusting a
//!   given certificate;
//! - [`data`]: the tutorial's user, credentials and token.
//!
//! Everything here talks to loopback only.

pub mod client;
pub mod data;
pub mod flood;
pub mod process;
pub mod server;
pub mod tls;
