//! `/v1/keys`: API keys: create, list, show, revoke, disable, enable and rotate.

use serde::{Deserialize, Serialize};

use crate::endpoint::{encode, json, with_query, Endpoint, Method};
use crate::lifecycle::{Revocation, Supersession};
use crate::secret::Secret;

/// A key's metadata. Never contains the secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Key {
    /// The key's id (also embedded in the key).
    pub id: String,
    /// The environment it was issued for (`live`, `test`, ...).
    #[serde(default)]
    pub env: String,
    /// Who it acts for.
    pub subject: String,
    /// Its label.
    #[serde(default)]
    pub name: Option<String>,
    /// Its scopes.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Its metadata (a JSON object).
    #[serde(default)]
    pub meta: serde_json::Value,
    /// `active`, or the reason it would be rejected now (`expired`, `revoked`, ...).
    pub status: String,
    /// When it was created (RFC 3339).
    #[serde(default)]
    pub created_at: String,
    /// When it expires (RFC 3339), if ever.
    #[serde(default)]
    pub expires_at: Option<String>,
    /// When it starts working (RFC 3339), if not at creation.
    #[serde(default)]
    pub not_before: Option<String>,
    /// Uses left, if limited.
    #[serde(default)]
    pub remaining_uses: Option<i64>,
    /// When it was disabled, if it is.
    #[serde(default)]
    pub disabled_at: Option<String>,
    /// Its revocation, if revoked.
    #[serde(default)]
    pub revoked: Option<Revocation>,
    /// Its replacement by a rotation, if rotated.
    #[serde(default)]
    pub superseded: Option<Supersession>,
    /// Its refill schedule, if any.
    #[serde(default)]
    pub refill: Option<Refill>,
    /// Its last valid use (written behind, so up to a few seconds old).
    #[serde(default)]
    pub last_used_at: Option<String>,
}

/// A refill schedule: the remaining uses are reset to `amount` every `interval` seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refill {
    /// Seconds between refills (at least 60).
    pub interval: i64,
    /// Uses after each refill.
    pub amount: i64,
}

/// The answer to [`CreateKey`] and [`RotateKey`]: the key, shown this once, and its metadata.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CreatedKey {
    /// The key itself. Ward keeps only a keyed hash: store it now, it cannot be shown again.
    pub key: Secret,
    /// Its metadata.
    #[serde(flatten)]
    pub info: Key,
}

/// The answer to [`ListKeys`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyList {
    /// The keys, newest first.
    #[serde(default)]
    pub keys: Vec<Key>,
}

/// `POST /v1/keys`: creates an API key.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CreateKey {
    /// Who the key acts for (a user id, a service name).
    pub subject: String,
    /// A label for people.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// What the key may do.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    /// Seconds until the key expires; never, if absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<i64>,
    /// Seconds until the key starts working; at once, if absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub starts_in: Option<i64>,
    /// How many valid verifies the key allows; unlimited, if absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uses: Option<i64>,
    /// A JSON object returned on verify.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meta: Option<serde_json::Value>,
    /// A refill schedule.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refill: Option<Refill>,
}

impl CreateKey {
    /// A key for `subject` with no scopes, no expiry and no limit.
    pub fn new(subject: impl Into<String>) -> Self {
        CreateKey { subject: subject.into(), ..CreateKey::default() }
    }
}

impl Endpoint for CreateKey {
    type Response = CreatedKey;
    const METHOD: Method = Method::Post;
    fn path(&self) -> String {
        "/v1/keys".into()
    }
    fn body(&self) -> Result<Option<Vec<u8>>, serde_json::Error> {
        json(self)
    }
}

/// `GET /v1/keys`: lists keys' metadata, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListKeys {
    /// Only this subject's keys.
    pub subject: Option<String>,
    /// At most this many (the server's default is 100, its maximum 1000).
    pub limit: Option<u32>,
    /// Only live keys that expire within this many seconds.
    pub expiring_within: Option<i64>,
}

impl Endpoint for ListKeys {
    type Response = KeyList;
    const METHOD: Method = Method::Get;
    fn path(&self) -> String {
        with_query(
            "/v1/keys",
            &[
                ("subject", self.subject.clone()),
                ("limit", self.limit.map(|l| l.to_string())),
                ("expiring_within", self.expiring_within.map(|s| s.to_string())),
            ],
        )
    }
}

/// `GET /v1/keys/{id}`: one key's metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetKey {
    /// The key id.
    pub id: String,
}

impl Endpoint for GetKey {
    type Response = Key;
    const METHOD: Method = Method::Get;
    fn path(&self) -> String {
        format!("/v1/keys/{}", encode(&self.id))
    }
}

/// `POST /v1/keys/{id}/revoke`: revokes a key for good. Once answered, the revocation is durable.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RevokeKey {
    /// The key id.
    #[serde(skip)]
    pub id: String,
    /// `logout`, `compromised`, `offboarded`, `password_changed`, `rotated` or `admin` (the
    /// server's default).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Free text kept with the revocation (at most 1000 characters).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Endpoint for RevokeKey {
    type Response = Key;
    const METHOD: Method = Method::Post;
    fn path(&self) -> String {
        format!("/v1/keys/{}/revoke", encode(&self.id))
    }
    fn body(&self) -> Result<Option<Vec<u8>>, serde_json::Error> {
        json(self)
    }
}

/// `POST /v1/keys/{id}/disable`: disables a key until it is enabled again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisableKey {
    /// The key id.
    pub id: String,
}

impl Endpoint for DisableKey {
    type Response = Key;
    const METHOD: Method = Method::Post;
    fn path(&self) -> String {
        format!("/v1/keys/{}/disable", encode(&self.id))
    }
}

/// `POST /v1/keys/{id}/enable`: enables a disabled key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnableKey {
    /// The key id.
    pub id: String,
}

impl Endpoint for EnableKey {
    type Response = Key;
    const METHOD: Method = Method::Post;
    fn path(&self) -> String {
        format!("/v1/keys/{}/enable", encode(&self.id))
    }
}

/// `POST /v1/keys/{id}/rotate`: a new key with the same subject, scopes, metadata, expiry and
/// limits; the old one answers `superseded` after the overlap.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RotateKey {
    /// The key id.
    #[serde(skip)]
    pub id: String,
    /// Seconds the old key keeps working beside the new one (at most 30 days); the server's
    /// `key_rotation_overlap_secs` (an hour by default) if absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overlap_seconds: Option<i64>,
}

impl Endpoint for RotateKey {
    type Response = CreatedKey;
    const METHOD: Method = Method::Post;
    fn path(&self) -> String {
        format!("/v1/keys/{}/rotate", encode(&self.id))
    }
    fn body(&self) -> Result<Option<Vec<u8>>, serde_json::Error> {
        json(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_sends_only_what_is_set() {
        let req = CreateKey { scopes: vec!["read".into()], uses: Some(5), ..CreateKey::new("alice") };
        let body = String::from_utf8(req.body().unwrap().unwrap()).unwrap();
        assert_eq!(body, r#"{"subject":"alice","scopes":["read"],"uses":5}"#);
    }

    #[test]
    fn path_parameters_are_encoded_and_not_in_the_body() {
        let req = RevokeKey { id: "a/b".into(), reason: Some("offboarded".into()), note: None };
        assert_eq!(req.path(), "/v1/keys/a%2Fb/revoke");
        assert_eq!(req.body().unwrap().unwrap(), br#"{"reason":"offboarded"}"#);
    }

    #[test]
    fn a_key_with_unknown_and_missing_fields_still_decodes() {
        let k: Key =
            serde_json::from_str(r#"{"id":"k1","subject":"s","status":"active","new_field":true}"#).unwrap();
        assert_eq!((k.id.as_str(), k.scopes.len(), k.remaining_uses), ("k1", 0, None));
    }
}
