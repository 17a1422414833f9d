//! JSON views every token kind shares: how a token ended (revocation, supersession).

use serde::Serialize;
use utoipa::ToSchema;
use ward_core::clock::Rfc3339;
use ward_core::{Revocation, Supersession};

/// A revocation, as shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct RevocationView {
    /// When (RFC 3339).
    #[schema(value_type = String)]
    pub at: Rfc3339,
    /// Why: `logout`, `compromised`, `offboarded`, `password_changed`, `rotated` or `admin`.
    pub reason: &'static str,
    /// Free text given with it.
    pub note: Option<String>,
    /// Who revoked it.
    pub actor: String,
}

impl RevocationView {
    /// The view of `r`.
    pub fn of(r: &Revocation) -> Self {
        RevocationView {
            at: Rfc3339(r.at),
            reason: r.reason.as_str(),
            note: r.note.clone(),
            actor: r.actor.clone(),
        }
    }
}

/// A replacement by renewal or rotation, as shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct SupersessionView {
    /// When the old token stops (or stopped) working (RFC 3339).
    #[schema(value_type = String)]
    pub at: Rfc3339,
    /// The id of the token that replaced it.
    pub by: String,
}

impl SupersessionView {
    /// The view of `s`.
    pub fn of(s: &Supersession) -> Self {
        SupersessionView { at: Rfc3339(s.at), by: s.by.clone() }
    }
}
