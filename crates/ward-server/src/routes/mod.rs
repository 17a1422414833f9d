//! The handlers, one file per resource.

use axum::routing::{get, post};
use axum::Router;

use crate::AppState;

pub mod access;
pub mod clients;
pub mod keys;
pub mod meta;
pub mod oauth;
pub mod one_time;
pub mod sessions;
pub mod subjects;
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
        .route("/v1/keys/{id}/rotate", post(keys::rotate))
        .route("/v1/sessions", post(sessions::create).get(sessions::list))
        .route("/v1/sessions/renew", post(sessions::renew))
        .route("/v1/sessions/revoke", post(sessions::logout))
        .route("/v1/sessions/{id}", get(sessions::show))
        .route("/v1/sessions/{id}/revoke", post(sessions::revoke))
        .route("/v1/one-time", post(one_time::create))
        .route("/v1/one-time/redeem", post(one_time::redeem))
        .route("/v1/subjects/{subject}/revoke", post(subjects::revoke))
        .route("/v1/clients", post(clients::create))
        .route("/v1/clients/{id}", get(clients::show))
        .route("/v1/clients/{id}/revoke", post(clients::revoke))
        .route("/v1/access-tokens", post(access::create))
        .route("/v1/access-tokens/refresh", post(access::refresh))
        .route("/v1/access-tokens/revoke", post(access::revoke))
        .route("/v1/keyring", get(access::keyring_list))
        .route("/v1/keyring/rotate", post(access::keyring_rotate))
        .route("/oauth2/token", post(oauth::token))
        .route("/oauth2/introspect", post(oauth::introspect))
        .route("/oauth2/revoke", post(oauth::revoke))
        .route("/.well-known/jwks.json", get(oauth::jwks))
        .route("/.well-known/paserk.json", get(oauth::paserk))
        .route("/.well-known/oauth-authorization-server", get(oauth::metadata))
}
