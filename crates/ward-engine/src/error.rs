//! What an engine operation can fail with. Every failure is one of a few kinds that an adapter
//! (the HTTP API, the CLI, a library user) maps once: bad input, a missing or conflicting
//! record, a presented token that is not good (with its [`Verdict`]), or a store outage — which
//! is never reported as a verdict on a token.

use ward_core::{Reason, Verdict};
use ward_store::StoreError;

/// An engine operation's failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// The input is malformed or out of range; nothing was changed.
    #[error("invalid request: {0}")]
    Invalid(String),
    /// No such record.
    #[error("not found: {0}")]
    NotFound(String),
    /// The request conflicts with the record's state (rotating a revoked key, say).
    #[error("conflict: {0}")]
    Conflict(String),
    /// A token presented in the request (to renew, redeem, refresh, log out) is not good.
    #[error("token refused: {}", .0.reason)]
    Token(Verdict),
    /// The store could not be reached or failed: says nothing about any token.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// The engine refused to start on this store (another deployment's master key, say).
    #[error("refusing to start: {0}")]
    Deployment(String),
}

impl EngineError {
    /// The token reason this failure carries: the verdict's for [`EngineError::Token`],
    /// `unavailable` for an outage, none for request problems.
    pub fn reason(&self) -> Option<Reason> {
        match self {
            EngineError::Token(v) => Some(v.reason),
            EngineError::Unavailable(_) => Some(Reason::Unavailable),
            _ => None,
        }
    }
}

impl From<StoreError> for EngineError {
    fn from(e: StoreError) -> Self {
        if let StoreError::Unrepresentable(m) = &e {
            return EngineError::Invalid(format!(
                "the request holds text that cannot be stored or looked up (a NUL character?): {m}"
            ));
        }
        tracing::warn!(error = %e, "store error");
        EngineError::Unavailable(e.to_string())
    }
}

impl From<Verdict> for EngineError {
    fn from(v: Verdict) -> Self {
        match v.reason {
            Reason::Unavailable => EngineError::Unavailable(v.detail.unwrap_or_default()),
            _ => EngineError::Token(v),
        }
    }
}

/// The verdict when the store fails mid-check: `unavailable`, never a judgement on the token.
pub(crate) fn unavailable(e: StoreError) -> Verdict {
    tracing::warn!(error = %e, "store error while checking a token");
    Verdict::with(Reason::Unavailable, e.to_string())
}
