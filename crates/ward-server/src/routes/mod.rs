//! The handlers, one file per resource.

use axum::routing::{get, post};
use axum::Router;

use crate::AppState;

pub mod keys;
pub mod meta;
pub mod verify;

/// Every route of the API.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(meta::healthz))
        .route("/readyz", get(meta::readyz))
        .route("/openapi.json", get(meta::openapi))
        .route("/v1/reasons", get(meta::reasons))
        .route("/v1/verify", post(verify::verify))
        .route("/v1/keys", post(keys::create).get(keys::list))
        .route("/v1/keys/{id}", get(keys::show))
        .route("/v1/keys/{id}/revoke", post(keys::revoke))
        .route("/v1/keys/{id}/disable", post(keys::disable))
        .route("/v1/keys/{id}/enable", post(keys::enable))
}
