//! One-time tokens: issue, and redeem exactly once.
//!
//! No enumeration: issuing does the same work and answers the same shape for any subject, and a
//! redemption of an id Ward never issued still computes a keyed hash, so its timing does not stand
//! out from a wrong secret.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use ward_core::clock::rfc3339;
use ward_core::onetime::valid_purpose;
use ward_core::{OneTimeToken, ParsedToken, Reason, TokenKind, Verdict};
use ward_store::StoreError;

use crate::keys::check_label;
use crate::problem::ApiError;
use crate::sessions::check_claims;
use crate::verifier::{gone, tampered, unavailable};
use crate::views::Minted;
use crate::AppState;

/// `POST /v1/one-time`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOneTime {
    /// Who the token is for.
    pub subject: String,
    /// What it is for: `password_reset`, `email_verification`, `magic_link`, `invitation`, or any
    /// name of 1 to 64 lowercase letters, digits, `_`, `-`, `.`.
    pub purpose: String,
    /// Seconds until it expires (default from config, 15 minutes; at most the configured maximum).
    #[serde(default)]
    pub expires_in: Option<i64>,
    /// Any JSON object, returned when the token is redeemed.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub data: Option<serde_json::Value>,
    /// Supersede the subject's earlier unused tokens of the same purpose (they then answer
    /// `superseded`).
    #[serde(default)]
    pub supersede_previous: bool,
}

/// A one-time token's metadata. Never contains the secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct OneTimeView {
    /// The token's id.
    pub id: String,
    /// Who it is for.
    pub subject: String,
    /// What it is for.
    pub purpose: String,
    /// Its data.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    /// When it was issued (RFC 3339).
    pub created_at: String,
    /// When it expires (RFC 3339).
    pub expires_at: String,
    /// When it was redeemed (RFC 3339), if it was.
    pub used_at: Option<String>,
}

impl OneTimeView {
    /// The view of `t`.
    pub fn of(t: &OneTimeToken) -> Self {
        OneTimeView {
            id: t.id.clone(),
            subject: t.subject.clone(),
            purpose: t.purpose.clone(),
            data: t.data.clone(),
            created_at: rfc3339(t.created_at),
            expires_at: rfc3339(t.expires_at),
            used_at: t.used_at.map(rfc3339),
        }
    }
}

/// `201` answer to `POST /v1/one-time`: the same shape for every subject.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedOneTime {
    /// The token's id.
    pub id: String,
    /// The token, to put in the link or email. Ward keeps only a keyed hash.
    pub token: String,
    /// What it is for.
    pub purpose: String,
    /// When it expires (RFC 3339).
    pub expires_at: String,
}

/// Validates `req`, mints a one-time token and stores it.
pub async fn issue(state: &AppState, req: CreateOneTime) -> Result<CreatedOneTime, ApiError> {
    let cfg = &state.config;
    check_label("subject", &req.subject)?;
    if !valid_purpose(&req.purpose) {
        return Err(ApiError::BadRequest(
            "`purpose` must be 1 to 64 lowercase letters, digits, `_`, `-` or `.`".into(),
        ));
    }
    let ttl = req.expires_in.unwrap_or(cfg.one_time_ttl);
    if !(1..=cfg.one_time_max_ttl).contains(&ttl) {
        return Err(ApiError::BadRequest(format!(
            "`expires_in` must be between 1 and {} seconds (the configured maximum)",
            cfg.one_time_max_ttl
        )));
    }
    check_claims("data", req.data.as_ref())?;
    let now = state.clock.now();
    for _ in 0..3 {
        let minted = Minted::new(state, TokenKind::OneTime);
        let t = OneTimeToken {
            id: minted.id().to_string(),
            env: cfg.env.clone(),
            subject: req.subject.clone(),
            purpose: req.purpose.clone(),
            data: req.data.clone().unwrap_or_else(|| serde_json::json!({})),
            secret_hash: minted.hash,
            created_at: now,
            expires_at: now + ttl,
            used_at: None,
            superseded: None,
            revoked: None,
        };
        match state.store.insert_one_time(&t, req.supersede_previous).await {
            Ok(_) => {
                tracing::info!(token_id = %t.id, purpose = %t.purpose, "one-time token issued");
                return Ok(CreatedOneTime {
                    id: t.id,
                    token: minted.token.token.to_string(),
                    purpose: t.purpose,
                    expires_at: rfc3339(t.expires_at),
                });
            }
            Err(StoreError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::Unavailable("could not allocate a unique token id".into()))
}

/// Redeems `token` for `purpose`: `Ok` for exactly one caller, however many race.
pub async fn redeem(state: &AppState, token: &str, purpose: &str) -> Result<OneTimeToken, Verdict> {
    let parsed = ParsedToken::parse(token)?;
    parsed.expect(&state.config.env, &[TokenKind::OneTime])?;
    let Some(t) = state.store.get_one_time(parsed.id).await.map_err(unavailable)? else {
        // Same work as a wrong secret, so timing does not tell ids apart.
        let _ = state.hasher.hash(parsed.hashed_part);
        return Err(gone(state, &parsed).await);
    };
    if !state.hasher.matches(parsed.hashed_part, &t.secret_hash) {
        return Err(tampered(TokenKind::OneTime, &t.id));
    }
    let now = state.clock.now();
    t.check(now, purpose)?;
    if state.store.redeem_one_time(&t.id, now).await.map_err(unavailable)? {
        tracing::info!(token_id = %t.id, purpose = %t.purpose, "one-time token redeemed");
        return Ok(OneTimeToken { used_at: Some(now), ..t });
    }
    // Someone else won the race (or the state changed under us): say why, from the record as it is.
    let current = state.store.get_one_time(&t.id).await.map_err(unavailable)?;
    Err(current.and_then(|c| c.check(now, purpose).err()).unwrap_or_else(|| {
        Verdict::with(Reason::AlreadyUsed, "redeemed by a concurrent request a moment ago")
    }))
}
