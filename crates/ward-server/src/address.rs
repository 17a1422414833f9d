//! Where a request comes from: the connection's peer, or, when the peer is a trusted proxy, the
//! nearest address in `X-Forwarded-For` that is not one of those proxies.
//!
//! The address is worked out once per request by [`stamp`] and carried to the handlers in an
//! internal header that any incoming copy of is removed first, so a client cannot name its own
//! address. It feeds the failure throttle, sender binding of keys and the events.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use ward_core::guard::{canonical, IpNet};

use crate::AppState;

/// The internal header that carries the request's address to the handlers.
pub const CLIENT_IP: HeaderName = HeaderName::from_static("x-ward-client-ip");

/// The address `headers` came from, as [`stamp`] recorded it.
pub fn client_ip(headers: &HeaderMap) -> Option<IpAddr> {
    headers.get(&CLIENT_IP)?.to_str().ok()?.parse().ok()
}

/// The end user's address for a `peer` that connected: the peer itself, unless it is one of
/// `trusted` proxies, in which case `X-Forwarded-For` is read from the right, skipping trusted
/// hops (the leftmost entries are whatever the client wrote and prove nothing).
pub fn resolve(peer: Option<IpAddr>, headers: &HeaderMap, trusted: &[IpNet]) -> Option<IpAddr> {
    let peer = canonical(peer?);
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(&peer) {
        return Some(peer);
    }
    let mut nearest = peer;
    for value in headers.get_all("x-forwarded-for").iter().rev() {
        let Ok(text) = value.to_str() else { return Some(nearest) };
        for hop in text.rsplit(',') {
            match hop.trim().parse::<IpAddr>() {
                Ok(ip) => {
                    let ip = canonical(ip);
                    if !is_trusted(&ip) {
                        return Some(ip);
                    }
                    nearest = ip;
                }
                // An entry that is not an address ends what can be believed.
                Err(_) => return Some(nearest),
            }
        }
    }
    Some(nearest)
}

/// Middleware: records the request's address in [`CLIENT_IP`], replacing anything the client
/// sent under that name.
pub async fn stamp(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let peer = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let resolved = resolve(peer, req.headers(), &state.http.trusted_proxies);
    let headers = req.headers_mut();
    headers.remove(&CLIENT_IP);
    if let Some(ip) = resolved {
        if let Ok(v) = HeaderValue::from_str(&ip.to_string()) {
            headers.insert(CLIENT_IP, v);
        }
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn h(xff: &[&str]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for v in xff {
            m.append("x-forwarded-for", HeaderValue::from_str(v).unwrap());
        }
        m
    }

    fn ip(s: &str) -> Option<IpAddr> {
        s.parse().ok()
    }

    #[test]
    fn an_untrusted_peer_is_the_address_whatever_it_forwards() {
        let trusted = vec![ward_core::guard::parse_network("10.0.0.0/8").unwrap()];
        assert_eq!(resolve(ip("203.0.113.5"), &h(&["1.2.3.4"]), &trusted), ip("203.0.113.5"));
        assert_eq!(resolve(ip("203.0.113.5"), &h(&["1.2.3.4"]), &[]), ip("203.0.113.5"));
        assert_eq!(resolve(None, &h(&["1.2.3.4"]), &trusted), None);
    }

    #[test]
    fn behind_trusted_proxies_the_nearest_untrusted_hop_counts() {
        let trusted = vec![ward_core::guard::parse_network("10.0.0.0/8").unwrap()];
        // The client wrote "6.6.6.6" itself; the proxy appended the real address.
        assert_eq!(resolve(ip("10.0.0.2"), &h(&["6.6.6.6, 198.51.100.9"]), &trusted), ip("198.51.100.9"));
        assert_eq!(
            resolve(ip("10.0.0.2"), &h(&["6.6.6.6", "198.51.100.9, 10.0.0.3"]), &trusted),
            ip("198.51.100.9")
        );
        assert_eq!(resolve(ip("10.0.0.2"), &h(&["garbage, 198.51.100.9"]), &trusted), ip("198.51.100.9"));
        assert_eq!(resolve(ip("10.0.0.2"), &h(&["198.51.100.9, garbage"]), &trusted), ip("10.0.0.2"));
        assert_eq!(resolve(ip("10.0.0.2"), &h(&[]), &trusted), ip("10.0.0.2"));
        assert_eq!(resolve(ip("::ffff:10.0.0.2"), &h(&["198.51.100.9"]), &trusted), ip("198.51.100.9"));
    }
}
