//! `/v1/keys`: create, read, list, revoke, disable and enable API keys.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use ward_core::{Revocation, RevokeReason};
use ward_store::KeyFilter;

use crate::extract::{ApiJson, Caller, RecordId};
use crate::keys::{self, CreateKey, CreatedKey, KeyView};
use crate::problem::{ApiError, Problem};
use crate::{AppState, SCOPE_ADMIN};

/// Most keys one listing returns.
pub const MAX_LIST: u32 = 1000;

/// Creates an API key. The key is in the answer, and only there.
#[utoipa::path(post, path = "/v1/keys", tag = "keys", request_body = CreateKey,
    security(("bearer" = ["ward:admin"])),
    responses((status = 201, body = CreatedKey), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 503, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<CreateKey>,
) -> Result<Response, ApiError> {
    caller.require(SCOPE_ADMIN)?;
    let (key, minted) = keys::issue(&state, req).await?;
    let view = KeyView::of(&key, state.clock.now());
    Ok((StatusCode::CREATED, Json(CreatedKey { key: &minted.token, view })).into_response())
}

/// Query of `GET /v1/keys`.
#[derive(Debug, Deserialize, IntoParams)]
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
#[utoipa::path(get, path = "/v1/keys", tag = "keys", params(ListQuery), security(("bearer" = ["ward:admin"])),
    responses((status = 200, body = KeyList), (status = 400, body = Problem), (status = 401, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    caller.require(SCOPE_ADMIN)?;
    let Query(q) = query.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=MAX_LIST).contains(&limit) {
        return Err(ApiError::BadRequest(format!("`limit` must be between 1 and {MAX_LIST}")));
    }
    if let Some(subject) = &q.subject {
        keys::check_label("subject", subject)?;
    }
    let now = state.clock.now();
    let expiring_before = match q.expiring_within {
        Some(s) if s < 1 => {
            return Err(ApiError::BadRequest("`expiring_within` must be at least 1 second".into()))
        }
        Some(s) => Some(now.saturating_add(s)),
        None => None,
    };
    let keys =
        state.store.list_api_keys(&KeyFilter { subject: q.subject, limit, expiring_before, now }).await?;
    Ok(Json(KeyList { keys: keys.iter().map(|k| KeyView::of(k, now)).collect() }).into_response())
}

fn not_found(id: &str) -> ApiError {
    ApiError::NotFound(format!("no key with id `{id}`"))
}

/// Shows one key's metadata.
#[utoipa::path(get, path = "/v1/keys/{id}", tag = "keys", security(("bearer" = ["ward:admin"])),
    params(("id" = String, Path, description = "The key id")),
    responses((status = 200, body = KeyView), (status = 404, body = Problem)))]
pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    RecordId(id): RecordId,
) -> Result<Response, ApiError> {
    caller.require(SCOPE_ADMIN)?;
    let key = state.store.get_api_key(&id).await?.ok_or_else(|| not_found(&id))?;
    Ok(Json(KeyView::of(&key, state.clock.now())).into_response())
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

/// Checks a revocation request and stamps it with the time and the caller.
pub fn parse_revocation(
    state: &AppState,
    caller: &Caller,
    req: RevokeRequest,
) -> Result<Revocation, ApiError> {
    let reason = match req.reason.as_deref() {
        None => RevokeReason::Admin,
        Some(code) => RevokeReason::from_code(code).ok_or_else(|| {
            let all: Vec<&str> = RevokeReason::ALL.iter().map(|r| r.as_str()).collect();
            ApiError::BadRequest(format!(
                "unknown revocation reason {code:?}; use one of: {}",
                all.join(", ")
            ))
        })?,
    };
    if req.note.as_ref().is_some_and(|n| n.chars().count() > 1000 || n.chars().any(char::is_control)) {
        return Err(ApiError::BadRequest(
            "`note` must be at most 1000 characters without control characters".into(),
        ));
    }
    Ok(Revocation { at: state.clock.now(), reason, note: req.note, actor: caller.actor() })
}

/// Revokes a key for good. Once this answers 200 the revocation is durable.
#[utoipa::path(post, path = "/v1/keys/{id}/revoke", tag = "keys", request_body = RevokeRequest,
    security(("bearer" = ["ward:admin"])), params(("id" = String, Path, description = "The key id")),
    responses((status = 200, body = KeyView), (status = 400, body = Problem), (status = 404, body = Problem)))]
pub async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    RecordId(id): RecordId,
    ApiJson(req): ApiJson<RevokeRequest>,
) -> Result<Response, ApiError> {
    caller.require(SCOPE_ADMIN)?;
    let rev = parse_revocation(&state, &caller, req)?;
    let key = state.store.revoke_api_key(&id, &rev).await?;
    state.verifier.invalidate(&id);
    let key = key.ok_or_else(|| not_found(&id))?;
    tracing::info!(key_id = %id, reason = rev.reason.as_str(), actor = %rev.actor, "api key revoked");
    Ok(Json(KeyView::of(&key, state.clock.now())).into_response())
}

async fn set_disabled(
    state: AppState,
    caller: Caller,
    id: String,
    disable: bool,
) -> Result<Response, ApiError> {
    caller.require(SCOPE_ADMIN)?;
    let at = disable.then(|| state.clock.now());
    let key = state.store.set_api_key_disabled(&id, at).await?;
    state.verifier.invalidate(&id);
    let key = key.ok_or_else(|| not_found(&id))?;
    tracing::info!(key_id = %id, disabled = disable, actor = %caller.actor(), "api key state changed");
    Ok(Json(KeyView::of(&key, state.clock.now())).into_response())
}

/// Disables a key until it is enabled again.
#[utoipa::path(post, path = "/v1/keys/{id}/disable", tag = "keys", security(("bearer" = ["ward:admin"])),
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
#[utoipa::path(post, path = "/v1/keys/{id}/enable", tag = "keys", security(("bearer" = ["ward:admin"])),
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
    /// Seconds the old key keeps working beside the new one (default 0, at most 30 days).
    #[serde(default)]
    pub overlap_seconds: i64,
}

/// Most seconds of overlap a rotation allows.
pub const MAX_OVERLAP: i64 = 30 * 86_400;

/// Rotates a key: a new key with the same subject, scopes, metadata, expiry and limits. The old key
/// keeps working for the overlap, then answers `superseded`.
#[utoipa::path(post, path = "/v1/keys/{id}/rotate", tag = "keys", request_body = RotateRequest,
    security(("bearer" = ["ward:admin"])), params(("id" = String, Path, description = "The key id")),
    responses((status = 201, body = CreatedKey), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn rotate(
    State(state): State<AppState>,
    caller: Caller,
    RecordId(id): RecordId,
    ApiJson(req): ApiJson<RotateRequest>,
) -> Result<Response, ApiError> {
    caller.require(SCOPE_ADMIN)?;
    if !(0..=MAX_OVERLAP).contains(&req.overlap_seconds) {
        return Err(ApiError::BadRequest(format!("`overlap_seconds` must be between 0 and {MAX_OVERLAP}")));
    }
    let old = state.store.get_api_key(&id).await?.ok_or_else(|| not_found(&id))?;
    let now = state.clock.now();
    let (new, minted) = keys::rotate(&state, &old, now + req.overlap_seconds).await?;
    state.verifier.invalidate(&id);
    tracing::info!(old = %id, new = %new.id, overlap = req.overlap_seconds, "api key rotated");
    let view = KeyView::of(&new, now);
    Ok((StatusCode::CREATED, Json(CreatedKey { key: &minted.token, view })).into_response())
}
