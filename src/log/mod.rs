//! The request log: one line per answer on stderr, written by a thread of its
//! own so that logging never holds up the request loop.
//!
//! - `line`: what a line says, with secrets masked and client-chosen names
//!   quoted (`Entry`, `line`);
//! - `writer`: the thread that formats and writes the lines, batched, and
//!   counts what it had to drop when nobody reads stderr.

pub mod line;
pub mod writer;
