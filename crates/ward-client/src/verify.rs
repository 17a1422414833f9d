//! `POST /v1/verify`: the question every protected request asks, and its verdict.

use serde::{Deserialize, Serialize};

use crate::endpoint::{json, Auth, Endpoint, Method};
use crate::keys::Key;
use crate::secret::Secret;
use crate::sessions::Session;

/// `POST /v1/verify`: checks a token (API key, session or signed access token, told apart by
/// the server). Anyone may ask; the reason, hint and metadata come only to callers whose
/// credential has `ward:verify` or `ward:admin`, so the client sends its credential if it has one.
#[derive(Debug, Clone, Serialize)]
pub struct Verify {
    /// The token to check.
    pub token: Secret,
    /// Scopes the token must all carry.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    /// An audience a signed access token must carry in `aud`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
    /// The kind of token required; any kind if absent.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<TokenType>,
    /// Who presented the token to the calling backend (for the server's log).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<VerifyContext>,
}

impl Verify {
    /// A verify of `token` with no other requirement.
    pub fn new(token: impl Into<Secret>) -> Self {
        Verify { token: token.into(), scopes: Vec::new(), audience: None, kind: None, context: None }
    }
}

impl Endpoint for Verify {
    type Response = Verdict;
    const METHOD: Method = Method::Post;
    const AUTH: Auth = Auth::IfHeld;
    fn path(&self) -> String {
        "/v1/verify".into()
    }
    fn body(&self) -> Result<Option<Vec<u8>>, serde_json::Error> {
        json(self)
    }
}

/// The kind of token a verify requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenType {
    /// An API key.
    ApiKey,
    /// A session token.
    Session,
    /// A signed access token (JWT or PASETO).
    AccessToken,
}

/// The end user behind a verified request, as the calling backend saw them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct VerifyContext {
    /// The end user's IP address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_ip: Option<String>,
    /// The end user's User-Agent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
}

/// The server's verdict on a token. `valid: false` is an answer, not an error.
///
/// A caller with `ward:verify` gets the reason, message, hint and detail, and for a valid token
/// its metadata; an anonymous caller gets `valid` and the RFC 6750 `error` category only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// Whether the token is good.
    pub valid: bool,
    /// The stable reason code (`valid`, `expired`, `revoked`, ...); absent for anonymous callers.
    #[serde(default)]
    pub reason: Option<String>,
    /// What the reason means.
    #[serde(default)]
    pub message: Option<String>,
    /// What to do about it.
    #[serde(default)]
    pub hint: Option<String>,
    /// What is particular to this token (when it expired, which scope is missing, ...).
    #[serde(default)]
    pub detail: Option<String>,
    /// The RFC 6750 category (`invalid_token`, `insufficient_scope`), for anonymous callers.
    #[serde(default)]
    pub error: Option<String>,
    /// The key's metadata, when the token is a valid API key.
    #[serde(default)]
    pub key: Option<Key>,
    /// The session's metadata, when the token is a valid session.
    #[serde(default)]
    pub session: Option<Session>,
    /// The claims and signing key, when the token is a valid signed access token.
    #[serde(default)]
    pub access_token: Option<AccessTokenInfo>,
}

/// A verified signed access token, as the verdict shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessTokenInfo {
    /// `jwt`, `paseto` or `paseto-local`.
    pub format: String,
    /// The key that signed it.
    pub kid: String,
    /// Its claims (`iss`, `sub`, `aud`, `exp`, `jti`, `scope`, ...), as a JSON object.
    #[serde(default)]
    pub claims: serde_json::Value,
}
