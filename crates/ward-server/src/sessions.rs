//! Sessions on the wire: the request to start one, and the JSON view of a session.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use ward_core::clock::Rfc3339;
use ward_core::Session;

use crate::views::{RevocationView, SupersessionView};

/// `POST /v1/sessions`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSession {
    /// The signed-in user.
    pub subject: String,
    /// Seconds of inactivity after which the session closes (default from config, 30 minutes).
    #[serde(default, deserialize_with = "crate::body::whole_opt")]
    pub idle_timeout: Option<i64>,
    /// Seconds after which the session closes whatever its activity (default from config, 12 hours).
    #[serde(default, deserialize_with = "crate::body::whole_opt")]
    pub absolute_timeout: Option<i64>,
    /// Any JSON object, returned on verify. A `scopes` array in it is checked against the scopes a
    /// verify asks for.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub claims: Option<serde_json::Value>,
}

/// A session's metadata. Never contains the secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionView<'a> {
    /// The session's id (also embedded in its token).
    pub id: &'a str,
    /// The signed-in user.
    pub subject: &'a str,
    /// Its claims.
    #[schema(value_type = Object)]
    pub claims: &'a serde_json::Value,
    /// `active`, or the reason it would be rejected now (`idle_timeout`, `expired`, ...).
    pub status: &'static str,
    /// When it was created (RFC 3339).
    #[schema(value_type = String)]
    pub created_at: Rfc3339,
    /// The absolute deadline (RFC 3339).
    #[schema(value_type = String)]
    pub expires_at: Rfc3339,
    /// Seconds of inactivity allowed.
    pub idle_timeout: i64,
    /// When it closes if not used again (RFC 3339).
    #[schema(value_type = String)]
    pub idle_expires_at: Rfc3339,
    /// Its last use (RFC 3339).
    #[schema(value_type = String)]
    pub last_seen_at: Rfc3339,
    /// Its replacement by a renewal, if renewed.
    pub superseded: Option<SupersessionView>,
    /// Its revocation, if revoked.
    pub revoked: Option<RevocationView>,
}

impl<'a> SessionView<'a> {
    /// The view of `s` at `now`, given its latest use. It borrows from the record, as every
    /// valid verify of a session answers with one.
    pub fn of(s: &'a Session, now: i64, last_seen: i64) -> Self {
        let status = match s.check(now, last_seen) {
            Ok(()) => "active",
            Err(v) => v.reason.as_str(),
        };
        SessionView {
            id: &s.id,
            subject: &s.subject,
            claims: &s.claims,
            status,
            created_at: Rfc3339(s.created_at),
            expires_at: Rfc3339(s.expires_at),
            idle_timeout: s.idle_timeout,
            idle_expires_at: Rfc3339(s.idle_expires_at(last_seen)),
            last_seen_at: Rfc3339(last_seen),
            superseded: s.superseded.as_ref().map(SupersessionView::of),
            revoked: s.revoked.as_ref().map(RevocationView::of),
        }
    }
}

/// `201` answer: the metadata plus the token, shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedSession<'a> {
    /// The session token. Ward keeps only a keyed hash.
    pub token: &'a str,
    /// Its metadata.
    #[serde(flatten)]
    pub view: SessionView<'a>,
}

impl CreateSession {
    /// The engine's request.
    pub fn into_engine(self) -> ward_engine::NewSession {
        ward_engine::NewSession {
            subject: self.subject,
            idle_timeout: self.idle_timeout,
            absolute_timeout: self.absolute_timeout,
            claims: self.claims,
        }
    }
}
