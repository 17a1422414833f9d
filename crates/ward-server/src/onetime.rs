//! One-time tokens on the wire: the request to issue one, and the views of an issued or
//! redeemed token (the same shape for every subject, so answers do not enumerate them).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use ward_core::clock::rfc3339;
use ward_core::OneTimeToken;

/// `POST /v1/one-time`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOneTime {
    /// Who the token is for.
    pub subject: String,
    /// What it is for: `password_reset`, `email_verification`, `magic_link`, `invitation`, or any
    /// name of 1 to 64 lowercase letters, digits, `_`, `-`, `.`.
    pub purpose: String,
    /// Seconds until it expires (default from config, 15 minutes; at most the configured maximum).
    #[serde(default, deserialize_with = "crate::body::whole_opt")]
    pub expires_in: Option<i64>,
    /// Any JSON object, returned when the token is redeemed.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub data: Option<serde_json::Value>,
    /// Supersede the subject's earlier unused tokens of the same purpose (they then answer
    /// `superseded`).
    #[serde(default)]
    pub supersede_previous: bool,
}

/// A one-time token's metadata. Never contains the secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct OneTimeView {
    /// The token's id.
    pub id: String,
    /// Who it is for.
    pub subject: String,
    /// What it is for.
    pub purpose: String,
    /// Its data.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    /// When it was issued (RFC 3339).
    pub created_at: String,
    /// When it expires (RFC 3339).
    pub expires_at: String,
    /// When it was redeemed (RFC 3339), if it was.
    pub used_at: Option<String>,
}

impl OneTimeView {
    /// The view of `t`.
    pub fn of(t: &OneTimeToken) -> Self {
        OneTimeView {
            id: t.id.clone(),
            subject: t.subject.clone(),
            purpose: t.purpose.clone(),
            data: t.data.clone(),
            created_at: rfc3339(t.created_at),
            expires_at: rfc3339(t.expires_at),
            used_at: t.used_at.map(rfc3339),
        }
    }
}

/// `201` answer to `POST /v1/one-time`: the same shape for every subject.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedOneTime {
    /// The token's id.
    pub id: String,
    /// The token, to put in the link or email. Ward keeps only a keyed hash.
    pub token: String,
    /// What it is for.
    pub purpose: String,
    /// When it expires (RFC 3339).
    pub expires_at: String,
}

impl CreateOneTime {
    /// The engine's request.
    pub fn into_engine(self) -> ward_engine::NewOneTime {
        ward_engine::NewOneTime {
            subject: self.subject,
            purpose: self.purpose,
            expires_in: self.expires_in,
            data: self.data,
            supersede_previous: self.supersede_previous,
        }
    }
}
