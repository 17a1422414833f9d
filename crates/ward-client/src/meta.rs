//! The public endpoints about the server itself: `/healthz` and the reason table.

use serde::{Deserialize, Serialize};

use crate::endpoint::{Auth, Endpoint, Method};

/// `GET /healthz`: liveness, the process answers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CheckHealth;

impl Endpoint for CheckHealth {
    type Response = Health;
    const METHOD: Method = Method::Get;
    const AUTH: Auth = Auth::Never;
    fn path(&self) -> String {
        "/healthz".into()
    }
}

/// A liveness answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    /// `ok`.
    pub status: String,
}

/// `GET /v1/reasons`: every reason code with its status, RFC 6750 error, message and hint.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ListReasons;

impl Endpoint for ListReasons {
    type Response = ReasonTable;
    const METHOD: Method = Method::Get;
    const AUTH: Auth = Auth::Never;
    fn path(&self) -> String {
        "/v1/reasons".into()
    }
}

/// The answer to [`ListReasons`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReasonTable {
    /// Every reason the server gives.
    #[serde(default)]
    pub reasons: Vec<ReasonRow>,
}

/// One row of the reason table. Codes never change once released.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReasonRow {
    /// The stable code (`expired`, `revoked`, ...).
    pub code: String,
    /// The HTTP status a resource server answers with.
    pub status: u16,
    /// The RFC 6750 error code: what anonymous callers see.
    #[serde(default)]
    pub error: Option<String>,
    /// What it means.
    #[serde(default)]
    pub message: String,
    /// What to do.
    #[serde(default)]
    pub hint: String,
}
