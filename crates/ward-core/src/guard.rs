//! What a token may carry beyond its lifecycle: the client addresses it may be used from (sender
//! binding), and named rate limits attached to it or to its subject.

use std::net::IpAddr;

pub use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::reason::{Reason, Verdict};

/// Most entries in one allowlist.
pub const MAX_ALLOWED_NETWORKS: usize = 64;
/// Most named limits on one key or subject.
pub const MAX_NAMED_LIMITS: usize = 16;
/// Longest limit name.
pub const MAX_LIMIT_NAME_LEN: usize = 64;
/// Longest period of a named limit: one day.
pub const MAX_LIMIT_PERIOD_SECS: u32 = 86_400;
/// Largest budget of a named limit.
pub const MAX_LIMIT: u32 = 1_000_000;

/// A named rate limit, as in Unkey: at most `limit` units of cost per `period` seconds, refilled
/// continuously (GCRA), so a budget spent is back one unit every `period / limit` seconds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NamedLimit {
    /// The name a verify call asks for (`ratelimit.name`).
    pub name: String,
    /// Units allowed per period (also the largest burst).
    pub limit: u32,
    /// The period, in seconds.
    pub period: u32,
}

impl NamedLimit {
    /// Checks the limit's shape, naming what is wrong.
    pub fn validate(&self) -> Result<(), String> {
        if !valid_limit_name(&self.name) {
            return Err(format!(
                "rate limit name {:?} is not valid: use 1 to {MAX_LIMIT_NAME_LEN} letters, digits, `-`, `_`, `.` or `:`",
                self.name
            ));
        }
        if self.limit == 0 || self.limit > MAX_LIMIT {
            return Err(format!("rate limit {:?}: `limit` must be 1 to {MAX_LIMIT}", self.name));
        }
        if self.period == 0 || self.period > MAX_LIMIT_PERIOD_SECS {
            return Err(format!(
                "rate limit {:?}: `period` must be 1 to {MAX_LIMIT_PERIOD_SECS} seconds",
                self.name
            ));
        }
        Ok(())
    }
}

/// Checks a list of named limits: each valid, names unique, not too many.
pub fn validate_limits(limits: &[NamedLimit]) -> Result<(), String> {
    if limits.len() > MAX_NAMED_LIMITS {
        return Err(format!("at most {MAX_NAMED_LIMITS} rate limits may be attached"));
    }
    for (i, l) in limits.iter().enumerate() {
        l.validate()?;
        if limits.iter().take(i).any(|o| o.name == l.name) {
            return Err(format!("rate limit {:?} is named twice", l.name));
        }
    }
    Ok(())
}

/// Whether `s` can name a rate limit.
pub fn valid_limit_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_LIMIT_NAME_LEN
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// Parses an allowlist entry: a network in CIDR notation (`10.0.0.0/8`, `2001:db8::/32`) or a
/// single address (taken as `/32` or `/128`). Host bits must be zero, so `10.0.0.1/8` is refused
/// rather than silently widened.
pub fn parse_network(s: &str) -> Result<IpNet, String> {
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Ok(IpNet::from(ip));
    }
    let net: IpNet = s.parse().map_err(|_| format!("{s:?} is neither an IP address nor a CIDR network"))?;
    if net.trunc() != net {
        return Err(format!("{s:?} has host bits set: did you mean {}?", net.trunc()));
    }
    Ok(net)
}

/// Sender binding: a token with an allowlist works only from an address in it. `client` is the
/// end user's address as the verify call names it (`None`: it named none).
pub fn check_address(allowed: &[IpNet], client: Option<IpAddr>) -> Result<(), Verdict> {
    if allowed.is_empty() {
        return Ok(());
    }
    let list = || allowed.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
    match client {
        Some(ip) if allowed.iter().any(|n| n.contains(&canonical(ip))) => Ok(()),
        Some(ip) => Err(Verdict::with(
            Reason::BindingMismatch,
            format!("the key may be used only from {}; this request came from {ip}", list()),
        )),
        None => Err(Verdict::with(
            Reason::BindingMismatch,
            format!(
                "the key may be used only from {}, and the request names no client address \
                 (send `context.client_ip`)",
                list()
            ),
        )),
    }
}

/// An IPv4 address mapped into IPv6 (`::ffff:10.0.0.1`, as dual-stack sockets report it) is
/// taken as the IPv4 address, so an IPv4 allowlist still matches it.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(s: &[&str]) -> Vec<IpNet> {
        s.iter().map(|n| parse_network(n).unwrap_or_else(|e| unreachable!("{e}"))).collect()
    }

    #[test]
    fn an_allowlist_admits_only_its_networks_and_names_them() {
        let allowed = nets(&["10.0.0.0/8", "2001:db8::/32", "192.0.2.7"]);
        for ok in ["10.1.2.3", "2001:db8::1", "192.0.2.7", "::ffff:10.9.9.9"] {
            assert!(check_address(&allowed, ok.parse().ok()).is_ok(), "{ok}");
        }
        let v = check_address(&allowed, "203.0.113.9".parse().ok()).unwrap_err();
        assert_eq!(v.reason, Reason::BindingMismatch);
        let d = v.detail.unwrap_or_default();
        assert!(d.contains("203.0.113.9") && d.contains("10.0.0.0/8") && d.contains("192.0.2.7/32"), "{d}");
        let v = check_address(&allowed, None).unwrap_err();
        assert!(v.detail.unwrap_or_default().contains("context.client_ip"));
        assert!(check_address(&[], None).is_ok());
    }

    #[test]
    fn networks_are_parsed_strictly() {
        assert!(parse_network("10.0.0.1/8").unwrap_err().contains("10.0.0.0/8"));
        assert!(parse_network("10.0.0.0/33").is_err());
        assert!(parse_network("example.com").is_err());
        assert_eq!(parse_network("::1").map(|n| n.prefix_len()), Ok(128));
    }

    #[test]
    fn limits_are_validated() {
        let l = |name: &str, limit, period| NamedLimit { name: name.into(), limit, period };
        assert!(validate_limits(&[l("api", 10, 60), l("burst:1", 1, 1)]).is_ok());
        assert!(validate_limits(&[l("api", 10, 60), l("api", 5, 60)]).unwrap_err().contains("twice"));
        assert!(l("", 1, 1).validate().is_err());
        assert!(l("a b", 1, 1).validate().is_err());
        assert!(l("a", 0, 1).validate().is_err());
        assert!(l("a", 1, 0).validate().is_err());
        assert!(l("a", 1, MAX_LIMIT_PERIOD_SECS + 1).validate().is_err());
    }
}
