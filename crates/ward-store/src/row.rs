//! The one row shape both backends read API keys into, and its conversion to the domain type.

use ward_core::{ApiKey, Revocation, RevokeReason, SecretHash};

use crate::StoreError;

/// Columns of `api_keys`, in the order of [`COLUMNS`].
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
}

/// The column list for `SELECT`s and `RETURNING`s.
pub(crate) const COLUMNS: &str = "id, env, subject, name, scopes, meta, secret_hash, created_at, \
     expires_at, not_before, remaining_uses, disabled_at, revoked_at, revoked_reason, revoked_note, \
     revoked_by";

/// The JSON text of a key's scopes and metadata, as stored.
pub(crate) fn encode_json(key: &ApiKey) -> Result<(String, String), StoreError> {
    let scopes = serde_json::to_string(&key.scopes).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let meta = serde_json::to_string(&key.meta).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok((scopes, meta))
}

impl TryFrom<KeyRow> for ApiKey {
    type Error = StoreError;

    fn try_from(r: KeyRow) -> Result<Self, StoreError> {
        let corrupt = |what: &str| StoreError::Corrupt(format!("api_keys.{what} of {}", r.id));
        let revoked = match (r.revoked_at, &r.revoked_reason) {
            (Some(at), Some(reason)) => Some(Revocation {
                at,
                reason: RevokeReason::from_code(reason).ok_or_else(|| corrupt("revoked_reason"))?,
                note: r.revoked_note.clone(),
                actor: r.revoked_by.clone().unwrap_or_default(),
            }),
            _ => None,
        };
        Ok(ApiKey {
            scopes: serde_json::from_str(&r.scopes).map_err(|_| corrupt("scopes"))?,
            meta: serde_json::from_str(&r.meta).map_err(|_| corrupt("meta"))?,
            secret_hash: SecretHash::from_slice(&r.secret_hash).ok_or_else(|| corrupt("secret_hash"))?,
            revoked,
            id: r.id,
            env: r.env,
            subject: r.subject,
            name: r.name,
            created_at: r.created_at,
            expires_at: r.expires_at,
            not_before: r.not_before,
            remaining_uses: r.remaining_uses,
            disabled_at: r.disabled_at,
        })
    }
}

/// Converts an optional row.
pub(crate) fn key_opt(row: Option<KeyRow>) -> Result<Option<ApiKey>, StoreError> {
    row.map(ApiKey::try_from).transpose()
}
