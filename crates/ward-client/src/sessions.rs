//! `/v1/sessions`: create, renew, log out, list, show and revoke sessions.

use serde::{Deserialize, Serialize};

use crate::endpoint::{encode, json, with_query, Endpoint, Method};
use crate::lifecycle::{Revocation, Supersession};
use crate::secret::Secret;

/// A session's metadata. Never contains the secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// The session's id (also embedded in its token).
    pub id: String,
    /// The signed-in user.
    pub subject: String,
    /// Its claims (a JSON object).
    #[serde(default)]
    pub claims: serde_json::Value,
    /// `active`, or the reason it would be rejected now (`idle_timeout`, `expired`, ...).
    pub status: String,
    /// When it was created (RFC 3339).
    #[serde(default)]
    pub created_at: String,
    /// The absolute deadline (RFC 3339).
    #[serde(default)]
    pub expires_at: String,
    /// Seconds of inactivity allowed.
    #[serde(default)]
    pub idle_timeout: i64,
    /// When it closes if not used again (RFC 3339).
    #[serde(default)]
    pub idle_expires_at: String,
    /// Its last use (RFC 3339).
    #[serde(default)]
    pub last_seen_at: String,
    /// Its replacement by a renewal, if renewed.
    #[serde(default)]
    pub superseded: Option<Supersession>,
    /// Its revocation, if revoked.
    #[serde(default)]
    pub revoked: Option<Revocation>,
}

/// The answer to [`CreateSession`] and [`RenewSession`]: the token, shown this once, and its
/// metadata.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CreatedSession {
    /// The session token. Ward keeps only a keyed hash.
    pub token: Secret,
    /// Its metadata.
    #[serde(flatten)]
    pub info: Session,
}

/// The answer to [`ListSessions`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionList {
    /// The sessions, newest first.
    #[serde(default)]
    pub sessions: Vec<Session>,
}

/// `POST /v1/sessions`: creates a session.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CreateSession {
    /// The signed-in user.
    pub subject: String,
    /// Seconds of inactivity after which the session closes (the server's default if absent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idle_timeout: Option<i64>,
    /// Seconds after which the session closes whatever its activity (the server's default if absent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub absolute_timeout: Option<i64>,
    /// A JSON object returned on verify; a `scopes` array in it is checked against the scopes a
    /// verify asks for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claims: Option<serde_json::Value>,
}

impl CreateSession {
    /// A session for `subject` with the server's default timeouts and no claims.
    pub fn new(subject: impl Into<String>) -> Self {
        CreateSession { subject: subject.into(), ..CreateSession::default() }
    }
}

impl Endpoint for CreateSession {
    type Response = CreatedSession;
    const METHOD: Method = Method::Post;
    fn path(&self) -> String {
        "/v1/sessions".into()
    }
    fn body(&self) -> Result<Option<Vec<u8>>, serde_json::Error> {
        json(self)
    }
}

/// `POST /v1/sessions/renew`: a new token with the same subject and absolute deadline; the old
/// one keeps working for the renewal grace, then answers `superseded`.
#[derive(Debug, Clone, Serialize)]
pub struct RenewSession {
    /// The session token to renew.
    pub token: Secret,
    /// New claims (rotation on privilege change); the old ones are kept if absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claims: Option<serde_json::Value>,
}

impl Endpoint for RenewSession {
    type Response = CreatedSession;
    const METHOD: Method = Method::Post;
    fn path(&self) -> String {
        "/v1/sessions/renew".into()
    }
    fn body(&self) -> Result<Option<Vec<u8>>, serde_json::Error> {
        json(self)
    }
}

/// `POST /v1/sessions/revoke`: logs a session out, given its token (reason `logout`). Idempotent.
#[derive(Debug, Clone, Serialize)]
pub struct EndSession {
    /// The session token to end.
    pub token: Secret,
}

impl Endpoint for EndSession {
    type Response = Session;
    const METHOD: Method = Method::Post;
    fn path(&self) -> String {
        "/v1/sessions/revoke".into()
    }
    fn body(&self) -> Result<Option<Vec<u8>>, serde_json::Error> {
        json(self)
    }
}

/// `GET /v1/sessions?subject=…`: a subject's sessions, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListSessions {
    /// Whose sessions.
    pub subject: String,
    /// At most this many (the server's default is 100, its maximum 1000).
    pub limit: Option<u32>,
}

impl Endpoint for ListSessions {
    type Response = SessionList;
    const METHOD: Method = Method::Get;
    fn path(&self) -> String {
        with_query(
            "/v1/sessions",
            &[("subject", Some(self.subject.clone())), ("limit", self.limit.map(|l| l.to_string()))],
        )
    }
}

/// `GET /v1/sessions/{id}`: one session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetSession {
    /// The session id.
    pub id: String,
}

impl Endpoint for GetSession {
    type Response = Session;
    const METHOD: Method = Method::Get;
    fn path(&self) -> String {
        format!("/v1/sessions/{}", encode(&self.id))
    }
}

/// `POST /v1/sessions/{id}/revoke`: revokes one session by id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RevokeSession {
    /// The session id.
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

impl Endpoint for RevokeSession {
    type Response = Session;
    const METHOD: Method = Method::Post;
    fn path(&self) -> String {
        format!("/v1/sessions/{}/revoke", encode(&self.id))
    }
    fn body(&self) -> Result<Option<Vec<u8>>, serde_json::Error> {
        json(self)
    }
}
