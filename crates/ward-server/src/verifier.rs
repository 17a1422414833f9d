//! The verify path: the hot path of the whole product.
//!
//! Parsing, the environment and kind check, the keyed-hash comparison and the policy run in
//! memory. A record is read from the store once and then served from a bounded cache for
//! `cache_ttl`; only usage-limited keys touch the store on every verify (the counter must be
//! decremented atomically, across nodes). Last-use times are not written per verify: they go to
//! an in-memory [`Activity`] buffer that a background task flushes in batches.
//!
//! Cache coherence: every local write to a record evicts it and bumps an epoch; a read that started
//! before a write may not fill the cache after it, so a revocation on this node applies to the very
//! next verify. Other nodes see it within `cache_ttl`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use quick_cache::sync::Cache;
use serde_json::value::RawValue;
use ward_core::key::{require_scopes, usage_exceeded};
use ward_core::{ApiKey, ParsedToken, Reason, Session, TokenKind, UnixTime, Verdict};
use ward_store::StoreError;

use crate::AppState;

#[derive(Debug, Clone)]
struct Entry<T> {
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
    noted: AtomicI64,
    /// The record's view as a valid verify shows it, serialised once: for API keys without a
    /// usage limit, whose view does not change while the record is cached.
    pub view: OnceLock<Box<RawValue>>,
}

/// A token that passed every check.
#[derive(Debug, Clone)]
pub enum Verified {
    /// An API key.
    Key {
        /// The key's record (as cached; `remaining_uses` below is current).
        key: Arc<ApiKey>,
        /// Uses left after this one, for usage-limited keys.
        remaining_uses: Option<i64>,
        /// The cache entry's memo.
        memo: Arc<Memo>,
    },
    /// A session.
    Session {
        /// The session's record.
        session: Arc<Session>,
        /// This use: the idle deadline now runs from here.
        last_seen: UnixTime,
    },
    /// A signed access token (JWT or PASETO).
    Access(Arc<crate::access::VerifiedAccess>),
}

/// The outcome of checking one token.
#[derive(Debug, Clone)]
pub enum Checked {
    /// The token is good.
    Valid(Verified),
    /// The token is not good, or Ward could not tell (`unavailable`).
    Invalid(Verdict),
}

/// Last-use times not yet written to the store, per kind. Flushed in batches, so a verify never
/// writes; a crash loses at most one flush interval of activity (sessions may then time out for
/// idleness up to that much early; keys' `last_used_at` may lag by that much).
#[derive(Debug, Default)]
pub struct Activity {
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
    /// The latest unflushed use of a session.
    fn session_seen(&self, id: &str) -> Option<UnixTime> {
        self.sessions.lock().unwrap_or_else(PoisonError::into_inner).get(id).copied()
    }

    /// Writes buffered activity to the store. On failure the batch goes back into the buffer.
    pub async fn flush(&self, state: &AppState) -> Result<usize, StoreError> {
        let keys = take(&self.keys);
        let sessions = take(&self.sessions);
        let n = keys.len() + sessions.len();
        if !keys.is_empty() {
            if let Err(e) = state.store.touch_api_keys(&keys).await {
                put_back(&self.keys, keys);
                put_back(&self.sessions, sessions);
                return Err(e);
            }
        }
        if !sessions.is_empty() {
            if let Err(e) = state.store.touch_sessions(&sessions).await {
                put_back(&self.sessions, sessions);
                return Err(e);
            }
        }
        Ok(n)
    }
}

/// Verifies tokens, with caches of key and session records.
pub struct Verifier {
    keys: Cache<String, Entry<ApiKey>>,
    sessions: Cache<String, Entry<Session>>,
    /// Signed tokens already verified, by their full text: a repeat costs a lookup plus the
    /// time, audience and revocation checks.
    signed: Cache<String, Arc<crate::access::VerifiedAccess>>,
    ttl: Duration,
    epoch: AtomicU64,
    /// Buffered last-use times.
    pub activity: Activity,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("cached_keys", &self.keys.len())
            .field("cached_sessions", &self.sessions.len())
            .field("ttl", &self.ttl)
            .finish()
    }
}

/// The verdict when the store fails mid-check: `unavailable`, never a judgement on the token.
pub fn unavailable(e: StoreError) -> Verdict {
    tracing::warn!(error = %e, "store error while checking a token");
    Verdict::with(Reason::Unavailable, e.to_string())
}

impl Verifier {
    /// A verifier caching up to `capacity` records of each kind for `ttl` each.
    pub fn new(capacity: usize, ttl: Duration) -> Self {
        Verifier {
            keys: Cache::new(capacity.max(1)),
            sessions: Cache::new(capacity.max(1)),
            signed: Cache::new(capacity.max(1)),
            ttl,
            epoch: AtomicU64::new(0),
            activity: Activity::default(),
        }
    }

    /// Forgets a record's cached copy; call after every write to that record.
    pub fn invalidate(&self, id: &str) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
        self.keys.remove(id);
        self.sessions.remove(id);
    }

    /// A signed token verified before.
    pub fn signed_hit(&self, token: &str) -> Option<Arc<crate::access::VerifiedAccess>> {
        self.signed.get(token)
    }

    /// Remembers a verified signed token.
    pub fn signed_insert(&self, token: &str, v: Arc<crate::access::VerifiedAccess>) {
        self.signed.insert(token.to_string(), v);
    }

    /// Forgets every cached record (after a write that reaches many, like a subject revocation).
    pub fn invalidate_all(&self) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
        self.keys.clear();
        self.sessions.clear();
    }

    /// Reads a record through its cache.
    async fn cached<T, L, F>(
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

    /// Checks `token`, which must be one of `kinds`, requiring `scopes`. Spends one use of a
    /// usage-limited key if (and only if) everything else holds, and records the activity.
    pub async fn verify(
        &self,
        state: &AppState,
        token: &str,
        kinds: &[TokenKind],
        scopes: &[String],
    ) -> Checked {
        self.verify_for(state, token, kinds, scopes, None).await
    }

    /// [`Verifier::verify`], also requiring signed tokens to carry `audience`.
    pub async fn verify_for(
        &self,
        state: &AppState,
        token: &str,
        kinds: &[TokenKind],
        scopes: &[String],
        audience: Option<&str>,
    ) -> Checked {
        match self.verify_inner(state, token, kinds, scopes, audience).await {
            Ok(v) => Checked::Valid(v),
            Err(v) => Checked::Invalid(v),
        }
    }

    async fn verify_inner(
        &self,
        state: &AppState,
        token: &str,
        kinds: &[TokenKind],
        scopes: &[String],
        audience: Option<&str>,
    ) -> Result<Verified, Verdict> {
        if crate::access::looks_signed(token) {
            if !kinds.contains(&TokenKind::AccessToken) {
                return Err(Verdict::with(Reason::WrongType, "a signed access token is not accepted here"));
            }
            let v = crate::access::verify(state, token, audience).await?;
            crate::access::check_scopes(&v, scopes)?;
            return Ok(Verified::Access(v));
        }
        let parsed = ParsedToken::parse(token)?;
        if parsed.kind == TokenKind::OneTime && !kinds.contains(&TokenKind::OneTime) {
            return Err(Verdict::with(
                Reason::WrongType,
                "this is a one-time token: redeem it with POST /v1/one-time/redeem, it cannot be verified",
            ));
        }
        parsed.expect(&state.config.env, kinds)?;
        match parsed.kind {
            TokenKind::Session => self.verify_session(state, &parsed, scopes).await,
            _ => self.verify_key(state, &parsed, scopes).await,
        }
    }

    async fn verify_key(
        &self,
        state: &AppState,
        parsed: &ParsedToken<'_>,
        scopes: &[String],
    ) -> Result<Verified, Verdict> {
        let Some((key, memo)) =
            self.cached(&self.keys, parsed.id, || state.store.get_api_key(parsed.id)).await?
        else {
            return Err(gone(state, parsed).await);
        };
        if !state.hasher.matches(parsed.hashed_part, &key.secret_hash) {
            return Err(tampered(TokenKind::ApiKey, &key.id));
        }
        let now = state.clock.now();
        key.check(now, scopes)?;
        let remaining_uses = match key.remaining_uses {
            None => None,
            Some(_) => match state.store.consume_api_key_use(&key.id, now).await {
                Ok(Some(left)) => Some(left),
                Ok(None) => {
                    self.invalidate(&key.id);
                    return Err(usage_exceeded());
                }
                Err(e) => return Err(unavailable(e)),
            },
        };
        if memo.noted.fetch_max(now, Ordering::Relaxed) < now {
            note(&self.activity.keys, &key.id, now);
        }
        Ok(Verified::Key { key, remaining_uses, memo })
    }

    async fn verify_session(
        &self,
        state: &AppState,
        parsed: &ParsedToken<'_>,
        scopes: &[String],
    ) -> Result<Verified, Verdict> {
        let Some((session, memo)) =
            self.cached(&self.sessions, parsed.id, || state.store.get_session(parsed.id)).await?
        else {
            return Err(gone(state, parsed).await);
        };
        if !state.hasher.matches(parsed.hashed_part, &session.secret_hash) {
            return Err(tampered(TokenKind::Session, &session.id));
        }
        let now = state.clock.now();
        // This node's latest use: from the cache entry, or (for a freshly loaded entry) from the
        // activity not yet flushed.
        let seen = match memo.noted.load(Ordering::Relaxed) {
            0 => self.activity.session_seen(&session.id).unwrap_or(session.last_seen_at),
            t => t,
        };
        session.check(now, seen)?;
        check_session_scopes(&session, scopes)?;
        if memo.noted.fetch_max(now, Ordering::Relaxed) < now {
            note(&self.activity.sessions, &session.id, now);
        }
        Ok(Verified::Session { session, last_seen: now })
    }

    /// The latest use of a session, counting this node's unflushed activity.
    pub fn session_last_seen(&self, s: &Session) -> UnixTime {
        self.activity.session_seen(&s.id).unwrap_or(s.last_seen_at).max(s.last_seen_at)
    }
}

/// Sessions carry scopes, if any, as a `scopes` array in their claims.
fn check_session_scopes(s: &Session, scopes: &[String]) -> Result<(), Verdict> {
    if scopes.is_empty() {
        return Ok(());
    }
    let have = s.claims.get("scopes").and_then(|v| v.as_array()).map(Vec::as_slice).unwrap_or_default();
    require_scopes(have.iter().filter_map(|v| v.as_str()), scopes, "the session's `claims.scopes`")
}

/// The verdict for a right id with a wrong secret.
pub fn tampered(kind: TokenKind, id: &str) -> Verdict {
    Verdict::with(
        Reason::Tampered,
        format!("{} `{id}` exists but the secret presented with it is wrong", kind.noun()),
    )
}

/// The verdict for an id with no live record: its tombstone's story, or `unknown`.
pub async fn gone(state: &AppState, parsed: &ParsedToken<'_>) -> Verdict {
    match state.store.get_tombstone(parsed.id).await {
        Ok(Some(t)) if t.kind == parsed.kind => t.verdict(state.clock.now()),
        Ok(_) => Verdict::with(
            Reason::Unknown,
            format!("no {} with id `{}` exists", parsed.kind.noun(), parsed.id),
        ),
        Err(e) => unavailable(e),
    }
}
