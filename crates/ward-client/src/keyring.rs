//! `/v1/keyring`: the signing keys of signed access tokens, and their rotation.

use serde::{Deserialize, Serialize};

use crate::endpoint::{json, Endpoint, Method};

/// One signing key and its state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SigningKey {
    /// The key id (`kid`).
    pub kid: String,
    /// Its algorithm (`EdDSA`, `ES256`, `RS256`, `v4.public`, `v4.local`).
    pub alg: String,
    /// `pending`, `active`, `retiring` or `retired`.
    pub state: String,
    /// When it was created (RFC 3339).
    #[serde(default)]
    pub created_at: Option<String>,
    /// When it starts (started) signing.
    #[serde(default)]
    pub activates_at: Option<String>,
    /// When it stops (stopped) signing.
    #[serde(default)]
    pub retiring_at: Option<String>,
    /// When it stops (stopped) verifying.
    #[serde(default)]
    pub retired_at: Option<String>,
    /// Whether it appears in the JWKS.
    #[serde(default)]
    pub published: bool,
}

/// The answer to [`ListSigningKeys`] and [`RotateSigningKeys`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyRing {
    /// Every key, newest first.
    #[serde(default)]
    pub keys: Vec<SigningKey>,
}

/// `GET /v1/keyring`: the signing keys and their states.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ListSigningKeys;

impl Endpoint for ListSigningKeys {
    type Response = KeyRing;
    const METHOD: Method = Method::Get;
    fn path(&self) -> String {
        "/v1/keyring".into()
    }
}

/// `POST /v1/keyring/rotate`: rotates signing keys now, all algorithms or one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RotateSigningKeys {
    /// Only this algorithm's key; every algorithm's if absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    /// Sign with the new key at once instead of after the publish lead (caches of the JWKS may
    /// then briefly not know it).
    pub immediate: bool,
}

impl Endpoint for RotateSigningKeys {
    type Response = KeyRing;
    const METHOD: Method = Method::Post;
    fn path(&self) -> String {
        "/v1/keyring/rotate".into()
    }
    fn body(&self) -> Result<Option<Vec<u8>>, serde_json::Error> {
        json(self)
    }
}
