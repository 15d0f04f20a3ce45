//! What guards the token routes, beyond the tutorial:
//!
//! - `budgets`: guessing slowed down, failed attempts counted per address;
//! - `many_addresses`: one budget per user name for the addresses it does
//!   not know, so that a botnet guesses no faster than one machine;
//! - `other_sites`: another site's page and a rebinding name refused
//!   (403, 421).

pub mod budgets;
pub mod many_addresses;
pub mod other_sites;
