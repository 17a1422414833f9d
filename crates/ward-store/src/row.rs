//! The row shapes both backends read records into, and their conversions to the domain types.

use ward_core::client::Client;
use ward_core::deny::{DenyEntry, DenyKind};
use ward_core::key::Refill;
use ward_core::keyring::SigningKeyRecord;
use ward_core::refresh::RefreshToken;
use ward_core::token::TokenKind;
use ward_core::{
    ApiKey, OneTimeToken, Reason, Revocation, RevokeReason, SecretHash, Session, Supersession, Tombstone,
};

use crate::{Change, ChangeKind, Deployment, StoreError};

fn corrupt(table: &str, column: &str, id: &str) -> StoreError {
    StoreError::Corrupt(format!("{table}.{column} of {id}"))
}

/// JSON text for a stored JSON column.
pub(crate) fn json_text<T: serde::Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// A list as JSON text, or NULL when it is empty.
pub(crate) fn json_list<T: serde::Serialize>(v: &[T]) -> Result<Option<String>, StoreError> {
    if v.is_empty() {
        return Ok(None);
    }
    json_text(&v).map(Some)
}

fn revocation(
    table: &str,
    id: &str,
    at: Option<i64>,
    reason: Option<&str>,
    note: Option<String>,
    by: Option<String>,
) -> Result<Option<Revocation>, StoreError> {
    match (at, reason) {
        (Some(at), Some(reason)) => Ok(Some(Revocation {
            at,
            reason: RevokeReason::from_code(reason).ok_or_else(|| corrupt(table, "revoked_reason", id))?,
            note,
            actor: by.unwrap_or_default(),
        })),
        _ => Ok(None),
    }
}

fn supersession(at: Option<i64>, by: Option<String>) -> Option<Supersession> {
    at.map(|at| Supersession { at, by: by.unwrap_or_default() })
}

fn hash(table: &str, id: &str, b: &[u8]) -> Result<SecretHash, StoreError> {
    SecretHash::from_slice(b).ok_or_else(|| corrupt(table, "secret_hash", id))
}

/// Columns of `api_keys`, in the order of [`KeyRow`].
pub(crate) const KEY_COLUMNS: &str = "id, env, subject, name, scopes, meta, secret_hash, created_at, \
     expires_at, not_before, remaining_uses, disabled_at, revoked_at, revoked_reason, revoked_note, \
     revoked_by, superseded_at, superseded_by, refill_interval, refill_amount, refilled_at, last_used_at, allowed_ips, ratelimits";

/// A row of `api_keys`.
#[derive(sqlx::FromRow)]
pub(crate) struct KeyRow {
    id: String,
    env: String,
    subject: String,
    name: Option<String>,
    scopes: String,
    meta: String,
    secret_hash: Vec<u8>,
    created_at: i64,
    expires_at: Option<i64>,
    not_before: Option<i64>,
    remaining_uses: Option<i64>,
    disabled_at: Option<i64>,
    revoked_at: Option<i64>,
    revoked_reason: Option<String>,
    revoked_note: Option<String>,
    revoked_by: Option<String>,
    superseded_at: Option<i64>,
    superseded_by: Option<String>,
    refill_interval: Option<i64>,
    refill_amount: Option<i64>,
    refilled_at: Option<i64>,
    last_used_at: Option<i64>,
    allowed_ips: Option<String>,
    ratelimits: Option<String>,
}

impl TryFrom<KeyRow> for ApiKey {
    type Error = StoreError;

    fn try_from(r: KeyRow) -> Result<Self, StoreError> {
        const T: &str = "api_keys";
        let refill = match (r.refill_interval, r.refill_amount, r.refilled_at) {
            (Some(interval), Some(amount), Some(last_at)) => Some(Refill { interval, amount, last_at }),
            _ => None,
        };
        Ok(ApiKey {
            scopes: serde_json::from_str(&r.scopes).map_err(|_| corrupt(T, "scopes", &r.id))?,
            meta: serde_json::from_str(&r.meta).map_err(|_| corrupt(T, "meta", &r.id))?,
            secret_hash: hash(T, &r.id, &r.secret_hash)?,
            revoked: revocation(
                T,
                &r.id,
                r.revoked_at,
                r.revoked_reason.as_deref(),
                r.revoked_note,
                r.revoked_by,
            )?,
            superseded: supersession(r.superseded_at, r.superseded_by),
            refill,
            allowed_ips: match r.allowed_ips.as_deref() {
                Some(j) => serde_json::from_str(j).map_err(|_| corrupt(T, "allowed_ips", &r.id))?,
                None => Vec::new(),
            },
            ratelimits: match r.ratelimits.as_deref() {
                Some(j) => serde_json::from_str(j).map_err(|_| corrupt(T, "ratelimits", &r.id))?,
                None => Vec::new(),
            },
            id: r.id,
            env: r.env,
            subject: r.subject,
            name: r.name,
            created_at: r.created_at,
            expires_at: r.expires_at,
            not_before: r.not_before,
            remaining_uses: r.remaining_uses,
            disabled_at: r.disabled_at,
            last_used_at: r.last_used_at,
        })
    }
}

/// Columns of `sessions`, in the order of [`SessionRow`].
pub(crate) const SESSION_COLUMNS: &str = "id, env, subject, claims, secret_hash, created_at, expires_at, \
     idle_timeout, last_seen_at, superseded_at, superseded_by, revoked_at, revoked_reason, revoked_note, revoked_by";

/// A row of `sessions`.
#[derive(sqlx::FromRow)]
pub(crate) struct SessionRow {
    id: String,
    env: String,
    subject: String,
    claims: String,
    secret_hash: Vec<u8>,
    created_at: i64,
    expires_at: i64,
    idle_timeout: i64,
    last_seen_at: i64,
    superseded_at: Option<i64>,
    superseded_by: Option<String>,
    revoked_at: Option<i64>,
    revoked_reason: Option<String>,
    revoked_note: Option<String>,
    revoked_by: Option<String>,
}

impl TryFrom<SessionRow> for Session {
    type Error = StoreError;

    fn try_from(r: SessionRow) -> Result<Self, StoreError> {
        const T: &str = "sessions";
        Ok(Session {
            claims: serde_json::from_str(&r.claims).map_err(|_| corrupt(T, "claims", &r.id))?,
            secret_hash: hash(T, &r.id, &r.secret_hash)?,
            revoked: revocation(
                T,
                &r.id,
                r.revoked_at,
                r.revoked_reason.as_deref(),
                r.revoked_note,
                r.revoked_by,
            )?,
            superseded: supersession(r.superseded_at, r.superseded_by),
            id: r.id,
            env: r.env,
            subject: r.subject,
            created_at: r.created_at,
            expires_at: r.expires_at,
            idle_timeout: r.idle_timeout,
            last_seen_at: r.last_seen_at,
        })
    }
}

/// Columns of `one_time_tokens`, in the order of [`OneTimeRow`].
pub(crate) const ONE_TIME_COLUMNS: &str =
    "id, env, subject, purpose, data, secret_hash, created_at, expires_at, \
     used_at, superseded_at, superseded_by, revoked_at, revoked_reason, revoked_note, revoked_by";

/// A row of `one_time_tokens`.
#[derive(sqlx::FromRow)]
pub(crate) struct OneTimeRow {
    id: String,
    env: String,
    subject: String,
    purpose: String,
    data: String,
    secret_hash: Vec<u8>,
    created_at: i64,
    expires_at: i64,
    used_at: Option<i64>,
    superseded_at: Option<i64>,
    superseded_by: Option<String>,
    revoked_at: Option<i64>,
    revoked_reason: Option<String>,
    revoked_note: Option<String>,
    revoked_by: Option<String>,
}

impl TryFrom<OneTimeRow> for OneTimeToken {
    type Error = StoreError;

    fn try_from(r: OneTimeRow) -> Result<Self, StoreError> {
        const T: &str = "one_time_tokens";
        Ok(OneTimeToken {
            data: serde_json::from_str(&r.data).map_err(|_| corrupt(T, "data", &r.id))?,
            secret_hash: hash(T, &r.id, &r.secret_hash)?,
            revoked: revocation(
                T,
                &r.id,
                r.revoked_at,
                r.revoked_reason.as_deref(),
                r.revoked_note,
                r.revoked_by,
            )?,
            superseded: supersession(r.superseded_at, r.superseded_by),
            id: r.id,
            env: r.env,
            subject: r.subject,
            purpose: r.purpose,
            created_at: r.created_at,
            expires_at: r.expires_at,
            used_at: r.used_at,
        })
    }
}

/// Columns of `tombstones`, in the order of [`TombstoneRow`].
pub(crate) const TOMBSTONE_COLUMNS: &str =
    "id, kind, subject, reason, at, revoked_reason, revoked_note, revoked_by, replaced_by";

/// A row of `tombstones`.
#[derive(sqlx::FromRow)]
pub(crate) struct TombstoneRow {
    id: String,
    kind: String,
    subject: String,
    reason: String,
    at: i64,
    revoked_reason: Option<String>,
    revoked_note: Option<String>,
    revoked_by: Option<String>,
    replaced_by: Option<String>,
}

impl TryFrom<TombstoneRow> for Tombstone {
    type Error = StoreError;

    fn try_from(r: TombstoneRow) -> Result<Self, StoreError> {
        const T: &str = "tombstones";
        Ok(Tombstone {
            kind: TokenKind::from_code(&r.kind).ok_or_else(|| corrupt(T, "kind", &r.id))?,
            reason: Reason::from_code(&r.reason).ok_or_else(|| corrupt(T, "reason", &r.id))?,
            revocation: revocation(
                T,
                &r.id,
                Some(r.at),
                r.revoked_reason.as_deref(),
                r.revoked_note,
                r.revoked_by,
            )?,
            id: r.id,
            subject: r.subject,
            at: r.at,
            replaced_by: r.replaced_by,
        })
    }
}

/// Converts an optional row.
pub(crate) fn opt<R, T: TryFrom<R, Error = StoreError>>(row: Option<R>) -> Result<Option<T>, StoreError> {
    row.map(T::try_from).transpose()
}

/// Converts rows.
pub(crate) fn all<R, T: TryFrom<R, Error = StoreError>>(rows: Vec<R>) -> Result<Vec<T>, StoreError> {
    rows.into_iter().map(T::try_from).collect()
}

/// Columns of `signing_keys`, in the order of [`SigningKeyRow`].
pub(crate) const SIGNING_KEY_COLUMNS: &str =
    "kid, alg, purpose, private_enc, nonce, public_jwk, created_at, activates_at, retiring_at, retired_at";

/// A row of `signing_keys`.
#[derive(sqlx::FromRow)]
pub(crate) struct SigningKeyRow {
    kid: String,
    alg: String,
    purpose: String,
    private_enc: Vec<u8>,
    nonce: Vec<u8>,
    public_jwk: String,
    created_at: i64,
    activates_at: i64,
    retiring_at: Option<i64>,
    retired_at: Option<i64>,
}

impl TryFrom<SigningKeyRow> for SigningKeyRecord {
    type Error = StoreError;

    fn try_from(r: SigningKeyRow) -> Result<Self, StoreError> {
        Ok(SigningKeyRecord {
            public_jwk: serde_json::from_str(&r.public_jwk)
                .map_err(|_| corrupt("signing_keys", "public_jwk", &r.kid))?,
            kid: r.kid,
            alg: r.alg,
            purpose: r.purpose,
            private_enc: r.private_enc,
            nonce: r.nonce,
            created_at: r.created_at,
            activates_at: r.activates_at,
            retiring_at: r.retiring_at,
            retired_at: r.retired_at,
        })
    }
}

/// Columns of `clients`, in the order of [`ClientRow`].
pub(crate) const CLIENT_COLUMNS: &str =
    "id, env, name, secret_hash, scopes, audiences, created_at, revoked_at, revoked_reason, revoked_note, revoked_by";

/// A row of `clients`.
#[derive(sqlx::FromRow)]
pub(crate) struct ClientRow {
    id: String,
    env: String,
    name: String,
    secret_hash: Vec<u8>,
    scopes: String,
    audiences: String,
    created_at: i64,
    revoked_at: Option<i64>,
    revoked_reason: Option<String>,
    revoked_note: Option<String>,
    revoked_by: Option<String>,
}

impl TryFrom<ClientRow> for Client {
    type Error = StoreError;

    fn try_from(r: ClientRow) -> Result<Self, StoreError> {
        const T: &str = "clients";
        Ok(Client {
            secret_hash: hash(T, &r.id, &r.secret_hash)?,
            scopes: serde_json::from_str(&r.scopes).map_err(|_| corrupt(T, "scopes", &r.id))?,
            audiences: serde_json::from_str(&r.audiences).map_err(|_| corrupt(T, "audiences", &r.id))?,
            revoked: revocation(
                T,
                &r.id,
                r.revoked_at,
                r.revoked_reason.as_deref(),
                r.revoked_note,
                r.revoked_by,
            )?,
            id: r.id,
            env: r.env,
            name: r.name,
            created_at: r.created_at,
        })
    }
}

/// Columns of `refresh_tokens`, in the order of [`RefreshRow`].
pub(crate) const REFRESH_COLUMNS: &str = "id, env, family, subject, client_id, audience, scopes, format, secret_hash, \
     created_at, expires_at, rotated_at, rotated_to, retry_blob, revoked_at, revoked_reason, revoked_note, revoked_by, jkt";

/// A row of `refresh_tokens`.
#[derive(sqlx::FromRow)]
pub(crate) struct RefreshRow {
    id: String,
    env: String,
    family: String,
    subject: String,
    client_id: Option<String>,
    audience: String,
    scopes: String,
    format: String,
    secret_hash: Vec<u8>,
    created_at: i64,
    expires_at: i64,
    rotated_at: Option<i64>,
    rotated_to: Option<String>,
    retry_blob: Option<Vec<u8>>,
    revoked_at: Option<i64>,
    revoked_reason: Option<String>,
    revoked_note: Option<String>,
    revoked_by: Option<String>,
    jkt: Option<String>,
}

impl TryFrom<RefreshRow> for (RefreshToken, Option<Vec<u8>>) {
    type Error = StoreError;

    fn try_from(r: RefreshRow) -> Result<Self, StoreError> {
        const T: &str = "refresh_tokens";
        let token = RefreshToken {
            secret_hash: hash(T, &r.id, &r.secret_hash)?,
            audience: serde_json::from_str(&r.audience).map_err(|_| corrupt(T, "audience", &r.id))?,
            scopes: serde_json::from_str(&r.scopes).map_err(|_| corrupt(T, "scopes", &r.id))?,
            revoked: revocation(
                T,
                &r.id,
                r.revoked_at,
                r.revoked_reason.as_deref(),
                r.revoked_note,
                r.revoked_by,
            )?,
            rotated: r.rotated_at.map(|at| (at, r.rotated_to.unwrap_or_default())),
            id: r.id,
            env: r.env,
            family: r.family,
            subject: r.subject,
            client_id: r.client_id,
            format: r.format,
            created_at: r.created_at,
            expires_at: r.expires_at,
            jkt: r.jkt,
        };
        Ok((token, r.retry_blob))
    }
}

/// Columns of `signed_revocations`, in the order of [`DenyRow`].
pub(crate) const DENY_COLUMNS: &str = "kind, value, revoked_at, until_at, reason, note, actor";

/// A row of `signed_revocations`.
#[derive(sqlx::FromRow)]
pub(crate) struct DenyRow {
    kind: String,
    value: String,
    revoked_at: i64,
    until_at: i64,
    reason: String,
    note: Option<String>,
    actor: String,
}

impl TryFrom<DenyRow> for DenyEntry {
    type Error = StoreError;

    fn try_from(r: DenyRow) -> Result<Self, StoreError> {
        const T: &str = "signed_revocations";
        Ok(DenyEntry {
            kind: DenyKind::from_code(&r.kind).ok_or_else(|| corrupt(T, "kind", &r.value))?,
            revocation: revocation(T, &r.value, Some(r.revoked_at), Some(&r.reason), r.note, Some(r.actor))?
                .ok_or_else(|| corrupt(T, "reason", &r.value))?,
            value: r.value,
            until: r.until_at,
        })
    }
}

/// Columns of `changes`, in the order of [`ChangeRow`].
pub(crate) const CHANGE_COLUMNS: &str = "seq, kind, target";

/// A row of `changes`.
#[derive(sqlx::FromRow)]
pub(crate) struct ChangeRow {
    seq: i64,
    kind: String,
    target: String,
}

impl TryFrom<ChangeRow> for Change {
    type Error = StoreError;

    fn try_from(r: ChangeRow) -> Result<Self, StoreError> {
        Ok(Change {
            kind: ChangeKind::from_code(&r.kind)
                .ok_or_else(|| corrupt("changes", "kind", &r.seq.to_string()))?,
            seq: r.seq,
            target: r.target,
        })
    }
}

/// Columns of `deployment`, in the order of [`DeploymentRow`].
pub(crate) const DEPLOYMENT_COLUMNS: &str = "id, issuer, master_check, created_at";

/// The row of `deployment`.
#[derive(sqlx::FromRow)]
pub(crate) struct DeploymentRow {
    id: String,
    issuer: String,
    master_check: Vec<u8>,
    created_at: i64,
}

impl TryFrom<DeploymentRow> for Deployment {
    type Error = StoreError;

    fn try_from(r: DeploymentRow) -> Result<Self, StoreError> {
        Ok(Deployment { id: r.id, issuer: r.issuer, master_check: r.master_check, created_at: r.created_at })
    }
}
