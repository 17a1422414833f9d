//! Many nodes, one deployment: every node follows the store's change feed and applies each
//! change to its caches, deny set and key ring.
//!
//! The feed is a table that every revocation-type write adds a row to in its own transaction
//! (`ward_store::Change`), so a committed revocation always has its row. PostgreSQL announces
//! each row as it commits (`LISTEN`/`NOTIFY`), which is how other nodes hear of a revocation
//! within milliseconds. Notifications can be lost (a dropped connection), so every node also
//! reads the feed after each reconnect and every `sync_interval`; that read, not the
//! notification, is the guarantee. It goes by position (`seq`), never by time, so a node whose
//! clock disagrees misses nothing; and because PostgreSQL may commit rows out of `seq` order, a
//! gap in the positions seen is re-read until its row appears or, after [`GAP_TIMEOUT`] of this
//! node's own monotonic time, it is taken for a rolled-back transaction.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use ward_core::deny::DenyKind;
use ward_store::{Change, ChangeKind};

use crate::{Engine, EngineError};

/// How long a gap in the feed is waited for before it is taken for a rolled-back transaction.
pub const GAP_TIMEOUT: Duration = Duration::from_secs(60);

/// Most rows one read of the feed takes.
const BATCH: u32 = 500;

#[derive(Debug, Default)]
struct Position {
    /// Every change up to here has been applied (or given up on as a rollback's gap).
    applied: i64,
    /// Changes applied beyond `applied`.
    seen: BTreeSet<i64>,
    /// Gaps after `applied`, with when this node first noticed each.
    gaps: HashMap<i64, Instant>,
}

impl Position {
    fn is_new(&self, seq: i64) -> bool {
        seq > self.applied && !self.seen.contains(&seq)
    }

    fn advance(&mut self) {
        loop {
            let next = self.applied + 1;
            if self.seen.remove(&next) {
                self.gaps.remove(&next);
                self.applied = next;
                continue;
            }
            match self.seen.iter().next_back() {
                Some(&max) if max > next => {
                    let first = *self.gaps.entry(next).or_insert_with(Instant::now);
                    if first.elapsed() < GAP_TIMEOUT {
                        return;
                    }
                    self.gaps.remove(&next);
                    self.applied = next;
                }
                _ => return,
            }
        }
    }
}

/// This node's position in the feed.
#[derive(Debug, Default)]
pub(crate) struct Follower {
    position: tokio::sync::Mutex<Position>,
    paused: AtomicBool,
}

impl Engine {
    /// Starts following from the feed's current end (called before the deny set is loaded, so
    /// nothing committed in between is missed).
    pub(crate) async fn start_feed(&self) -> Result<(), EngineError> {
        let latest = self.0.store.latest_change().await?;
        self.0.follower.position.lock().await.applied = latest;
        Ok(())
    }

    /// Reads the change feed now and applies what this node has not seen. Returns how many
    /// changes were applied. The background task calls it every `sync_interval` and after every
    /// reconnect; tests call it to apply other engines' writes without waiting.
    pub async fn sync(&self) -> Result<usize, EngineError> {
        self.sync_from(false).await
    }

    /// [`Engine::sync`]; from the background task (`background`), nothing while the feed is paused
    /// (checked under the position lock, so no read that began before a pause applies after it).
    async fn sync_from(&self, background: bool) -> Result<usize, EngineError> {
        let mut pos = self.0.follower.position.lock().await;
        if background && self.feed_paused() {
            return Ok(0);
        }
        let mut applied = 0;
        loop {
            let batch = self.0.store.changes_after(pos.applied, BATCH).await?;
            let full = batch.len() as u32 == BATCH;
            for c in &batch {
                if pos.is_new(c.seq) {
                    self.apply(c).await?;
                    pos.seen.insert(c.seq);
                    applied += 1;
                }
            }
            let before = pos.applied;
            pos.advance();
            if !full || pos.applied == before {
                return Ok(applied);
            }
        }
    }

    /// [`Engine::sync`] after a local write, so what the store changed beyond the record written
    /// (a predecessor revoked with it) applies here at once; a failure waits for the next sync.
    pub(crate) async fn caught_up(&self) {
        if let Err(e) = self.sync().await {
            tracing::warn!(error = %e, "could not read the change feed; will retry");
        }
    }

    /// The background task's read of the feed.
    async fn background_sync(&self) {
        if let Err(e) = self.sync_from(true).await {
            tracing::warn!(error = %e, "could not read the change feed; will retry");
        }
    }

    /// Applies one notified change.
    async fn notified(&self, c: Change) -> Result<(), EngineError> {
        let mut pos = self.0.follower.position.lock().await;
        if pos.is_new(c.seq) && !self.feed_paused() {
            self.apply(&c).await?;
            pos.seen.insert(c.seq);
            pos.advance();
        }
        Ok(())
    }

    /// Makes this node's state reflect one change. Idempotent: applying a change twice is harmless.
    async fn apply(&self, c: &Change) -> Result<(), EngineError> {
        let inner = &self.0;
        match c.kind {
            ChangeKind::ApiKey | ChangeKind::Session | ChangeKind::Client => {
                inner.cache.invalidate(&c.target)
            }
            ChangeKind::Subject => {
                inner.cache.invalidate_all();
                if let Some(e) = inner.store.get_signed_revocation(DenyKind::Subject, &c.target).await? {
                    inner.deny.add([e]);
                }
            }
            ChangeKind::Deny => {
                let parsed =
                    c.target.split_once(':').and_then(|(k, v)| DenyKind::from_code(k).map(|k| (k, v)));
                match parsed {
                    Some((kind, value)) => {
                        if let Some(e) = inner.store.get_signed_revocation(kind, value).await? {
                            inner.deny.add([e]);
                        }
                    }
                    None => {
                        tracing::warn!(target = ?c.target, "change feed: unreadable deny target; skipped")
                    }
                }
            }
            ChangeKind::KeyRing => inner.keyring.reload(self).await?,
            ChangeKind::Limits => inner.limits.forget_subject(&c.target),
        }
        Ok(())
    }

    /// Test hook: while paused, this node drops notifications as if its connection were lost and
    /// skips its periodic reads; resuming reads the feed, as after a reconnect.
    #[doc(hidden)]
    pub async fn set_feed_paused(&self, paused: bool) {
        self.0.follower.paused.store(paused, Ordering::SeqCst);
        if paused {
            // A read or notification already under way finishes before this returns.
            drop(self.0.follower.position.lock().await);
        } else {
            self.caught_up().await;
        }
    }

    fn feed_paused(&self) -> bool {
        self.0.follower.paused.load(Ordering::SeqCst)
    }

    /// The background follower: listens where the store can notify, and reads the feed every
    /// `sync_interval` and after every reconnect. Runs until `stop` turns true.
    pub(crate) async fn follow(self, mut stop: tokio::sync::watch::Receiver<bool>) {
        let interval = self.0.policy.sync_interval.max(Duration::from_millis(10));
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let mut listener = match self.0.store.listen().await {
                Ok(l) => l,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot listen for changes; reading the feed instead");
                    None
                }
            };
            if listener.is_some() {
                // Whatever committed before the listener started is read, not heard.
                self.background_sync().await;
            }
            loop {
                let next = async {
                    match listener.as_mut() {
                        Some(l) => Some(l.next().await),
                        None => std::future::pending().await,
                    }
                };
                tokio::select! {
                    _ = stop.changed() => return,
                    _ = tick.tick() => {
                        self.background_sync().await;
                    }
                    heard = next => match heard {
                        Some(Ok(Some(change))) => {
                            if let Err(e) = self.notified(change).await {
                                tracing::warn!(error = %e, "could not apply a change; the next read retries");
                            }
                        }
                        // The connection dropped: notifications meanwhile are lost; read them.
                        Some(Ok(None)) => self.background_sync().await,
                        Some(Err(e)) => {
                            tracing::warn!(error = %e, "change listener failed; reconnecting");
                            tokio::select! {
                                _ = stop.changed() => return,
                                _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                            }
                            break;
                        }
                        None => {}
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_advance_over_what_was_seen_and_wait_at_gaps() {
        let mut p = Position { applied: 10, ..Position::default() };
        for s in [11, 12, 14] {
            p.seen.insert(s);
        }
        p.advance();
        assert_eq!(p.applied, 12, "13 has not committed yet");
        assert!(p.is_new(13));
        assert!(!p.is_new(14));
        p.seen.insert(13);
        p.advance();
        assert_eq!(p.applied, 14);
        assert!(p.seen.is_empty() && p.gaps.is_empty());
    }

    #[test]
    fn a_gap_is_given_up_after_the_timeout() {
        let mut p = Position { applied: 1, ..Position::default() };
        p.seen.insert(3);
        p.advance();
        assert_eq!(p.applied, 1);
        let long_ago = Instant::now().checked_sub(GAP_TIMEOUT + Duration::from_secs(1));
        if let Some(t) = long_ago {
            p.gaps.insert(2, t);
            p.advance();
            assert_eq!(p.applied, 3);
        }
    }
}
