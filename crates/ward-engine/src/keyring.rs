//! The key ring: signing keys decrypted in memory, found by `kid`, rotated on a schedule, and
//! published (their public halves) in the JWKS.
//!
//! Each algorithm Ward signs with has its own keys: the configured JWT algorithm (EdDSA by
//! default), PASETO `v4.public`, and `v4.local` for tokens only Ward reads. A rotation publishes a
//! new key `key_publish_lead` seconds before it starts signing, and keeps the old one verifying
//! until every token it signed has expired.
//!
//! An unknown `kid` reloads the ring from the store, single-flight: however many requests meet
//! the same unknown key at once, one reload runs (and at most one a second), the others wait for
//! it and look again.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Instant;

use ward_core::clock::rfc3339;
use ward_core::keyring::{KeyState, SigningKeyRecord};
use ward_core::{Reason, SourceRng, UnixTime, Verdict};
use ward_signed::{Algorithm, SigningKey, VerifyingKey};
use ward_store::{Retire, StoreError};

use crate::events::{Call, Event, EventKind};
use crate::{Engine, EngineError};

/// The purpose every access-token key is bound to.
pub const PURPOSE: &str = "access_token";

/// One key of the ring, decrypted.
#[derive(Debug)]
pub struct LoadedKey {
    /// Its stored record (times, public JWK).
    pub record: SigningKeyRecord,
    /// Its algorithm.
    pub alg: Algorithm,
    /// The private half.
    pub signing: SigningKey,
    /// The public half (for symmetric algorithms, the secret itself; never published).
    pub verifying: VerifyingKey,
}

#[derive(Debug, Default)]
struct Ring {
    by_kid: HashMap<String, Arc<LoadedKey>>,
    /// Newest first.
    all: Vec<Arc<LoadedKey>>,
}

/// The keys, as this node knows them.
#[derive(Debug)]
pub(crate) struct KeyRing {
    ring: RwLock<Arc<Ring>>,
    /// Held while a reload for an unknown `kid` runs, so concurrent lookups share it.
    reloading: tokio::sync::Mutex<()>,
    /// How many reloads have completed.
    generation: AtomicU64,
    /// Milliseconds since `started` (plus one) of the last reload an unknown `kid` caused; 0 for
    /// none yet.
    missed_ms: AtomicU64,
    started: Instant,
}

impl Default for KeyRing {
    fn default() -> Self {
        KeyRing {
            ring: RwLock::default(),
            reloading: tokio::sync::Mutex::new(()),
            generation: AtomicU64::new(0),
            missed_ms: AtomicU64::new(0),
            started: Instant::now(),
        }
    }
}

/// A key's state, as `GET /v1/keyring` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    /// The key id.
    pub kid: String,
    /// Its algorithm.
    pub alg: String,
    /// `pending`, `active`, `retiring` or `retired`.
    pub state: &'static str,
    /// When it was created (RFC 3339).
    pub created_at: String,
    /// When it starts (started) signing.
    pub activates_at: String,
    /// When it stops (stopped) signing.
    pub retiring_at: Option<String>,
    /// When it stops (stopped) verifying.
    pub retired_at: Option<String>,
    /// Whether it appears in the JWKS.
    pub published: bool,
}

impl KeyRing {
    fn snapshot(&self) -> Arc<Ring> {
        self.ring.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// How many reloads have run (tests use it to see single-flight at work).
    pub(crate) fn reloads(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Reads every key from the store and decrypts it. A key that does not decrypt (another
    /// master key, a damaged row) is left out with a warning, never used.
    pub(crate) async fn reload(&self, engine: &Engine) -> Result<(), StoreError> {
        let records = engine.0.store.list_signing_keys().await?;
        let mut ring = Ring::default();
        for record in records {
            match decrypt(engine, &record) {
                Some(k) => {
                    let k = Arc::new(k);
                    ring.by_kid.insert(k.record.kid.clone(), k.clone());
                    ring.all.push(k);
                }
                None => {
                    tracing::warn!(kid = ?record.kid, "signing key does not decrypt under this master key; skipped")
                }
            }
        }
        *self.ring.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(ring);
        self.generation.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    /// The key with this `kid`, reloading once (single-flight, at most once a second) if this
    /// node does not know it yet: another node may have rotated.
    pub(crate) async fn find(
        &self,
        engine: &Engine,
        kid: &str,
    ) -> Result<Option<Arc<LoadedKey>>, StoreError> {
        if let Some(k) = self.snapshot().by_kid.get(kid) {
            return Ok(Some(k.clone()));
        }
        let seen = self.generation.load(Ordering::SeqCst);
        let _turn = self.reloading.lock().await;
        // Someone reloaded while we waited: their answer is as fresh as ours would be.
        if self.generation.load(Ordering::SeqCst) == seen {
            let last = self.missed_ms.load(Ordering::SeqCst);
            let now = self.started.elapsed().as_millis() as u64 + 1;
            // A flood of made-up kids costs one reload a second, not one per request.
            if last == 0 || now.saturating_sub(last) >= 1000 {
                self.missed_ms.store(now, Ordering::SeqCst);
                self.reload(engine).await?;
            }
        }
        Ok(self.snapshot().by_kid.get(kid).cloned())
    }

    /// The key that signs `alg` tokens at `now`: the newest active one.
    pub(crate) fn signer(&self, alg: Algorithm, now: UnixTime) -> Option<Arc<LoadedKey>> {
        self.snapshot().all.iter().find(|k| k.alg == alg && k.record.state(now) == KeyState::Active).cloned()
    }

    fn any_live(&self, alg: Algorithm, now: UnixTime) -> bool {
        self.snapshot()
            .all
            .iter()
            .any(|k| k.alg == alg && matches!(k.record.state(now), KeyState::Active | KeyState::Pending))
    }
}

fn info(r: &SigningKeyRecord, now: UnixTime) -> KeyInfo {
    let state = r.state(now);
    KeyInfo {
        kid: r.kid.clone(),
        alg: r.alg.clone(),
        state: state.as_str(),
        created_at: rfc3339(r.created_at),
        activates_at: rfc3339(r.activates_at),
        retiring_at: r.retiring_at.map(rfc3339),
        retired_at: r.retired_at.map(rfc3339),
        published: state != KeyState::Retired && !r.public_jwk.is_null(),
    }
}

fn decrypt(engine: &Engine, r: &SigningKeyRecord) -> Option<LoadedKey> {
    let alg = r.alg.parse::<Algorithm>().ok()?;
    let secret = engine.0.sealer.open(&r.kid, &r.nonce, &r.private_enc)?;
    let signing = SigningKey::from_secret_bytes(&r.kid, alg, &secret).ok()?;
    let verifying = signing.verifying_key();
    Some(LoadedKey { record: r.clone(), alg, signing, verifying })
}

impl Engine {
    /// The algorithms this deployment keeps keys for.
    pub fn algorithms(&self) -> Vec<Algorithm> {
        vec![self.0.policy.signing_alg, Algorithm::PasetoV4Public, Algorithm::PasetoV4Local]
    }

    /// The ring, read from the store first if this node holds none yet.
    async fn loaded_ring(&self) -> Result<Arc<Ring>, EngineError> {
        let ring = self.0.keyring.snapshot();
        if !ring.all.is_empty() {
            return Ok(ring);
        }
        self.0.keyring.reload(self).await?;
        Ok(self.0.keyring.snapshot())
    }

    /// Public JWKs of pending, active and retiring asymmetric keys (RFC 7517).
    pub async fn jwks(&self) -> Result<Vec<serde_json::Value>, EngineError> {
        let now = self.now();
        Ok(self
            .loaded_ring()
            .await?
            .all
            .iter()
            .filter(|k| k.record.state(now) != KeyState::Retired && !k.record.public_jwk.is_null())
            .map(|k| k.record.public_jwk.clone())
            .collect())
    }

    /// PASERK `k4.public` forms of the PASETO v4.public keys that are pending, active or retiring
    /// (not JWKs on purpose, so no JOSE library mistakes them for EdDSA keys).
    pub async fn paserks(&self) -> Result<Vec<serde_json::Value>, EngineError> {
        let now = self.now();
        Ok(self
            .loaded_ring()
            .await?
            .all
            .iter()
            .filter(|k| k.alg == Algorithm::PasetoV4Public && k.record.state(now) != KeyState::Retired)
            .filter_map(|k| {
                k.verifying.to_paserk().map(|p| {
                    serde_json::json!({ "kid": k.record.kid, "paserk": p, "state": k.record.state(now).as_str() })
                })
            })
            .collect())
    }

    /// Every signing key, newest first, as read from the store now.
    pub async fn keyring(&self) -> Result<Vec<KeyInfo>, EngineError> {
        self.0.keyring.reload(self).await?;
        let now = self.now();
        Ok(self.0.keyring.snapshot().all.iter().map(|k| info(&k.record, now)).collect())
    }

    /// The key that signs `alg` tokens now (for tests and benchmarks that sign by hand).
    pub fn signer(&self, alg: Algorithm) -> Option<Arc<LoadedKey>> {
        self.0.keyring.signer(alg, self.now())
    }

    /// Makes a new key of `alg`, encrypted for storage, starting to sign at `activates_at`.
    fn new_key_record(
        &self,
        alg: Algorithm,
        activates_at: UnixTime,
    ) -> Result<SigningKeyRecord, EngineError> {
        let mut rng = SourceRng(self.0.secrets.as_ref());
        let key = SigningKey::generate(alg, &mut rng).map_err(|e| {
            EngineError::Unavailable(format!("could not generate a {} key: {e}", alg.as_str()))
        })?;
        let kid = key.kid().to_string();
        let (nonce, private_enc) = self
            .0
            .sealer
            .seal(&mut rng, &kid, &key.to_secret_bytes())
            .ok_or_else(|| EngineError::Unavailable("could not encrypt the new key".into()))?;
        Ok(SigningKeyRecord {
            public_jwk: key.verifying_key().to_jwk().unwrap_or(serde_json::Value::Null),
            kid,
            alg: alg.as_str().to_string(),
            purpose: PURPOSE.to_string(),
            private_enc,
            nonce,
            created_at: self.now(),
            activates_at,
            retiring_at: None,
            retired_at: None,
        })
    }

    /// Makes sure every algorithm has a key that signs now: on first start, creates them.
    pub(crate) async fn ensure_keys(&self) -> Result<(), EngineError> {
        self.0.keyring.reload(self).await?;
        let now = self.now();
        for alg in self.algorithms() {
            if !self.0.keyring.any_live(alg, now) {
                let record = self.new_key_record(alg, now)?;
                self.0.store.add_signing_key(&record, None).await?;
                tracing::info!(kid = %record.kid, alg = alg.as_str(), "signing key created");
                self.signing_key_event(&record, &Call::by("system:keyring"));
            }
        }
        self.0.keyring.reload(self).await?;
        Ok(())
    }

    fn signing_key_event(&self, record: &SigningKeyRecord, call: &Call) {
        self.emit(|| {
            Event::new(EventKind::KeyRingChanged, record.created_at)
                .token(ward_core::TokenKind::AccessToken, record.kid.clone())
                .detail(format!("{} key added, signs from {}", record.alg, rfc3339(record.activates_at)))
                .call(call)
        });
    }

    /// Rotates `alg`'s key: the successor is published now and signs after `lead` seconds; the
    /// current key signs until then and verifies until every token it signed has expired.
    pub async fn rotate_signing_key(
        &self,
        alg: Algorithm,
        lead: i64,
        call: &Call,
    ) -> Result<SigningKeyRecord, EngineError> {
        if !self.algorithms().contains(&alg) {
            return Err(EngineError::Invalid(format!(
                "Ward keeps no `{}` keys in this deployment",
                alg.as_str()
            )));
        }
        self.0.keyring.reload(self).await?;
        let now = self.now();
        let activates_at = now + lead.max(0);
        let record = self.new_key_record(alg, activates_at)?;
        let current = self.0.keyring.signer(alg, now);
        let retire = current.as_ref().map(|k| Retire {
            kid: &k.record.kid,
            retiring_at: activates_at,
            retired_at: self.0.policy.deny_until(activates_at),
        });
        if !self.0.store.add_signing_key(&record, retire).await? {
            return Err(EngineError::Conflict(format!(
                "the {} key was rotated concurrently; see GET /v1/keyring",
                alg.as_str()
            )));
        }
        self.0.keyring.reload(self).await?;
        tracing::info!(kid = %record.kid, alg = alg.as_str(), activates_at, "signing key rotated");
        self.signing_key_event(&record, call);
        Ok(record)
    }

    /// Rotates every algorithm whose signing key is older than `key_rotation_interval` and has no
    /// successor yet. Called by the background task.
    pub async fn rotate_due_keys(&self) -> Result<usize, EngineError> {
        self.0.keyring.reload(self).await?;
        let now = self.now();
        let mut rotated = 0;
        for alg in self.algorithms() {
            let ring = self.0.keyring.snapshot();
            let pending = ring.all.iter().any(|k| k.alg == alg && k.record.state(now) == KeyState::Pending);
            let due = ring.all.iter().any(|k| {
                k.alg == alg
                    && k.record.state(now) == KeyState::Active
                    && k.record.retiring_at.is_none()
                    && now - k.record.activates_at >= self.0.policy.key_rotation_interval
            });
            if due && !pending {
                self.rotate_signing_key(alg, self.0.policy.key_publish_lead, &Call::by("system:schedule"))
                    .await?;
                rotated += 1;
            }
        }
        Ok(rotated)
    }

    /// How many times this engine has reloaded its key ring.
    pub fn keyring_reloads(&self) -> u64 {
        self.0.keyring.reloads()
    }
}

/// What Ward says about a `kid` it cannot use: retired when, or never known.
pub(crate) fn unknown_key(kid: &str, found: Option<&LoadedKey>) -> Verdict {
    match found.and_then(|k| k.record.retired_at) {
        Some(at) => Verdict::with(
            Reason::UnknownKey,
            format!("Ward retired key `{kid}` at {}: tokens it signed are no longer accepted", rfc3339(at)),
        ),
        None => Verdict::with(
            Reason::UnknownKey,
            format!("Ward has no key `{kid}`: the token was signed by another issuer or deployment"),
        ),
    }
}
