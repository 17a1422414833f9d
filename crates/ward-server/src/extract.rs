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
use ward_core::{ApiKey, Reason, Verdict};
use ward_engine::{Call, Checked, Context, ContextSource, Verified};

use crate::problem::ApiError;
use crate::{allows, AppState};

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
        // serde reads a struct from a positional array as readily as from an object, so
        // `["x","n",["ward:admin"]]` would be a key request. Every Ward body is an object; a
        // body that is not one is refused before it is decoded (issue 9).
        if !is_object(&bytes) {
            return Err(ApiError::BadRequest("the body must be a JSON object (`{...}`)".into()));
        }
        serde_json::from_slice(&bytes)
            .map(ApiJson)
            .map_err(|e| ApiError::BadRequest(format!("invalid JSON body: {e}")))
    }
}

/// Whether `body` is a JSON object: its first non-whitespace byte (RFC 8259 §2) is `{`. The
/// decoder then checks the rest, so nothing else can be smuggled past this.
fn is_object(body: &[u8]) -> bool {
    body.iter().find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r')) == Some(&b'{')
}

/// The credentials of an `Authorization: Bearer` header, the scheme matched in any case (RFC 9110
/// §11.1: auth schemes are case-insensitive). `None` when the header uses another scheme (or is
/// not text); the token is trimmed of the spaces around it.
pub fn bearer_token(value: &HeaderValue) -> Option<&str> {
    let (scheme, rest) = value.to_str().ok()?.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
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

/// Who is calling: the authenticated Ward key from `Authorization: Bearer`, or nobody; and the
/// request's context (User-Agent, `X-Request-Id`) for the events its operations emit.
///
/// Extracting a caller spends nothing: a usage-limited key spends its use in
/// [`Caller::require`], which a handler calls once it has checked its input, so a request
/// refused as bad (400, 413, 415, 403 ...) costs the caller no use (issue 9).
#[derive(Debug, Clone)]
pub struct Caller(pub Option<Arc<ApiKey>>, pub Origin);

impl Caller {
    /// The caller's key, if it holds `scope` (or `ward:admin`); spends nothing.
    pub fn check(&self, scope: &'static str) -> Result<&ApiKey, ApiError> {
        let Some(key) = &self.0 else {
            return Err(ApiError::Unauthenticated(Verdict::with(
                Reason::Missing,
                "this endpoint needs a Ward key in `Authorization: Bearer <key>`",
            )));
        };
        if allows(&key.scopes, scope) {
            Ok(key)
        } else {
            Err(ApiError::Forbidden { needed: scope })
        }
    }

    /// [`Caller::check`], then the request is accepted: one use of a usage-limited caller key is
    /// spent (a key without a limit costs nothing here). Call it once, after the input is
    /// checked and before the operation.
    pub async fn require(&self, state: &AppState, scope: &'static str) -> Result<&ApiKey, ApiError> {
        let key = self.check(scope)?;
        match state.engine.spend_use(key, &self.1).await {
            Ok(_) => Ok(key),
            Err(v) if v.reason == Reason::Unavailable => {
                Err(ApiError::Unavailable(v.detail.unwrap_or_default()))
            }
            Err(v) => Err(ApiError::Unauthenticated(v)),
        }
    }

    /// Refuses `wanted` scopes from `ward:` that the caller's key does not hold itself: a key may
    /// not hand out more of Ward's privileges than it has (an issue-only key cannot mint an
    /// admin key). Other scopes are the application's and pass.
    pub fn may_grant(&self, wanted: &[String]) -> Result<(), ApiError> {
        let held = self.0.as_ref().map_or(&[][..], |k| k.scopes.as_slice());
        match wanted.iter().find(|s| s.starts_with("ward:") && !allows(held, s)) {
            None => Ok(()),
            Some(s) => Err(ApiError::CannotGrant(s.clone())),
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
    /// The request's address (`address::stamp`).
    pub client_ip: Option<std::net::IpAddr>,
}

impl Origin {
    /// The origin of a request with these headers.
    pub fn of(headers: &HeaderMap) -> Self {
        Origin {
            user_agent: headers.get(USER_AGENT).cloned(),
            request_id: headers.get("x-request-id").cloned(),
            client_ip: crate::address::client_ip(headers),
        }
    }
}

fn text(v: Option<&HeaderValue>) -> Option<String> {
    v.and_then(|v| v.to_str().ok()).map(|v| v.chars().take(256).collect())
}

impl ContextSource for Origin {
    fn context(&self) -> Context {
        Context {
            client_ip: self.client_ip.map(|ip| ip.to_string()),
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
        // Another scheme (Basic, say) is no Bearer credential at all: RFC 6750 §3.1 answers a
        // request that lacks one with a challenge and no error code (`missing`).
        let token = bearer_token(value).ok_or_else(|| {
            ApiError::Unauthenticated(Verdict::with(
                Reason::Missing,
                "this endpoint takes a Ward key as `Authorization: Bearer <key>`, not another scheme",
            ))
        })?;
        let origin = Origin::of(&parts.headers);
        match state.engine.verify_caller(token, origin.client_ip, &origin).await {
            Checked::Valid(Verified::Key { key, .. }) => Ok(Caller(Some(key), origin)),
            Checked::Valid(Verified::Session { .. } | Verified::Access(_)) => Err(ApiError::Unauthenticated(
                Verdict::with(Reason::WrongType, "a session cannot call Ward's API; use a Ward key"),
            )),
            Checked::Invalid(v) if v.reason == Reason::Unavailable => {
                Err(ApiError::Unavailable(v.detail.unwrap_or_default()))
            }
            Checked::Invalid(v) => Err(refused(state, &origin, v)),
        }
    }
}

/// The error for a caller whose own credential was refused: `429` while its address is locked
/// out, else `401`.
pub fn refused(state: &AppState, origin: &Origin, v: Verdict) -> ApiError {
    if v.reason == Reason::RateLimited {
        let wait = origin.client_ip.and_then(|ip| state.engine.locked_out(ip)).map_or(1, |(_, s)| s);
        return ApiError::RateLimited(v, wait);
    }
    ApiError::Unauthenticated(v)
}
