//! `/v1/access-tokens` and `/v1/keyring`: signed access tokens for callers that are not OAuth
//! clients, their revocation, and the key ring.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use ward_core::deny::{DenyEntry, DenyKind};
use ward_core::{ParsedToken, TokenKind};
use ward_signed::Algorithm;

use crate::access::{self, Format, Grant, TokenResponse};
use crate::extract::{ApiJson, Caller};
use crate::keyring::{self, KeyView};
use crate::problem::{ApiError, Problem};
use crate::routes::keys::{parse_revocation, RevokeRequest};
use crate::{AppState, SCOPE_ADMIN};

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
    #[serde(default)]
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
#[utoipa::path(post, path = "/v1/access-tokens", tag = "access-tokens", request_body = CreateAccessToken,
    security(("bearer" = ["ward:admin"])),
    responses((status = 201, body = TokenResponse), (status = 400, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<CreateAccessToken>,
) -> Result<(StatusCode, Json<TokenResponse>), ApiError> {
    caller.require(SCOPE_ADMIN)?;
    let grant = Grant {
        subject: req.subject,
        audience: req.audience.into_vec(),
        scopes: req.scopes,
        expires_in: req.expires_in.unwrap_or(state.config.access_token_ttl),
        format: req.format.unwrap_or(Format::Jwt),
        client_id: req.client_id,
    };
    access::check_grant(&state, &grant)?;
    if let Some(id) = &grant.client_id {
        let client = state
            .store
            .get_client(id)
            .await?
            .filter(|c| c.revoked.is_none())
            .ok_or_else(|| ApiError::BadRequest(format!("no live OAuth client `{id}`")))?;
        if let Some(a) = grant.audience.iter().find(|a| !client.audiences.contains(a)) {
            return Err(ApiError::BadRequest(format!("audience `{a}` is not allowed for client `{id}`")));
        }
        if let Some(s) = grant.scopes.iter().find(|s| !client.scopes.contains(s)) {
            return Err(ApiError::BadRequest(format!("scope `{s}` is not allowed for client `{id}`")));
        }
    }
    Ok((StatusCode::CREATED, Json(access::issue(&state, &grant, req.refresh).await?)))
}

/// Body of `POST /v1/access-tokens/refresh`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    /// The refresh token.
    pub refresh_token: String,
}

/// Exchanges a refresh token (not issued to an OAuth client) for a new pair.
#[utoipa::path(post, path = "/v1/access-tokens/refresh", tag = "access-tokens", request_body = RefreshRequest,
    security(("bearer" = ["ward:admin"])),
    responses((status = 201, body = TokenResponse), (status = 400, description = "The refresh token was refused: the reason says why", body = Problem)))]
pub async fn refresh(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<RefreshRequest>,
) -> Result<(StatusCode, Json<TokenResponse>), ApiError> {
    caller.require(SCOPE_ADMIN)?;
    let pair = access::refresh(&state, &req.refresh_token, None, None).await.map_err(ApiError::Token)?;
    Ok((StatusCode::CREATED, Json(pair)))
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
    /// Why.
    #[serde(flatten)]
    pub why: RevokeRequest,
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
#[utoipa::path(post, path = "/v1/access-tokens/revoke", tag = "access-tokens", request_body = RevokeSigned,
    security(("bearer" = ["ward:admin"])),
    responses((status = 200, body = RevokedSigned), (status = 400, body = Problem)))]
pub async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<RevokeSigned>,
) -> Result<Json<RevokedSigned>, ApiError> {
    caller.require(SCOPE_ADMIN)?;
    let rev = parse_revocation(&state, &caller, req.why)?;
    let until = rev.at + state.config.access_token_max_ttl + state.config.leeway;
    let (kind, value) = match (req.token, req.jti, req.family) {
        (Some(t), None, None) if access::looks_signed(&t) => {
            let v = access::verify(&state, &t, None).await.map_err(ApiError::Token)?;
            (DenyKind::Jti, v.claims.jti.clone())
        }
        (Some(t), None, None) => {
            let p = ParsedToken::parse(&t).map_err(ApiError::Token)?;
            p.expect(&state.config.env, &[TokenKind::Refresh]).map_err(ApiError::Token)?;
            let (rt, _) = state
                .store
                .get_refresh(p.id)
                .await?
                .ok_or_else(|| ApiError::NotFound(format!("no refresh token `{}`", p.id)))?;
            if !state.hasher.matches(p.hashed_part, &rt.secret_hash) {
                return Err(ApiError::Token(crate::verifier::tampered(TokenKind::Refresh, &rt.id)));
            }
            (DenyKind::Family, rt.family)
        }
        (None, Some(j), None) => (DenyKind::Jti, j),
        (None, None, Some(f)) => (DenyKind::Family, f),
        _ => return Err(ApiError::BadRequest("give exactly one of `token`, `jti` or `family`".into())),
    };
    if value.is_empty() || value.len() > 128 || !value.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::BadRequest(
            "the value to revoke must be 1 to 128 printable ASCII characters, no spaces".into(),
        ));
    }
    let entry = DenyEntry { kind, value: value.clone(), until, revocation: rev };
    match kind {
        DenyKind::Family => {
            state.store.revoke_refresh_family(&entry).await?;
        }
        _ => state.store.add_signed_revocation(&entry).await?,
    }
    state.deny.add([entry]);
    tracing::info!(kind = kind.as_str(), %value, actor = %caller.actor(), "signed tokens revoked");
    Ok(Json(RevokedSigned { kind: kind.as_str(), value }))
}

/// Answer of `GET /v1/keyring`.
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyRingView {
    /// Every key, newest first.
    pub keys: Vec<KeyView>,
}

/// Lists the signing keys and their states.
#[utoipa::path(get, path = "/v1/keyring", tag = "keyring", security(("bearer" = ["ward:admin"])),
    responses((status = 200, body = KeyRingView)))]
pub async fn keyring_list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<KeyRingView>, ApiError> {
    caller.require(SCOPE_ADMIN)?;
    state.keyring.reload(&state).await?;
    Ok(Json(KeyRingView { keys: state.keyring.views(state.clock.now()) }))
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
#[utoipa::path(post, path = "/v1/keyring/rotate", tag = "keyring", request_body = RotateKeys,
    security(("bearer" = ["ward:admin"])),
    responses((status = 200, body = KeyRingView), (status = 400, body = Problem), (status = 409, body = Problem)))]
pub async fn keyring_rotate(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<RotateKeys>,
) -> Result<Json<KeyRingView>, ApiError> {
    caller.require(SCOPE_ADMIN)?;
    let algs = match req.alg.as_deref() {
        None => keyring::algorithms(&state),
        Some(name) => {
            let alg = name
                .parse::<Algorithm>()
                .ok()
                .filter(|a| keyring::algorithms(&state).contains(a))
                .ok_or_else(|| {
                    ApiError::BadRequest(format!("Ward keeps no `{name}` keys in this deployment"))
                })?;
            vec![alg]
        }
    };
    let lead = if req.immediate { 0 } else { state.config.key_publish_lead };
    for alg in algs {
        keyring::rotate(&state, alg, lead).await?;
    }
    Ok(Json(KeyRingView { keys: state.keyring.views(state.clock.now()) }))
}
