//! The OAuth 2.0 surface: token (RFC 6749), introspection (RFC 7662), revocation (RFC 7009),
//! authorization-server metadata (RFC 8414) and the JWKS (RFC 7517).

use axum::extract::State;
use axum::http::header::{AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, PRAGMA};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use serde::Serialize;
use std::sync::Arc;
use utoipa::ToSchema;

use ward_core::client::Client;
use ward_core::{Reason, TokenKind};
use ward_engine::{Call, Checked, Format, Grant, Introspected, Verified, VerifyOptions};

use ward_engine::ContextSource;

use crate::extract::{Origin, RawBody};
use crate::problem::{ApiError, OAuthError};
use crate::routes::access::TokenResponse;
use crate::{AppState, SCOPE_VERIFY};

/// A form body (`application/x-www-form-urlencoded`), each parameter at most once (RFC 6749 §3.2).
struct Form(Vec<(String, String)>);

impl Form {
    fn parse(headers: &HeaderMap, body: &[u8]) -> Result<Form, OAuthError> {
        let ct = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        if !ct
            .split(';')
            .next()
            .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"))
        {
            return Err(OAuthError::new(
                "invalid_request",
                "send the parameters as application/x-www-form-urlencoded",
            ));
        }
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
            .map_err(|e| OAuthError::new("invalid_request", format!("the form body does not parse: {e}")))?;
        for (i, (k, _)) in pairs.iter().enumerate() {
            if pairs.iter().skip(i + 1).any(|(k2, _)| k2 == k) {
                return Err(OAuthError::new(
                    "invalid_request",
                    format!("parameter `{k}` appears more than once"),
                ));
            }
        }
        Ok(Form(pairs))
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
    }
}

fn oauth(e: OAuthError) -> ApiError {
    ApiError::OAuth(e)
}

/// The client's credentials from HTTP Basic (RFC 6749 §2.3.1) or the form, never both.
fn client_credentials(headers: &HeaderMap, form: &Form) -> Result<Option<(String, String)>, OAuthError> {
    let basic = match headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        Some(v) if v.get(..6).is_some_and(|p| p.eq_ignore_ascii_case("basic ")) => {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(v.get(6..).unwrap_or_default().trim())
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| {
                    OAuthError::new("invalid_client", "the Basic credentials are not base64 of id:secret")
                })?;
            let (id, secret) = decoded.split_once(':').ok_or_else(|| {
                OAuthError::new("invalid_client", "the Basic credentials are not id:secret")
            })?;
            let unescape = |s: &str| {
                serde_urlencoded::from_str::<Vec<(String, String)>>(&format!("v={s}"))
                    .ok()
                    .and_then(|v| v.into_iter().next())
                    .map(|(_, v)| v)
                    .unwrap_or_else(|| s.to_string())
            };
            Some((unescape(id), unescape(secret)))
        }
        _ => None,
    };
    let posted = match (form.get("client_id"), form.get("client_secret")) {
        (Some(id), Some(secret)) => Some((id.to_string(), secret.to_string())),
        _ => None,
    };
    match (basic, posted) {
        (Some(_), Some(_)) => {
            Err(OAuthError::new("invalid_request", "use one client authentication method, not two"))
        }
        (b, p) => Ok(b.or(p)),
    }
}

async fn require_client(state: &AppState, headers: &HeaderMap, form: &Form) -> Result<Arc<Client>, ApiError> {
    let Some((id, secret)) = client_credentials(headers, form).map_err(oauth)? else {
        return Err(oauth(OAuthError::new("invalid_client", "client authentication is required")));
    };
    match state.engine.authenticate_client(&id, &secret, &Origin::of(headers)).await {
        Ok(c) => Ok(c),
        Err(v) if v.reason == Reason::Unavailable => Err(ApiError::Unavailable(v.detail.unwrap_or_default())),
        Err(v) => {
            tracing::info!(client_id = ?id, reason = %v.reason, "oauth client authentication failed");
            Err(oauth(OAuthError::new("invalid_client", "client authentication failed")))
        }
    }
}

fn client_call(client: &Client, headers: &HeaderMap) -> Call {
    Call { actor: format!("client:{}", client.id), context: Origin::of(headers).context() }
}

fn no_store(mut resp: Response) -> Response {
    resp.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp.headers_mut().insert(PRAGMA, HeaderValue::from_static("no-cache"));
    resp
}

fn requested_scopes(form: &Form, allowed: &[String]) -> Result<Vec<String>, OAuthError> {
    match form.get("scope") {
        None => Ok(allowed.to_vec()),
        Some(s) => {
            let asked: Vec<String> = s.split(' ').filter(|x| !x.is_empty()).map(str::to_string).collect();
            match asked.iter().find(|a| !allowed.contains(a)) {
                Some(bad) => Err(OAuthError::new(
                    "invalid_scope",
                    format!("scope `{bad}` is not allowed for this client"),
                )),
                None => Ok(asked),
            }
        }
    }
}

/// The token endpoint: `client_credentials` and `refresh_token` grants.
#[utoipa::path(post, path = "/oauth2/token", tag = "oauth",
    request_body(content_type = "application/x-www-form-urlencoded", description = "grant_type, scope, audience, refresh_token, client_id, client_secret"),
    responses((status = 200, body = TokenResponse), (status = 400, body = crate::problem::OAuthErrorBody), (status = 401, body = crate::problem::OAuthErrorBody)))]
pub async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    let form = Form::parse(&headers, &body).map_err(oauth)?;
    let grant_type = form
        .get("grant_type")
        .ok_or_else(|| oauth(OAuthError::new("invalid_request", "`grant_type` is required")))?;
    let client = require_client(&state, &headers, &form).await?;
    let answer = match grant_type {
        "client_credentials" => {
            let scopes = requested_scopes(&form, &client.scopes).map_err(oauth)?;
            let audience = match form.get("audience").or_else(|| form.get("resource")) {
                Some(a) if client.audiences.iter().any(|x| x == a) => vec![a.to_string()],
                Some(a) => {
                    return Err(oauth(OAuthError::new(
                        "invalid_target",
                        format!("audience `{a}` is not allowed for this client"),
                    )))
                }
                None => client.audiences.clone(),
            };
            let grant = Grant {
                subject: client.id.clone(),
                audience,
                scopes,
                expires_in: None,
                format: Format::Jwt,
                client_id: Some(client.id.clone()),
            };
            state.engine.issue_access(&grant, false, &client_call(&client, &headers)).await?
        }
        "refresh_token" => {
            let rt = form
                .get("refresh_token")
                .ok_or_else(|| oauth(OAuthError::new("invalid_request", "`refresh_token` is required")))?;
            let narrow = form
                .get("scope")
                .map(|s| s.split(' ').filter(|x| !x.is_empty()).map(str::to_string).collect());
            let ctx = Origin::of(&headers);
            match state.engine.refresh(rt, Some(&client.id), narrow, &ctx).await {
                Ok(pair) => pair,
                Err(v) if v.reason == Reason::InsufficientScope => {
                    return Err(oauth(OAuthError {
                        error: "invalid_scope",
                        description: v.detail.clone().unwrap_or_default(),
                        verdict: Some(v),
                    }))
                }
                Err(v) if v.reason == Reason::Unavailable => {
                    return Err(ApiError::Unavailable(v.detail.unwrap_or_default()))
                }
                Err(v) => {
                    return Err(oauth(OAuthError {
                        error: "invalid_grant",
                        description: v.reason.info().message.to_string(),
                        verdict: Some(v),
                    }))
                }
            }
        }
        other => {
            return Err(oauth(OAuthError::new(
                "unsupported_grant_type",
                format!("grant type `{other}` is not supported; use client_credentials or refresh_token"),
            )))
        }
    };
    Ok(no_store(Json(TokenResponse::from(answer)).into_response()))
}

/// An RFC 7662 introspection answer, with Ward's explanation for authenticated callers.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct Introspection {
    /// Whether the token is active.
    pub active: bool,
    /// `access_token` or `refresh_token`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_type: Option<&'static str>,
    /// Space-separated scopes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// The client it was issued to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// Its subject.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// Its audiences.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aud: Option<Vec<String>>,
    /// Its issuer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// Expiry (Unix seconds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    /// Issue time (Unix seconds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    /// Its id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    /// Ward's reason code (authenticated callers only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ward_reason: Option<&'static str>,
    /// Ward's message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ward_message: Option<&'static str>,
    /// Ward's hint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ward_hint: Option<&'static str>,
    /// Ward's particulars.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ward_detail: Option<String>,
}

/// Whether the introspection caller is authenticated: an OAuth client, or a Ward key with
/// `ward:verify`. A caller presenting bad credentials is refused rather than treated as anonymous.
async fn introspection_caller(state: &AppState, headers: &HeaderMap, form: &Form) -> Result<bool, ApiError> {
    let bearer = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")));
    if let Some(token) = bearer {
        let opts = VerifyOptions { kinds: &[TokenKind::ApiKey], ..VerifyOptions::default() };
        return match state.engine.verify(token.trim(), &opts, &Origin::of(headers)).await {
            Checked::Valid(Verified::Key { key, .. })
                if key.scopes.iter().any(|s| s == SCOPE_VERIFY || s == crate::SCOPE_ADMIN) =>
            {
                Ok(true)
            }
            Checked::Invalid(v) if v.reason == Reason::Unavailable => {
                Err(ApiError::Unavailable(v.detail.unwrap_or_default()))
            }
            _ => Err(oauth(OAuthError::new("invalid_client", "the Ward key is not valid for introspection"))),
        };
    }
    match client_credentials(headers, form).map_err(oauth)? {
        None => Ok(false),
        Some(_) => require_client(state, headers, form).await.map(|_| true),
    }
}

fn introspection(i: Introspected) -> Introspection {
    Introspection {
        active: true,
        token_type: Some(i.token_type),
        scope: i.scope,
        client_id: i.client_id,
        sub: Some(i.sub),
        aud: Some(i.aud),
        iss: Some(i.iss),
        exp: Some(i.exp),
        iat: Some(i.iat),
        jti: i.jti,
        ..Introspection::default()
    }
}

/// Token introspection (RFC 7662): `active` for everyone; Ward's reason, message, hint and the
/// token's claims for authenticated callers.
#[utoipa::path(post, path = "/oauth2/introspect", tag = "oauth",
    request_body(content_type = "application/x-www-form-urlencoded", description = "token, token_type_hint"),
    responses((status = 200, body = Introspection), (status = 400, body = crate::problem::OAuthErrorBody)))]
pub async fn introspect(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    let form = Form::parse(&headers, &body).map_err(oauth)?;
    let authenticated = introspection_caller(&state, &headers, &form).await?;
    let token =
        form.get("token").ok_or_else(|| oauth(OAuthError::new("invalid_request", "`token` is required")))?;
    let answer = match state.engine.introspect(token).await.map(introspection) {
        Ok(i) if authenticated => Introspection { ward_reason: Some("valid"), ..i },
        Ok(_) => Introspection { active: true, ..Introspection::default() },
        Err(v) if v.reason == Reason::Unavailable => {
            return Err(ApiError::Unavailable(v.detail.unwrap_or_default()))
        }
        Err(v) if authenticated => {
            let info = v.reason.info();
            Introspection {
                active: false,
                ward_reason: Some(info.code),
                ward_message: Some(info.message),
                ward_hint: Some(info.hint),
                ward_detail: v.detail,
                ..Introspection::default()
            }
        }
        Err(_) => Introspection::default(),
    };
    Ok(no_store(Json(answer).into_response()))
}

/// Token revocation (RFC 7009): a client revokes its own refresh token (and with it the family's
/// access tokens) or access token. Answers 200 whether or not the token was valid.
#[utoipa::path(post, path = "/oauth2/revoke", tag = "oauth",
    request_body(content_type = "application/x-www-form-urlencoded", description = "token, token_type_hint"),
    responses((status = 200, description = "Revoked, or there was nothing to revoke"), (status = 401, body = crate::problem::OAuthErrorBody)))]
pub async fn revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    let form = Form::parse(&headers, &body).map_err(oauth)?;
    let client = require_client(&state, &headers, &form).await?;
    let token =
        form.get("token").ok_or_else(|| oauth(OAuthError::new("invalid_request", "`token` is required")))?;
    state.engine.revoke_for_client(token, &client.id, &client_call(&client, &headers)).await?;
    Ok(no_store(().into_response()))
}

/// The JWKS (RFC 7517): public keys that are pending, active or retiring.
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "oauth", responses((status = 200, description = "A JWK Set")))]
pub async fn jwks(State(state): State<AppState>) -> Result<Response, ApiError> {
    let keys = state.engine.jwks().await?;
    let mut resp = Json(serde_json::json!({ "keys": keys })).into_response();
    // Pending keys are published `key_publish_lead` before they sign, so caches this short
    // always know a key before they meet a token signed with it.
    resp.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    Ok(resp)
}

/// The PASETO v4.public keys, as PASERK `k4.public` strings with their `kid`s.
#[utoipa::path(get, path = "/.well-known/paserk.json", tag = "oauth", responses((status = 200, description = "PASETO public keys")))]
pub async fn paserk(State(state): State<AppState>) -> Result<Response, ApiError> {
    let keys = state.engine.paserks().await?;
    let mut resp = Json(serde_json::json!({ "keys": keys })).into_response();
    resp.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    Ok(resp)
}

/// Authorization-server metadata (RFC 8414).
#[utoipa::path(get, path = "/.well-known/oauth-authorization-server", tag = "oauth",
    responses((status = 200, description = "RFC 8414 metadata")))]
pub async fn metadata(State(state): State<AppState>) -> Response {
    let issuer = state.engine.issuer();
    let iss = issuer.trim_end_matches('/');
    let mut resp = Json(serde_json::json!({
        "issuer": issuer,
        "token_endpoint": format!("{iss}/oauth2/token"),
        "jwks_uri": format!("{iss}/.well-known/jwks.json"),
        "introspection_endpoint": format!("{iss}/oauth2/introspect"),
        "revocation_endpoint": format!("{iss}/oauth2/revoke"),
        "grant_types_supported": ["client_credentials", "refresh_token"],
        "response_types_supported": [],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "bearer"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "service_documentation": format!("{iss}/openapi.json"),
    }))
    .into_response();
    resp.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    resp
}
