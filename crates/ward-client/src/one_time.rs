//! `/v1/one-time`: one-time tokens (password reset, magic link, email verification, invitation),
//! issued and redeemed exactly once.

use serde::{Deserialize, Serialize};

use crate::endpoint::{json, Endpoint, Method};
use crate::secret::Secret;

/// `POST /v1/one-time`: issues a one-time token.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CreateOneTime {
    /// Who the token is for.
    pub subject: String,
    /// What it is for: `password_reset`, `email_verification`, `magic_link`, `invitation`, or any
    /// name of 1 to 64 lowercase letters, digits, `_`, `-`, `.`.
    pub purpose: String,
    /// Seconds until it expires (the server's default, 15 minutes, if absent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<i64>,
    /// A JSON object returned when the token is redeemed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<serde_json::Value>,
    /// Supersede the subject's earlier unused tokens of the same purpose.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub supersede_previous: bool,
}

impl CreateOneTime {
    /// A token for `subject` and `purpose` with the server's default lifetime.
    pub fn new(subject: impl Into<String>, purpose: impl Into<String>) -> Self {
        CreateOneTime { subject: subject.into(), purpose: purpose.into(), ..CreateOneTime::default() }
    }
}

impl Endpoint for CreateOneTime {
    type Response = CreatedOneTime;
    const METHOD: Method = Method::Post;
    fn path(&self) -> String {
        "/v1/one-time".into()
    }
    fn body(&self) -> Result<Option<Vec<u8>>, serde_json::Error> {
        json(self)
    }
}

/// The answer to [`CreateOneTime`]: the same shape for every subject.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CreatedOneTime {
    /// The token's id.
    pub id: String,
    /// The token, to put in the link or email. Ward keeps only a keyed hash.
    pub token: Secret,
    /// What it is for.
    pub purpose: String,
    /// When it expires (RFC 3339).
    pub expires_at: String,
}

/// `POST /v1/one-time/redeem`: redeems a one-time token, exactly once however many requests race.
/// Needs a key with `ward:verify`.
#[derive(Debug, Clone, Serialize)]
pub struct RedeemOneTime {
    /// The one-time token.
    pub token: Secret,
    /// The purpose it is redeemed for; another purpose is `wrong_type`.
    pub purpose: String,
}

impl Endpoint for RedeemOneTime {
    type Response = Redemption;
    const METHOD: Method = Method::Post;
    fn path(&self) -> String {
        "/v1/one-time/redeem".into()
    }
    fn body(&self) -> Result<Option<Vec<u8>>, serde_json::Error> {
        json(self)
    }
}

/// The answer to [`RedeemOneTime`]: like a verdict. `valid: false` (`already_used`, `expired`, ...)
/// is an answer, not an error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Redemption {
    /// Whether this call redeemed the token.
    pub valid: bool,
    /// The stable reason code.
    pub reason: String,
    /// What the reason means.
    #[serde(default)]
    pub message: String,
    /// What to do about it.
    #[serde(default)]
    pub hint: String,
    /// What is particular to this token (when it was used, ...).
    #[serde(default)]
    pub detail: Option<String>,
    /// The token's metadata and data, when redeemed.
    #[serde(default)]
    pub token: Option<OneTime>,
}

/// A one-time token's metadata. Never contains the secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OneTime {
    /// The token's id.
    pub id: String,
    /// Who it is for.
    pub subject: String,
    /// What it is for.
    pub purpose: String,
    /// Its data.
    #[serde(default)]
    pub data: serde_json::Value,
    /// When it was issued (RFC 3339).
    #[serde(default)]
    pub created_at: String,
    /// When it expires (RFC 3339).
    #[serde(default)]
    pub expires_at: String,
    /// When it was redeemed (RFC 3339), if it was.
    #[serde(default)]
    pub used_at: Option<String>,
}
