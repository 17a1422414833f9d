//! The failure throttle: many failed guesses from one address lock that address out, for longer
//! each time (as Authelia's regulation does), while every other address is unaffected.

use std::net::IpAddr;
use std::sync::atomic::{AtomicI64, Ordering};

use dashmap::DashMap;
use ward_core::UnixTime;

use super::address_bucket;

/// When an address is locked out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ThrottlePolicy {
    /// Failed guesses within `window` that lock an address out (0: the throttle is off).
    pub max_failures: u32,
    /// Seconds over which failures are counted.
    pub window: i64,
    /// The first lockout, in seconds; each further lockout of the same address doubles it.
    pub ban: i64,
    /// The longest lockout, in seconds.
    pub max_ban: i64,
    /// Seconds without a lockout after which an address starts again from `ban`.
    pub forget_after: i64,
    /// Most addresses tracked at once; beyond it, the quietest are forgotten first.
    pub max_tracked: usize,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        ThrottlePolicy {
            max_failures: 10,
            window: 60,
            ban: 60,
            max_ban: 3600,
            forget_after: 86_400,
            max_tracked: 100_000,
        }
    }
}

impl ThrottlePolicy {
    /// Checks that the settings make sense.
    pub fn validate(&self) -> Result<(), String> {
        if self.window < 1 || self.ban < 1 || self.max_ban < self.ban || self.forget_after < 1 {
            return Err("throttle: window, ban and forget_after must be at least 1 second, and \
                        max_ban at least ban"
                .into());
        }
        if self.max_tracked < 1 {
            return Err("throttle: max_tracked must be at least 1".into());
        }
        Ok(())
    }
}

/// One address's record.
#[derive(Clone, Copy, Debug, Default)]
struct Strikes {
    window_start: UnixTime,
    failures: u32,
    banned_until: UnixTime,
    /// Lockouts so far (the next lasts `ban * 2^bans`).
    bans: u32,
    last_ban: UnixTime,
}

/// An address locked out by the throttle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lockout {
    /// The address (an IPv6 address stands for its /64).
    pub address: IpAddr,
    /// When the lockout ends.
    pub until: UnixTime,
    /// Lockouts so far, this one included (each lasts twice the one before).
    pub lockouts: u32,
}

/// Counts failed guesses per address (IPv4, or IPv6 /64) on this node.
#[derive(Debug)]
pub struct Throttle {
    policy: ThrottlePolicy,
    seen: DashMap<IpAddr, Strikes>,
    /// The latest end of any lockout ever started: once it has passed, nobody is locked out and
    /// the verify path skips the map (`DashMap::is_empty` would lock every shard).
    latest_until: AtomicI64,
}

impl Throttle {
    /// A throttle with `policy`.
    pub fn new(policy: ThrottlePolicy) -> Self {
        Throttle { policy, seen: DashMap::new(), latest_until: AtomicI64::new(i64::MIN) }
    }

    /// `Some(until)` when `ip` is locked out at `now`. One atomic load while no lockout is in
    /// force anywhere; one map lookup otherwise.
    pub fn locked_until(&self, ip: IpAddr, now: UnixTime) -> Option<UnixTime> {
        if self.policy.max_failures == 0 || self.latest_until.load(Ordering::Relaxed) <= now {
            return None;
        }
        let s = self.seen.get(&address_bucket(ip))?;
        (s.banned_until > now).then_some(s.banned_until)
    }

    /// Counts one failed guess from `ip`; returns `Some(until)` if this one locked it out.
    pub fn failed(&self, ip: IpAddr, now: UnixTime) -> Option<UnixTime> {
        let p = &self.policy;
        if p.max_failures == 0 {
            return None;
        }
        if self.seen.len() >= p.max_tracked {
            self.prune(now);
        }
        let mut s = self.seen.entry(address_bucket(ip)).or_default();
        if s.banned_until > now {
            return None;
        }
        if now - s.window_start >= p.window {
            s.window_start = now;
            s.failures = 0;
        }
        if s.bans > 0 && now - s.last_ban >= p.forget_after {
            s.bans = 0;
        }
        s.failures += 1;
        if s.failures < p.max_failures {
            return None;
        }
        let ban = p.ban.saturating_mul(1i64 << s.bans.min(30)).min(p.max_ban);
        s.banned_until = now + ban;
        self.latest_until.fetch_max(s.banned_until, Ordering::Relaxed);
        s.last_ban = now;
        s.bans = s.bans.saturating_add(1);
        s.failures = 0;
        Some(s.banned_until)
    }

    /// Lifts a lockout and forgets the address's failures (an operator's unlock). Returns when
    /// the lockout would have ended, if one was in force at `now`.
    pub fn clear(&self, ip: IpAddr, now: UnixTime) -> Option<UnixTime> {
        let (_, s) = self.seen.remove(&address_bucket(ip))?;
        (s.banned_until > now).then_some(s.banned_until)
    }

    /// The addresses locked out at `now` (IPv6 as their /64's first address), with the end of
    /// each lockout and how many lockouts the address has had, soonest end first.
    pub fn lockouts(&self, now: UnixTime) -> Vec<Lockout> {
        let mut out: Vec<Lockout> = self
            .seen
            .iter()
            .filter(|e| e.banned_until > now)
            .map(|e| Lockout { address: *e.key(), until: e.banned_until, lockouts: e.bans })
            .collect();
        out.sort_by_key(|l| (l.until, l.address));
        out
    }

    /// Forgets addresses with nothing left to remember: no lockout in force, no failures in the
    /// window, no lockout recent enough to lengthen the next.
    pub fn prune(&self, now: UnixTime) {
        let p = &self.policy;
        self.seen.retain(|_, s| {
            s.banned_until > now
                || now - s.window_start < p.window
                || (s.bans > 0 && now - s.last_ban < p.forget_after)
        });
        // Still full (a flood of fresh addresses): drop those that are not locked out.
        if self.seen.len() >= p.max_tracked {
            self.seen.retain(|_, s| s.banned_until > now);
        }
    }

    /// Addresses tracked now.
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    /// Whether no address is tracked.
    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn failures_lock_an_address_out_for_longer_each_time() {
        let t = Throttle::new(ThrottlePolicy::default());
        let a = ip("203.0.113.7");
        for _ in 0..9 {
            assert_eq!(t.failed(a, 1_000), None);
        }
        assert_eq!(t.failed(a, 1_000), Some(1_060), "the 10th failure locks out for 60 s");
        assert_eq!(t.locked_until(a, 1_059), Some(1_060));
        assert_eq!(t.locked_until(a, 1_060), None, "the lockout ends on time");
        assert_eq!(t.locked_until(ip("203.0.113.8"), 1_000), None, "another address is unaffected");
        for _ in 0..9 {
            t.failed(a, 1_100);
        }
        assert_eq!(t.failed(a, 1_100), Some(1_220), "the second lockout lasts twice as long");
        assert_eq!(t.lockouts(1_101).len(), 1);
        assert_eq!(t.lockouts(1_101)[0].until, 1_220);
        assert_eq!(t.clear(a, 1_101), Some(1_220), "an operator can lift it");
        assert_eq!(t.locked_until(a, 1_101), None);
        assert_eq!(t.clear(a, 1_101), None, "nothing left to lift");
        assert!(t.lockouts(1_101).is_empty());
    }

    #[test]
    fn failures_outside_the_window_do_not_add_up() {
        let t = Throttle::new(ThrottlePolicy::default());
        let a = ip("198.51.100.1");
        for i in 0..30 {
            assert_eq!(t.failed(a, 1_000 + i * 61), None, "one failure a minute never locks out");
        }
    }

    #[test]
    fn an_ipv6_host_cannot_escape_by_rotating_within_its_64() {
        let t = Throttle::new(ThrottlePolicy::default());
        for i in 0..10u16 {
            t.failed(IpAddr::V6(std::net::Ipv6Addr::new(0x2001, 0xdb8, 1, 2, i, 0, 0, 1)), 1_000);
        }
        assert!(t.locked_until(ip("2001:db8:1:2::99"), 1_001).is_some());
        assert!(t.locked_until(ip("2001:db8:1:3::1"), 1_001).is_none());
    }

    #[test]
    fn the_map_stays_bounded() {
        let t = Throttle::new(ThrottlePolicy { max_tracked: 100, ..ThrottlePolicy::default() });
        for i in 0..1_000u32 {
            t.failed(IpAddr::V4(std::net::Ipv4Addr::from(i)), 1_000);
        }
        assert!(t.len() <= 100, "{}", t.len());
    }
}
