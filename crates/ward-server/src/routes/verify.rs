//! `POST /v1/verify`: the question every protected request asks.

use std::net::IpAddr;

use axum::body::Body;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use utoipa::ToSchema;
use ward_core::key::valid_scope;
use ward_core::{ApiKey, Reason, TokenKind, UnixTime, Verdict};
use ward_signed::AccessClaims;

use crate::extract::{ApiJson, Caller};
use crate::keys::KeyView;
use crate::problem::{verdict_status, ApiError};
use crate::sessions::SessionView;
use crate::{AppState, SCOPE_VERIFY};
use ward_engine::dpop::DpopAsk;
use ward_engine::{Checked, Context, ContextSource, Memo, Presented, Verified, VerifyOptions};

/// Body of `POST /v1/verify`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyRequest {
    /// The token to check. Absent or empty gives the reason `missing`.
    #[serde(default)]
    pub token: Option<String>,
    /// Scopes the token must all carry.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// The end user this token belongs to, as the calling backend saw them.
    #[serde(default, deserialize_with = "crate::body::object_opt")]
    pub context: Option<VerifyContext>,
    /// An audience a signed access token must carry in `aud`.
    #[serde(default)]
    pub audience: Option<String>,
    /// The kind of token required: `api_key`, `session` or `access_token`; any of them if absent.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// A named rate limit to apply: the key's own limit of that name, else its subject's. The
    /// answer reports the budget left (and the `RateLimit` headers); over the limit, the reason
    /// is `rate_limited` with `Retry-After`.
    #[serde(default, deserialize_with = "crate::body::object_opt")]
    pub ratelimit: Option<RatelimitRequest>,
    /// The DPoP proof the client sent with the token (RFC 9449 §7), and the request it came
    /// with: required for an access token bound to a key (`cnf.jkt`).
    #[serde(default, deserialize_with = "crate::body::object_opt")]
    pub dpop: Option<DpopRequest>,
}

/// `dpop` in a verify: what the resource server received.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DpopRequest {
    /// The `DPoP` header's value.
    pub proof: String,
    /// The request's method, e.g. `GET`.
    pub htm: String,
    /// The request's URL as the client reached it (`https://api.example.com/reports`).
    pub htu: String,
}

/// `ratelimit` in a verify.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RatelimitRequest {
    /// The limit's name.
    pub name: String,
    /// Units to spend; 1 if absent.
    #[serde(default, deserialize_with = "crate::body::whole_u32_opt")]
    #[schema(minimum = 1, maximum = 1_000_000)]
    pub cost: Option<u32>,
    /// Give each end-user address its own budget of the limit, rather than one budget for the
    /// token. Needs `context.client_ip` (an anonymous caller is counted by its connection's
    /// address all the same).
    #[serde(default)]
    pub per_address: bool,
}

/// Where a named rate limit stands after this call.
#[derive(Debug, Serialize, ToSchema)]
pub struct RatelimitView<'a> {
    /// The limit's name.
    pub name: &'a str,
    /// Units per period.
    pub limit: u32,
    /// The period, in seconds.
    pub period: u32,
    /// Units left.
    pub remaining: u32,
    /// Seconds until the whole budget is back.
    pub reset: u64,
}

/// Who presented the token to the calling backend.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyContext {
    /// The end user's IP address.
    #[serde(default)]
    pub client_ip: Option<String>,
    /// The end user's User-Agent.
    #[serde(default)]
    pub user_agent: Option<String>,
}

/// The full answer, for callers authenticated with `ward:verify` or `ward:admin`.
#[derive(Debug, Serialize, ToSchema)]
pub struct VerifyResponse<'a> {
    /// Whether the token is good.
    pub valid: bool,
    /// The stable reason code (`GET /v1/reasons` lists them).
    pub reason: &'static str,
    /// What the reason means.
    pub message: &'static str,
    /// What to do about it.
    pub hint: &'static str,
    /// What is particular to this token (when it expired, which scope is missing, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<&'a str>,
    /// The key's metadata, when the token is a valid API key.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<KeyView>)]
    pub key: Option<KeyAnswer<'a>>,
    /// The session's metadata, when the token is a valid session.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session: Option<SessionView<'a>>,
    /// The claims and key, when the token is a valid signed access token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_token: Option<AccessView<'a>>,
    /// The named rate limit applied, when the request asked for one and the token was good.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ratelimit: Option<RatelimitView<'a>>,
    /// Seconds until a `rate_limited` verdict is lifted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    /// For `nonce_required`: the server's current DPoP nonce, for the resource server to send
    /// in `DPoP-Nonce` with its `401 use_dpop_nonce` (RFC 9449 §9).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dpop_nonce: Option<String>,
}

/// A key's metadata in a verify answer.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum KeyAnswer<'a> {
    /// Built for this answer (boxed: the common case is the other one, a pointer).
    View(Box<KeyView<'a>>),
    /// Serialised once per cache entry (see [`unlimited_view`]).
    Serialised(&'a RawValue),
}

/// The view of a key without a usage limit, serialised once per cache entry: it shows the cached
/// record and, for a valid key, the status `active`, so it cannot change until a write to the key
/// evicts the entry. Keys with a usage limit show their uses left, which change on every verify.
fn unlimited_view<'a>(memo: &'a Memo, key: &ApiKey, now: UnixTime) -> Option<&'a RawValue> {
    if key.remaining_uses.is_some() {
        return None;
    }
    if let Some(raw) = memo.view.get() {
        return Some(raw);
    }
    let raw = serde_json::value::to_raw_value(&KeyView::of(key, now)).ok()?;
    Some(memo.view.get_or_init(|| raw))
}

/// A verified signed access token, as shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccessView<'a> {
    /// `jwt`, `paseto` or `paseto-local`.
    pub format: &'static str,
    /// The key that signed it.
    pub kid: &'a str,
    /// Its claims.
    #[schema(value_type = Object)]
    pub claims: &'a AccessClaims,
}

/// The answer for anonymous callers: the RFC 6750 category only. (`deny_unknown_fields` only
/// closes its schema, so that a full answer is not also an anonymous one.)
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnonymousVerifyResponse {
    /// Whether the token is good.
    pub valid: bool,
    /// `invalid_token`, `insufficient_scope` or `temporarily_unavailable`, when not valid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<&'static str>,
}

/// Either answer of `POST /v1/verify`, for the document.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum VerifyAnswer<'a> {
    /// For callers with `ward:verify` (or `ward:admin`).
    Full(Box<VerifyResponse<'a>>),
    /// For callers without a key.
    Anonymous(AnonymousVerifyResponse),
}

/// The context of a verify: the end user the body names, else the calling backend.
struct VerifyOrigin<'a> {
    caller: &'a Caller,
    body: Option<&'a VerifyContext>,
}

impl ContextSource for VerifyOrigin<'_> {
    fn context(&self) -> Context {
        let mut ctx = self.caller.1.context();
        if let Some(b) = self.body {
            ctx.client_ip = b.client_ip.clone();
            if b.user_agent.is_some() {
                ctx.user_agent = b.user_agent.clone();
            }
        }
        ctx
    }
}

impl VerifyRequest {
    fn validate(&self) -> Result<(), ApiError> {
        if let Some(bad) = self.scopes.iter().find(|s| !valid_scope(s)) {
            return Err(ApiError::BadRequest(format!("scope {bad:?} is not a valid scope name")));
        }
        if let Some(bad) = self.audience.as_deref().filter(|a| !ward_engine::validate::valid_audience(a)) {
            return Err(ApiError::BadRequest(format!(
                "audience {bad:?} is not valid: use 1 to 256 printable ASCII characters, no spaces"
            )));
        }
        if let Some(r) = &self.ratelimit {
            // Anonymous callers are counted by their connection's address, but the request says
            // which address it means all the same (one rule for every caller, as the schema has it).
            if r.per_address && self.context.as_ref().and_then(|c| c.client_ip.as_deref()).is_none() {
                return Err(ApiError::BadRequest(
                    "`ratelimit.per_address` counts per end-user address: name it in `context.client_ip`"
                        .into(),
                ));
            }
            if !ward_core::guard::valid_limit_name(&r.name) {
                return Err(ApiError::BadRequest(format!(
                    "`ratelimit.name` {:?} is not a valid limit name",
                    r.name
                )));
            }
            if r.cost.is_some_and(|c| c == 0 || c > ward_core::guard::MAX_LIMIT) {
                return Err(ApiError::BadRequest(format!(
                    "`ratelimit.cost` must be 1 to {}",
                    ward_core::guard::MAX_LIMIT
                )));
            }
        }
        if let Some(ip) = self.context.as_ref().and_then(|c| c.client_ip.as_deref()) {
            ip.parse::<IpAddr>().map_err(|_| {
                ApiError::BadRequest(format!("`context.client_ip` {ip:?} is not an IP address"))
            })?;
        }
        Ok(())
    }
}

/// Verifies a token: every rejection names its reason.
#[utoipa::path(post, path = "/v1/verify", tag = "verify", operation_id = "verifyToken", request_body = VerifyRequest,
    security((), ("bearer" = ["ward:verify"])),
    responses(
        (status = 200, description = "A verdict (valid or not): `VerifyResponse` for a caller with `ward:verify`, `AnonymousVerifyResponse` for one without a key", body = VerifyAnswer),
        (status = 429, description = "`rate_limited`: over a named limit, or the address is locked out after failed guesses (`Retry-After`)", body = VerifyAnswer),
        (status = 503, description = "The store is unreachable: no verdict", body = VerifyAnswer)))]
pub async fn verify(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<VerifyRequest>,
) -> Result<Response, ApiError> {
    let full = match caller.0 {
        Some(_) => {
            caller.check(SCOPE_VERIFY)?;
            true
        }
        None if state.http.allow_anonymous_verify => false,
        None => {
            caller.check(SCOPE_VERIFY)?;
            false
        }
    };
    req.validate()?;
    let token = req.token.as_deref().unwrap_or_default();
    let kinds: &[TokenKind] = match req.kind.as_deref() {
        None => &[TokenKind::ApiKey, TokenKind::Session, TokenKind::AccessToken],
        Some("api_key") => &[TokenKind::ApiKey],
        Some("session") => &[TokenKind::Session],
        Some("access_token") => &[TokenKind::AccessToken],
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "`type` {other:?} is not one of api_key, session, access_token"
            )))
        }
    };
    // The request is accepted: a usage-limited caller key spends its use now (an unlimited one,
    // the common case, costs nothing here).
    if full {
        caller.require(&state, SCOPE_VERIFY).await?;
    }
    let origin = VerifyOrigin { caller: &caller, body: req.context.as_ref() };
    // The end user's address: what an authenticated backend names in `context.client_ip` (never
    // its own address: a lockout must not lock out every user behind it), else, for an anonymous
    // caller, the address the request came from.
    let client_ip: Option<IpAddr> = if full {
        req.context.as_ref().and_then(|c| c.client_ip.as_deref()).and_then(|ip| ip.parse().ok())
    } else {
        caller.1.client_ip
    };
    let ratelimit = req.ratelimit.as_ref().map(|r| ward_engine::LimitAsk {
        name: &r.name,
        cost: r.cost.unwrap_or(1),
        per_address: r.per_address,
    });
    let dpop = req.dpop.as_ref().map(|d| DpopAsk { proof: &d.proof, htm: &d.htm, htu: &d.htu });
    let opts = VerifyOptions {
        kinds,
        scopes: &req.scopes,
        audience: req.audience.as_deref(),
        client_ip,
        ratelimit,
        dpop,
    };
    let verification = state.engine.verify_full(token, &opts, &origin).await;
    let checked = &verification.checked;
    let now = state.engine.now();
    let valid = Verdict::of(Reason::Valid);
    // The answer borrows from the verified record: no copies on the hot path.
    let (verdict, key, session, access) = match checked {
        Checked::Valid(Verified::Access(v)) => (
            &valid,
            None,
            None,
            Some(AccessView { format: v.format.as_str(), kid: &v.kid, claims: &v.claims }),
        ),
        Checked::Valid(Verified::Key { key, remaining_uses, memo }) => {
            let answer = match unlimited_view(memo, key, now) {
                Some(raw) => KeyAnswer::Serialised(raw),
                None => {
                    let mut view = KeyView::of(key, now);
                    if remaining_uses.is_some() {
                        view.remaining_uses = *remaining_uses;
                    }
                    KeyAnswer::View(Box::new(view))
                }
            };
            (&valid, Some(answer), None, None)
        }
        Checked::Valid(Verified::Session { session, last_seen }) => {
            (&valid, None, Some(SessionView::of(session, now, *last_seen)), None)
        }
        Checked::Invalid(v) => (v, None, None, None),
    };
    // A refusal is explained in the words of the token's format: a JWT is told about its
    // signature, never about a Ward key's secret.
    let info = match verdict.reason {
        Reason::Valid => verdict.reason.info(),
        r => r.info_for(Presented::format_of(token)),
    };
    let status = verdict_status(verdict.reason);
    let limit_view = verification.limit.as_ref().map(|l| RatelimitView {
        name: &l.limit.name,
        limit: l.limit.limit,
        period: l.limit.period,
        remaining: l.remaining,
        reset: l.reset,
    });
    let mut extra = RateHeaders::default();
    if let Some(l) = &verification.limit {
        extra.policy = Some(format!("\"{}\";q={};w={}", l.limit.name, l.limit.limit, l.limit.period));
        extra.state = Some(format!("\"{}\";r={};t={}", l.limit.name, l.remaining, l.reset));
    }
    extra.retry_after = verification.retry_after.filter(|_| verdict.reason == Reason::RateLimited);
    let answer = if full {
        let body = VerifyResponse {
            valid: verdict.reason.is_valid(),
            reason: info.code,
            message: info.message,
            hint: info.hint,
            detail: verdict.detail.as_deref(),
            key,
            session,
            access_token: access,
            ratelimit: limit_view,
            retry_after: extra.retry_after,
            dpop_nonce: (verdict.reason == Reason::NonceRequired)
                .then(|| state.engine.dpop_nonce())
                .flatten(),
        };
        json_answer(status, body)
    } else {
        let body = AnonymousVerifyResponse { valid: verdict.reason.is_valid(), error: info.error };
        json_answer(status, body)
    };
    Ok(extra.apply(answer))
}

/// The rate-limit headers of an answer: `RateLimit-Policy` and `RateLimit` (the IETF httpapi
/// draft's structured fields) when a named limit was applied, `Retry-After` when refused.
#[derive(Debug, Default)]
pub struct RateHeaders {
    /// `RateLimit-Policy`: `"name";q=<limit>;w=<period>`.
    pub policy: Option<String>,
    /// `RateLimit`: `"name";r=<remaining>;t=<seconds to full>`.
    pub state: Option<String>,
    /// `Retry-After`, in seconds.
    pub retry_after: Option<u64>,
}

impl RateHeaders {
    /// Adds the headers to `resp`.
    pub fn apply(self, mut resp: Response) -> Response {
        let h = resp.headers_mut();
        if let Some(v) = self.policy.and_then(|v| HeaderValue::from_str(&v).ok()) {
            h.insert("ratelimit-policy", v);
        }
        if let Some(v) = self.state.and_then(|v| HeaderValue::from_str(&v).ok()) {
            h.insert("ratelimit", v);
        }
        if let Some(s) = self.retry_after {
            h.insert(axum::http::header::RETRY_AFTER, HeaderValue::from(s));
        }
        resp
    }
}

/// Room for a full answer with a key's or session's metadata (about 400 bytes) in one allocation.
const ANSWER_CAPACITY: usize = 1024;

/// The same response as `(status, Json(body))`, serialised into a buffer sized for a verify
/// answer: axum's `Json` starts at 128 bytes and grew its buffer two or three times per full
/// answer, which showed in profiles of the hot path (docs/benchmarks.md).
fn json_answer<T: Serialize>(status: StatusCode, body: T) -> Response {
    let mut buf = Vec::with_capacity(ANSWER_CAPACITY);
    match serde_json::to_writer(&mut buf, &body) {
        Ok(()) => (status, [(CONTENT_TYPE, HeaderValue::from_static("application/json"))], Body::from(buf))
            .into_response(),
        // These types always serialise; should one ever fail, answer exactly as `Json` does.
        Err(_) => (status, Json(body)).into_response(),
    }
}
