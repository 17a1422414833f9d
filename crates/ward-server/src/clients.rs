//! OAuth 2.0 clients on the wire: the registration request and the client's view.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use ward_core::client::Client;
use ward_core::clock::rfc3339;

use crate::views::RevocationView;

/// `POST /v1/clients`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateClient {
    /// A label for people.
    pub name: String,
    /// Scopes the client may request.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Audiences the client may request tokens for (at least one).
    pub audiences: Vec<String>,
}

/// A client's metadata. Never contains the secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClientView {
    /// The public client id.
    pub client_id: String,
    /// Its label.
    pub name: String,
    /// Scopes it may request.
    pub scopes: Vec<String>,
    /// Audiences it may request tokens for.
    pub audiences: Vec<String>,
    /// When it was registered (RFC 3339).
    pub created_at: String,
    /// Its revocation, if revoked.
    pub revoked: Option<RevocationView>,
}

impl ClientView {
    /// The view of `c`.
    pub fn of(c: &Client) -> Self {
        ClientView {
            client_id: c.id.clone(),
            name: c.name.clone(),
            scopes: c.scopes.clone(),
            audiences: c.audiences.clone(),
            created_at: rfc3339(c.created_at),
            revoked: c.revoked.as_ref().map(RevocationView::of),
        }
    }
}

/// `201` answer to `POST /v1/clients`: the secret is shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedClient {
    /// The client secret. Ward keeps only a keyed hash.
    pub client_secret: String,
    /// Its metadata.
    #[serde(flatten)]
    pub view: ClientView,
}

impl CreateClient {
    /// The engine's request.
    pub fn into_engine(self) -> ward_engine::NewClient {
        ward_engine::NewClient { name: self.name, scopes: self.scopes, audiences: self.audiences }
    }
}
