//! The handlers, one file per resource.

use axum::Router;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;

pub mod access;
pub mod clients;
pub mod forward;
pub mod keys;
pub mod meta;
pub mod oauth;
pub mod one_time;
pub mod replay;
pub mod sessions;
pub mod subjects;
pub mod verify;

/// Every route of the API with its OpenAPI entry: one list, so a route cannot exist without its
/// document (`openapi::document`). Each `routes!` holds the handlers of one path: utoipa-axum adds
/// every handler of a call to every path of that call. Only `.routes(routes!(…))` belongs here; a
/// bare `.route(…)` would be a route without a document entry (a test checks the source).
pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(meta::healthz))
        .routes(routes!(meta::readyz))
        .routes(routes!(meta::openapi))
        .routes(routes!(meta::reasons))
        .routes(routes!(verify::verify))
        .routes(routes!(
            forward::forward_get,
            forward::forward_post,
            forward::forward_put,
            forward::forward_patch,
            forward::forward_delete
        ))
        .routes(routes!(keys::create, keys::list))
        .routes(routes!(keys::show))
        .routes(routes!(keys::revoke))
        .routes(routes!(keys::disable))
        .routes(routes!(keys::enable))
        .routes(routes!(keys::rotate))
        .routes(routes!(sessions::create, sessions::list))
        .routes(routes!(sessions::renew))
        .routes(routes!(sessions::logout))
        .routes(routes!(sessions::show))
        .routes(routes!(sessions::revoke))
        .routes(routes!(one_time::create))
        .routes(routes!(one_time::redeem))
        .routes(routes!(subjects::revoke))
        .routes(routes!(replay::set_limits, replay::get_limits))
        .routes(routes!(replay::create))
        .routes(routes!(replay::consume))
        .routes(routes!(replay::check))
        .routes(routes!(replay::lockouts))
        .routes(routes!(replay::unlock))
        .routes(routes!(clients::create))
        .routes(routes!(clients::show))
        .routes(routes!(clients::revoke))
        .routes(routes!(access::create))
        .routes(routes!(access::refresh))
        .routes(routes!(access::revoke))
        .routes(routes!(access::keyring_list))
        .routes(routes!(access::keyring_rotate))
        .routes(routes!(oauth::token))
        .routes(routes!(oauth::introspect))
        .routes(routes!(oauth::revoke))
        .routes(routes!(oauth::jwks))
        .routes(routes!(oauth::paserk))
        .routes(routes!(oauth::metadata))
        .routes(routes!(oauth::metadata_at))
}

/// Every route of the API, without the document.
pub fn router() -> Router<AppState> {
    api().split_for_parts().0
}
