//! `/v1/keys`: create, read, list, revoke, disable and enable API keys.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use ward_core::RevokeReason;
use ward_engine::KeyQuery;

use crate::extract::{ApiJson, Caller, RecordId};
use crate::keys::{CreateKey, CreatedKey, KeyView};
use crate::problem::{ApiError, Problem};
use crate::{AppState, SCOPE_ADMIN, SCOPE_ISSUE, SCOPE_REVOKE};

pub use ward_engine::MAX_LIST;

/// Creates an API key. The key is in the answer, and only there.
#[utoipa::path(post, path = "/v1/keys", tag = "keys", operation_id = "createKey", request_body = CreateKey,
    security(("bearer" = ["ward:issue"])),
    responses((status = 201, body = CreatedKey), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 503, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<CreateKey>,
) -> Result<Response, ApiError> {
    caller.check(SCOPE_ISSUE)?;
    caller.may_grant(&req.scopes)?;
    let req = req.into_engine().map_err(ApiError::BadRequest)?;
    req.validate()?;
    caller.require(&state, SCOPE_ISSUE).await?;
    let (key, minted) = state.engine.issue_key(req, &caller.call()).await?;
    let view = KeyView::of(&key, state.engine.now());
    Ok((StatusCode::CREATED, Json(CreatedKey { key: &minted.token, view })).into_response())
}

/// Query of `GET /v1/keys`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Only this subject's keys.
    pub subject: Option<String>,
    /// At most this many (default 100, at most 1000), newest first.
    pub limit: Option<u32>,
    /// Only live keys that expire within this many seconds (to renew before users hit `expired`).
    pub expiring_within: Option<i64>,
}

/// Answer of `GET /v1/keys`.
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyList<'a> {
    /// The keys, newest first.
    pub keys: Vec<KeyView<'a>>,
}

/// Lists keys' metadata, newest first.
#[utoipa::path(get, path = "/v1/keys", tag = "keys", operation_id = "listKeys", params(ListQuery), security(("bearer" = ["ward:admin"])),
    responses((status = 200, body = KeyList), (status = 400, body = Problem), (status = 401, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    caller.check(SCOPE_ADMIN)?;
    let Query(q) = query.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let query = KeyQuery { subject: q.subject, limit: q.limit, expiring_within: q.expiring_within };
    query.validate()?;
    caller.require(&state, SCOPE_ADMIN).await?;
    let keys = state.engine.keys(query).await?;
    let now = state.engine.now();
    Ok(Json(KeyList { keys: keys.iter().map(|k| KeyView::of(k, now)).collect() }).into_response())
}

/// Shows one key's metadata.
#[utoipa::path(get, path = "/v1/keys/{id}", tag = "keys", operation_id = "getKey", security(("bearer" = ["ward:admin"])),
    params(("id" = String, Path, description = "The key id")),
    responses((status = 200, body = KeyView), (status = 404, body = Problem)))]
pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    RecordId(id): RecordId,
) -> Result<Response, ApiError> {
    caller.require(&state, SCOPE_ADMIN).await?;
    let key = state.engine.key(&id).await?;
    Ok(Json(KeyView::of(&key, state.engine.now())).into_response())
}

/// Body of `POST /v1/keys/{id}/revoke`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeRequest {
    /// `logout`, `compromised`, `offboarded`, `password_changed`, `rotated` or `admin` (default).
    #[serde(default)]
    pub reason: Option<String>,
    /// Free text kept with the revocation (at most 1000 characters).
    #[serde(default)]
    pub note: Option<String>,
}

impl RevokeRequest {
    /// The revocation reason (`admin` when none is given).
    pub fn reason(&self) -> Result<RevokeReason, ApiError> {
        match self.reason.as_deref() {
            None => Ok(RevokeReason::Admin),
            Some(code) => RevokeReason::from_code(code).ok_or_else(|| {
                let all: Vec<&str> = RevokeReason::ALL.iter().map(|r| r.as_str()).collect();
                ApiError::BadRequest(format!(
                    "unknown revocation reason {code:?}; use one of: {}",
                    all.join(", ")
                ))
            }),
        }
    }
}

/// Revokes a key for good. Once this answers 200 the revocation is durable.
#[utoipa::path(post, path = "/v1/keys/{id}/revoke", tag = "keys", operation_id = "revokeKey", request_body = RevokeRequest,
    security(("bearer" = ["ward:revoke"])), params(("id" = String, Path, description = "The key id")),
    responses((status = 200, body = KeyView), (status = 400, body = Problem), (status = 404, body = Problem)))]
pub async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    RecordId(id): RecordId,
    ApiJson(req): ApiJson<RevokeRequest>,
) -> Result<Response, ApiError> {
    caller.check(SCOPE_REVOKE)?;
    let reason = req.reason()?;
    caller.require(&state, SCOPE_REVOKE).await?;
    let key = state.engine.revoke_key(&id, reason, req.note, &caller.call()).await?;
    Ok(Json(KeyView::of(&key, state.engine.now())).into_response())
}

async fn set_disabled(
    state: AppState,
    caller: Caller,
    id: String,
    disable: bool,
) -> Result<Response, ApiError> {
    caller.require(&state, SCOPE_REVOKE).await?;
    let key = state.engine.set_key_disabled(&id, disable, &caller.call()).await?;
    Ok(Json(KeyView::of(&key, state.engine.now())).into_response())
}

/// Disables a key until it is enabled again.
#[utoipa::path(post, path = "/v1/keys/{id}/disable", tag = "keys", operation_id = "disableKey", security(("bearer" = ["ward:revoke"])),
    params(("id" = String, Path, description = "The key id")),
    responses((status = 200, body = KeyView), (status = 404, body = Problem)))]
pub async fn disable(
    State(state): State<AppState>,
    caller: Caller,
    RecordId(id): RecordId,
) -> Result<Response, ApiError> {
    set_disabled(state, caller, id, true).await
}

/// Enables a disabled key.
#[utoipa::path(post, path = "/v1/keys/{id}/enable", tag = "keys", operation_id = "enableKey", security(("bearer" = ["ward:revoke"])),
    params(("id" = String, Path, description = "The key id")),
    responses((status = 200, body = KeyView), (status = 404, body = Problem)))]
pub async fn enable(
    State(state): State<AppState>,
    caller: Caller,
    RecordId(id): RecordId,
) -> Result<Response, ApiError> {
    set_disabled(state, caller, id, false).await
}

/// Body of `POST /v1/keys/{id}/rotate`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateRequest {
    /// Seconds the old key keeps working beside the new one (default 3600, at most 30 days).
    #[serde(default, deserialize_with = "crate::body::whole_opt")]
    pub overlap_seconds: Option<i64>,
}

/// Rotates a key: a new key with the same subject, scopes, metadata, expiry and limits. The old key
/// keeps working for the overlap, then answers `superseded`.
#[utoipa::path(post, path = "/v1/keys/{id}/rotate", tag = "keys", operation_id = "rotateKey", request_body = RotateRequest,
    security(("bearer" = ["ward:issue"])), params(("id" = String, Path, description = "The key id")),
    responses((status = 201, body = CreatedKey), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn rotate(
    State(state): State<AppState>,
    caller: Caller,
    RecordId(id): RecordId,
    ApiJson(req): ApiJson<RotateRequest>,
) -> Result<Response, ApiError> {
    caller.check(SCOPE_ISSUE)?;
    // Rotating hands out a new secret for the key's scopes: only a caller that could mint them.
    let old = state.engine.key(&id).await?;
    caller.may_grant(&old.scopes)?;
    caller.require(&state, SCOPE_ISSUE).await?;
    let (new, minted) = state.engine.rotate_key(&id, req.overlap_seconds, &caller.call()).await?;
    let view = KeyView::of(&new, state.engine.now());
    Ok((StatusCode::CREATED, Json(CreatedKey { key: &minted.token, view })).into_response())
}
