//! Named rate limits: GCRA per (owner, limit), through `governor`'s keyed limiters.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use governor::clock::Clock as GovernorClock;
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DashMapStateStore;
use governor::{Quota, RateLimiter};
use ward_core::guard::NamedLimit;
use ward_core::Clock;

/// Where a limit stands after a call: what the `RateLimit` header reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LimitState {
    /// The limit applied.
    pub limit: NamedLimit,
    /// Units left after this call.
    pub remaining: u32,
    /// Seconds until the whole budget is back (rounded up).
    pub reset: u64,
}

/// Why a call was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refused {
    /// Over the limit: try again after `retry_after` seconds (rounded up, at least 1).
    Limited {
        /// The limit that refused.
        limit: NamedLimit,
        /// Seconds until the call would be allowed.
        retry_after: u64,
    },
    /// The cost is larger than the whole budget: it can never be allowed.
    CostTooHigh {
        /// The limit.
        limit: NamedLimit,
        /// The cost asked for.
        cost: u32,
    },
}

/// A place that keeps rate-limit counters. This node's memory today ([`GovernorBackend`]); a
/// store shared by every node could implement it later.
pub trait LimitBackend: Send + Sync + std::fmt::Debug {
    /// Takes `cost` units of `limit` for `key` (an owner such as `key:<id>` or `subject:<s>`,
    /// with the limit's name): all or nothing.
    fn take(&self, key: &str, limit: &NamedLimit, cost: u32) -> Result<LimitState, Refused>;

    /// Forgets counters that are back to a full budget (memory housekeeping).
    fn prune(&self);
}

/// `governor` reading Ward's injected clock, in milliseconds since the epoch: tests move time,
/// never sleep.
#[derive(Clone, Debug)]
struct WardClock(Arc<dyn Clock>);

impl GovernorClock for WardClock {
    type Instant = Duration;

    fn now(&self) -> Duration {
        Duration::from_millis(u64::try_from(self.0.now_millis()).unwrap_or(0))
    }
}

type Keyed = RateLimiter<String, DashMapStateStore<String>, WardClock, StateInformationMiddleware>;

/// The in-memory backend: one keyed GCRA limiter per distinct (limit, period), shared by every
/// owner with that quota.
#[derive(Debug)]
pub struct GovernorBackend {
    clock: WardClock,
    limiters: RwLock<HashMap<(u32, u32), Arc<Keyed>>>,
}

impl GovernorBackend {
    /// A backend on `clock`.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        GovernorBackend { clock: WardClock(clock), limiters: RwLock::new(HashMap::new()) }
    }

    fn limiter(&self, limit: &NamedLimit) -> Option<Arc<Keyed>> {
        let quota_key = (limit.limit, limit.period);
        if let Some(l) = self.limiters.read().ok()?.get(&quota_key) {
            return Some(l.clone());
        }
        let burst = NonZeroU32::new(limit.limit)?;
        let quota = Quota::with_period(Duration::from_secs(u64::from(limit.period)) / limit.limit)?
            .allow_burst(burst);
        let mut map = self.limiters.write().ok()?;
        let l = map
            .entry(quota_key)
            .or_insert_with(|| {
                Arc::new(RateLimiter::dashmap_with_clock(quota, self.clock.clone()).with_middleware())
            })
            .clone();
        Some(l)
    }
}

/// Seconds, rounded up.
fn ceil_secs(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

impl LimitBackend for GovernorBackend {
    fn take(&self, key: &str, limit: &NamedLimit, cost: u32) -> Result<LimitState, Refused> {
        let too_high = || Refused::CostTooHigh { limit: limit.clone(), cost };
        let n = NonZeroU32::new(cost.max(1)).ok_or_else(too_high)?;
        let Some(limiter) = self.limiter(limit) else {
            return Err(too_high());
        };
        let key = key.to_string();
        match limiter.check_key_n(&key, n) {
            Err(_) => Err(too_high()),
            Ok(Ok(snapshot)) => {
                let remaining = snapshot.remaining_burst_capacity();
                // Each unit comes back after period / limit.
                let per_unit = Duration::from_secs(u64::from(limit.period)) / limit.limit;
                let reset = ceil_secs(per_unit * limit.limit.saturating_sub(remaining));
                Ok(LimitState { limit: limit.clone(), remaining, reset })
            }
            Ok(Err(not_until)) => {
                let wait = not_until.wait_time_from(self.clock.now());
                Err(Refused::Limited { limit: limit.clone(), retry_after: ceil_secs(wait).max(1) })
            }
        }
    }

    fn prune(&self) {
        if let Ok(map) = self.limiters.read() {
            for l in map.values() {
                l.retain_recent();
            }
        }
    }
}

/// The named limits attached to subjects, as this node last read them (kept fresh by the change
/// feed), and the backend that counts.
#[derive(Debug)]
pub struct NamedLimits {
    pub(crate) backend: Box<dyn LimitBackend>,
    subjects: quick_cache::sync::Cache<String, Arc<Vec<NamedLimit>>>,
}

impl NamedLimits {
    /// Limits counted by `backend`.
    pub fn new(backend: Box<dyn LimitBackend>) -> Self {
        NamedLimits { backend, subjects: quick_cache::sync::Cache::new(10_000) }
    }

    pub(crate) fn cached_subject(&self, subject: &str) -> Option<Arc<Vec<NamedLimit>>> {
        self.subjects.get(subject)
    }

    pub(crate) fn remember_subject(&self, subject: &str, limits: Arc<Vec<NamedLimit>>) {
        self.subjects.insert(subject.to_string(), limits);
    }

    /// Drops what this node knows of a subject's limits (they changed).
    pub(crate) fn forget_subject(&self, subject: &str) {
        self.subjects.remove(subject);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;
    use ward_core::ManualClock;

    fn ten_per_minute() -> NamedLimit {
        NamedLimit { name: "api".into(), limit: 10, period: 60 }
    }

    #[test]
    fn a_budget_is_spent_exactly_then_refills_one_unit_per_period_over_limit() {
        let clock = Arc::new(ManualClock::new(1_000_000));
        let b = GovernorBackend::new(clock.clone());
        let l = ten_per_minute();
        for left in (0..10).rev() {
            let s = b.take("key:a", &l, 1).unwrap();
            assert_eq!(s.remaining, left);
        }
        let s = b.take("key:b", &l, 1).unwrap();
        assert_eq!((s.remaining, s.reset), (9, 6), "another owner has its own budget");
        match b.take("key:a", &l, 1) {
            Err(Refused::Limited { retry_after, .. }) => assert_eq!(retry_after, 6),
            other => panic!("{other:?}"),
        }
        clock.advance(5);
        assert!(b.take("key:a", &l, 1).is_err(), "one unit comes back after 6 s, not 5");
        clock.advance(1);
        let s = b.take("key:a", &l, 1).unwrap();
        assert_eq!((s.remaining, s.reset), (0, 60));
    }

    #[test]
    fn a_cost_is_all_or_nothing_and_never_above_the_budget() {
        let clock = Arc::new(ManualClock::new(1_000_000));
        let b = GovernorBackend::new(clock);
        let l = ten_per_minute();
        assert_eq!(b.take("k", &l, 7).unwrap().remaining, 3);
        assert!(matches!(b.take("k", &l, 4), Err(Refused::Limited { .. })));
        assert_eq!(b.take("k", &l, 3).unwrap().remaining, 0);
        assert!(matches!(b.take("k", &l, 11), Err(Refused::CostTooHigh { cost: 11, .. })));
    }
}
