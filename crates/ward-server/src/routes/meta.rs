//! Health, readiness, the reason table and the OpenAPI document.

use axum::extract::State;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use ward_core::{Reason, TokenFormat};

use crate::problem::{ApiError, Problem};
use crate::AppState;

/// A liveness or readiness answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok` or `ready`.
    pub status: &'static str,
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "meta", operation_id = "getHealth", responses((status = 200, body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// Readiness: the store answers too.
#[utoipa::path(get, path = "/readyz", tag = "meta", operation_id = "getReadiness",
    responses((status = 200, body = Health), (status = 503, body = Problem)))]
pub async fn readyz(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    state.engine.ping().await?;
    Ok(Json(Health { status: "ready" }))
}

/// One row of the reason table.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReasonRow {
    /// The stable code.
    pub code: &'static str,
    /// The HTTP status a resource server answers with.
    pub status: u16,
    /// The RFC 6750 error code: what anonymous callers see.
    pub error: Option<&'static str>,
    /// What it means.
    pub message: &'static str,
    /// What to do.
    pub hint: &'static str,
    /// The message and hint for signed formats (`jwt`, `paseto`) where their words differ; the
    /// verify and introspection answers use the row for the presented token's format.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub formats: Vec<FormatWords>,
}

/// A reason's words for one token format.
#[derive(Debug, Serialize, ToSchema)]
pub struct FormatWords {
    /// `jwt` or `paseto`.
    pub format: &'static str,
    /// What it means, for a token of this format.
    pub message: &'static str,
    /// What to do, for a token of this format.
    pub hint: &'static str,
}

/// Answer of `GET /v1/reasons`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReasonTable {
    /// Every reason Ward gives.
    pub reasons: Vec<ReasonRow>,
}

/// The reason table: every code Ward can answer with, its status, category, message and hint.
#[utoipa::path(get, path = "/v1/reasons", tag = "meta", operation_id = "listReasons", responses((status = 200, body = ReasonTable)))]
pub async fn reasons() -> Json<ReasonTable> {
    let reasons = Reason::ALL
        .iter()
        .map(|r| {
            let i = r.info();
            let formats = TokenFormat::SIGNED
                .iter()
                .filter_map(|f| {
                    r.worded(*f).map(|(message, hint)| FormatWords { format: f.as_str(), message, hint })
                })
                .collect();
            ReasonRow {
                code: i.code,
                status: i.status,
                error: i.error,
                message: i.message,
                hint: i.hint,
                formats,
            }
        })
        .collect();
    Json(ReasonTable { reasons })
}

/// The OpenAPI 3.1 document, generated from the route list, with this deployment's limits.
#[utoipa::path(get, path = "/openapi.json", tag = "meta", operation_id = "getOpenApi",
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json", body = Object)))]
pub async fn openapi(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(crate::openapi::document(state.engine.policy(), &state.engine.algorithms()))
}
