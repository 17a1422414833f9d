//! Guards in front of the verify path: named rate limits (GCRA, through `governor`) and the
//! failure throttle that slows guessing from one address.
//!
//! Both are **per node**: each Ward process keeps its own counters in memory, behind the
//! [`LimitBackend`] trait, so a deployment of N nodes behind a balancer allows up to N times a
//! limit in the worst case (ARCHITECTURE.md). A shared backend (PostgreSQL or Redis) can implement
//! the trait later without touching the callers.

use std::net::IpAddr;

mod limits;
mod throttle;

pub use limits::{GovernorBackend, LimitBackend, LimitState, NamedLimits, Refused};
pub use throttle::{Lockout, Throttle, ThrottlePolicy};

use ward_core::Reason;

/// The settings of every guard, from config.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GuardPolicy {
    /// The failure throttle per client address.
    pub throttle: ThrottlePolicy,
    /// Seconds either side of now within which a client nonce's timestamp is accepted (and for
    /// how long the nonce is remembered).
    pub replay_window: i64,
    /// Default lifetime of a server nonce, in seconds.
    pub nonce_ttl: i64,
    /// The longest lifetime a server nonce may ask for.
    pub nonce_max_ttl: i64,
    /// DPoP: seconds a proof's `iat` may lie in the past.
    pub dpop_proof_max_age: i64,
    /// DPoP: proofs must carry a server nonce (`DPoP-Nonce`, RFC 9449 §8).
    pub dpop_require_nonce: bool,
    /// DPoP: seconds one server nonce is current (the previous one is accepted for as long).
    pub dpop_nonce_period: i64,
}

impl Default for GuardPolicy {
    fn default() -> Self {
        GuardPolicy {
            throttle: ThrottlePolicy::default(),
            replay_window: 300,
            nonce_ttl: 300,
            nonce_max_ttl: 3600,
            dpop_proof_max_age: 300,
            dpop_require_nonce: false,
            dpop_nonce_period: 300,
        }
    }
}

impl GuardPolicy {
    /// Checks that the settings make sense.
    pub fn validate(&self) -> Result<(), String> {
        self.throttle.validate()?;
        for (name, v, max) in [
            ("replay_window_secs", self.replay_window, 86_400),
            ("nonce_ttl_secs", self.nonce_ttl, self.nonce_max_ttl),
            ("nonce_max_ttl_secs", self.nonce_max_ttl, 86_400),
            ("dpop_proof_max_age_secs", self.dpop_proof_max_age, 3600),
            ("dpop_nonce_period_secs", self.dpop_nonce_period, 86_400),
        ] {
            if v < 1 || v > max {
                return Err(format!("{name} must be between 1 and {max} seconds"));
            }
        }
        Ok(())
    }
}

/// The reasons that count as a failed guess for the throttle: answers an attacker gets while
/// trying keys at random or probing the format. A revoked or expired key is a real key's state,
/// not a guess.
pub const fn is_guess(reason: Reason) -> bool {
    matches!(reason, Reason::Unknown | Reason::Tampered | Reason::ChecksumMismatch | Reason::Malformed)
}

/// The unit the throttle counts per: an IPv4 address, or an IPv6 /64 (one host can hold a whole
/// /64, so counting single IPv6 addresses would let it rotate freely).
pub fn address_bucket(ip: IpAddr) -> IpAddr {
    match ward_core::guard::canonical(ip) {
        IpAddr::V6(v6) => {
            let [a, b, c, d, ..] = v6.segments();
            IpAddr::V6(std::net::Ipv6Addr::new(a, b, c, d, 0, 0, 0, 0))
        }
        v4 => v4,
    }
}
