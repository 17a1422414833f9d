//! The record cache of the verify path, and the write-behind buffer of last-use times.
//!
//! A record is read from the store once and then served from a bounded cache for `cache_ttl`.
//! Coherence: every write to a record, here or (through the change feed) on another node, evicts
//! it and bumps an epoch; a read that started before an eviction may not fill the cache after it,
//! so a revocation applies to the very next verify.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use quick_cache::sync::Cache;
use serde_json::value::RawValue;
use ward_core::client::Client;
use ward_core::{ApiKey, Session, TokenKind, UnixTime, Verdict};
use ward_store::{Store, StoreError};

use crate::access::VerifiedAccess;
use crate::error::unavailable;

#[derive(Debug, Clone)]
pub(crate) struct Entry<T> {
    record: Arc<T>,
    fetched: Instant,
    memo: Arc<Memo>,
}

/// What a cached record's entry remembers besides the record. It lives and dies with the entry,
/// so every write to the record (which evicts the entry) forgets it too.
#[derive(Debug, Default)]
pub struct Memo {
    /// This node's latest use of the record, so repeat uses within a second skip the activity
    /// buffer's lock.
    pub(crate) noted: AtomicI64,
    /// Whatever an adapter wants to compute once per cached record (the HTTP API keeps a valid
    /// key's JSON view here): it cannot go stale, since any write evicts the entry.
    pub view: OnceLock<Box<RawValue>>,
}

/// A remembered miss: the kind asked for and the verdict given.
#[derive(Debug, Clone)]
struct Gone {
    kind: TokenKind,
    verdict: Verdict,
    fetched: Instant,
}

/// The caches: opaque records by id, verified signed tokens by text.
pub(crate) struct Records {
    pub(crate) keys: Cache<String, Entry<ApiKey>>,
    pub(crate) sessions: Cache<String, Entry<Session>>,
    pub(crate) clients: Cache<String, Entry<Client>>,
    /// Signed tokens already verified, by their full text: a repeat costs a lookup plus the
    /// time, audience and revocation checks.
    pub(crate) signed: Cache<String, Arc<VerifiedAccess>>,
    /// Ids with no live record, and what a verify of them answers (`unknown`, or a tombstone's
    /// story): a repeat costs a lookup, like a known id's, so timing does not tell which ids
    /// exist (issue 9). Its own bounded cache: random ids cannot push real records out.
    gone: Cache<String, Gone>,
    ttl: Duration,
    epoch: AtomicU64,
}

impl std::fmt::Debug for Records {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Records")
            .field("keys", &self.keys.len())
            .field("sessions", &self.sessions.len())
            .field("clients", &self.clients.len())
            .field("signed", &self.signed.len())
            .finish()
    }
}

impl Records {
    pub(crate) fn new(capacity: usize, ttl: Duration) -> Self {
        Records {
            keys: Cache::new(capacity.max(1)),
            sessions: Cache::new(capacity.max(1)),
            clients: Cache::new(capacity.max(1)),
            signed: Cache::new(capacity.max(1)),
            gone: Cache::new(capacity.max(1)),
            ttl,
            epoch: AtomicU64::new(0),
        }
    }

    /// Forgets a record's cached copy, whatever its kind.
    pub(crate) fn invalidate(&self, id: &str) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
        self.keys.remove(id);
        self.sessions.remove(id);
        self.clients.remove(id);
        self.gone.remove(id);
    }

    /// Forgets every cached record (after a write that reaches many, like a subject revocation).
    pub(crate) fn invalidate_all(&self) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
        self.keys.clear();
        self.sessions.clear();
        self.clients.clear();
        self.gone.clear();
    }

    /// Forgets every remembered miss (after tombstones were purged).
    pub(crate) fn forget_gone(&self) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
        self.gone.clear();
    }

    /// The verdict remembered for an id of `kind` with no live record, if still fresh.
    pub(crate) fn gone_verdict(&self, kind: TokenKind, id: &str) -> Option<Verdict> {
        let g = self.gone.get(id)?;
        (g.kind == kind && g.fetched.elapsed() < self.ttl).then_some(g.verdict)
    }

    /// Remembers that `id` of `kind` has no live record and is answered `verdict`, unless a write
    /// evicted records since `epoch` (when the lookup started).
    pub(crate) fn remember_gone(
        &self,
        kind: TokenKind,
        id: &str,
        verdict: &Verdict,
        epoch: u64,
        fetched: Instant,
    ) {
        if self.epoch.load(Ordering::SeqCst) == epoch {
            self.gone.insert(id.to_string(), Gone { kind, verdict: verdict.clone(), fetched });
        }
    }

    /// The current eviction epoch: a lookup started now may fill the cache only if it is
    /// unchanged when the lookup ends.
    pub(crate) fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::SeqCst)
    }

    /// Reads a record through `cache`, loading it with `load` on a miss.
    pub(crate) async fn get<T, L, F>(
        &self,
        cache: &Cache<String, Entry<T>>,
        id: &str,
        load: L,
    ) -> Result<Option<(Arc<T>, Arc<Memo>)>, Verdict>
    where
        T: Clone,
        L: FnOnce() -> F,
        F: std::future::Future<Output = Result<Option<T>, StoreError>>,
    {
        if let Some(e) = cache.get(id) {
            if e.fetched.elapsed() < self.ttl {
                return Ok(Some((e.record, e.memo)));
            }
        }
        // A remembered miss (of any kind: ids are unique across kinds) is a miss again.
        if self.gone.get(id).is_some_and(|g| g.fetched.elapsed() < self.ttl) {
            return Ok(None);
        }
        let epoch = self.epoch.load(Ordering::SeqCst);
        let fetched = Instant::now();
        match load().await {
            Ok(Some(r)) => {
                let record = Arc::new(r);
                let memo = Arc::new(Memo::default());
                if self.epoch.load(Ordering::SeqCst) == epoch {
                    cache.insert(
                        id.to_string(),
                        Entry { record: record.clone(), fetched, memo: memo.clone() },
                    );
                }
                Ok(Some((record, memo)))
            }
            Ok(None) => Ok(None),
            Err(e) => Err(unavailable(e)),
        }
    }
}

/// Last-use times not yet written to the store, per kind. Flushed in batches, so a verify never
/// writes; a crash loses at most one flush interval of activity (sessions may then time out for
/// idleness up to that much early; keys' `last_used_at` may lag by that much).
#[derive(Debug, Default)]
pub(crate) struct Activity {
    keys: Mutex<HashMap<String, UnixTime>>,
    sessions: Mutex<HashMap<String, UnixTime>>,
}

fn note(map: &Mutex<HashMap<String, UnixTime>>, id: &str, at: UnixTime) {
    let mut m = map.lock().unwrap_or_else(PoisonError::into_inner);
    match m.get_mut(id) {
        Some(t) => *t = (*t).max(at),
        None => {
            m.insert(id.to_string(), at);
        }
    }
}

fn take(map: &Mutex<HashMap<String, UnixTime>>) -> Vec<(String, UnixTime)> {
    std::mem::take(&mut *map.lock().unwrap_or_else(PoisonError::into_inner)).into_iter().collect()
}

fn put_back(map: &Mutex<HashMap<String, UnixTime>>, batch: Vec<(String, UnixTime)>) {
    for (id, at) in batch {
        note(map, &id, at);
    }
}

impl Activity {
    /// Notes a use of key `id` at `now`, unless this entry already noted one this second.
    pub(crate) fn key_used(&self, memo: &Memo, id: &str, now: UnixTime) {
        if memo.noted.fetch_max(now, Ordering::Relaxed) < now {
            note(&self.keys, id, now);
        }
    }

    /// Notes a use of session `id` at `now`, unless this entry already noted one this second.
    pub(crate) fn session_used(&self, memo: &Memo, id: &str, now: UnixTime) {
        if memo.noted.fetch_max(now, Ordering::Relaxed) < now {
            note(&self.sessions, id, now);
        }
    }

    /// This node's latest use of a session: from the cache entry or the unflushed buffer.
    pub(crate) fn session_seen(&self, memo: Option<&Memo>, s: &Session) -> UnixTime {
        let noted = memo.map_or(0, |m| m.noted.load(Ordering::Relaxed));
        if noted != 0 {
            return noted.max(s.last_seen_at);
        }
        let buffered = self.sessions.lock().unwrap_or_else(PoisonError::into_inner).get(&s.id).copied();
        buffered.unwrap_or(s.last_seen_at).max(s.last_seen_at)
    }

    /// Writes buffered activity to the store. On failure the batch goes back into the buffer.
    pub(crate) async fn flush(&self, store: &dyn Store) -> Result<usize, StoreError> {
        let keys = take(&self.keys);
        let sessions = take(&self.sessions);
        let n = keys.len() + sessions.len();
        if !keys.is_empty() {
            if let Err(e) = store.touch_api_keys(&keys).await {
                put_back(&self.keys, keys);
                put_back(&self.sessions, sessions);
                return Err(e);
            }
        }
        if !sessions.is_empty() {
            if let Err(e) = store.touch_sessions(&sessions).await {
                put_back(&self.sessions, sessions);
                return Err(e);
            }
        }
        Ok(n)
    }
}
