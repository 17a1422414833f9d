//! `/v1/one-time`: issue and redeem one-time tokens.

use axum::extract::State;
use axum::http::StatusCode;
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
    responses((status = 200, body = RedeemResponse), (status = 400, body = Problem), (status = 503, body = RedeemResponse)))]
pub async fn redeem(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<RedeemRequest>,
) -> Result<(StatusCode, Json<RedeemResponse>), ApiError> {
    // A purpose no token can have is a bad request, not a verdict (and spends nothing).
    if !ward_core::onetime::valid_purpose(&req.purpose) {
        return Err(ApiError::BadRequest(
            "`purpose` must be 1 to 64 lowercase letters, digits, `_`, `-` or `.`".into(),
        ));
    }
    caller.require(&state, SCOPE_VERIFY).await?;
    let token = req.token.as_deref().unwrap_or_default();
    let result = state.engine.redeem(token, &req.purpose, &caller.1).await;
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
    Ok((verdict_status(verdict.reason), Json(body)))
}
