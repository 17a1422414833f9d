//! `/v1/forward-auth`: Ward as the authorization step of a gateway (nginx `auth_request`, Traefik
//! `forwardAuth`, Envoy `ext_authz` in HTTP mode).
//!
//! The gateway sends the client's request headers (or just the ones it is told to). The token
//! comes from `Authorization` or from the configured cookie, the required scopes from
//! `X-Ward-Require-Scopes`. A good token answers `200` with `X-Ward-Subject`, `X-Ward-Scopes`,
//! `X-Ward-Token-Id` and `X-Ward-Kind` for the upstream; a refused one `401` (`403` for a missing
//! scope) with an RFC 6750 challenge naming Ward's reason. The original request
//! (`X-Original-URI`/`X-Forwarded-Uri`, `X-Original-Method`/`X-Forwarded-Method`) must be
//! well-formed: a malformed one is `400`, never a pass (Authelia's CVE-2021-32637 answered 200).
//!
//! The gateway calls anonymously, so the challenge carries the reason code and its generic
//! message, never a record's particulars. The store being down is `503`, never `401`.

use axum::extract::State;
use axum::http::header::{AUTHORIZATION, COOKIE, RETRY_AFTER, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use ward_core::key::valid_scope;
use ward_core::{Reason, Verdict};
use ward_engine::{Checked, Verified, VerifyOptions};

use crate::extract::Origin;
use crate::problem::ApiError;
use crate::AppState;

/// The header naming the scopes a route needs (space- or comma-separated).
pub const REQUIRE_SCOPES: &str = "x-ward-require-scopes";
/// Longest original URI accepted.
const MAX_URI_LEN: usize = 8192;
/// Most scopes one request may require.
const MAX_REQUIRED: usize = 32;

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Result<Option<&'a str>, ApiError> {
    let mut all = headers.get_all(name).iter();
    let Some(v) = all.next() else { return Ok(None) };
    if all.next().is_some() {
        return Err(ApiError::BadRequest(format!("more than one `{name}` header")));
    }
    v.to_str().map(Some).map_err(|_| ApiError::BadRequest(format!("`{name}` is not visible ASCII")))
}

/// The original request's URI: an origin-form path (`/a/b?c`: a `/`, not two, then visible
/// ASCII only), or absent. The OpenAPI document states the same rule as a pattern.
fn original_uri(headers: &HeaderMap) -> Result<Option<&str>, ApiError> {
    let uri = match (header(headers, "x-original-uri")?, header(headers, "x-forwarded-uri")?) {
        (Some(a), Some(b)) if a != b => {
            return Err(ApiError::BadRequest("`X-Original-URI` and `X-Forwarded-Uri` disagree".into()))
        }
        (Some(u), _) | (None, Some(u)) => u,
        (None, None) => return Ok(None),
    };
    let well_formed = uri.len() <= MAX_URI_LEN
        && uri.starts_with('/')
        && !uri.starts_with("//")
        && uri.bytes().all(|b| b.is_ascii_graphic());
    if !well_formed {
        return Err(ApiError::BadRequest(format!(
            "the original request URI {:?} is not a well-formed origin-form URI (RFC 9112 §3.2.1)",
            uri.chars().take(80).collect::<String>()
        )));
    }
    Ok(Some(uri))
}

fn original_method(headers: &HeaderMap) -> Result<Option<&str>, ApiError> {
    let m = header(headers, "x-original-method")?.or(header(headers, "x-forwarded-method")?);
    match m {
        Some(m) if m.is_empty() || m.len() > 32 || !m.bytes().all(|b| b.is_ascii_alphabetic()) => {
            Err(ApiError::BadRequest(format!("the original method {m:?} is not an HTTP method")))
        }
        other => Ok(other),
    }
}

fn required_scopes(headers: &HeaderMap) -> Result<Vec<String>, ApiError> {
    let Some(v) = header(headers, REQUIRE_SCOPES)? else { return Ok(Vec::new()) };
    let scopes: Vec<String> = v.split([' ', ',']).filter(|s| !s.is_empty()).map(str::to_string).collect();
    if scopes.len() > MAX_REQUIRED {
        return Err(ApiError::BadRequest(format!("at most {MAX_REQUIRED} scopes may be required")));
    }
    if let Some(bad) = scopes.iter().find(|s| !valid_scope(s)) {
        return Err(ApiError::BadRequest(format!("`X-Ward-Require-Scopes`: {bad:?} is not a scope name")));
    }
    Ok(scopes)
}

/// The token: `Authorization: Bearer` (or `DPoP`), else the configured cookie.
fn token<'a>(state: &AppState, headers: &'a HeaderMap) -> Result<Option<&'a str>, ApiError> {
    if let Some(v) = header(headers, AUTHORIZATION.as_str())? {
        let (scheme, rest) = v.split_once(' ').unwrap_or((v, ""));
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(ApiError::BadRequest(format!(
                "`Authorization` uses the `{scheme}` scheme; forward-auth takes `Bearer` tokens"
            )));
        }
        return Ok(Some(rest.trim()).filter(|t| !t.is_empty()));
    }
    let Some(name) = state.http.forward_auth_cookie.as_deref() else { return Ok(None) };
    for v in headers.get_all(COOKIE) {
        let Ok(v) = v.to_str() else { continue };
        for pair in v.split(';') {
            if let Some((k, val)) = pair.trim().split_once('=') {
                if k == name && !val.is_empty() {
                    return Ok(Some(val));
                }
            }
        }
    }
    Ok(None)
}

fn challenge(v: &Verdict) -> Response {
    let info = v.reason.info();
    let status = match v.reason {
        Reason::InsufficientScope => StatusCode::FORBIDDEN,
        Reason::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        _ => StatusCode::UNAUTHORIZED,
    };
    let error = match v.reason {
        Reason::Missing => None,
        Reason::InsufficientScope => Some("insufficient_scope"),
        _ => Some("invalid_token"),
    };
    // RFC 6750 §3: quoted-string values; the message has no quote or backslash, but be sure.
    let description = format!("{}: {}", info.code, info.message).replace(['"', '\\'], "'");
    let value = match error {
        Some(e) => format!("Bearer realm=\"ward\", error=\"{e}\", error_description=\"{description}\""),
        None => "Bearer realm=\"ward\"".to_string(),
    };
    let mut resp = status.into_response();
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&value) {
        h.insert(WWW_AUTHENTICATE, v);
    }
    if let Ok(v) = HeaderValue::from_str(info.code) {
        h.insert("x-ward-reason", v);
    }
    resp
}

/// Decides a gateway's request: `200` with the identity headers, or the challenge.
pub async fn decide(state: &AppState, headers: &HeaderMap) -> Result<Response, ApiError> {
    original_uri(headers)?;
    original_method(headers)?;
    let scopes = required_scopes(headers)?;
    let Some(token) = token(state, headers)? else {
        return Ok(challenge(&Verdict::with(Reason::Missing, "no token in `Authorization` or the cookie")));
    };
    let origin = Origin::of(headers);
    let opts = VerifyOptions { scopes: &scopes, client_ip: origin.client_ip, ..VerifyOptions::default() };
    let verification = state.engine.verify_full(token, &opts, &origin).await;
    let verified = match verification.checked {
        Checked::Valid(v) => v,
        Checked::Invalid(v) if v.reason == Reason::Unavailable => {
            return Err(ApiError::Unavailable(v.detail.unwrap_or_default()))
        }
        Checked::Invalid(v) => {
            let mut resp = challenge(&v);
            if let Some(s) = verification.retry_after.filter(|_| v.reason == Reason::RateLimited) {
                resp.headers_mut().insert(RETRY_AFTER, HeaderValue::from(s.max(1)));
            }
            return Ok(resp);
        }
    };
    let (kind, id, granted) = match &verified {
        Verified::Key { key, .. } => ("api_key", key.id.clone(), key.scopes.join(" ")),
        Verified::Session { session, .. } => ("session", session.id.clone(), String::new()),
        Verified::Access(a) => {
            ("access_token", a.claims.jti.clone(), a.claims.scope.clone().unwrap_or_default())
        }
    };
    let mut resp = StatusCode::OK.into_response();
    let h = resp.headers_mut();
    for (name, value) in [
        ("x-ward-subject", verified.subject()),
        ("x-ward-scopes", granted.as_str()),
        ("x-ward-token-id", id.as_str()),
        ("x-ward-kind", kind),
    ] {
        // A subject is a label without control characters; one that is not a header value
        // (non-ASCII) is sent percent-encoded rather than dropped.
        let v = HeaderValue::from_str(value).unwrap_or_else(|_| {
            HeaderValue::from_str(&percent_encode(value)).unwrap_or(HeaderValue::from_static(""))
        });
        h.insert(name, v);
    }
    Ok(resp)
}

fn percent_encode(s: &str) -> String {
    use std::fmt::Write;
    s.bytes().fold(String::with_capacity(s.len()), |mut out, b| {
        if b.is_ascii_graphic() && b != b'%' {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
        out
    })
}

macro_rules! forward_auth {
    ($($name:ident, $method:ident, $id:literal);+ $(;)?) => {$(
        /// Forward-auth for a gateway (nginx `auth_request`, Traefik `forwardAuth`, Envoy
        /// `ext_authz`): `200` with `X-Ward-Subject`, `X-Ward-Scopes`, `X-Ward-Token-Id` and
        /// `X-Ward-Kind`, or `401`/`403` with `WWW-Authenticate: Bearer error=…,
        /// error_description="<reason>: <message>"`. Any method: gateways forward the original one.
        #[utoipa::path($method, path = "/v1/forward-auth", tag = "forward-auth", operation_id = $id,
            params(
                ("X-Ward-Require-Scopes" = Option<String>, Header, description = "Scopes the route needs, space- or comma-separated"),
                ("X-Original-URI" = Option<String>, Header, description = "The original request's URI (nginx); `X-Forwarded-Uri` for Traefik"),
                ("X-Original-Method" = Option<String>, Header, description = "The original request's method; `X-Forwarded-Method` for Traefik"),
            ),
            responses(
                (status = 200, description = "The token is good: the identity is in the `X-Ward-*` headers"),
                (status = 400, description = "A malformed original request or header", body = crate::problem::Problem),
                (status = 401, description = "No token, or a refused one: `WWW-Authenticate` and `X-Ward-Reason` say why"),
                (status = 403, description = "The token lacks a required scope (`insufficient_scope`)"),
                (status = 429, description = "`rate_limited`, with `Retry-After`"),
                (status = 503, description = "The store cannot be reached: no verdict", body = crate::problem::Problem),
            ))]
        pub async fn $name(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
            decide(&state, &headers).await
        }
    )+};
}

forward_auth! {
    forward_get, get, "forwardAuthGet";
    forward_post, post, "forwardAuthPost";
    forward_put, put, "forwardAuthPut";
    forward_patch, patch, "forwardAuthPatch";
    forward_delete, delete, "forwardAuthDelete";
}
