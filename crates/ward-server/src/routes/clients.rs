//! `/v1/clients`: register, show and revoke OAuth clients.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;

use crate::clients::{ClientView, CreateClient, CreatedClient};
use crate::extract::{ApiJson, Caller, RecordId};
use crate::problem::{ApiError, Problem};
use crate::routes::keys::RevokeRequest;
use crate::{AppState, SCOPE_ADMIN, SCOPE_ISSUE, SCOPE_REVOKE};

/// Registers an OAuth client; its secret is in the answer, and only there.
#[utoipa::path(post, path = "/v1/clients", tag = "oauth", operation_id = "createClient", request_body = CreateClient,
    security(("bearer" = ["ward:issue"])),
    responses((status = 201, body = CreatedClient), (status = 400, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<CreateClient>,
) -> Result<(StatusCode, Json<CreatedClient>), ApiError> {
    // A client mints access tokens for its audiences and scopes: registering one is issuing.
    caller.check(SCOPE_ISSUE)?;
    let req = req.into_engine();
    req.validate()?;
    caller.require(&state, SCOPE_ISSUE).await?;
    let (client, minted) = state.engine.register_client(req, &caller.call()).await?;
    let answer = CreatedClient { client_secret: minted.token.to_string(), view: ClientView::of(&client) };
    Ok((StatusCode::CREATED, Json(answer)))
}

/// Shows one client.
#[utoipa::path(get, path = "/v1/clients/{id}", tag = "oauth", operation_id = "getClient", security(("bearer" = ["ward:admin"])),
    params(("id" = String, Path, description = "The client id")),
    responses((status = 200, body = ClientView), (status = 404, body = Problem)))]
pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    RecordId(id): RecordId,
) -> Result<Json<ClientView>, ApiError> {
    caller.require(&state, SCOPE_ADMIN).await?;
    let c = state.engine.client(&id).await?;
    Ok(Json(ClientView::of(&c)))
}

/// Revokes a client: it can no longer get tokens (tokens it already holds stay until they expire
/// or are revoked themselves).
#[utoipa::path(post, path = "/v1/clients/{id}/revoke", tag = "oauth", operation_id = "revokeClient", request_body = RevokeRequest,
    security(("bearer" = ["ward:revoke"])), params(("id" = String, Path, description = "The client id")),
    responses((status = 200, body = ClientView), (status = 404, body = Problem)))]
pub async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    RecordId(id): RecordId,
    ApiJson(req): ApiJson<RevokeRequest>,
) -> Result<Json<ClientView>, ApiError> {
    caller.check(SCOPE_REVOKE)?;
    let reason = req.reason()?;
    caller.require(&state, SCOPE_REVOKE).await?;
    let c = state.engine.revoke_client(&id, reason, req.note, &caller.call()).await?;
    Ok(Json(ClientView::of(&c)))
}
