//! `/v1/subjects/{subject}/revoke`: revokes everything a subject holds, the offboarding case.

use serde::{Deserialize, Serialize};

use crate::endpoint::{encode, json, Endpoint, Method};

/// `POST /v1/subjects/{subject}/revoke`: revokes the subject's keys, sessions, one-time and
/// refresh tokens in one durable step.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RevokeSubject {
    /// The subject.
    #[serde(skip)]
    pub subject: String,
    /// `logout`, `compromised`, `offboarded`, `password_changed`, `rotated` or `admin` (the
    /// server's default).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Free text kept with the revocation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Endpoint for RevokeSubject {
    type Response = SubjectRevoked;
    const METHOD: Method = Method::Post;
    fn path(&self) -> String {
        format!("/v1/subjects/{}/revoke", encode(&self.subject))
    }
    fn body(&self) -> Result<Option<Vec<u8>>, serde_json::Error> {
        json(self)
    }
}

/// The answer to [`RevokeSubject`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubjectRevoked {
    /// The subject.
    pub subject: String,
    /// What was revoked now (tokens already revoked are not counted).
    pub revoked: RevokedCounts,
}

/// How many tokens of each kind a subject revocation reached.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevokedCounts {
    /// API keys.
    #[serde(default)]
    pub api_keys: u64,
    /// Sessions.
    #[serde(default)]
    pub sessions: u64,
    /// One-time tokens.
    #[serde(default)]
    pub one_time: u64,
    /// Refresh tokens (the access tokens they minted are denied too).
    #[serde(default)]
    pub refresh_tokens: u64,
}
