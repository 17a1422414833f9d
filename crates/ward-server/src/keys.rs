//! Issuing API keys, and the JSON view of a key's metadata.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use ward_core::clock::Rfc3339;
use ward_core::key::Refill;
use ward_core::key::{valid_scope, MAX_SCOPES};
use ward_core::token::NewToken;
use ward_core::{ApiKey, TokenKind};
use ward_store::StoreError;

use crate::problem::ApiError;
use crate::views::{Minted, RevocationView, SupersessionView};
use crate::AppState;

/// Longest subject or name.
pub const MAX_LABEL_LEN: usize = 256;
/// Largest `meta`, as JSON text.
pub const MAX_META_BYTES: usize = 4096;
/// Longest lifetime a key may be given: ten years.
pub const MAX_LIFETIME_SECS: i64 = 10 * 365 * 86_400;

/// `POST /v1/keys`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateKey {
    /// Who the key acts for (a user id, a service name).
    pub subject: String,
    /// A label for people.
    #[serde(default)]
    pub name: Option<String>,
    /// What the key may do.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Seconds until the key expires; never, if absent.
    #[serde(default)]
    pub expires_in: Option<i64>,
    /// Seconds until the key starts working; at once, if absent.
    #[serde(default)]
    pub starts_in: Option<i64>,
    /// How many valid verifies the key allows; unlimited, if absent.
    #[serde(default)]
    pub uses: Option<i64>,
    /// Any JSON object, returned on verify.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub meta: Option<serde_json::Value>,
    /// Reset the remaining uses to `amount` every `interval` seconds.
    #[serde(default)]
    pub refill: Option<RefillView>,
}

/// A key's metadata. Never contains the secret.
///
/// It borrows from the key's record instead of copying it: every valid verify answers with one.
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyView<'a> {
    /// The key's id (also embedded in the key).
    pub id: &'a str,
    /// The environment it was issued for.
    pub env: &'a str,
    /// Who it acts for.
    pub subject: &'a str,
    /// Its label.
    pub name: Option<&'a str>,
    /// Its scopes.
    #[schema(value_type = Vec<String>)]
    pub scopes: &'a [String],
    /// Its metadata.
    #[schema(value_type = Object)]
    pub meta: &'a serde_json::Value,
    /// `active`, or the reason it would be rejected now (`expired`, `revoked`, ...).
    pub status: &'static str,
    /// When it was created (RFC 3339).
    #[schema(value_type = String)]
    pub created_at: Rfc3339,
    /// When it expires (RFC 3339), if ever.
    #[schema(value_type = Option<String>)]
    pub expires_at: Option<Rfc3339>,
    /// When it starts working (RFC 3339), if not at creation.
    #[schema(value_type = Option<String>)]
    pub not_before: Option<Rfc3339>,
    /// Uses left, if limited.
    pub remaining_uses: Option<i64>,
    /// When it was disabled, if it is.
    #[schema(value_type = Option<String>)]
    pub disabled_at: Option<Rfc3339>,
    /// Its revocation, if revoked.
    pub revoked: Option<RevocationView>,
    /// Its replacement by a rotation, if rotated.
    pub superseded: Option<SupersessionView>,
    /// Its refill schedule, if any.
    pub refill: Option<RefillView>,
    /// Its last valid use (written behind, so up to a few seconds old).
    #[schema(value_type = Option<String>)]
    pub last_used_at: Option<Rfc3339>,
}

/// A refill schedule.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefillView {
    /// Seconds between refills.
    pub interval: i64,
    /// Uses after each refill.
    pub amount: i64,
}

impl<'a> KeyView<'a> {
    /// The view of `k` at time `now`.
    pub fn of(k: &'a ApiKey, now: i64) -> Self {
        let status = match k.check(now, &[]) {
            Ok(()) => "active",
            Err(v) => v.reason.as_str(),
        };
        KeyView {
            id: &k.id,
            env: &k.env,
            subject: &k.subject,
            name: k.name.as_deref(),
            scopes: &k.scopes,
            meta: &k.meta,
            status,
            created_at: Rfc3339(k.created_at),
            expires_at: k.expires_at.map(Rfc3339),
            not_before: k.not_before.map(Rfc3339),
            remaining_uses: k.remaining_uses_at(now),
            disabled_at: k.disabled_at.map(Rfc3339),
            revoked: k.revoked.as_ref().map(RevocationView::of),
            superseded: k.superseded.as_ref().map(SupersessionView::of),
            refill: k.refill.map(|r| RefillView { interval: r.interval, amount: r.amount }),
            last_used_at: k.last_used_at.map(Rfc3339),
        }
    }
}

/// `201` answer to `POST /v1/keys`: the metadata plus the key, shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedKey<'a> {
    /// The key itself. Ward keeps only a keyed hash: store it now, it cannot be shown again.
    pub key: &'a str,
    /// Its metadata.
    #[serde(flatten)]
    pub view: KeyView<'a>,
}

/// Checks a label: 1 to 256 characters, no control characters.
pub fn check_label(what: &str, s: &str) -> Result<(), ApiError> {
    if s.is_empty() || s.chars().count() > MAX_LABEL_LEN || s.chars().any(char::is_control) {
        return Err(ApiError::BadRequest(format!(
            "`{what}` must be 1 to {MAX_LABEL_LEN} characters without control characters"
        )));
    }
    Ok(())
}

fn check_seconds(what: &str, v: Option<i64>, min: i64) -> Result<(), ApiError> {
    match v {
        Some(s) if !(min..=MAX_LIFETIME_SECS).contains(&s) => Err(ApiError::BadRequest(format!(
            "`{what}` must be between {min} and {MAX_LIFETIME_SECS} seconds"
        ))),
        _ => Ok(()),
    }
}

impl CreateKey {
    /// Checks every field; nothing is written unless all hold.
    pub fn validate(&self) -> Result<(), ApiError> {
        check_label("subject", &self.subject)?;
        if let Some(n) = &self.name {
            check_label("name", n)?;
        }
        if self.scopes.len() > MAX_SCOPES {
            return Err(ApiError::BadRequest(format!("at most {MAX_SCOPES} scopes")));
        }
        if let Some(bad) = self.scopes.iter().find(|s| !valid_scope(s)) {
            return Err(ApiError::BadRequest(format!(
                "scope {bad:?} is not valid: use 1 to 128 printable ASCII characters, no spaces"
            )));
        }
        check_seconds("expires_in", self.expires_in, 1)?;
        check_seconds("starts_in", self.starts_in, 0)?;
        if let (Some(s), Some(e)) = (self.starts_in, self.expires_in) {
            if s >= e {
                return Err(ApiError::BadRequest("`starts_in` must be before `expires_in`".into()));
            }
        }
        if self.uses.is_some_and(|u| u < 1) {
            return Err(ApiError::BadRequest("`uses` must be at least 1".into()));
        }
        if let Some(r) = self.refill {
            if !(60..=MAX_LIFETIME_SECS).contains(&r.interval) || r.amount < 1 {
                return Err(ApiError::BadRequest(
                    "`refill` needs an `interval` of at least 60 seconds and an `amount` of at least 1"
                        .into(),
                ));
            }
        }
        if let Some(m) = &self.meta {
            if !m.is_object() {
                return Err(ApiError::BadRequest("`meta` must be a JSON object".into()));
            }
            if m.to_string().len() > MAX_META_BYTES {
                return Err(ApiError::BadRequest(format!("`meta` must be at most {MAX_META_BYTES} bytes")));
            }
        }
        Ok(())
    }
}

/// Validates `req`, mints a key, stores its hash and returns the record with the raw key.
pub async fn issue(state: &AppState, req: CreateKey) -> Result<(ApiKey, NewToken), ApiError> {
    req.validate()?;
    let now = state.clock.now();
    let mut scopes: Vec<String> = Vec::with_capacity(req.scopes.len());
    for s in req.scopes {
        if !scopes.contains(&s) {
            scopes.push(s);
        }
    }
    // An id collision is astronomically unlikely (95 bits), but a retry costs nothing.
    for _ in 0..3 {
        let minted = Minted::new(state, TokenKind::ApiKey);
        let key = ApiKey {
            id: minted.id().to_string(),
            env: state.config.env.clone(),
            subject: req.subject.clone(),
            name: req.name.clone(),
            scopes: scopes.clone(),
            meta: req.meta.clone().unwrap_or_else(|| serde_json::json!({})),
            secret_hash: minted.hash,
            created_at: now,
            expires_at: req.expires_in.map(|s| now + s),
            not_before: req.starts_in.filter(|s| *s > 0).map(|s| now + s),
            remaining_uses: req.uses.or(req.refill.map(|r| r.amount)),
            disabled_at: None,
            revoked: None,
            superseded: None,
            refill: req.refill.map(|r| Refill { interval: r.interval, amount: r.amount, last_at: now }),
            last_used_at: None,
        };
        match state.store.insert_api_key(&key).await {
            Ok(()) => {
                tracing::info!(key_id = %key.id, subject = %key.subject, "api key created");
                return Ok((key, minted.token));
            }
            Err(StoreError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::Unavailable("could not allocate a unique key id".into()))
}

/// Mints the successor of `old`: same subject, name, scopes, metadata, expiry and limits. `old`
/// stops working at `old_stops_at`. Fails with a conflict if `old` is revoked or already rotated.
pub async fn rotate(
    state: &AppState,
    old: &ApiKey,
    old_stops_at: i64,
) -> Result<(ApiKey, NewToken), ApiError> {
    if let Some(r) = &old.revoked {
        return Err(ApiError::Conflict(format!(
            "key `{}` is revoked ({}); issue a new key",
            old.id,
            r.reason.as_str()
        )));
    }
    if let Some(s) = &old.superseded {
        return Err(ApiError::Conflict(format!("key `{}` was already rotated to `{}`", old.id, s.by)));
    }
    let now = state.clock.now();
    let minted = Minted::new(state, TokenKind::ApiKey);
    let new = ApiKey {
        id: minted.id().to_string(),
        secret_hash: minted.hash,
        created_at: now,
        remaining_uses: old.remaining_uses_at(now),
        refill: old.refill.map(|r| if r.due(now) { Refill { last_at: now, ..r } } else { r }),
        disabled_at: None,
        revoked: None,
        superseded: None,
        last_used_at: None,
        ..old.clone()
    };
    if !state.store.rotate_api_key(&old.id, &new, old_stops_at).await? {
        return Err(ApiError::Conflict(format!("key `{}` was revoked or rotated concurrently", old.id)));
    }
    Ok((new, minted.token))
}
