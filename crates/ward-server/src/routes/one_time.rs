//! `/v1/one-time`: issue and redeem one-time tokens.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use ward_core::Reason;

use crate::extract::{ApiJson, Caller};
use ward_core::clock::rfc3339;

use crate::onetime::{CreateOneTime, CreatedOneTime, OneTimeView};
use crate::problem::{verdict_status, ApiError, Problem};
use crate::{AppState, SCOPE_ISSUE, SCOPE_VERIFY};

/// Issues a one-time token (password reset, magic link, email verification, invitation).
#[utoipa::path(post, path = "/v1/one-time", tag = "one-time", operation_id = "createOneTimeToken", request_body = CreateOneTime,
    security(("bearer" = ["ward:issue"])),
    responses((status = 201, body = CreatedOneTime), (status = 400, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<CreateOneTime>,
) -> Result<(StatusCode, Json<CreatedOneTime>), ApiError> {
    caller.check(SCOPE_ISSUE)?;
    let req = req.into_engine();
    state.engine.check_one_time(&req)?;
    caller.require(&state, SCOPE_ISSUE).await?;
    let (t, minted) = state.engine.issue_one_time(req, &caller.call()).await?;
    let answer = CreatedOneTime {
        id: t.id,
        token: minted.token.to_string(),
        purpose: t.purpose,
        expires_at: rfc3339(t.expires_at),
    };
    Ok((StatusCode::CREATED, Json(answer)))
}

/// Body of `POST /v1/one-time/redeem`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RedeemRequest {
    /// The one-time token.
    #[serde(default)]
    pub token: Option<String>,
    /// The purpose the caller redeems it for; another purpose is `wrong_type`.
    pub purpose: String,
    /// The end user who presented the token: their address counts failed guesses
    /// (`rate_limited` after too many).
    #[serde(default, deserialize_with = "crate::body::object_opt")]
    pub context: Option<crate::routes::verify::VerifyContext>,
}

/// Answer of `POST /v1/one-time/redeem`: like a verify answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct RedeemResponse {
    /// Whether this call redeemed the token.
    pub valid: bool,
    /// The stable reason code.
    pub reason: &'static str,
    /// What the reason means.
    pub message: &'static str,
    /// What to do about it.
    pub hint: &'static str,
    /// What is particular to this token (when it was used, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The token's metadata and data, when redeemed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<OneTimeView>,
}

/// Redeems a one-time token, exactly once however many requests race.
#[utoipa::path(post, path = "/v1/one-time/redeem", tag = "one-time", operation_id = "redeemOneTimeToken", request_body = RedeemRequest,
    security(("bearer" = ["ward:verify"])),
    responses((status = 200, body = RedeemResponse), (status = 400, body = Problem), (status = 429, description = "`rate_limited`: the end user's address is locked out (`Retry-After`)", body = RedeemResponse), (status = 503, body = RedeemResponse)))]
pub async fn redeem(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<RedeemRequest>,
) -> Result<Response, ApiError> {
    // A purpose no token can have is a bad request, not a verdict (and spends nothing).
    if !ward_core::onetime::valid_purpose(&req.purpose) {
        return Err(ApiError::BadRequest(
            "`purpose` must be 1 to 64 lowercase letters, digits, `_`, `-` or `.`".into(),
        ));
    }
    let client_ip: Option<std::net::IpAddr> =
        match req.context.as_ref().and_then(|c| c.client_ip.as_deref()) {
            Some(ip) => Some(ip.parse().map_err(|_| {
                ApiError::BadRequest(format!("`context.client_ip` {ip:?} is not an IP address"))
            })?),
            None => None,
        };
    caller.require(&state, SCOPE_VERIFY).await?;
    let token = req.token.as_deref().unwrap_or_default();
    let locked = client_ip.and_then(|ip| state.engine.locked_out(ip));
    let retry_after = locked.as_ref().map(|l| l.1);
    let result = match locked {
        Some((v, _)) => Err(v),
        None => state.engine.redeem(token, &req.purpose, &caller.1).await,
    };
    if let (Some(ip), Err(v)) = (client_ip, &result) {
        if ward_engine::guard::is_guess(v.reason) {
            state.engine.guess_failed(ip, &caller.1);
        }
    }
    let (verdict, token) = match result {
        Ok(t) => (ward_core::Verdict::of(Reason::Valid), Some(OneTimeView::of(&t))),
        Err(v) => (v, None),
    };
    let info = verdict.reason.info();
    let body = RedeemResponse {
        valid: verdict.reason.is_valid(),
        reason: info.code,
        message: info.message,
        hint: info.hint,
        detail: verdict.detail,
        token,
    };
    let mut resp = (verdict_status(verdict.reason), Json(body)).into_response();
    if let Some(s) = retry_after {
        resp.headers_mut().insert(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from(s));
    }
    Ok(resp)
}
