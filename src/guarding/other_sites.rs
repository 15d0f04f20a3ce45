//! Other sites and other names: a browser is a client that other sites can
//! drive. A page on another origin can make its visitor's browser send
//! requests here (OWASP's Fetch Metadata resource isolation policy), and a
//! page whose name rebinds to 127.0.0.1 looks, to the browser, like this
//! server's own (DNS rebinding: Jupyter, webpack-dev-server and Vite check
//! `Host` for it). Both are refused on the token routes before any budget is
//! counted or any credential looked at. Clients that send neither
//! `Sec-Fetch-Site` nor `Origin` (curl, scripts) are served as before.

use std::net::IpAddr;

/// Whether a request with these headers came from another site: its
/// `Sec-Fetch-Site` says `cross-site`, or, for a browser too old to send
/// that, its `Origin` is not `scheme://host` of this request.
pub(crate) fn is_cross_site(
    sec_fetch_site: Option<&str>,
    origin: Option<&str>,
    scheme: &str,
    host: Option<&str>,
) -> bool {
    if let Some(site) = sec_fetch_site {
        return site.trim().eq_ignore_ascii_case("cross-site");
    }
    let Some(origin) = origin else {
        return false;
    };
    let Some(host) = host else {
        return true;
    };
    match origin.trim().split_once("://") {
        Some((origin_scheme, origin_host)) => {
            !(origin_scheme.eq_ignore_ascii_case(scheme) && origin_host.eq_ignore_ascii_case(host))
        }
        // `null` (a sandboxed page, a redirect from elsewhere) or junk.
        None => true,
    }
}

/// Whether a request for `host` (the `Host` header, with or without its
/// port) may reach the token routes of a server bound to `bound`, with the
/// `--allowed-host` names `allowed`. Bound to loopback (or with names
/// given): only `localhost`, a loopback address and those names. Bound to
/// another address with no names given: every `Host`. A request with no
/// `Host` (HTTP/1.0) names nothing a page could have rebound.
pub(crate) fn host_allowed(host: Option<&str>, bound: IpAddr, allowed: &[String]) -> bool {
    let Some(host) = host else {
        return true;
    };
    if !bound.is_loopback() && allowed.is_empty() {
        return true;
    }
    let name = name_of(host);
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<IpAddr>()
            .is_ok_and(|address| address.is_loopback())
        || allowed
            .iter()
            .any(|allowed| allowed.eq_ignore_ascii_case(name) || allowed.eq_ignore_ascii_case(host))
}

/// The name of a `Host` value, without its port or an IPv6 address's
/// brackets: `localhost:5000` gives `localhost`, `[::1]:5000` gives `::1`.
fn name_of(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest
            .split_once(']')
            .map_or(rest, |(address, _port)| address);
    }
    host.rsplit_once(':').map_or(host, |(name, _port)| name)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOOPBACK: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);
    const ANY: IpAddr = IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED);

    #[test]
    fn sec_fetch_site_cross_site_is_refused_and_the_others_served() {
        let host = Some("127.0.0.1:5000");
        assert!(is_cross_site(Some("cross-site"), None, "http", host));
        for site in ["same-origin", "same-site", "none"] {
            assert!(!is_cross_site(Some(site), None, "http", host), "{site}");
        }
        // Sec-Fetch-Site decides when it is there.
        assert!(!is_cross_site(
            Some("same-origin"),
            Some("http://evil.example"),
            "http",
            host
        ));
    }

    #[test]
    fn without_sec_fetch_site_the_origin_must_be_this_server() {
        let host = Some("127.0.0.1:5000");
        assert!(!is_cross_site(None, None, "http", host));
        assert!(!is_cross_site(
            None,
            Some("http://127.0.0.1:5000"),
            "http",
            host
        ));
        assert!(is_cross_site(
            None,
            Some("http://evil.example"),
            "http",
            host
        ));
        assert!(is_cross_site(
            None,
            Some("https://127.0.0.1:5000"),
            "http",
            host
        ));
        assert!(is_cross_site(None, Some("null"), "http", host));
    }

    #[test]
    fn bound_to_loopback_only_loopback_names_and_allowed_ones() {
        for host in [
            "localhost",
            "localhost:5000",
            "LOCALHOST:5000",
            "127.0.0.1",
            "127.0.0.1:5000",
            "127.9.8.7:1",
            "[::1]",
            "[::1]:5000",
        ] {
            assert!(host_allowed(Some(host), LOOPBACK, &[]), "{host}");
        }
        for host in [
            "rebind.example",
            "rebind.example:5000",
            "192.0.2.1:5000",
            "[2001:db8::1]",
        ] {
            assert!(!host_allowed(Some(host), LOOPBACK, &[]), "{host}");
        }
        let allowed = ["rebind.example".to_string()];
        assert!(host_allowed(
            Some("rebind.example:5000"),
            LOOPBACK,
            &allowed
        ));
        assert!(host_allowed(Some("Rebind.Example"), LOOPBACK, &allowed));
        assert!(!host_allowed(Some("other.example"), LOOPBACK, &allowed));
        assert!(host_allowed(None, LOOPBACK, &[]));
    }

    #[test]
    fn bound_elsewhere_every_name_unless_names_are_given() {
        assert!(host_allowed(Some("anything.example"), ANY, &[]));
        let allowed = ["api.example".to_string()];
        assert!(host_allowed(Some("api.example:5000"), ANY, &allowed));
        assert!(host_allowed(Some("localhost:5000"), ANY, &allowed));
        assert!(!host_allowed(Some("anything.example"), ANY, &allowed));
    }
}
