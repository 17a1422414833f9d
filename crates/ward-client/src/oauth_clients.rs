//! `/v1/clients`: register, show and revoke OAuth 2.0 clients.

use serde::{Deserialize, Serialize};

use crate::endpoint::{encode, json, Endpoint, Method};
use crate::lifecycle::Revocation;
use crate::secret::Secret;

/// An OAuth client's metadata. Never contains the secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OAuthClient {
    /// The public client id.
    pub client_id: String,
    /// Its label.
    pub name: String,
    /// Scopes it may request.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Audiences it may request tokens for.
    #[serde(default)]
    pub audiences: Vec<String>,
    /// When it was registered (RFC 3339).
    #[serde(default)]
    pub created_at: String,
    /// Its revocation, if revoked.
    #[serde(default)]
    pub revoked: Option<Revocation>,
}

/// `POST /v1/clients`: registers an OAuth client.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CreateClient {
    /// A label for people.
    pub name: String,
    /// Scopes the client may request.
    pub scopes: Vec<String>,
    /// Audiences the client may request tokens for (at least one).
    pub audiences: Vec<String>,
}

impl Endpoint for CreateClient {
    type Response = CreatedClient;
    const METHOD: Method = Method::Post;
    fn path(&self) -> String {
        "/v1/clients".into()
    }
    fn body(&self) -> Result<Option<Vec<u8>>, serde_json::Error> {
        json(self)
    }
}

/// The answer to [`CreateClient`]: the secret, shown this once, and the client's metadata.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CreatedClient {
    /// The client secret. Ward keeps only a keyed hash.
    pub client_secret: Secret,
    /// Its metadata.
    #[serde(flatten)]
    pub info: OAuthClient,
}

/// `GET /v1/clients/{id}`: one client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetClient {
    /// The client id.
    pub id: String,
}

impl Endpoint for GetClient {
    type Response = OAuthClient;
    const METHOD: Method = Method::Get;
    fn path(&self) -> String {
        format!("/v1/clients/{}", encode(&self.id))
    }
}

/// `POST /v1/clients/{id}/revoke`: the client can no longer get tokens (those it holds stay until
/// they expire or are revoked themselves).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RevokeClient {
    /// The client id.
    #[serde(skip)]
    pub id: String,
    /// `logout`, `compromised`, `offboarded`, `password_changed`, `rotated` or `admin` (the
    /// server's default).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Free text kept with the revocation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Endpoint for RevokeClient {
    type Response = OAuthClient;
    const METHOD: Method = Method::Post;
    fn path(&self) -> String {
        format!("/v1/clients/{}/revoke", encode(&self.id))
    }
    fn body(&self) -> Result<Option<Vec<u8>>, serde_json::Error> {
        json(self)
    }
}
