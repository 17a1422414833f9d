//! `/v1/clients`: register, show and revoke OAuth clients.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;

use crate::clients::{self, ClientView, CreateClient, CreatedClient};
use crate::extract::{ApiJson, Caller, RecordId};
use crate::problem::{ApiError, Problem};
use crate::routes::keys::{parse_revocation, RevokeRequest};
use crate::{AppState, SCOPE_ADMIN};

/// Registers an OAuth client; its secret is in the answer, and only there.
#[utoipa::path(post, path = "/v1/clients", tag = "oauth", request_body = CreateClient,
    security(("bearer" = ["ward:admin"])),
    responses((status = 201, body = CreatedClient), (status = 400, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<CreateClient>,
) -> Result<(StatusCode, Json<CreatedClient>), ApiError> {
    caller.require(SCOPE_ADMIN)?;
    Ok((StatusCode::CREATED, Json(clients::register(&state, req).await?)))
}

fn not_found(id: &str) -> ApiError {
    ApiError::NotFound(format!("no client `{id}`"))
}

/// Shows one client.
#[utoipa::path(get, path = "/v1/clients/{id}", tag = "oauth", security(("bearer" = ["ward:admin"])),
    params(("id" = String, Path, description = "The client id")),
    responses((status = 200, body = ClientView), (status = 404, body = Problem)))]
pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    RecordId(id): RecordId,
) -> Result<Json<ClientView>, ApiError> {
    caller.require(SCOPE_ADMIN)?;
    let c = state.store.get_client(&id).await?.ok_or_else(|| not_found(&id))?;
    Ok(Json(ClientView::of(&c)))
}

/// Revokes a client: it can no longer get tokens (tokens it already holds stay until they expire
/// or are revoked themselves).
#[utoipa::path(post, path = "/v1/clients/{id}/revoke", tag = "oauth", request_body = RevokeRequest,
    security(("bearer" = ["ward:admin"])), params(("id" = String, Path, description = "The client id")),
    responses((status = 200, body = ClientView), (status = 404, body = Problem)))]
pub async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    RecordId(id): RecordId,
    ApiJson(req): ApiJson<RevokeRequest>,
) -> Result<Json<ClientView>, ApiError> {
    caller.require(SCOPE_ADMIN)?;
    let rev = parse_revocation(&state, &caller, req)?;
    let c = state.store.revoke_client(&id, &rev).await?.ok_or_else(|| not_found(&id))?;
    tracing::info!(client_id = %id, reason = rev.reason.as_str(), "oauth client revoked");
    Ok(Json(ClientView::of(&c)))
}
