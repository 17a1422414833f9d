//! OAuth 2.0 clients (RFC 6749 §2): confidential clients with a secret Ward keeps only hashed.

use crate::clock::UnixTime;
use crate::lifecycle::Revocation;
use crate::secret::SecretHash;

/// Everything Ward stores about one OAuth client.
#[derive(Clone, Debug, PartialEq)]
pub struct Client {
    /// The public `client_id` (also the id embedded in its secret).
    pub id: String,
    /// The environment it was registered in.
    pub env: String,
    /// A label for people.
    pub name: String,
    /// The keyed hash of its secret.
    pub secret_hash: SecretHash,
    /// Scopes it may request; a request for others is `invalid_scope`.
    pub scopes: Vec<String>,
    /// Audiences it may request access tokens for.
    pub audiences: Vec<String>,
    /// When it was registered.
    pub created_at: UnixTime,
    /// Its revocation, if revoked.
    pub revoked: Option<Revocation>,
}
