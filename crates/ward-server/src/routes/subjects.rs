//! `/v1/subjects/{subject}/revoke`: the offboarding case.

use axum::extract::State;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use crate::extract::{ApiJson, Caller, SubjectPath};
use crate::problem::{ApiError, Problem};
use crate::routes::keys::RevokeRequest;
use crate::{AppState, SCOPE_REVOKE};

/// How many tokens of each kind a subject revocation reached.
#[derive(Debug, Serialize, ToSchema)]
pub struct RevokedCounts {
    /// API keys.
    pub api_keys: u64,
    /// Sessions.
    pub sessions: u64,
    /// One-time tokens.
    pub one_time: u64,
    /// Refresh tokens (the access tokens they minted are denied too).
    pub refresh_tokens: u64,
}

/// Answer of `POST /v1/subjects/{subject}/revoke`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubjectRevoked {
    /// The subject.
    pub subject: String,
    /// What was revoked now (tokens already revoked are not counted).
    pub revoked: RevokedCounts,
}

/// Revokes everything a subject holds, of every kind, in one durable step.
#[utoipa::path(post, path = "/v1/subjects/{subject}/revoke", tag = "subjects", operation_id = "revokeSubject", request_body = RevokeRequest,
    security(("bearer" = ["ward:revoke"])), params(("subject" = String, Path, description = "The subject")),
    responses((status = 200, body = SubjectRevoked), (status = 400, body = Problem)))]
pub async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    SubjectPath(subject): SubjectPath,
    ApiJson(req): ApiJson<RevokeRequest>,
) -> Result<Json<SubjectRevoked>, ApiError> {
    caller.check(SCOPE_REVOKE)?;
    let reason = req.reason()?;
    caller.require(&state, SCOPE_REVOKE).await?;
    let n = state.engine.revoke_subject(&subject, reason, req.note, &caller.call()).await?;
    Ok(Json(SubjectRevoked {
        subject,
        revoked: RevokedCounts {
            api_keys: n.api_keys,
            sessions: n.sessions,
            one_time: n.one_time,
            refresh_tokens: n.refresh_tokens,
        },
    }))
}
