//! `/v1/access-tokens` and `/v1/keyring`: signed access tokens for callers that are not OAuth
//! clients, their revocation, and the key ring.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use ward_engine::{Grant, KeyInfo, SignedTarget};
use ward_signed::Algorithm;

use crate::dpop::{problem_refusal, proof_key, with_nonce};
use crate::extract::{ApiJson, Caller};
use crate::problem::{ApiError, Problem};
use crate::routes::keys::RevokeRequest;
use crate::{AppState, SCOPE_ADMIN, SCOPE_ISSUE, SCOPE_REVOKE};

/// How an access token is encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// A JWT (RFC 9068), verifiable by anyone with the JWKS.
    Jwt,
    /// PASETO v4.public, verifiable by anyone with the public key.
    Paseto,
    /// PASETO v4.local: encrypted, only Ward can read or verify it.
    PasetoLocal,
}

impl From<Format> for ward_engine::Format {
    fn from(f: Format) -> Self {
        match f {
            Format::Jwt => ward_engine::Format::Jwt,
            Format::Paseto => ward_engine::Format::Paseto,
            Format::PasetoLocal => ward_engine::Format::PasetoLocal,
        }
    }
}

/// The OAuth 2.0 token answer (RFC 6749 §5.1).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TokenResponse {
    /// The access token.
    pub access_token: String,
    /// `Bearer`, or `DPoP` for a token bound to the key of the request's DPoP proof.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// The refresh token, when one was asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// The granted scopes, space-separated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

impl From<ward_engine::TokenResponse> for TokenResponse {
    fn from(t: ward_engine::TokenResponse) -> Self {
        TokenResponse {
            access_token: t.access_token,
            token_type: t.token_type,
            expires_in: t.expires_in,
            refresh_token: t.refresh_token,
            scope: t.scope,
        }
    }
}

/// One audience or several.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum Audience {
    /// One audience.
    One(String),
    /// Several.
    Many(Vec<String>),
}

impl Audience {
    fn into_vec(self) -> Vec<String> {
        match self {
            Audience::One(a) => vec![a],
            Audience::Many(v) => v,
        }
    }
}

/// Body of `POST /v1/access-tokens`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAccessToken {
    /// `sub`.
    pub subject: String,
    /// `aud`: the resource server(s) the token is for.
    pub audience: Audience,
    /// `scope`.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Seconds of life (default from config, 15 minutes).
    #[serde(default, deserialize_with = "crate::body::whole_opt")]
    pub expires_in: Option<i64>,
    /// `jwt` (default), `paseto` (v4.public) or `paseto-local` (v4.local, only Ward reads it).
    #[serde(default)]
    pub format: Option<Format>,
    /// Also issue a rotating refresh token.
    #[serde(default)]
    pub refresh: bool,
    /// Issue on behalf of this OAuth client (`client_id` claim); its refresh token can then be
    /// used at `POST /oauth2/token` by that client only. Audiences and scopes must be within the
    /// client's.
    #[serde(default)]
    pub client_id: Option<String>,
}

/// Issues a signed access token (and optionally a refresh token), in the OAuth token-answer shape.
/// With a `DPoP` proof header (RFC 9449, made for `POST` to this URL) both are bound to the
/// proof's key: the access token carries `cnf.jkt` and `token_type` is `DPoP`.
#[utoipa::path(post, path = "/v1/access-tokens", tag = "access-tokens", operation_id = "createAccessToken", request_body = CreateAccessToken,
    security(("bearer" = ["ward:issue"])),
    params(("DPoP" = Option<String>, Header, description = "A DPoP proof (RFC 9449) to bind the tokens to")),
    responses((status = 201, body = TokenResponse), (status = 400, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    ApiJson(req): ApiJson<CreateAccessToken>,
) -> Result<Response, ApiError> {
    caller.check(SCOPE_ISSUE)?;
    let mut grant = Grant {
        subject: req.subject,
        audience: req.audience.into_vec(),
        scopes: req.scopes,
        expires_in: req.expires_in,
        format: req.format.unwrap_or(Format::Jwt).into(),
        client_id: req.client_id,
        jkt: None,
    };
    state.engine.check_grant(&grant)?;
    grant.jkt = match proof_key(&state, &headers, "/v1/access-tokens", &caller.call().context).await {
        Ok(k) => k,
        Err(refused) => return Ok(problem_refusal(&state, refused)),
    };
    caller.require(&state, SCOPE_ISSUE).await?;
    let answer = state.engine.issue_access(&grant, req.refresh, &caller.call()).await?;
    let answer: TokenResponse = answer.into();
    Ok(with_nonce(&state, (StatusCode::CREATED, Json(answer)).into_response()))
}

/// Body of `POST /v1/access-tokens/refresh`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    /// The refresh token.
    pub refresh_token: String,
}

/// Exchanges a refresh token (not issued to an OAuth client) for a new pair. A refresh token
/// bound to a DPoP key needs a `DPoP` proof from that key (made for `POST` to this URL).
#[utoipa::path(post, path = "/v1/access-tokens/refresh", tag = "access-tokens", operation_id = "refreshAccessToken", request_body = RefreshRequest,
    security(("bearer" = ["ward:issue"])),
    params(("DPoP" = Option<String>, Header, description = "A DPoP proof (RFC 9449)")),
    responses((status = 201, body = TokenResponse), (status = 400, description = "The refresh token was refused: the reason says why", body = Problem)))]
pub async fn refresh(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    ApiJson(req): ApiJson<RefreshRequest>,
) -> Result<Response, ApiError> {
    caller.require(&state, SCOPE_ISSUE).await?;
    let ctx = caller.call().context;
    let jkt = match proof_key(&state, &headers, "/v1/access-tokens/refresh", &ctx).await {
        Ok(k) => k,
        Err(refused) => return Ok(problem_refusal(&state, refused)),
    };
    let pair = state.engine.refresh(&req.refresh_token, None, None, jkt.as_deref(), &ctx).await?;
    let pair: TokenResponse = pair.into();
    Ok(with_nonce(&state, (StatusCode::CREATED, Json(pair)).into_response()))
}

/// Body of `POST /v1/access-tokens/revoke`: one of `token`, `jti` or `family`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeSigned {
    /// A signed access token (its `jti` is revoked) or a refresh token (its family is revoked).
    #[serde(default)]
    pub token: Option<String>,
    /// A `jti` to revoke.
    #[serde(default)]
    pub jti: Option<String>,
    /// A refresh family to revoke, with every access token minted from it.
    #[serde(default)]
    pub family: Option<String>,
    /// `logout`, `compromised`, `offboarded`, `password_changed`, `rotated` or `admin` (default).
    #[serde(default)]
    pub reason: Option<String>,
    /// Free text kept with the revocation (at most 1000 characters).
    #[serde(default)]
    pub note: Option<String>,
}

/// What a signed-token revocation reached.
#[derive(Debug, Serialize, ToSchema)]
pub struct RevokedSigned {
    /// `jti` or `family`.
    pub kind: &'static str,
    /// The `jti` or family id.
    pub value: String,
}

/// Revokes signed tokens: one `jti`, or a refresh family. Applies on this node at once and on
/// every node within a second.
#[utoipa::path(post, path = "/v1/access-tokens/revoke", tag = "access-tokens", operation_id = "revokeSignedTokens", request_body = RevokeSigned,
    security(("bearer" = ["ward:revoke"])),
    responses((status = 200, body = RevokedSigned), (status = 400, body = Problem)))]
pub async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<RevokeSigned>,
) -> Result<Json<RevokedSigned>, ApiError> {
    caller.check(SCOPE_REVOKE)?;
    // Its own fields, not `#[serde(flatten)] RevokeRequest`: flatten and `deny_unknown_fields`
    // made a schema (`allOf` of two closed objects) that no body could match.
    let why = RevokeRequest { reason: req.reason, note: req.note };
    let reason = why.reason()?;
    let target = match (req.token, req.jti, req.family) {
        (Some(t), None, None) => SignedTarget::Token(t),
        (None, Some(j), None) => SignedTarget::Jti(j),
        (None, None, Some(f)) => SignedTarget::Family(f),
        _ => return Err(ApiError::BadRequest("give exactly one of `token`, `jti` or `family`".into())),
    };
    caller.require(&state, SCOPE_REVOKE).await?;
    let (kind, value) = state.engine.revoke_signed(target, reason, why.note, &caller.call()).await?;
    Ok(Json(RevokedSigned { kind: kind.as_str(), value }))
}

/// A signing key's state, as shown by `GET /v1/keyring`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SigningKeyView {
    /// The key id.
    pub kid: String,
    /// Its algorithm.
    pub alg: String,
    /// `pending`, `active`, `retiring` or `retired`.
    pub state: &'static str,
    /// When it was created (RFC 3339).
    pub created_at: String,
    /// When it starts (started) signing.
    pub activates_at: String,
    /// When it stops (stopped) signing.
    pub retiring_at: Option<String>,
    /// When it stops (stopped) verifying.
    pub retired_at: Option<String>,
    /// Whether it appears in the JWKS.
    pub published: bool,
}

impl From<KeyInfo> for SigningKeyView {
    fn from(k: KeyInfo) -> Self {
        SigningKeyView {
            kid: k.kid,
            alg: k.alg,
            state: k.state,
            created_at: k.created_at,
            activates_at: k.activates_at,
            retiring_at: k.retiring_at,
            retired_at: k.retired_at,
            published: k.published,
        }
    }
}

/// Answer of `GET /v1/keyring`.
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyRingView {
    /// Every key, newest first.
    pub keys: Vec<SigningKeyView>,
}

/// Lists the signing keys and their states.
#[utoipa::path(get, path = "/v1/keyring", tag = "keyring", operation_id = "listSigningKeys", security(("bearer" = ["ward:admin"])),
    responses((status = 200, body = KeyRingView)))]
pub async fn keyring_list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<KeyRingView>, ApiError> {
    caller.require(&state, SCOPE_ADMIN).await?;
    let keys = state.engine.keyring().await?;
    Ok(Json(KeyRingView { keys: keys.into_iter().map(Into::into).collect() }))
}

/// Body of `POST /v1/keyring/rotate`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateKeys {
    /// Which algorithm's key (`EdDSA`, `ES256`, `RS256`, `v4.public`, `v4.local`); all if absent.
    #[serde(default)]
    pub alg: Option<String>,
    /// Sign with the new key at once instead of after `key_publish_lead` (caches of the JWKS may
    /// then briefly not know it).
    #[serde(default)]
    pub immediate: bool,
}

/// Rotates signing keys now.
#[utoipa::path(post, path = "/v1/keyring/rotate", tag = "keyring", operation_id = "rotateSigningKeys", request_body = RotateKeys,
    security(("bearer" = ["ward:admin"])),
    responses((status = 200, body = KeyRingView), (status = 400, body = Problem), (status = 409, body = Problem)))]
pub async fn keyring_rotate(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<RotateKeys>,
) -> Result<Json<KeyRingView>, ApiError> {
    caller.check(SCOPE_ADMIN)?;
    let algs = match req.alg.as_deref() {
        None => state.engine.algorithms(),
        Some(name) => {
            let alg =
                name.parse::<Algorithm>().ok().filter(|a| state.engine.algorithms().contains(a)).ok_or_else(
                    || ApiError::BadRequest(format!("Ward keeps no `{name}` keys in this deployment")),
                )?;
            vec![alg]
        }
    };
    caller.require(&state, SCOPE_ADMIN).await?;
    let lead = if req.immediate { 0 } else { state.engine.policy().key_publish_lead };
    for alg in algs {
        state.engine.rotate_signing_key(alg, lead, &caller.call()).await?;
    }
    let keys = state.engine.keyring().await?;
    Ok(Json(KeyRingView { keys: keys.into_iter().map(Into::into).collect() }))
}
