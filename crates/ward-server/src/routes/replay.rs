//! Replay defense and limits: server nonces (`/v1/nonces`), client nonces (`/v1/replay/check`),
//! and the named rate limits of a subject (`/v1/subjects/{subject}/ratelimits`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use ward_core::clock::Rfc3339;
use ward_core::{Reason, Verdict};

use crate::extract::{ApiJson, Caller, SubjectPath};
use crate::keys::LimitView;
use crate::problem::{ApiError, Problem};
use crate::{AppState, SCOPE_ADMIN, SCOPE_ISSUE, SCOPE_VERIFY};

/// `POST /v1/nonces`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NonceRequest {
    /// What the nonce is for; it is accepted only for the same purpose (`default` if absent).
    #[serde(default)]
    pub purpose: Option<String>,
    /// Seconds it stays valid (default 300, at most `nonce_max_ttl_secs`).
    #[serde(default, deserialize_with = "crate::body::whole_opt")]
    pub ttl: Option<i64>,
}

/// A server nonce.
#[derive(Debug, Serialize, ToSchema)]
pub struct NonceIssued {
    /// The nonce: accepted once by `POST /v1/nonces/consume`.
    pub nonce: String,
    /// When it stops being accepted.
    #[schema(value_type = String)]
    pub expires_at: Rfc3339,
}

/// `POST /v1/nonces/consume`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsumeRequest {
    /// The nonce.
    pub nonce: String,
    /// The purpose it was issued for (`default` if absent).
    #[serde(default)]
    pub purpose: Option<String>,
}

/// `POST /v1/replay/check`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplayCheck {
    /// The client's nonce: 8 to 256 printable ASCII characters.
    pub nonce: String,
    /// When the client made the request, in Unix seconds.
    #[serde(deserialize_with = "crate::body::whole")]
    pub timestamp: i64,
    /// A namespace for the nonce (a client id, an endpoint); one nonce may be used once per scope.
    #[serde(default)]
    pub scope: Option<String>,
}

/// The verdict on a single-use value.
#[derive(Debug, Serialize, ToSchema)]
pub struct OnceVerdict {
    /// Whether it was accepted (now, for the first and only time).
    pub valid: bool,
    /// The stable reason code: `valid`, `replayed`, `expired`, `not_yet_valid`, `tampered`, `malformed`.
    pub reason: &'static str,
    /// What the reason means.
    pub message: &'static str,
    /// What to do about it.
    pub hint: &'static str,
    /// What is particular to this value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

fn once_answer(result: Result<(), Verdict>) -> Result<Json<OnceVerdict>, ApiError> {
    let v = match result {
        Ok(()) => Verdict::of(Reason::Valid),
        Err(v) if v.reason == Reason::Unavailable => {
            return Err(ApiError::Unavailable(v.detail.unwrap_or_default()))
        }
        Err(v) => v,
    };
    let info = v.reason.info();
    Ok(Json(OnceVerdict {
        valid: v.reason.is_valid(),
        reason: info.code,
        message: info.message,
        hint: info.hint,
        detail: v.detail,
    }))
}

/// Hands out a server nonce. Nothing is stored until it is spent.
#[utoipa::path(post, path = "/v1/nonces", tag = "replay", operation_id = "createNonce", request_body = NonceRequest,
    security(("bearer" = ["ward:issue"])),
    responses((status = 201, body = NonceIssued), (status = 400, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<NonceRequest>,
) -> Result<Response, ApiError> {
    caller.check(SCOPE_ISSUE)?;
    // Checked before the caller's use is spent.
    let issued = state.engine.issue_nonce(req.purpose.as_deref(), req.ttl)?;
    caller.require(&state, SCOPE_ISSUE).await?;
    let body = NonceIssued { nonce: issued.nonce, expires_at: Rfc3339(issued.expires_at) };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// Spends a server nonce: accepted exactly once (`replayed` after that, `expired` after its time).
#[utoipa::path(post, path = "/v1/nonces/consume", tag = "replay", operation_id = "consumeNonce", request_body = ConsumeRequest,
    security(("bearer" = ["ward:verify"])),
    responses((status = 200, body = OnceVerdict), (status = 400, body = Problem), (status = 503, body = Problem)))]
pub async fn consume(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<ConsumeRequest>,
) -> Result<Json<OnceVerdict>, ApiError> {
    caller.check(SCOPE_VERIFY)?;
    if req.nonce.len() > 512 {
        return Err(ApiError::BadRequest("`nonce` is longer than any Ward nonce".into()));
    }
    caller.require(&state, SCOPE_VERIFY).await?;
    once_answer(state.engine.consume_nonce(&req.nonce, req.purpose.as_deref(), &caller.1).await?)
}

/// Accepts a client nonce once, if its timestamp is inside the replay window (default ±5 min).
#[utoipa::path(post, path = "/v1/replay/check", tag = "replay", operation_id = "checkReplay", request_body = ReplayCheck,
    security(("bearer" = ["ward:verify"])),
    responses((status = 200, body = OnceVerdict), (status = 400, body = Problem), (status = 503, body = Problem)))]
pub async fn check(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<ReplayCheck>,
) -> Result<Json<OnceVerdict>, ApiError> {
    caller.check(SCOPE_VERIFY)?;
    let result = state.engine.check_client_nonce(&req.nonce, req.timestamp, req.scope.as_deref(), &caller.1);
    // The input is checked before anything is written; the use is spent once it was accepted.
    let result = result.await?;
    caller.require(&state, SCOPE_VERIFY).await?;
    once_answer(result)
}

/// A subject's named rate limits.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubjectLimits {
    /// The limits; an empty list removes them all.
    pub ratelimits: Vec<LimitView>,
}

/// Sets the named rate limits of a subject: every token of the subject can apply them in a
/// verify (`ratelimit: {name}`), sharing one budget.
#[utoipa::path(put, path = "/v1/subjects/{subject}/ratelimits", tag = "subjects", operation_id = "setSubjectRatelimits", request_body = SubjectLimits,
    security(("bearer" = ["ward:issue"])), params(("subject" = String, Path, description = "The subject")),
    responses((status = 200, body = SubjectLimits), (status = 400, body = Problem)))]
pub async fn set_limits(
    State(state): State<AppState>,
    caller: Caller,
    SubjectPath(subject): SubjectPath,
    ApiJson(req): ApiJson<SubjectLimits>,
) -> Result<Json<SubjectLimits>, ApiError> {
    caller.check(SCOPE_ISSUE)?;
    let limits: Vec<_> = req.ratelimits.into_iter().map(LimitView::into_limit).collect();
    ward_core::guard::validate_limits(&limits).map_err(ApiError::BadRequest)?;
    caller.require(&state, SCOPE_ISSUE).await?;
    let set = state.engine.set_subject_limits(&subject, limits, &caller.call()).await?;
    Ok(Json(SubjectLimits { ratelimits: set.iter().map(LimitView::of).collect() }))
}

/// The named rate limits of a subject.
#[utoipa::path(get, path = "/v1/subjects/{subject}/ratelimits", tag = "subjects", operation_id = "getSubjectRatelimits",
    security(("bearer" = ["ward:verify"])), params(("subject" = String, Path, description = "The subject")),
    responses((status = 200, body = SubjectLimits), (status = 400, body = Problem)))]
pub async fn get_limits(
    State(state): State<AppState>,
    caller: Caller,
    SubjectPath(subject): SubjectPath,
) -> Result<Json<SubjectLimits>, ApiError> {
    caller.check(SCOPE_VERIFY)?;
    caller.require(&state, SCOPE_VERIFY).await?;
    let limits = state.engine.subject_limits_of(&subject).await?;
    Ok(Json(SubjectLimits { ratelimits: limits.iter().map(LimitView::of).collect() }))
}

/// An address locked out by the failure throttle.
#[derive(Debug, Serialize, ToSchema)]
pub struct LockoutView {
    /// The address (an IPv6 address stands for its /64).
    pub address: String,
    /// When the lockout ends.
    #[schema(value_type = String)]
    pub until: Rfc3339,
    /// Lockouts so far, this one included (each lasts twice the one before, up to the maximum).
    pub lockouts: u32,
}

/// The addresses locked out on this node.
#[derive(Debug, Serialize, ToSchema)]
pub struct Lockouts {
    /// Soonest end first.
    pub lockouts: Vec<LockoutView>,
}

/// Lists the addresses the failure throttle has locked out on this node (the throttle counts per
/// node).
#[utoipa::path(get, path = "/v1/lockouts", tag = "replay", operation_id = "listLockouts",
    security(("bearer" = ["ward:admin"])),
    responses((status = 200, body = Lockouts)))]
pub async fn lockouts(State(state): State<AppState>, caller: Caller) -> Result<Json<Lockouts>, ApiError> {
    caller.require(&state, SCOPE_ADMIN).await?;
    let lockouts = state
        .engine
        .lockouts()
        .into_iter()
        .map(|l| LockoutView {
            address: l.address.to_string(),
            until: Rfc3339(l.until),
            lockouts: l.lockouts,
        })
        .collect();
    Ok(Json(Lockouts { lockouts }))
}

/// `POST /v1/lockouts/unlock`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnlockRequest {
    /// The address to unlock (for IPv6, any address of the /64).
    pub address: String,
}

/// What an unlock did.
#[derive(Debug, Serialize, ToSchema)]
pub struct Unlocked {
    /// The address.
    pub address: String,
    /// Whether a lockout was in force (its failures are forgotten either way).
    pub was_locked: bool,
    /// When the lifted lockout would have ended.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub until: Option<Rfc3339>,
}

/// Lifts an address's lockout on this node and forgets its failures: for a user locked out by
/// their own typos, or a NAT gateway shared with a guesser. An `unlocked` event records who.
#[utoipa::path(post, path = "/v1/lockouts/unlock", tag = "replay", operation_id = "unlockAddress", request_body = UnlockRequest,
    security(("bearer" = ["ward:admin"])),
    responses((status = 200, body = Unlocked), (status = 400, body = Problem)))]
pub async fn unlock(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<UnlockRequest>,
) -> Result<Json<Unlocked>, ApiError> {
    caller.check(SCOPE_ADMIN)?;
    let ip: std::net::IpAddr = req
        .address
        .parse()
        .map_err(|_| ApiError::BadRequest(format!("`address` {:?} is not an IP address", req.address)))?;
    caller.require(&state, SCOPE_ADMIN).await?;
    let until = state.engine.unlock_address(ip, &caller.call());
    Ok(Json(Unlocked { address: ip.to_string(), was_locked: until.is_some(), until: until.map(Rfc3339) }))
}
