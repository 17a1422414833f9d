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
use ward_core::Reason;
use ward_engine::{Call, Checked, ClientRevocation, Format, Grant, Introspected, Presented, Verified};

use ward_engine::ContextSource;

use crate::dpop::{oauth_refusal, proof_key, with_nonce};
use crate::extract::{bearer_token, Caller, Origin, RawBody, SubjectPath};
use crate::problem::{ApiError, OAuthError, Problem};
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
        // RFC 6749 §3.2: the parameters Ward reads must not repeat; others "MUST" be ignored.
        for (i, (k, _)) in pairs.iter().enumerate() {
            if KNOWN.contains(&k.as_str()) && pairs.iter().skip(i + 1).any(|(k2, _)| k2 == k) {
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

/// Every form parameter the OAuth endpoints read.
const KNOWN: &[&str] = &[
    "grant_type",
    "scope",
    "audience",
    "resource",
    "refresh_token",
    "client_id",
    "client_secret",
    "token",
    "token_type_hint",
];

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
#[utoipa::path(post, path = "/oauth2/token", tag = "oauth", operation_id = "oauthToken",
    security(("client_secret_basic" = []), ()),
    request_body(content_type = "application/x-www-form-urlencoded", description = "`TokenForm`; without Basic credentials, `client_id` and `client_secret` go in the form (`client_secret_post`)"),
    responses((status = 200, description = "RFC 6749 §5.1, `Cache-Control: no-store`", body = TokenResponse),
        (status = 400, description = "RFC 6749 §5.2", body = crate::problem::OAuthErrorBody),
        (status = 401, description = "`invalid_client`, with `WWW-Authenticate: Basic`", body = crate::problem::OAuthErrorBody)))]
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
            let jkt = match proof_key(&state, &headers, "/oauth2/token", &Origin::of(&headers)).await {
                Ok(k) => k,
                Err(refused) => return Ok(oauth_refusal(&state, refused)),
            };
            let grant = Grant {
                subject: client.id.clone(),
                audience,
                scopes,
                expires_in: None,
                format: Format::Jwt,
                client_id: Some(client.id.clone()),
                jkt,
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
            let jkt = match proof_key(&state, &headers, "/oauth2/token", &ctx).await {
                Ok(k) => k,
                Err(refused) => return Ok(oauth_refusal(&state, refused)),
            };
            match state.engine.refresh(rt, Some(&client.id), narrow, jkt.as_deref(), &ctx).await {
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
    Ok(with_nonce(&state, no_store(Json(TokenResponse::from(answer)).into_response())))
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

/// Who asks an introspection question: a Ward key (with `ward:verify`, told everything) or an
/// OAuth client (told about its own tokens only).
enum Asker {
    Key(Caller),
    Client(Arc<Client>),
}

/// The introspection caller. RFC 7662 §2.1 requires authorization, so an anonymous caller is
/// refused (`invalid_client`), and one presenting bad credentials too — never treated as
/// anonymous. The Bearer scheme is matched in any case (RFC 9110 §11.1).
async fn introspection_caller(state: &AppState, headers: &HeaderMap, form: &Form) -> Result<Asker, ApiError> {
    if let Some(token) = headers.get(AUTHORIZATION).and_then(bearer_token) {
        let origin = Origin::of(headers);
        return match state.engine.verify_caller(token, origin.client_ip, &origin).await {
            Checked::Valid(Verified::Key { key, .. }) => {
                let caller = Caller(Some(key), origin);
                caller.check(SCOPE_VERIFY)?;
                Ok(Asker::Key(caller))
            }
            Checked::Invalid(v) if v.reason == Reason::Unavailable => {
                Err(ApiError::Unavailable(v.detail.unwrap_or_default()))
            }
            Checked::Invalid(v) if v.reason == Reason::RateLimited => {
                Err(crate::extract::refused(state, &origin, v))
            }
            _ => Err(oauth(OAuthError::new("invalid_client", "the Ward key is not valid for introspection"))),
        };
    }
    match client_credentials(headers, form).map_err(oauth)? {
        None => Err(oauth(OAuthError::new(
            "invalid_client",
            "introspection needs client authentication (HTTP Basic or client_id and client_secret) or a Ward key with `ward:verify`",
        ))),
        Some(_) => require_client(state, headers, form).await.map(Asker::Client),
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

/// Token introspection (RFC 7662), for an authorized caller only (§2.1): an OAuth client learns
/// about its own tokens (`active: false` and nothing more for any other, §2.2 and §4); a Ward key
/// with `ward:verify` learns about every token, with Ward's reason, message and hint.
#[utoipa::path(post, path = "/oauth2/introspect", tag = "oauth", operation_id = "oauthIntrospect",
    security(("client_secret_basic" = []), ("bearer" = ["ward:verify"]), ()),
    request_body(content_type = "application/x-www-form-urlencoded", description = "`IntrospectForm`; an OAuth client may send `client_id` and `client_secret` in it (`client_secret_post`)"),
    responses((status = 200, description = "RFC 7662 §2.2", body = Introspection),
        (status = 400, description = "RFC 6749 §5.2", body = crate::problem::OAuthErrorBody),
        (status = 401, description = "`invalid_client` (RFC 7662 §2.1: the caller must be authorized)", body = crate::problem::OAuthErrorBody)))]
pub async fn introspect(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    let form = Form::parse(&headers, &body).map_err(oauth)?;
    let asker = introspection_caller(&state, &headers, &form).await?;
    let token =
        form.get("token").ok_or_else(|| oauth(OAuthError::new("invalid_request", "`token` is required")))?;
    let client = match &asker {
        Asker::Key(caller) => {
            caller.require(&state, SCOPE_VERIFY).await?;
            None
        }
        Asker::Client(c) => Some(c.id.as_str()),
    };
    // RFC 7662 §4: token fishing through introspection is throttled per address like any
    // other guessing.
    let origin = Origin::of(&headers);
    if let Some((v, wait)) = origin.client_ip.and_then(|ip| state.engine.locked_out(ip)) {
        return Err(ApiError::RateLimited(v, wait));
    }
    let introspected = state.engine.introspect(token, client).await;
    if let (Some(ip), Err(e)) = (origin.client_ip, &introspected) {
        // A client is not told why a token it cannot attribute failed; it is fishing all the same.
        if e.as_ref().is_none_or(|v| ward_engine::guard::is_guess(v.reason)) {
            state.engine.guess_failed(ip, &origin);
        }
    }
    let answer = match introspected {
        Ok(i) => Introspection { ward_reason: Some("valid"), ..introspection(i) },
        Err(Some(v)) if v.reason == Reason::Unavailable => {
            return Err(ApiError::Unavailable(v.detail.unwrap_or_default()))
        }
        // Ward's explanation, in the words of the token's format.
        Err(Some(v)) => {
            let info = v.reason.info_for(Presented::format_of(token));
            Introspection {
                active: false,
                ward_reason: Some(info.code),
                ward_message: Some(info.message),
                ward_hint: Some(info.hint),
                ward_detail: v.detail,
                ..Introspection::default()
            }
        }
        // Another client's token, or one Ward cannot attribute to this client: inactive, and
        // nothing more (RFC 7662 §2.2, §4).
        Err(None) => Introspection::default(),
    };
    Ok(no_store(Json(answer).into_response()))
}

/// Token revocation (RFC 7009): a client revokes its own refresh token (and with it the family's
/// access tokens) or access token. Answers 200 whether or not the token was valid; a valid token
/// issued to another client is refused (`unauthorized_client`, §2.1) and stays as it was.
#[utoipa::path(post, path = "/oauth2/revoke", tag = "oauth", operation_id = "oauthRevoke",
    security(("client_secret_basic" = []), ()),
    request_body(content_type = "application/x-www-form-urlencoded", description = "`RevokeForm`; `client_id` and `client_secret` may go in it (`client_secret_post`)"),
    responses((status = 200, description = "Revoked, or there was nothing to revoke (RFC 7009 §2.2)"),
        (status = 400, description = "RFC 7009 §2.2.1", body = crate::problem::OAuthErrorBody),
        (status = 401, description = "`invalid_client`, with `WWW-Authenticate: Basic`", body = crate::problem::OAuthErrorBody)))]
pub async fn revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    let form = Form::parse(&headers, &body).map_err(oauth)?;
    let client = require_client(&state, &headers, &form).await?;
    let token =
        form.get("token").ok_or_else(|| oauth(OAuthError::new("invalid_request", "`token` is required")))?;
    match state.engine.revoke_for_client(token, &client.id, &client_call(&client, &headers)).await? {
        ClientRevocation::Revoked | ClientRevocation::Nothing => Ok(no_store(().into_response())),
        // RFC 7009 §2.1: a token issued to another client is refused, and stays as it was.
        ClientRevocation::NotYours => Err(oauth(OAuthError::new(
            "unauthorized_client",
            "this token was not issued to the authenticated client, so it cannot revoke it",
        ))),
    }
}

/// The JWKS (RFC 7517): public keys that are pending, active or retiring.
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "oauth", operation_id = "getJwks",
    responses((status = 200, description = "`JwkSet` (RFC 7517 §5), `Cache-Control: public, max-age=300`"), (status = 503, body = Problem)))]
pub async fn jwks(State(state): State<AppState>) -> Result<Response, ApiError> {
    let keys = state.engine.jwks().await?;
    let mut resp = Json(serde_json::json!({ "keys": keys })).into_response();
    // Pending keys are published `key_publish_lead` before they sign, so caches this short
    // always know a key before they meet a token signed with it.
    resp.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    Ok(resp)
}

/// The PASETO v4.public keys, as PASERK `k4.public` strings with their `kid`s.
#[utoipa::path(get, path = "/.well-known/paserk.json", tag = "oauth", operation_id = "getPaserks",
    responses((status = 200, description = "`PaserkSet`: the PASETO v4.public keys"), (status = 503, body = Problem)))]
pub async fn paserk(State(state): State<AppState>) -> Result<Response, ApiError> {
    let keys = state.engine.paserks().await?;
    let mut resp = Json(serde_json::json!({ "keys": keys })).into_response();
    resp.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    Ok(resp)
}

/// Authorization-server metadata (RFC 8414).
#[utoipa::path(get, path = "/.well-known/oauth-authorization-server", tag = "oauth", operation_id = "getAuthorizationServerMetadata",
    responses((status = 200, description = "`AuthorizationServerMetadata` (RFC 8414 §3.2)")))]
pub async fn metadata(State(state): State<AppState>) -> Response {
    metadata_answer(&state)
}

/// Authorization-server metadata for an issuer with a path (`https://h/tenant`): RFC 8414 §3.1
/// puts the well-known segment between the host and the path, so it is served at
/// `/.well-known/oauth-authorization-server/tenant`. Another path names no issuer here (404).
#[utoipa::path(get, path = "/.well-known/oauth-authorization-server/{issuer_path}", tag = "oauth", operation_id = "getAuthorizationServerMetadataForPath",
    params(("issuer_path" = String, Path, description = "The path of Ward's issuer URL, without its leading `/`")),
    responses((status = 200, description = "`AuthorizationServerMetadata` (RFC 8414 §3.2)"), (status = 404, body = crate::problem::Problem)))]
pub async fn metadata_at(
    State(state): State<AppState>,
    SubjectPath(issuer_path): SubjectPath,
) -> Result<Response, ApiError> {
    let issuer = state.engine.issuer();
    let own = issuer.split_once("://").map_or("", |(_, rest)| rest.split_once('/').map_or("", |(_, p)| p));
    if own.trim_matches('/') != issuer_path || issuer_path.is_empty() {
        return Err(ApiError::NotFound(format!(
            "this Ward's issuer is `{issuer}`; its metadata is not under `{issuer_path}`"
        )));
    }
    Ok(metadata_answer(&state))
}

fn metadata_answer(state: &AppState) -> Response {
    let issuer = state.engine.issuer();
    let iss = issuer.trim_end_matches('/');
    let mut resp = Json(serde_json::json!({
        "issuer": issuer,
        "token_endpoint": format!("{iss}/oauth2/token"),
        "jwks_uri": format!("{iss}/.well-known/jwks.json"),
        "introspection_endpoint": format!("{iss}/oauth2/introspect"),
        "revocation_endpoint": format!("{iss}/oauth2/revoke"),
        "grant_types_supported": ["client_credentials", "refresh_token"],
        "dpop_signing_alg_values_supported": ward_signed::PROOF_ALGORITHMS,
        // RFC 8414 §2 makes `response_types_supported` REQUIRED (non-empty). Ward has no
        // authorization endpoint, so no response type is really in use; `token` (the value
        // RFC 7591 §2 pairs with an answer that is a token, and what client-credentials-only
        // servers publish) satisfies strict clients such as oauth4webapi. No
        // `authorization_endpoint` is published, so no client can start a flow that needs one.
        "response_types_supported": ["token"],
        // Only registered methods (RFC 8414 §2, the IANA "Token Endpoint Authentication
        // Methods" registry): a Ward key as Bearer at the introspection endpoint is Ward's own
        // addition and is documented in the OpenAPI document, not here.
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "service_documentation": format!("{iss}/openapi.json"),
    }))
    .into_response();
    resp.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    resp
}
