//! This node's copy of the signed-token deny set, refreshed from the store every second and
//! updated at once by revocations made here.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use ward_core::deny::{DenyEntry, DenySet, SignedFacts};
use ward_core::Verdict;
use ward_store::StoreError;

use crate::AppState;

/// The deny set and how far it has caught up with the store.
#[derive(Debug, Default)]
pub struct DenyCache {
    set: RwLock<Arc<DenySet>>,
    /// The newest `revoked_at` already loaded (re-read with an overlap, since times are seconds).
    loaded_until: AtomicI64,
    /// When the set was last rebuilt from scratch (which drops entries no longer in force).
    rebuilt_at: AtomicI64,
}

/// How often the set is rebuilt from scratch, in seconds.
const REBUILD_EVERY: i64 = 3600;

/// How many seconds of revocations each poll re-reads, so entries committed late in a second are
/// not missed.
const OVERLAP: i64 = 2;

impl DenyCache {
    /// Adds entries to this node's set at once.
    pub fn add(&self, entries: impl IntoIterator<Item = DenyEntry>) {
        let mut guard = self.set.write().unwrap_or_else(PoisonError::into_inner);
        let mut next = (**guard).clone();
        for e in entries {
            next.insert(e);
        }
        *guard = Arc::new(next);
    }

    /// The `revoked` verdict for a signed token the set covers.
    pub fn check(&self, facts: &SignedFacts<'_>, now: i64) -> Option<Verdict> {
        let set = self.set.read().unwrap_or_else(PoisonError::into_inner).clone();
        set.check(facts, now)
    }

    /// Loads revocations made since the last poll; every hour (and on the first call) rebuilds
    /// the set from every revocation still in force.
    pub async fn refresh(&self, state: &AppState) -> Result<usize, StoreError> {
        let now = state.clock.now();
        let rebuild = now.saturating_sub(self.rebuilt_at.load(Ordering::SeqCst)) >= REBUILD_EVERY;
        let since =
            if rebuild { i64::MIN } else { self.loaded_until.load(Ordering::SeqCst).saturating_sub(OVERLAP) };
        let entries = state.store.signed_revocations_since(since, now).await?;
        let n = entries.len();
        if let Some(newest) = entries.iter().map(|e| e.revocation.at).max() {
            self.loaded_until.fetch_max(newest, Ordering::SeqCst);
        }
        if rebuild {
            let mut set = DenySet::default();
            for e in entries {
                set.insert(e);
            }
            *self.set.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(set);
            self.rebuilt_at.store(now, Ordering::SeqCst);
        } else if n > 0 {
            self.add(entries);
        }
        Ok(n)
    }
}
