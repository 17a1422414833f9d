//! The key ring: signing keys decrypted in memory, found by `kid`, rotated on a schedule, and
//! published (their public halves) in the JWKS.
//!
//! Each algorithm Ward signs with has its own keys: the configured JWT algorithm (EdDSA by
//! default), PASETO `v4.public`, and `v4.local` for tokens only Ward reads. A rotation publishes a
//! new key `key_publish_lead` seconds before it starts signing, and keeps the old one verifying
//! until every token it signed has expired (`access_token_max_ttl`).

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use serde::Serialize;
use utoipa::ToSchema;
use ward_core::clock::rfc3339;
use ward_core::keyring::{KeyState, SigningKeyRecord};
use ward_core::{SourceRng, UnixTime};
use ward_signed::{Algorithm, SigningKey, VerifyingKey};
use ward_store::{Retire, StoreError};

use crate::problem::ApiError;
use crate::AppState;

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
#[derive(Debug, Default)]
pub struct KeyRing {
    ring: RwLock<Arc<Ring>>,
    /// Monotonic second of the last reload, so an unknown `kid` triggers at most one reload a second.
    reloaded: std::sync::atomic::AtomicU64,
}

/// A key's state, as shown by `GET /v1/keyring`.
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyView {
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

fn monotonic_secs() -> u64 {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    START.get_or_init(std::time::Instant::now).elapsed().as_secs() + 1
}

impl KeyRing {
    fn snapshot(&self) -> Arc<Ring> {
        self.ring.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Reads every key from the store and decrypts it. A key that does not decrypt (another
    /// master key, a damaged row) is left out with a warning, never used.
    pub async fn reload(&self, state: &AppState) -> Result<(), StoreError> {
        let records = state.store.list_signing_keys().await?;
        let mut ring = Ring::default();
        for record in records {
            match decrypt(state, &record) {
                Some(k) => {
                    let k = Arc::new(k);
                    ring.by_kid.insert(k.record.kid.clone(), k.clone());
                    ring.all.push(k);
                }
                None => {
                    tracing::warn!(kid = %record.kid, "signing key does not decrypt under this master key; skipped")
                }
            }
        }
        *self.ring.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(ring);
        self.reloaded.store(monotonic_secs(), std::sync::atomic::Ordering::SeqCst);
        Ok(())
    }

    /// The key with this `kid`, reloading once from the store (at most once a second) if this node
    /// does not know it yet: another node may have rotated.
    pub async fn find(&self, state: &AppState, kid: &str) -> Result<Option<Arc<LoadedKey>>, StoreError> {
        if let Some(k) = self.snapshot().by_kid.get(kid) {
            return Ok(Some(k.clone()));
        }
        let last = self.reloaded.load(std::sync::atomic::Ordering::SeqCst);
        if monotonic_secs() > last {
            self.reload(state).await?;
        }
        Ok(self.snapshot().by_kid.get(kid).cloned())
    }

    /// The key that signs `alg` tokens at `now`: the newest active one.
    pub fn signer(&self, alg: Algorithm, now: UnixTime) -> Option<Arc<LoadedKey>> {
        self.snapshot().all.iter().find(|k| k.alg == alg && k.record.state(now) == KeyState::Active).cloned()
    }

    /// Public JWKs of pending, active and retiring asymmetric keys.
    pub fn jwks(&self, now: UnixTime) -> Vec<serde_json::Value> {
        self.snapshot()
            .all
            .iter()
            .filter(|k| k.record.state(now) != KeyState::Retired && !k.record.public_jwk.is_null())
            .map(|k| k.record.public_jwk.clone())
            .collect()
    }

    /// PASERK `k4.public` forms of the PASETO v4.public keys that are pending, active or retiring:
    /// what resource servers verify Ward's PASETO tokens with (they are not JWKs on purpose, so no
    /// JOSE library mistakes them for EdDSA keys).
    pub fn paserks(&self, now: UnixTime) -> Vec<serde_json::Value> {
        self.snapshot()
            .all
            .iter()
            .filter(|k| k.alg == Algorithm::PasetoV4Public && k.record.state(now) != KeyState::Retired)
            .filter_map(|k| {
                k.verifying.to_paserk().map(|p| {
                    serde_json::json!({ "kid": k.record.kid, "paserk": p, "state": k.record.state(now).as_str() })
                })
            })
            .collect()
    }

    /// Every key, newest first, for `GET /v1/keyring`.
    pub fn views(&self, now: UnixTime) -> Vec<KeyView> {
        self.snapshot().all.iter().map(|k| view(&k.record, now)).collect()
    }
}

fn view(r: &SigningKeyRecord, now: UnixTime) -> KeyView {
    let state = r.state(now);
    KeyView {
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

fn decrypt(state: &AppState, r: &SigningKeyRecord) -> Option<LoadedKey> {
    let alg = r.alg.parse::<Algorithm>().ok()?;
    let secret = state.sealer.open(&r.kid, &r.nonce, &r.private_enc)?;
    let signing = SigningKey::from_secret_bytes(&r.kid, alg, &secret).ok()?;
    let verifying = signing.verifying_key();
    Some(LoadedKey { record: r.clone(), alg, signing, verifying })
}

/// The algorithms Ward keeps keys for.
pub fn algorithms(state: &AppState) -> Vec<Algorithm> {
    let jwt = state.config.signing_alg.parse::<Algorithm>().unwrap_or(Algorithm::EdDSA);
    vec![jwt, Algorithm::PasetoV4Public, Algorithm::PasetoV4Local]
}

/// Makes a new key of `alg`, encrypted for storage, starting to sign at `activates_at`.
fn new_record(
    state: &AppState,
    alg: Algorithm,
    activates_at: UnixTime,
) -> Result<SigningKeyRecord, ApiError> {
    let mut rng = SourceRng(state.secrets.as_ref());
    let key = SigningKey::generate(alg, &mut rng)
        .map_err(|e| ApiError::Unavailable(format!("could not generate a {} key: {e}", alg.as_str())))?;
    let kid = key.kid().to_string();
    let (nonce, private_enc) = state
        .sealer
        .seal(&mut rng, &kid, &key.to_secret_bytes())
        .ok_or_else(|| ApiError::Unavailable("could not encrypt the new key".into()))?;
    Ok(SigningKeyRecord {
        public_jwk: key.verifying_key().to_jwk().unwrap_or(serde_json::Value::Null),
        kid,
        alg: alg.as_str().to_string(),
        purpose: PURPOSE.to_string(),
        private_enc,
        nonce,
        created_at: state.clock.now(),
        activates_at,
        retiring_at: None,
        retired_at: None,
    })
}

/// Makes sure every algorithm has a key that signs now: on first start, creates them.
pub async fn ensure_keys(state: &AppState) -> Result<(), ApiError> {
    state.keyring.reload(state).await?;
    let now = state.clock.now();
    for alg in algorithms(state) {
        let live = state
            .keyring
            .snapshot()
            .all
            .iter()
            .any(|k| k.alg == alg && matches!(k.record.state(now), KeyState::Active | KeyState::Pending));
        if !live {
            let record = new_record(state, alg, now)?;
            state.store.add_signing_key(&record, None).await?;
            tracing::info!(kid = %record.kid, alg = alg.as_str(), "signing key created");
        }
    }
    state.keyring.reload(state).await?;
    Ok(())
}

/// Rotates `alg`'s key: the successor is published now and signs after `lead` seconds; the
/// current key signs until then and verifies until `access_token_max_ttl` later.
pub async fn rotate(state: &AppState, alg: Algorithm, lead: i64) -> Result<SigningKeyRecord, ApiError> {
    state.keyring.reload(state).await?;
    let now = state.clock.now();
    let activates_at = now + lead.max(0);
    let record = new_record(state, alg, activates_at)?;
    let current = state.keyring.signer(alg, now);
    let retire = current.as_ref().map(|k| Retire {
        kid: &k.record.kid,
        retiring_at: activates_at,
        retired_at: activates_at + state.config.access_token_max_ttl + state.config.leeway,
    });
    if !state.store.add_signing_key(&record, retire).await? {
        return Err(ApiError::Conflict(format!(
            "the {} key was rotated concurrently; see GET /v1/keyring",
            alg.as_str()
        )));
    }
    state.keyring.reload(state).await?;
    tracing::info!(kid = %record.kid, alg = alg.as_str(), activates_at, "signing key rotated");
    Ok(record)
}

/// Rotates every algorithm whose signing key is older than `key_rotation_interval` and has no
/// successor yet. Called by the background task.
pub async fn rotate_due(state: &AppState) -> Result<usize, ApiError> {
    state.keyring.reload(state).await?;
    let now = state.clock.now();
    let mut rotated = 0;
    for alg in algorithms(state) {
        let ring = state.keyring.snapshot();
        let pending = ring.all.iter().any(|k| k.alg == alg && k.record.state(now) == KeyState::Pending);
        let due = ring.all.iter().any(|k| {
            k.alg == alg
                && k.record.state(now) == KeyState::Active
                && k.record.retiring_at.is_none()
                && now - k.record.activates_at >= state.config.key_rotation_interval
        });
        if due && !pending {
            rotate(state, alg, state.config.key_publish_lead).await?;
            rotated += 1;
        }
    }
    Ok(rotated)
}

/// What Ward says about a `kid` it cannot use: retired when, or never known.
pub fn unknown_key(kid: &str, found: Option<&LoadedKey>) -> ward_core::Verdict {
    use ward_core::{Reason, Verdict};
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
