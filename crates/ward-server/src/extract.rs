//! Typed request input: JSON bodies that fail as problem documents, and the authenticated caller.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use serde::de::DeserializeOwned;
use ward_core::token::ID_LEN;
use ward_core::{ApiKey, Reason, TokenKind, Verdict};

use crate::problem::ApiError;
use crate::verifier::{Checked, Verified};
use crate::{AppState, SCOPE_ADMIN};

/// A JSON request body. Wrong content type, oversized, or undecodable bodies become 4xx problems.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

fn is_json(headers: &HeaderMap) -> bool {
    headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).and_then(|v| v.split(';').next()).is_some_and(
        |mime| {
            let mime = mime.trim();
            mime.eq_ignore_ascii_case("application/json")
                || (mime.starts_with("application/") && mime.ends_with("+json"))
        },
    )
}

impl<T: DeserializeOwned> FromRequest<AppState> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        if !is_json(req.headers()) {
            return Err(ApiError::UnsupportedMediaType("expected `Content-Type: application/json`".into()));
        }
        let RawBody(bytes) = RawBody::from_request(req, state).await?;
        serde_json::from_slice(&bytes)
            .map(ApiJson)
            .map_err(|e| ApiError::BadRequest(format!("invalid JSON body: {e}")))
    }
}

/// The request body, read within the size limit (`413` beyond it) and within
/// `body_read_timeout` (`408` for a client that stops sending).
#[derive(Debug)]
pub struct RawBody(pub Bytes);

impl FromRequest<AppState> for RawBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        // The timer is only registered if the body is not already there when first polled.
        let read = tokio::time::timeout(state.config.body_read_timeout, Bytes::from_request(req, state));
        match read.await {
            Ok(Ok(bytes)) => Ok(RawBody(bytes)),
            Ok(Err(BytesRejection::FailedToBufferBody(f)))
                if f.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE =>
            {
                Err(ApiError::PayloadTooLarge)
            }
            Ok(Err(other)) => Err(ApiError::BadRequest(format!("could not read the body: {other}"))),
            Err(_) => Err(ApiError::RequestTimeout(state.config.body_read_timeout)),
        }
    }
}

/// A record's id from the path. Every id Ward makes is 16 letters and digits (`token::ID_LEN`), so
/// anything else names no record and is answered `404` at once, the same on every store, without
/// asking one.
#[derive(Debug)]
pub struct RecordId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for RecordId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let id = path_text(parts, state).await?;
        if id.len() == ID_LEN && id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            Ok(RecordId(id))
        } else {
            Err(ApiError::NotFound(format!(
                "no record has the id {id:?}: Ward ids are {ID_LEN} letters and digits"
            )))
        }
    }
}

/// A subject from the path, as text. Axum's own `Path<String>` answers a segment that does not
/// decode to UTF-8 (`%FF`) with a plain-text 400; this answers it as a problem, like every other
/// bad request. The handler still checks the text as a label.
#[derive(Debug)]
pub struct SubjectPath(pub String);

impl<S: Send + Sync> FromRequestParts<S> for SubjectPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Ok(SubjectPath(path_text(parts, state).await?))
    }
}

/// The route's one path parameter as text; a segment that does not decode (`%FF`) is a problem.
async fn path_text<S: Send + Sync>(parts: &mut Parts, state: &S) -> Result<String, ApiError> {
    let Path(text) = Path::<String>::from_request_parts(parts, state)
        .await
        .map_err(|e| ApiError::BadRequest(format!("bad path: {}", e.body_text())))?;
    Ok(text)
}

/// Who is calling: the verified Ward key from `Authorization: Bearer`, or nobody.
#[derive(Debug, Clone)]
pub struct Caller(pub Option<Arc<ApiKey>>);

impl Caller {
    /// The caller's key, if it holds `scope` (or `ward:admin`).
    pub fn require(&self, scope: &'static str) -> Result<&ApiKey, ApiError> {
        let Some(key) = &self.0 else {
            return Err(ApiError::Unauthenticated(Verdict::with(
                Reason::Missing,
                "this endpoint needs a Ward key in `Authorization: Bearer <key>`",
            )));
        };
        if key.scopes.iter().any(|s| s == scope || s == SCOPE_ADMIN) {
            Ok(key)
        } else {
            Err(ApiError::Forbidden { needed: scope })
        }
    }

    /// The actor name recorded in audit fields: the caller's key id.
    pub fn actor(&self) -> String {
        self.0.as_ref().map_or_else(|| "anonymous".to_string(), |k| format!("key:{}", k.id))
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Some(value) = parts.headers.get(AUTHORIZATION) else {
            return Ok(Caller(None));
        };
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(str::trim)
            .ok_or_else(|| {
                ApiError::Unauthenticated(Verdict::with(
                    Reason::Malformed,
                    "the Authorization header must be `Bearer <ward key>`",
                ))
            })?;
        match state.verifier.verify(state, token, &[TokenKind::ApiKey], &[]).await {
            Checked::Valid(Verified::Key { key, .. }) => Ok(Caller(Some(key))),
            Checked::Valid(Verified::Session { .. } | Verified::Access(_)) => Err(ApiError::Unauthenticated(
                Verdict::with(Reason::WrongType, "a session cannot call Ward's API; use a Ward key"),
            )),
            Checked::Invalid(v) if v.reason == Reason::Unavailable => {
                Err(ApiError::Unavailable(v.detail.unwrap_or_default()))
            }
            Checked::Invalid(v) => Err(ApiError::Unauthenticated(v)),
        }
    }
}
