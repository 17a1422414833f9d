//! `/v1/sessions`: create, renew, log out, list and revoke sessions.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use ward_core::Session;

use crate::extract::{ApiJson, Caller, RecordId};
use crate::problem::{ApiError, Problem};
use crate::routes::keys::RevokeRequest;
use crate::sessions::{CreateSession, CreatedSession, SessionView};
use crate::{AppState, SCOPE_ISSUE, SCOPE_REVOKE, SCOPE_VERIFY};

fn view<'a>(state: &AppState, s: &'a Session) -> SessionView<'a> {
    SessionView::of(s, state.engine.now(), state.engine.session_last_seen(s))
}

/// Creates a session; its token is in the answer, and only there.
#[utoipa::path(post, path = "/v1/sessions", tag = "sessions", operation_id = "createSession", request_body = CreateSession,
    security(("bearer" = ["ward:issue"])),
    responses((status = 201, body = CreatedSession), (status = 400, body = Problem), (status = 401, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<CreateSession>,
) -> Result<Response, ApiError> {
    caller.check(SCOPE_ISSUE)?;
    let req = req.into_engine();
    state.engine.check_session(&req)?;
    caller.require(&state, SCOPE_ISSUE).await?;
    let (session, minted) = state.engine.issue_session(req, &caller.call()).await?;
    let view = view(&state, &session);
    Ok((StatusCode::CREATED, Json(CreatedSession { token: &minted.token, view })).into_response())
}

/// Body of `POST /v1/sessions/renew`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RenewRequest {
    /// The session token to renew.
    pub token: String,
    /// New claims (rotation on privilege change); the old ones are kept if absent.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub claims: Option<serde_json::Value>,
}

/// Renews a session: a new token with the same subject and absolute deadline. The old token
/// keeps working for the renewal grace, then answers `superseded`.
#[utoipa::path(post, path = "/v1/sessions/renew", tag = "sessions", operation_id = "renewSession", request_body = RenewRequest,
    security(("bearer" = ["ward:issue"])),
    responses((status = 201, body = CreatedSession), (status = 400, description = "The token is not valid: the reason says why", body = Problem)))]
pub async fn renew(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<RenewRequest>,
) -> Result<Response, ApiError> {
    caller.require(&state, SCOPE_ISSUE).await?;
    let (session, minted) = state.engine.renew_session(&req.token, req.claims, &caller.call()).await?;
    let view = view(&state, &session);
    Ok((StatusCode::CREATED, Json(CreatedSession { token: &minted.token, view })).into_response())
}

/// Body of `POST /v1/sessions/revoke`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LogoutRequest {
    /// The session token to end.
    pub token: String,
}

/// Logs a session out (revocation reason `logout`), given its token. Idempotent.
#[utoipa::path(post, path = "/v1/sessions/revoke", tag = "sessions", operation_id = "logoutSession", request_body = LogoutRequest,
    security(("bearer" = ["ward:revoke"])),
    responses((status = 200, body = SessionView), (status = 400, body = Problem)))]
pub async fn logout(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<LogoutRequest>,
) -> Result<Response, ApiError> {
    caller.require(&state, SCOPE_REVOKE).await?;
    let s = state.engine.logout(&req.token, &caller.call()).await?;
    Ok(Json(view(&state, &s)).into_response())
}

/// Query of `GET /v1/sessions`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Whose sessions.
    pub subject: String,
    /// At most this many (default 100, at most 1000), newest first.
    pub limit: Option<u32>,
}

/// Answer of `GET /v1/sessions`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionList<'a> {
    /// The sessions, newest first.
    pub sessions: Vec<SessionView<'a>>,
}

/// Lists a subject's sessions.
#[utoipa::path(get, path = "/v1/sessions", tag = "sessions", operation_id = "listSessions", params(ListQuery), security(("bearer" = ["ward:verify"])),
    responses((status = 200, body = SessionList), (status = 400, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    caller.check(SCOPE_VERIFY)?;
    let Query(q) = query.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    ward_engine::keys::check_limit(q.limit)?;
    ward_engine::validate::check_label("subject", &q.subject)?;
    caller.require(&state, SCOPE_VERIFY).await?;
    let list = state.engine.sessions(&q.subject, q.limit).await?;
    Ok(Json(SessionList { sessions: list.iter().map(|s| view(&state, s)).collect() }).into_response())
}

/// Shows one session.
#[utoipa::path(get, path = "/v1/sessions/{id}", tag = "sessions", operation_id = "getSession", security(("bearer" = ["ward:verify"])),
    params(("id" = String, Path, description = "The session id")),
    responses((status = 200, body = SessionView), (status = 404, body = Problem)))]
pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    RecordId(id): RecordId,
) -> Result<Response, ApiError> {
    caller.require(&state, SCOPE_VERIFY).await?;
    let s = state.engine.session(&id).await?;
    Ok(Json(view(&state, &s)).into_response())
}

/// Revokes one session by id.
#[utoipa::path(post, path = "/v1/sessions/{id}/revoke", tag = "sessions", operation_id = "revokeSession", request_body = RevokeRequest,
    security(("bearer" = ["ward:revoke"])), params(("id" = String, Path, description = "The session id")),
    responses((status = 200, body = SessionView), (status = 404, body = Problem)))]
pub async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    RecordId(id): RecordId,
    ApiJson(req): ApiJson<RevokeRequest>,
) -> Result<Response, ApiError> {
    caller.check(SCOPE_REVOKE)?;
    let reason = req.reason()?;
    caller.require(&state, SCOPE_REVOKE).await?;
    let s = state.engine.revoke_session(&id, reason, req.note, &caller.call()).await?;
    Ok(Json(view(&state, &s)).into_response())
}
