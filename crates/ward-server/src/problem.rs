//! The one place where reasons and errors become HTTP responses.
//!
//! Request problems are RFC 9457 `application/problem+json` bodies. Failures of the caller's own
//! credential also carry an RFC 6750 `WWW-Authenticate: Bearer` header.

use axum::http::header::{CONTENT_TYPE, WWW_AUTHENTICATE};
use axum::http::{HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;
use ward_core::{Reason, Verdict};
use ward_engine::EngineError;

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem: `urn:ward:reason:<code>` or `urn:ward:problem:<code>`.
    #[serde(rename = "type")]
    pub kind: String,
    /// A short summary.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What went wrong in this request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The stable code: a token reason or a request problem (`invalid_request`, `not_found`, ...).
    pub reason: String,
    /// What to do about it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

/// Everything a handler can fail with.
#[derive(Debug)]
pub enum ApiError {
    /// The caller's own Ward key was missing or not valid.
    Unauthenticated(Verdict),
    /// The caller is authenticated but its key lacks `needed`.
    Forbidden {
        /// The scope the endpoint requires.
        needed: &'static str,
    },
    /// The caller asked to hand out a `ward:` scope its own key does not hold.
    CannotGrant(String),
    /// The request is malformed or a value is out of range.
    BadRequest(String),
    /// The body is not `application/json`.
    UnsupportedMediaType(String),
    /// The body is larger than the configured limit.
    PayloadTooLarge,
    /// The client did not send the whole body within this time.
    RequestTimeout(std::time::Duration),
    /// No such resource.
    NotFound(String),
    /// The store could not be reached: never reported as a verdict on a token.
    Unavailable(String),
    /// A token named in the request body (to renew, redeem, log out) is not valid. Only
    /// authenticated callers reach the handlers that return this, so it carries the full reason.
    Token(Verdict),
    /// The request conflicts with the resource's state (e.g. rotating a revoked key).
    Conflict(String),
    /// An OAuth 2.0 error (RFC 6749 §5.2) from the OAuth endpoints, with Ward's explanation as
    /// extension fields when the caller is entitled to it.
    OAuth(OAuthError),
    /// Too many requests or failed guesses: `429` with `Retry-After` (seconds).
    RateLimited(Verdict, u64),
}

/// An RFC 6749 §5.2 error answer.
#[derive(Debug)]
pub struct OAuthError {
    /// `invalid_request`, `invalid_client`, `invalid_grant`, `unauthorized_client`,
    /// `unsupported_grant_type`, `invalid_scope` or `temporarily_unavailable`.
    pub error: &'static str,
    /// A sentence for the developer.
    pub description: String,
    /// Ward's reason, for an authenticated client (e.g. why its refresh token was refused).
    pub verdict: Option<Verdict>,
}

impl OAuthError {
    /// An error without Ward's explanation.
    pub fn new(error: &'static str, description: impl Into<String>) -> Self {
        OAuthError { error, description: description.into(), verdict: None }
    }
}

/// The OAuth error body: the RFC 6749 fields, then Ward's `ward_reason`, `ward_detail` and
/// `ward_hint` extensions.
#[derive(Debug, Serialize, ToSchema)]
pub struct OAuthErrorBody {
    /// The RFC 6749 error code.
    pub error: &'static str,
    /// What went wrong.
    pub error_description: String,
    /// Ward's reason code, when the caller may see it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ward_reason: Option<&'static str>,
    /// Ward's particulars.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ward_detail: Option<String>,
    /// Ward's fix hint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ward_hint: Option<&'static str>,
}

impl From<Verdict> for ApiError {
    fn from(v: Verdict) -> Self {
        ApiError::Token(v)
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> Self {
        match e {
            EngineError::Invalid(d) => ApiError::BadRequest(d),
            EngineError::NotFound(d) => ApiError::NotFound(d),
            EngineError::Conflict(d) => ApiError::Conflict(d),
            EngineError::Token(v) => ApiError::Token(v),
            EngineError::Unavailable(d) => ApiError::Unavailable(d),
            other => ApiError::Unavailable(other.to_string()),
        }
    }
}

/// The HTTP status for a token verdict on `POST /v1/verify`: a judgement on the token is a
/// successful call (200); only a failure to judge (`unavailable`) is an error status.
pub fn verdict_status(reason: Reason) -> StatusCode {
    match reason {
        Reason::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        Reason::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        _ => StatusCode::OK,
    }
}

/// Whether a reason can be told to a caller who has not authenticated: only those decided from
/// the token's text alone, which reveal nothing about what Ward has stored.
pub fn is_public(reason: Reason) -> bool {
    matches!(
        reason,
        Reason::Missing
            | Reason::Malformed
            | Reason::ChecksumMismatch
            | Reason::WrongType
            | Reason::RateLimited
    )
}

fn problem(
    status: StatusCode,
    reason: &str,
    urn: &str,
    title: &str,
    detail: Option<String>,
    hint: Option<String>,
) -> Response {
    let body = Problem {
        kind: format!("urn:ward:{urn}:{reason}"),
        title: title.to_string(),
        status: status.as_u16(),
        detail,
        reason: reason.to_string(),
        hint,
    };
    let mut resp = (status, axum::Json(body)).into_response();
    resp.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
    resp
}

/// `WWW-Authenticate: Bearer realm="ward", error="…", error_description="…"` (RFC 6750 §3).
fn bearer_challenge(error: Option<&str>, description: &str, scope: Option<&str>) -> HeaderValue {
    let clean: String = description.chars().filter(|c| *c != '"' && *c != '\\' && !c.is_control()).collect();
    let mut v = String::from("Bearer realm=\"ward\"");
    if let Some(e) = error {
        v.push_str(&format!(", error=\"{e}\", error_description=\"{clean}\""));
    }
    if let Some(s) = scope {
        v.push_str(&format!(", scope=\"{s}\""));
    }
    HeaderValue::from_str(&v).unwrap_or_else(|_| HeaderValue::from_static("Bearer realm=\"ward\""))
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::Unauthenticated(v) => {
                let info = v.reason.info();
                let status = StatusCode::from_u16(info.status).unwrap_or(StatusCode::UNAUTHORIZED);
                // The caller is not authenticated, so it learns the reason only when that reveals
                // nothing stored (RFC 6750 category otherwise).
                // Otherwise one code for every refusal, `credential_refused` (in the reason table,
                // like every `reason` Ward answers), so ids that exist and ids that do not read
                // alike; the RFC 6750 category stays in the challenge.
                let shown = if is_public(v.reason) { info } else { Reason::CredentialRefused.info() };
                let detail = if is_public(v.reason) { v.detail } else { None };
                let description = shown.message;
                let mut resp =
                    problem(status, shown.code, "reason", description, detail, Some(shown.hint.to_string()));
                if status == StatusCode::UNAUTHORIZED {
                    resp.headers_mut()
                        .insert(WWW_AUTHENTICATE, bearer_challenge(info.error, description, None));
                }
                resp
            }
            ApiError::Forbidden { needed } => {
                let info = Reason::InsufficientScope.info();
                let mut resp = problem(
                    StatusCode::FORBIDDEN,
                    info.code,
                    "reason",
                    info.message,
                    Some(if needed == crate::SCOPE_ADMIN {
                        format!("this endpoint needs the `{needed}` scope")
                    } else {
                        format!(
                            "this endpoint needs the `{needed}` scope (`{}` allows everything)",
                            crate::SCOPE_ADMIN
                        )
                    }),
                    Some(info.hint.to_string()),
                );
                resp.headers_mut()
                    .insert(WWW_AUTHENTICATE, bearer_challenge(info.error, info.message, Some(needed)));
                resp
            }
            ApiError::CannotGrant(scope) => {
                let info = Reason::InsufficientScope.info();
                problem(
                    StatusCode::FORBIDDEN,
                    info.code,
                    "reason",
                    info.message,
                    Some(format!("the caller's key does not hold `{scope}`, so it cannot give it to another")),
                    Some("A key can hand out only the `ward:` scopes it holds itself; ask a key that holds this one.".into()),
                )
            }
            ApiError::RateLimited(v, retry_after) => {
                let info = Reason::RateLimited.info();
                let mut resp = problem(
                    StatusCode::TOO_MANY_REQUESTS,
                    info.code,
                    "reason",
                    info.message,
                    v.detail,
                    Some(info.hint.to_string()),
                );
                resp.headers_mut()
                    .insert(axum::http::header::RETRY_AFTER, HeaderValue::from(retry_after.max(1)));
                resp
            }
            ApiError::BadRequest(d) => problem(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "problem",
                "The request is not valid.",
                Some(d),
                Some("Check the request against GET /openapi.json.".into()),
            ),
            ApiError::UnsupportedMediaType(d) => problem(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "problem",
                "The request body must be JSON.",
                Some(d),
                Some("Send `Content-Type: application/json`.".into()),
            ),
            ApiError::PayloadTooLarge => problem(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "problem",
                "The request body is too large.",
                None,
                Some("Send a smaller body; Ward's requests are small.".into()),
            ),
            ApiError::RequestTimeout(limit) => problem(
                StatusCode::REQUEST_TIMEOUT,
                "request_timeout",
                "problem",
                "The request body did not arrive in time.",
                Some(format!("the body was not complete after {} seconds", limit.as_secs())),
                Some("Send the whole body at once; check the Content-Length the client sends.".into()),
            ),
            ApiError::Token(v) if v.reason == Reason::Unavailable => {
                ApiError::Unavailable(v.detail.unwrap_or_default()).into_response()
            }
            ApiError::Token(v) => {
                let info = v.reason.info();
                problem(
                    StatusCode::BAD_REQUEST,
                    info.code,
                    "reason",
                    info.message,
                    v.detail,
                    Some(info.hint.to_string()),
                )
            }
            ApiError::OAuth(e) => {
                let status = match e.error {
                    "invalid_client" => StatusCode::UNAUTHORIZED,
                    "temporarily_unavailable" => StatusCode::SERVICE_UNAVAILABLE,
                    _ => StatusCode::BAD_REQUEST,
                };
                let info = e.verdict.as_ref().map(|v| v.reason.info());
                let body = OAuthErrorBody {
                    error: e.error,
                    error_description: e.description,
                    ward_reason: info.map(|i| i.code),
                    ward_detail: e.verdict.and_then(|v| v.detail),
                    ward_hint: info.map(|i| i.hint),
                };
                let mut resp = (status, axum::Json(body)).into_response();
                // RFC 6749 §5.1: token answers, errors included, must not be cached.
                resp.headers_mut().insert("cache-control", HeaderValue::from_static("no-store"));
                resp.headers_mut().insert("pragma", HeaderValue::from_static("no-cache"));
                if status == StatusCode::UNAUTHORIZED {
                    resp.headers_mut().insert(
                        WWW_AUTHENTICATE,
                        HeaderValue::from_static("Basic realm=\"ward\", charset=\"UTF-8\""),
                    );
                }
                resp
            }
            ApiError::Conflict(d) => problem(
                StatusCode::CONFLICT,
                "conflict",
                "problem",
                "The request conflicts with the resource's state.",
                Some(d),
                None,
            ),
            ApiError::NotFound(d) => {
                problem(StatusCode::NOT_FOUND, "not_found", "problem", "Not found.", Some(d), None)
            }
            ApiError::Unavailable(d) => {
                let info = Reason::Unavailable.info();
                let mut resp = problem(
                    StatusCode::SERVICE_UNAVAILABLE,
                    info.code,
                    "reason",
                    info.message,
                    Some(d),
                    Some(info.hint.to_string()),
                );
                resp.headers_mut().insert("retry-after", HeaderValue::from_static("1"));
                resp
            }
        }
    }
}

/// The fallback for unknown paths.
pub async fn not_found(uri: Uri) -> ApiError {
    ApiError::NotFound(format!("no route for {}", uri.path()))
}

/// The fallback for known paths with the wrong method.
pub async fn method_not_allowed() -> Response {
    problem(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "problem",
        "This method is not allowed here.",
        None,
        Some("See GET /openapi.json for the methods each path takes.".into()),
    )
}
