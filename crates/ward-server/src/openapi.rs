//! The OpenAPI document, generated from the handlers' annotations.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::routes::{access, clients, keys, meta, oauth, one_time, sessions, subjects, verify};

/// Ward's HTTP API.
#[derive(OpenApi)]
#[openapi(
    info(title = "Ward", description = "A token authority whose every rejection explains itself."),
    paths(
        meta::healthz, meta::readyz, meta::reasons, meta::openapi,
        verify::verify,
        keys::create, keys::list, keys::show, keys::revoke, keys::disable, keys::enable, keys::rotate,
        sessions::create, sessions::renew, sessions::logout, sessions::list, sessions::show, sessions::revoke,
        one_time::create, one_time::redeem,
        subjects::revoke,
        clients::create, clients::show, clients::revoke,
        access::create, access::refresh, access::revoke, access::keyring_list, access::keyring_rotate,
        oauth::token, oauth::introspect, oauth::revoke, oauth::jwks, oauth::paserk, oauth::metadata,
    ),
    components(schemas(crate::problem::Problem, verify::AnonymousVerifyResponse)),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}
