//! token-server's fork of tiny_http 0.12.0: a small, blocking HTTP/1.1
//! server library that no client can hold up.
//!
//! - **A thread per connection, which alone touches its socket.** It reads a
//!   whole request, head and body, strictly (RFC 9112, with `httparse`) and
//!   within bounds (sizes, counts, a deadline), then hands it to a queue. Your
//!   loop takes requests from the queue with [`Server::recv`] and answers each
//!   with [`Request::respond`], which never waits on a client: the
//!   connection's thread writes the answer. A slow, stalled or malformed
//!   client holds up its own thread and nothing else.
//! - **What it answers by itself**: 400, 408, 414, 417, 431, 501 and 505, each
//!   reported as a [`Refusal`] through [`Options::on_refusal`], and then the
//!   connection is closed.
//! - **Graceful stop** with [`Server::stop`], from any thread.
//!
//! `DESIGN.md`, beside this crate's `Cargo.toml`, says how it works and every
//! way it differs from upstream, and why.
//!
//! ```no_run
//! use std::net::TcpListener;
//! use tiny_http::{Options, Response, Server};
//!
//! let listener = TcpListener::bind("127.0.0.1:0")?;
//! let server = Server::from_listener(listener, Options::default())?;
//! println!("listening on http://{}", server.local_addr());
//! while let Ok(request) = server.recv() {
//!     let answer = match request.url() {
//!         "/index" => Response::new(200, "Hello".as_bytes()),
//!         _ => Response::new(404, "not found".as_bytes()),
//!     };
//!     request.respond(answer.with_header("Content-Type", "text/plain; charset=utf-8"));
//! }
//! # Ok::<(), std::io::Error>(())
//! ```
#![forbid(unsafe_code)]
#![deny(rust_2018_idioms)]

pub use address::address_for_client;
pub use method::Method;
pub use refusal::Refusal;
pub use request::{BodyTooLarge, Request};
pub use response::Response;
pub use server::{NoRequest, Server};
pub use shared::{OnError, OnRefusal, Options, ServerError};
pub use test::TestRequest;

mod address;
mod body;
mod connection;
mod connection_thread;
mod head;
mod headers;
mod method;
mod queue;
mod refusal;
mod request;
mod response;
mod server;
mod shared;
mod test;
mod tls;
