//! DPoP (RFC 9449) at Ward's own token endpoints: the `DPoP` header's proof, checked for this
//! request, and the refusals in the shape each endpoint answers in.
//!
//! The proof's `htu` must be the endpoint's URL as clients reach Ward: the issuer (the public
//! base URL in `ward.toml`) followed by the path, so a proxy in front of Ward changes nothing.

use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use ward_core::{Reason, Verdict};
use ward_engine::ContextSource;
use ward_signed::ProofRequest;

use crate::problem::{ApiError, OAuthError};
use crate::AppState;

/// The request header carrying a proof.
pub const DPOP: &str = "dpop";
/// The answer header carrying the server's nonce.
pub const DPOP_NONCE: &str = "dpop-nonce";

/// Why a proof at a token endpoint was not taken.
#[derive(Debug)]
pub enum Refused {
    /// The proof is not acceptable (the verdict says why).
    Proof(Verdict),
    /// The store could not record the proof's `jti`.
    Unavailable(String),
}

/// The key of the `DPoP` proof sent with a `POST` to `path`, checked and its `jti` spent: `None`
/// when the request carries no proof. More than one `DPoP` header is refused (RFC 9449 §4.3).
pub async fn proof_key(
    state: &AppState,
    headers: &HeaderMap,
    path: &str,
    ctx: &dyn ContextSource,
) -> Result<Option<String>, Refused> {
    let mut all = headers.get_all(DPOP).iter();
    let Some(first) = all.next() else { return Ok(None) };
    if all.next().is_some() {
        return Err(Refused::Proof(Verdict::with(Reason::Malformed, "more than one `DPoP` header")));
    }
    let proof = first
        .to_str()
        .map_err(|_| Refused::Proof(Verdict::with(Reason::Malformed, "the `DPoP` header is not ASCII")))?;
    let htu = format!("{}{path}", state.engine.issuer().trim_end_matches('/'));
    match state.engine.check_dpop(proof, &ProofRequest::new("POST", &htu), ctx).await {
        Ok(p) => Ok(Some(p.jkt)),
        Err(v) if v.reason == Reason::Unavailable => Err(Refused::Unavailable(v.detail.unwrap_or_default())),
        Err(v) => Err(Refused::Proof(v)),
    }
}

/// The current nonce on an answer, when the policy requires nonces (RFC 9449 §8.1).
pub fn with_nonce(state: &AppState, mut resp: Response) -> Response {
    if let Some(v) = state.engine.dpop_nonce().and_then(|n| HeaderValue::from_str(&n).ok()) {
        resp.headers_mut().insert(DPOP_NONCE, v);
    }
    resp
}

/// The OAuth answer to a refused proof (`invalid_dpop_proof`, or `use_dpop_nonce` with the
/// nonce), for `/oauth2/token`.
pub fn oauth_refusal(state: &AppState, refused: Refused) -> Response {
    match refused {
        Refused::Unavailable(d) => ApiError::Unavailable(d).into_response(),
        Refused::Proof(v) => {
            let error =
                if v.reason == Reason::NonceRequired { "use_dpop_nonce" } else { "invalid_dpop_proof" };
            let description = v.detail.clone().unwrap_or_else(|| v.reason.info().message.to_string());
            let resp = ApiError::OAuth(OAuthError { error, description, verdict: Some(v) }).into_response();
            with_nonce(state, resp)
        }
    }
}

/// The problem answer to a refused proof, for Ward's `/v1` endpoints: the reason, and the nonce
/// when one is required.
pub fn problem_refusal(state: &AppState, refused: Refused) -> Response {
    match refused {
        Refused::Unavailable(d) => ApiError::Unavailable(d).into_response(),
        Refused::Proof(v) => with_nonce(state, ApiError::Token(v).into_response()),
    }
}
