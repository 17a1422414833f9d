//! API keys: issue, read, list, revoke, disable, enable and rotate.

use ward_core::guard::{validate_limits, NamedLimit, MAX_ALLOWED_NETWORKS};
use ward_core::key::Refill;
use ward_core::token::NewToken;
use ward_core::{ApiKey, Revocation, RevokeReason, TokenKind};
use ward_store::{KeyFilter, StoreError};

use crate::events::{Call, Event, EventKind};
use crate::policy::MAX_ROTATION_OVERLAP;
use crate::validate::{check_label, check_object, check_scopes, check_seconds, MAX_LIFETIME_SECS};
use crate::{Engine, EngineError};

/// Most records one listing returns.
pub const MAX_LIST: u32 = 1000;

/// A key to issue.
#[derive(Debug, Clone, Default)]
pub struct NewKey {
    /// Who the key acts for (a user id, a service name).
    pub subject: String,
    /// A label for people.
    pub name: Option<String>,
    /// What the key may do.
    pub scopes: Vec<String>,
    /// Seconds until the key expires; never, if absent.
    pub expires_in: Option<i64>,
    /// Seconds until the key starts working; at once, if absent.
    pub starts_in: Option<i64>,
    /// How many valid verifies the key allows; unlimited, if absent.
    pub uses: Option<i64>,
    /// Any JSON object, returned on verify.
    pub meta: Option<serde_json::Value>,
    /// Reset the remaining uses to `amount` every `interval` seconds: `(interval, amount)`.
    pub refill: Option<(i64, i64)>,
    /// The client networks the key may be used from; anywhere, if empty.
    pub allowed_ips: Vec<ward_core::guard::IpNet>,
    /// Named rate limits a verify can apply (`ratelimit.name`).
    pub ratelimits: Vec<NamedLimit>,
}

impl NewKey {
    /// Checks every field; nothing is written unless all hold.
    pub fn validate(&self) -> Result<(), EngineError> {
        check_label("subject", &self.subject)?;
        if let Some(n) = &self.name {
            check_label("name", n)?;
        }
        check_scopes(&self.scopes)?;
        check_seconds("expires_in", self.expires_in, 1)?;
        check_seconds("starts_in", self.starts_in, 0)?;
        if let (Some(s), Some(e)) = (self.starts_in, self.expires_in) {
            if s >= e {
                return Err(EngineError::Invalid("`starts_in` must be before `expires_in`".into()));
            }
        }
        if self.uses.is_some_and(|u| u < 1) {
            return Err(EngineError::Invalid("`uses` must be at least 1".into()));
        }
        if let Some((interval, amount)) = self.refill {
            if !(60..=MAX_LIFETIME_SECS).contains(&interval) || amount < 1 {
                return Err(EngineError::Invalid(
                    "`refill` needs an `interval` of at least 60 seconds and an `amount` of at least 1"
                        .into(),
                ));
            }
        }
        if self.allowed_ips.len() > MAX_ALLOWED_NETWORKS {
            return Err(EngineError::Invalid(format!(
                "`allowed_ips` may hold at most {MAX_ALLOWED_NETWORKS} networks"
            )));
        }
        validate_limits(&self.ratelimits).map_err(EngineError::Invalid)?;
        check_object("meta", self.meta.as_ref())
    }
}

/// Which keys to list.
#[derive(Debug, Clone, Default)]
pub struct KeyQuery {
    /// Only this subject's keys.
    pub subject: Option<String>,
    /// At most this many (default 100, at most [`MAX_LIST`]), newest first.
    pub limit: Option<u32>,
    /// Only live keys that expire within this many seconds.
    pub expiring_within: Option<i64>,
}

impl KeyQuery {
    /// Checks the query; nothing is read unless it holds (an adapter may check first).
    pub fn validate(&self) -> Result<(), EngineError> {
        check_limit(self.limit)?;
        if let Some(subject) = &self.subject {
            check_label("subject", subject)?;
        }
        if self.expiring_within.is_some_and(|s| s < 1) {
            return Err(EngineError::Invalid("`expiring_within` must be at least 1 second".into()));
        }
        Ok(())
    }
}

/// Checks a listing limit: at most [`MAX_LIST`], 100 when absent.
pub fn check_limit(limit: Option<u32>) -> Result<u32, EngineError> {
    let limit = limit.unwrap_or(100);
    if !(1..=MAX_LIST).contains(&limit) {
        return Err(EngineError::Invalid(format!("`limit` must be between 1 and {MAX_LIST}")));
    }
    Ok(limit)
}

fn not_found(id: &str) -> EngineError {
    EngineError::NotFound(format!("no key with id `{id}`"))
}

impl Engine {
    fn key_event(&self, kind: EventKind, key: &ApiKey, call: &Call) -> Event {
        Event::new(kind, self.now())
            .token(TokenKind::ApiKey, key.id.clone())
            .prefix(&key.env, TokenKind::ApiKey)
            .subject(key.subject.clone())
            .call(call)
    }

    /// Validates `req`, mints a key, stores its hash and returns the record with the raw key
    /// (shown this once).
    pub async fn issue_key(&self, req: NewKey, call: &Call) -> Result<(ApiKey, NewToken), EngineError> {
        req.validate()?;
        let now = self.now();
        let mut scopes: Vec<String> = Vec::with_capacity(req.scopes.len());
        for s in req.scopes {
            if !scopes.contains(&s) {
                scopes.push(s);
            }
        }
        // An id collision is astronomically unlikely (95 bits), but a retry costs nothing.
        for _ in 0..3 {
            let minted = self.mint(TokenKind::ApiKey);
            let key = ApiKey {
                id: minted.id().to_string(),
                env: self.0.policy.env.clone(),
                subject: req.subject.clone(),
                name: req.name.clone(),
                scopes: scopes.clone(),
                meta: req.meta.clone().unwrap_or_else(|| serde_json::json!({})),
                secret_hash: minted.hash,
                created_at: now,
                expires_at: req.expires_in.map(|s| now + s),
                not_before: req.starts_in.filter(|s| *s > 0).map(|s| now + s),
                remaining_uses: req.uses.or(req.refill.map(|r| r.1)),
                allowed_ips: req.allowed_ips.clone(),
                ratelimits: req.ratelimits.clone(),
                disabled_at: None,
                revoked: None,
                superseded: None,
                refill: req.refill.map(|(interval, amount)| Refill { interval, amount, last_at: now }),
                last_used_at: None,
            };
            match self.0.store.insert_api_key(&key).await {
                Ok(()) => {
                    self.emit(|| self.key_event(EventKind::Issued, &key, call));
                    return Ok((key, minted.token));
                }
                Err(StoreError::Conflict) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(EngineError::Unavailable("could not allocate a unique key id".into()))
    }

    /// One key's record.
    pub async fn key(&self, id: &str) -> Result<ApiKey, EngineError> {
        self.0.store.get_api_key(id).await?.ok_or_else(|| not_found(id))
    }

    /// Keys' records, newest first.
    pub async fn keys(&self, q: KeyQuery) -> Result<Vec<ApiKey>, EngineError> {
        let limit = check_limit(q.limit)?;
        if let Some(subject) = &q.subject {
            check_label("subject", subject)?;
        }
        let now = self.now();
        let expiring_before = match q.expiring_within {
            Some(s) if s < 1 => {
                return Err(EngineError::Invalid("`expiring_within` must be at least 1 second".into()))
            }
            Some(s) => Some(now.saturating_add(s)),
            None => None,
        };
        Ok(self.0.store.list_api_keys(&KeyFilter { subject: q.subject, limit, expiring_before, now }).await?)
    }

    /// Revokes a key for good (and its predecessor, if it is still inside a rotation overlap).
    /// Once this returns the revocation is durable and applies on this node; other nodes apply it
    /// from the change feed.
    pub async fn revoke_key(
        &self,
        id: &str,
        reason: RevokeReason,
        note: Option<String>,
        call: &Call,
    ) -> Result<ApiKey, EngineError> {
        let rev = self.revocation(reason, note, call)?;
        let key = self.0.store.revoke_api_key(id, &rev).await?;
        self.0.cache.invalidate(id);
        let key = key.ok_or_else(|| not_found(id))?;
        self.caught_up().await;
        self.emit(|| {
            self.key_event(EventKind::Revoked, &key, call).detail(format!("reason `{}`", reason.as_str()))
        });
        Ok(key)
    }

    /// Disables a key until it is enabled again (`disable = false` enables it).
    pub async fn set_key_disabled(
        &self,
        id: &str,
        disable: bool,
        call: &Call,
    ) -> Result<ApiKey, EngineError> {
        let now = self.now();
        let key = self.0.store.set_api_key_disabled(id, disable.then_some(now), now).await?;
        self.0.cache.invalidate(id);
        let key = key.ok_or_else(|| not_found(id))?;
        let kind = if disable { EventKind::Disabled } else { EventKind::Enabled };
        self.emit(|| self.key_event(kind, &key, call));
        Ok(key)
    }

    /// Rotates a key: a successor with the same subject, scopes, metadata, expiry, state and
    /// usage budget (the two share it). The old key keeps working for `overlap` seconds (the
    /// policy's default when `None`), then answers `superseded`.
    pub async fn rotate_key(
        &self,
        id: &str,
        overlap: Option<i64>,
        call: &Call,
    ) -> Result<(ApiKey, NewToken), EngineError> {
        let overlap = overlap.unwrap_or(self.0.policy.rotation_overlap);
        if !(0..=MAX_ROTATION_OVERLAP).contains(&overlap) {
            return Err(EngineError::Invalid(format!(
                "`overlap_seconds` must be between 0 and {MAX_ROTATION_OVERLAP}"
            )));
        }
        let old = self.key(id).await?;
        if let Some(r) = &old.revoked {
            return Err(EngineError::Conflict(format!(
                "key `{}` is revoked ({}); issue a new key",
                old.id,
                r.reason.as_str()
            )));
        }
        if let Some(s) = &old.superseded {
            return Err(EngineError::Conflict(format!("key `{}` was already rotated to `{}`", old.id, s.by)));
        }
        let now = self.now();
        let minted = self.mint(TokenKind::ApiKey);
        let new = ApiKey {
            id: minted.id().to_string(),
            secret_hash: minted.hash,
            created_at: now,
            remaining_uses: old.remaining_uses_at(now),
            refill: old.refill.map(|r| if r.due(now) { Refill { last_at: now, ..r } } else { r }),
            // A disabled key rotates into a disabled key: rotation is not a way around a disable.
            disabled_at: old.disabled_at,
            revoked: None,
            superseded: None,
            last_used_at: None,
            ..old.clone()
        };
        if !self.0.store.rotate_api_key(&old.id, &new, now + overlap).await? {
            return Err(EngineError::Conflict(format!(
                "key `{}` was revoked or rotated concurrently",
                old.id
            )));
        }
        self.0.cache.invalidate(&old.id);
        self.emit(|| {
            self.key_event(EventKind::Rotated, &old, call).detail(format!("successor `{}`", new.id))
        });
        Ok((new, minted.token))
    }

    /// A revocation by `call` now, after checking its note.
    pub(crate) fn revocation(
        &self,
        reason: RevokeReason,
        note: Option<String>,
        call: &Call,
    ) -> Result<Revocation, EngineError> {
        crate::validate::check_note(note.as_deref())?;
        Ok(Revocation { at: self.now(), reason, note, actor: call.actor.clone() })
    }
}
