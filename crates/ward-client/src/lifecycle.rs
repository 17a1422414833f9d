//! How a token ended, as every kind's metadata shows it: a revocation or a supersession.

use serde::{Deserialize, Serialize};

/// A revocation, as the server shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Revocation {
    /// When (RFC 3339).
    pub at: String,
    /// Why: `logout`, `compromised`, `offboarded`, `password_changed`, `rotated` or `admin`.
    pub reason: String,
    /// Free text given with it.
    #[serde(default)]
    pub note: Option<String>,
    /// Who revoked it.
    #[serde(default)]
    pub actor: Option<String>,
}

/// A replacement by renewal or rotation, as the server shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Supersession {
    /// When the old token stops (or stopped) working (RFC 3339).
    pub at: String,
    /// The id of the token that replaced it.
    pub by: String,
}
