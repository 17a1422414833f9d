//! This node's copy of the signed-token deny set: loaded whole when the engine starts (before it
//! answers anything), then kept current by local revocations and the change feed. Expired
//! entries are pruned in memory; nothing here depends on clocks agreeing between nodes.

use std::sync::{Arc, PoisonError, RwLock};

use ward_core::deny::{DenyEntry, DenySet, SignedFacts};
use ward_core::Verdict;

/// The deny set.
#[derive(Debug, Default)]
pub(crate) struct DenyCache {
    set: RwLock<Arc<DenySet>>,
}

impl DenyCache {
    /// Adds entries at once.
    pub(crate) fn add(&self, entries: impl IntoIterator<Item = DenyEntry>) {
        let mut guard = self.set.write().unwrap_or_else(PoisonError::into_inner);
        let mut next = (**guard).clone();
        for e in entries {
            next.insert(e);
        }
        *guard = Arc::new(next);
    }

    /// Replaces the whole set.
    pub(crate) fn replace(&self, entries: impl IntoIterator<Item = DenyEntry>) {
        let mut set = DenySet::default();
        for e in entries {
            set.insert(e);
        }
        *self.set.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(set);
    }

    /// Drops entries no token can outlive any more.
    pub(crate) fn prune(&self, now: i64) -> usize {
        let mut guard = self.set.write().unwrap_or_else(PoisonError::into_inner);
        let mut next = (**guard).clone();
        let n = next.prune(now);
        if n > 0 {
            *guard = Arc::new(next);
        }
        n
    }

    /// How many entries.
    pub(crate) fn len(&self) -> usize {
        self.set.read().unwrap_or_else(PoisonError::into_inner).len()
    }

    /// The `revoked` verdict for a signed token the set covers.
    pub(crate) fn check(&self, facts: &SignedFacts<'_>, now: i64) -> Option<Verdict> {
        let set = self.set.read().unwrap_or_else(PoisonError::into_inner).clone();
        set.check(facts, now)
    }
}
