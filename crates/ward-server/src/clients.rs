//! OAuth 2.0 clients: registration, and authentication of a client by its secret.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use ward_core::client::Client;
use ward_core::clock::rfc3339;
use ward_core::key::{valid_scope, MAX_SCOPES};
use ward_core::{ParsedToken, TokenKind};
use ward_store::StoreError;

use crate::keys::check_label;
use crate::problem::ApiError;
use crate::views::{Minted, RevocationView};
use crate::AppState;

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

/// Checks an audience: 1 to 256 printable ASCII characters, no spaces.
pub fn valid_audience(a: &str) -> bool {
    !a.is_empty() && a.len() <= 256 && a.bytes().all(|b| b.is_ascii_graphic())
}

/// Validates `req`, mints a client secret and stores the client.
pub async fn register(state: &AppState, req: CreateClient) -> Result<CreatedClient, ApiError> {
    check_label("name", &req.name)?;
    if req.scopes.len() > MAX_SCOPES || req.scopes.iter().any(|s| !valid_scope(s)) {
        return Err(ApiError::BadRequest(format!(
            "`scopes` must be at most {MAX_SCOPES} names of printable ASCII without spaces"
        )));
    }
    if req.audiences.is_empty()
        || req.audiences.len() > 16
        || req.audiences.iter().any(|a| !valid_audience(a))
    {
        return Err(ApiError::BadRequest(
            "`audiences` must list 1 to 16 audiences of printable ASCII without spaces".into(),
        ));
    }
    for _ in 0..3 {
        let minted = Minted::new(state, TokenKind::ClientSecret);
        let client = Client {
            id: minted.id().to_string(),
            env: state.config.env.clone(),
            name: req.name.clone(),
            secret_hash: minted.hash,
            scopes: req.scopes.clone(),
            audiences: req.audiences.clone(),
            created_at: state.clock.now(),
            revoked: None,
        };
        match state.store.insert_client(&client).await {
            Ok(()) => {
                tracing::info!(client_id = %client.id, name = %client.name, "oauth client registered");
                return Ok(CreatedClient {
                    client_secret: minted.token.token.to_string(),
                    view: ClientView::of(&client),
                });
            }
            Err(StoreError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::Unavailable("could not allocate a unique client id".into()))
}

/// Why a client could not be authenticated (RFC 6749 §5.2 `invalid_client`), for the log and
/// for Ward's own explanation field.
#[derive(Debug)]
pub enum ClientAuthError {
    /// No or unusable credentials, a wrong secret, an unknown or revoked client.
    Invalid(ward_core::Verdict),
    /// The store failed.
    Unavailable(String),
}

/// Authenticates `client_id` with `secret` (constant-time comparison of keyed hashes).
pub async fn authenticate(
    state: &AppState,
    client_id: &str,
    secret: &str,
) -> Result<Client, ClientAuthError> {
    use ward_core::{Reason, Verdict};
    let parsed = ParsedToken::parse(secret).map_err(ClientAuthError::Invalid)?;
    parsed.expect(&state.config.env, &[TokenKind::ClientSecret]).map_err(ClientAuthError::Invalid)?;
    if parsed.id != client_id {
        return Err(ClientAuthError::Invalid(Verdict::with(
            Reason::Tampered,
            "the client secret belongs to another client_id",
        )));
    }
    let client = match state.store.get_client(client_id).await {
        Ok(Some(c)) => c,
        Ok(None) => {
            let _ = state.hasher.hash(parsed.hashed_part);
            return Err(ClientAuthError::Invalid(Verdict::with(Reason::Unknown, "no such client")));
        }
        Err(e) => return Err(ClientAuthError::Unavailable(e.to_string())),
    };
    if !state.hasher.matches(parsed.hashed_part, &client.secret_hash) {
        return Err(ClientAuthError::Invalid(crate::verifier::tampered(TokenKind::ClientSecret, client_id)));
    }
    if let Some(r) = &client.revoked {
        return Err(ClientAuthError::Invalid(r.verdict(state.clock.now())));
    }
    Ok(client)
}
