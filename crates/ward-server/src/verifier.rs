//! The verify path: the hot path of the whole product.
//!
//! Parsing, the environment and kind check, the keyed-hash comparison and the policy run in
//! memory. A key's record is read from the store once and then served from a bounded cache for
//! `cache_ttl`; only usage-limited keys touch the store on every verify (the counter must be
//! decremented atomically, across nodes).
//!
//! Cache coherence: every local write to a key evicts it and bumps an epoch; a read that started
//! before a write may not fill the cache after it, so a revocation on this node applies to the very
//! next verify. Other nodes see it within `cache_ttl`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use quick_cache::sync::Cache;
use ward_core::key::usage_exceeded;
use ward_core::{ApiKey, ParsedToken, Reason, TokenKind, Verdict};

use crate::AppState;

#[derive(Debug, Clone)]
struct Entry {
    key: Arc<ApiKey>,
    fetched: Instant,
}

/// The outcome of checking one token.
#[derive(Debug, Clone)]
pub enum Checked {
    /// The token is good.
    Valid {
        /// The key's record (as cached; `remaining_uses` below is current).
        key: Arc<ApiKey>,
        /// Uses left after this one, for usage-limited keys.
        remaining_uses: Option<i64>,
    },
    /// The token is not good, or Ward could not tell (`unavailable`).
    Invalid(Verdict),
}

/// Verifies tokens, with a cache of key records.
pub struct Verifier {
    cache: Cache<String, Entry>,
    ttl: Duration,
    epoch: AtomicU64,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier").field("cached", &self.cache.len()).field("ttl", &self.ttl).finish()
    }
}

impl Verifier {
    /// A verifier caching up to `capacity` records for `ttl` each.
    pub fn new(capacity: usize, ttl: Duration) -> Self {
        Verifier { cache: Cache::new(capacity.max(1)), ttl, epoch: AtomicU64::new(0) }
    }

    /// Forgets a key's cached record; call after every write to that key.
    pub fn invalidate(&self, id: &str) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
        self.cache.remove(id);
    }

    /// The key's record: from the cache when fresh, otherwise from the store.
    async fn record(&self, state: &AppState, id: &str) -> Result<Option<Arc<ApiKey>>, Verdict> {
        if let Some(e) = self.cache.get(id) {
            if e.fetched.elapsed() < self.ttl {
                return Ok(Some(e.key));
            }
        }
        let epoch = self.epoch.load(Ordering::SeqCst);
        let fetched = Instant::now();
        match state.store.get_api_key(id).await {
            Ok(Some(k)) => {
                let key = Arc::new(k);
                if self.epoch.load(Ordering::SeqCst) == epoch {
                    self.cache.insert(id.to_string(), Entry { key: key.clone(), fetched });
                }
                Ok(Some(key))
            }
            Ok(None) => Ok(None),
            Err(e) => {
                tracing::warn!(error = %e, "store error during verify");
                Err(Verdict::with(Reason::Unavailable, e.to_string()))
            }
        }
    }

    /// Checks `token` as an API key of this deployment, requiring `scopes`, and spends one use
    /// of a usage-limited key if (and only if) everything else holds.
    pub async fn verify(&self, state: &AppState, token: &str, scopes: &[String]) -> Checked {
        match self.verify_inner(state, token, scopes).await {
            Ok(c) => c,
            Err(v) => Checked::Invalid(v),
        }
    }

    async fn verify_inner(
        &self,
        state: &AppState,
        token: &str,
        scopes: &[String],
    ) -> Result<Checked, Verdict> {
        let parsed = ParsedToken::parse(token)?;
        parsed.expect(&state.config.env, &[TokenKind::ApiKey])?;
        let Some(key) = self.record(state, parsed.id).await? else {
            return Err(Verdict::with(Reason::Unknown, format!("no key with id `{}` exists", parsed.id)));
        };
        if !state.hasher.matches(parsed.hashed_part, &key.secret_hash) {
            return Err(Verdict::with(
                Reason::Tampered,
                format!("key `{}` exists but the secret presented with it is wrong", key.id),
            ));
        }
        key.check(state.clock.now(), scopes)?;
        let remaining_uses = match key.remaining_uses {
            None => None,
            Some(_) => match state.store.consume_api_key_use(&key.id, state.clock.now()).await {
                Ok(Some(left)) => Some(left),
                Ok(None) => {
                    self.invalidate(&key.id);
                    return Err(usage_exceeded());
                }
                Err(e) => {
                    tracing::warn!(error = %e, "store error spending a use");
                    return Err(Verdict::with(Reason::Unavailable, e.to_string()));
                }
            },
        };
        Ok(Checked::Valid { key, remaining_uses })
    }
}
