//! The address to tell a client to use: said once, for the program's pages
//! and for the fork's own answer to plain HTTP on an HTTPS port.

use std::net::SocketAddr;

/// The address, `host:port`, that a client can reach the server at, to show
/// in an answer: the listening address, or, when listening on all addresses
/// (`0.0.0.0`, `::`, which no client can use), the client's own `Host` if it
/// is made of letters, digits and `.-_:[]` only. Any other `Host` is not
/// shown: the address may be pasted into a shell.
pub fn address_for_client(listening: SocketAddr, host: Option<&str>) -> String {
    match host {
        Some(host) if listening.ip().is_unspecified() && is_plain(host) => host.to_string(),
        _ => listening.to_string(),
    }
}

fn is_plain(host: &str) -> bool {
    !host.is_empty()
        && host
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b".-_:[]".contains(&byte))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_host_only_when_listening_on_all_addresses_and_only_when_plain() {
        let all: SocketAddr = "0.0.0.0:5000".parse().unwrap();
        let one: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        assert_eq!(
            address_for_client(one, Some("example.org:5000")),
            "127.0.0.1:5000"
        );
        assert_eq!(
            address_for_client(all, Some("example.org:5000")),
            "example.org:5000"
        );
        assert_eq!(address_for_client(all, Some("[::1]:5000")), "[::1]:5000");
        assert_eq!(address_for_client(all, None), "0.0.0.0:5000");
        for unsafe_host in ["", "x;reboot;", "$(id)", "`id`", "a b", "a\"b"] {
            assert_eq!(address_for_client(all, Some(unsafe_host)), "0.0.0.0:5000");
        }
    }
}
