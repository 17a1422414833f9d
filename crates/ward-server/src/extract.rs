//! Typed request input: JSON bodies that fail as problem documents, and the authenticated caller.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, USER_AGENT};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use serde::de::DeserializeOwned;
use ward_core::token::ID_LEN;
use ward_core::{ApiKey, Reason, TokenKind, Verdict};
use ward_engine::{Call, Checked, Context, ContextSource, Verified, VerifyOptions};

use crate::problem::ApiError;
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
        let read = tokio::time::timeout(state.http.body_read_timeout, Bytes::from_request(req, state));
        match read.await {
            Ok(Ok(bytes)) => Ok(RawBody(bytes)),
            Ok(Err(BytesRejection::FailedToBufferBody(f)))
                if f.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE =>
            {
                Err(ApiError::PayloadTooLarge)
            }
            Ok(Err(other)) => Err(ApiError::BadRequest(format!("could not read the body: {other}"))),
            Err(_) => Err(ApiError::RequestTimeout(state.http.body_read_timeout)),
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

/// Who is calling: the verified Ward key from `Authorization: Bearer`, or nobody; and the
/// request's context (User-Agent, `X-Request-Id`) for the events its operations emit.
#[derive(Debug, Clone)]
pub struct Caller(pub Option<Arc<ApiKey>>, pub Origin);

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

    /// The engine's view of this caller.
    pub fn call(&self) -> Call {
        Call { actor: self.actor(), context: self.1.context() }
    }
}

/// What the request's headers say about where it came from, kept as the header values (a
/// reference count, no copy) and turned into text only when an event records it.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    user_agent: Option<HeaderValue>,
    request_id: Option<HeaderValue>,
}

impl Origin {
    /// The origin of a request with these headers.
    pub fn of(headers: &HeaderMap) -> Self {
        Origin {
            user_agent: headers.get(USER_AGENT).cloned(),
            request_id: headers.get("x-request-id").cloned(),
        }
    }
}

fn text(v: Option<&HeaderValue>) -> Option<String> {
    v.and_then(|v| v.to_str().ok()).map(|v| v.chars().take(256).collect())
}

impl ContextSource for Origin {
    fn context(&self) -> Context {
        Context {
            client_ip: None,
            user_agent: text(self.user_agent.as_ref()),
            request_id: text(self.request_id.as_ref()),
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Some(value) = parts.headers.get(AUTHORIZATION) else {
            return Ok(Caller(None, Origin::of(&parts.headers)));
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
        let origin = Origin::of(&parts.headers);
        let opts = VerifyOptions { kinds: &[TokenKind::ApiKey], ..VerifyOptions::default() };
        match state.engine.verify(token, &opts, &origin).await {
            Checked::Valid(Verified::Key { key, .. }) => Ok(Caller(Some(key), origin)),
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
