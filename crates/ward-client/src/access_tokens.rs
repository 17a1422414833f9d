//! `/v1/access-tokens`: signed access tokens (JWT or PASETO) with rotating refresh tokens, and
//! their revocation.

use serde::{Deserialize, Serialize};

use crate::endpoint::{json, Endpoint, Method};
use crate::secret::Secret;

/// How an access token is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TokenFormat {
    /// A JWT (RFC 9068), verifiable by anyone with the JWKS.
    Jwt,
    /// PASETO v4.public, verifiable by anyone with the public key.
    Paseto,
    /// PASETO v4.local: encrypted, only Ward can read or verify it.
    PasetoLocal,
}

/// `POST /v1/access-tokens`: issues a signed access token, and a refresh token if asked.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CreateAccessToken {
    /// `sub`.
    pub subject: String,
    /// `aud`: the resource servers the token is for (at least one).
    pub audience: Vec<String>,
    /// `scope`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    /// Seconds of life (the server's default, 15 minutes, if absent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<i64>,
    /// The encoding (`jwt` if absent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<TokenFormat>,
    /// Also issue a rotating refresh token.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub refresh: bool,
    /// Issue on behalf of this OAuth client; audiences and scopes must be within the client's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
}

impl CreateAccessToken {
    /// A token for `subject` and one `audience`, with the server's defaults otherwise.
    pub fn new(subject: impl Into<String>, audience: impl Into<String>) -> Self {
        CreateAccessToken {
            subject: subject.into(),
            audience: vec![audience.into()],
            ..CreateAccessToken::default()
        }
    }
}

impl Endpoint for CreateAccessToken {
    type Response = TokenPair;
    const METHOD: Method = Method::Post;
    fn path(&self) -> String {
        "/v1/access-tokens".into()
    }
    fn body(&self) -> Result<Option<Vec<u8>>, serde_json::Error> {
        json(self)
    }
}

/// `POST /v1/access-tokens/refresh`: exchanges a refresh token for a new pair. A retry within
/// the grace gets the same pair; reuse after it is `refresh_reuse` and revokes the family.
#[derive(Debug, Clone, Serialize)]
pub struct RefreshAccessToken {
    /// The refresh token.
    pub refresh_token: Secret,
}

impl Endpoint for RefreshAccessToken {
    type Response = TokenPair;
    const METHOD: Method = Method::Post;
    fn path(&self) -> String {
        "/v1/access-tokens/refresh".into()
    }
    fn body(&self) -> Result<Option<Vec<u8>>, serde_json::Error> {
        json(self)
    }
}

/// The answer to [`CreateAccessToken`] and [`RefreshAccessToken`], in the OAuth token-answer shape.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenPair {
    /// The access token.
    pub access_token: Secret,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// The refresh token, when one was asked for.
    #[serde(default)]
    pub refresh_token: Option<Secret>,
    /// The granted scopes, space-separated.
    #[serde(default)]
    pub scope: Option<String>,
}

/// What a [`RevokeAccessTokens`] names.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RevokeTarget {
    /// A signed access token (its `jti` is revoked) or a refresh token (its family is revoked).
    Token(Secret),
    /// One `jti`.
    Jti(String),
    /// A refresh family, with every access token minted from it.
    Family(String),
}

/// `POST /v1/access-tokens/revoke`: revokes signed tokens; they fail as `revoked` on every node
/// within a second.
#[derive(Debug, Clone, Serialize)]
pub struct RevokeAccessTokens {
    /// What to revoke.
    #[serde(flatten)]
    pub target: RevokeTarget,
    /// `logout`, `compromised`, `offboarded`, `password_changed`, `rotated` or `admin` (the
    /// server's default).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Free text kept with the revocation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Endpoint for RevokeAccessTokens {
    type Response = RevokedSigned;
    const METHOD: Method = Method::Post;
    fn path(&self) -> String {
        "/v1/access-tokens/revoke".into()
    }
    fn body(&self) -> Result<Option<Vec<u8>>, serde_json::Error> {
        json(self)
    }
}

/// The answer to [`RevokeAccessTokens`]: what the revocation reached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevokedSigned {
    /// `jti` or `family`.
    pub kind: String,
    /// The `jti` or family id.
    pub value: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_revocation_names_exactly_one_target() {
        let req = RevokeAccessTokens { target: RevokeTarget::Jti("j1".into()), reason: None, note: None };
        assert_eq!(req.body().unwrap().unwrap(), br#"{"jti":"j1"}"#);
        let req = RevokeAccessTokens {
            target: RevokeTarget::Token("t".into()),
            reason: Some("compromised".into()),
            note: None,
        };
        assert_eq!(req.body().unwrap().unwrap(), br#"{"token":"t","reason":"compromised"}"#);
    }
}
