//! Signed access tokens and their rotating refresh tokens: issuing, refreshing (with a retry
//! grace and theft detection), and verifying offline against the key ring and the deny set.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use ward_core::deny::{DenyEntry, DenyKind, SignedFacts};
use ward_core::refresh::{RefreshToken, RefreshUse};
use ward_core::secret::Sealer;
use ward_core::{ParsedToken, Reason, Revocation, RevokeReason, TokenKind, Verdict};
use ward_signed::{AccessClaims, Algorithm, Expect};
use ward_store::StoreError;

use crate::keyring::{unknown_key, LoadedKey};
use crate::problem::ApiError;
use crate::verifier::{gone, tampered, unavailable};
use crate::views::Minted;
use crate::AppState;

/// The `typ` of Ward's JWT access tokens (RFC 9068).
pub const AT_TYP: &str = "at+jwt";
/// The private claim carrying the refresh family an access token was minted from.
pub const FAMILY_CLAIM: &str = "fid";
const RETRY_PURPOSE: &str = "ward/v1/refresh-retry";

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

impl Format {
    /// The stored name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Format::Jwt => "jwt",
            Format::Paseto => "paseto",
            Format::PasetoLocal => "paseto-local",
        }
    }

    /// Reads a stored name.
    pub fn from_name(s: &str) -> Option<Self> {
        [Format::Jwt, Format::Paseto, Format::PasetoLocal].into_iter().find(|f| f.as_str() == s)
    }

    fn algorithm(self, state: &AppState) -> Algorithm {
        match self {
            Format::Jwt => state.config.signing_alg.parse::<Algorithm>().unwrap_or(Algorithm::EdDSA),
            Format::Paseto => Algorithm::PasetoV4Public,
            Format::PasetoLocal => Algorithm::PasetoV4Local,
        }
    }
}

/// The OAuth 2.0 token answer (RFC 6749 §5.1).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TokenResponse {
    /// The access token.
    pub access_token: String,
    /// Always `Bearer`.
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

/// What to put in an access token.
#[derive(Debug, Clone)]
pub struct Grant {
    /// `sub`.
    pub subject: String,
    /// `aud`.
    pub audience: Vec<String>,
    /// `scope`.
    pub scopes: Vec<String>,
    /// Seconds of life.
    pub expires_in: i64,
    /// The encoding.
    pub format: Format,
    /// `client_id`, for tokens issued to an OAuth client.
    pub client_id: Option<String>,
}

fn random_id(state: &AppState) -> String {
    let mut b = [0u8; 16];
    state.secrets.fill(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Signs one access token for `grant`, minted from refresh `family` if any.
pub fn sign(state: &AppState, grant: &Grant, family: Option<&str>) -> Result<String, ApiError> {
    let now = state.clock.now();
    let alg = grant.format.algorithm(state);
    let key = state
        .keyring
        .signer(alg, now)
        .ok_or_else(|| ApiError::Unavailable(format!("no active {} signing key", alg.as_str())))?;
    let mut extra = serde_json::Map::new();
    if let Some(f) = family {
        extra.insert(FAMILY_CLAIM.into(), serde_json::Value::String(f.to_string()));
    }
    let claims = AccessClaims {
        iss: state.config.issuer.clone(),
        sub: grant.subject.clone(),
        aud: grant.audience.clone(),
        exp: now + grant.expires_in,
        iat: now,
        nbf: Some(now),
        jti: random_id(state),
        scope: (!grant.scopes.is_empty()).then(|| grant.scopes.join(" ")),
        client_id: grant.client_id.clone(),
        extra,
    };
    let token = match grant.format {
        Format::Jwt => ward_signed::sign_jwt(&key.signing, AT_TYP, &claims),
        Format::Paseto | Format::PasetoLocal => ward_signed::sign_paseto(&key.signing, &claims),
    };
    token.map_err(|e| ApiError::Unavailable(format!("could not sign the token: {e}")))
}

/// Issues an access token and, if asked, the first refresh token of a new family.
pub async fn issue(state: &AppState, grant: &Grant, with_refresh: bool) -> Result<TokenResponse, ApiError> {
    let mut refresh_token = None;
    let mut family = None;
    if with_refresh {
        let now = state.clock.now();
        let minted = Minted::new(state, TokenKind::Refresh);
        let rt = RefreshToken {
            id: minted.id().to_string(),
            env: state.config.env.clone(),
            family: minted.id().to_string(),
            subject: grant.subject.clone(),
            client_id: grant.client_id.clone(),
            audience: grant.audience.clone(),
            scopes: grant.scopes.clone(),
            format: grant.format.as_str().to_string(),
            secret_hash: minted.hash,
            created_at: now,
            expires_at: now + state.config.refresh_token_ttl,
            rotated: None,
            revoked: None,
        };
        state.store.insert_refresh(&rt).await?;
        family = Some(rt.family.clone());
        refresh_token = Some(minted.token.token.to_string());
    }
    let access_token = sign(state, grant, family.as_deref())?;
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer".into(),
        expires_in: grant.expires_in,
        refresh_token,
        scope: (!grant.scopes.is_empty()).then(|| grant.scopes.join(" ")),
    })
}

/// Exchanges a refresh token for a new pair. `client_id` must match the token's client (None for
/// tokens not issued to a client). `narrow` asks for fewer scopes in the new access token (RFC 6749
/// §6); more than were granted is `insufficient_scope`. A retry inside the grace answers the same
/// pair; a reuse after it revokes the whole family.
pub async fn refresh(
    state: &AppState,
    presented: &str,
    client_id: Option<&str>,
    narrow: Option<Vec<String>>,
) -> Result<TokenResponse, Verdict> {
    let parsed = ParsedToken::parse(presented)?;
    parsed.expect(&state.config.env, &[TokenKind::Refresh])?;
    let Some((rt, retry_blob)) = state.store.get_refresh(parsed.id).await.map_err(unavailable)? else {
        let _ = state.hasher.hash(parsed.hashed_part);
        return Err(gone(state, &parsed).await);
    };
    if !state.hasher.matches(parsed.hashed_part, &rt.secret_hash) {
        return Err(tampered(TokenKind::Refresh, &rt.id));
    }
    if rt.client_id.as_deref() != client_id {
        return Err(Verdict::with(
            Reason::WrongType,
            "this refresh token was issued to another client (or to none)".to_string(),
        ));
    }
    let now = state.clock.now();
    match rt.check(now, state.config.refresh_grace) {
        Ok(RefreshUse::Rotate) => {
            let scopes = match narrow {
                None => rt.scopes.clone(),
                Some(asked) => match asked.iter().find(|s| !rt.scopes.contains(s)) {
                    Some(extra) => {
                        return Err(Verdict::with(
                            Reason::InsufficientScope,
                            format!("scope `{extra}` was not granted to this refresh token"),
                        ))
                    }
                    None => asked,
                },
            };
            rotate(state, presented, &rt, scopes).await
        }
        Ok(RefreshUse::Retry { .. }) => replay(presented, &rt, retry_blob.as_deref()),
        Err(v) if v.reason == Reason::RefreshReuse => {
            revoke_family(state, &rt, RevokeReason::Compromised, "system:refresh_reuse", now)
                .await
                .map_err(unavailable)?;
            tracing::warn!(family = %rt.family, subject = %rt.subject, token = %rt.id,
                "refresh token reuse: family revoked");
            Err(v)
        }
        Err(v) => Err(v),
    }
}

async fn rotate(
    state: &AppState,
    presented: &str,
    old: &RefreshToken,
    scopes: Vec<String>,
) -> Result<TokenResponse, Verdict> {
    let now = state.clock.now();
    let format = Format::from_name(&old.format).unwrap_or(Format::Jwt);
    let minted = Minted::new(state, TokenKind::Refresh);
    let new = RefreshToken {
        id: minted.id().to_string(),
        secret_hash: minted.hash,
        created_at: now,
        expires_at: now + state.config.refresh_token_ttl,
        rotated: None,
        revoked: None,
        ..old.clone()
    };
    let grant = Grant {
        subject: old.subject.clone(),
        audience: old.audience.clone(),
        scopes,
        expires_in: state.config.access_token_ttl,
        format,
        client_id: old.client_id.clone(),
    };
    let access_token = sign(state, &grant, Some(&old.family))
        .map_err(|e| Verdict::with(Reason::Unavailable, format!("{e:?}")))?;
    let response = TokenResponse {
        access_token,
        token_type: "Bearer".into(),
        expires_in: grant.expires_in,
        refresh_token: Some(minted.token.token.to_string()),
        scope: (!grant.scopes.is_empty()).then(|| grant.scopes.join(" ")),
    };
    // The answer is kept, sealed under the presented token itself, so a retry inside the grace
    // (a lost response, two tabs) gets the same pair; nobody without the old token can open it.
    let plain =
        serde_json::to_vec(&response).map_err(|e| Verdict::with(Reason::Unavailable, e.to_string()))?;
    let sealer = Sealer::derived_from(presented, RETRY_PURPOSE);
    let (nonce, ct) = sealer
        .seal(&mut ward_core::SourceRng(state.secrets.as_ref()), &old.id, &plain)
        .ok_or_else(|| Verdict::with(Reason::Unavailable, "could not seal the retry answer"))?;
    let blob = [nonce, ct].concat();
    if state.store.rotate_refresh(&old.id, &new, now, &blob).await.map_err(unavailable)? {
        return Ok(response);
    }
    // A concurrent request rotated it first: answer as that retry would.
    match state.store.get_refresh(&old.id).await.map_err(unavailable)? {
        Some((current, blob)) => match current.check(now, state.config.refresh_grace) {
            Ok(RefreshUse::Retry { .. }) => replay(presented, &current, blob.as_deref()),
            Ok(RefreshUse::Rotate) => {
                Err(Verdict::with(Reason::Unavailable, "the rotation did not take; retry"))
            }
            Err(v) => Err(v),
        },
        None => Err(Verdict::of(Reason::Unknown)),
    }
}

fn replay(presented: &str, rt: &RefreshToken, blob: Option<&[u8]>) -> Result<TokenResponse, Verdict> {
    let opened = blob.and_then(|b| {
        let (nonce, ct) = b.split_at(ward_core::secret::NONCE_LEN.min(b.len()));
        Sealer::derived_from(presented, RETRY_PURPOSE).open(&rt.id, nonce, ct)
    });
    let Some(plain) = opened else {
        return Err(Verdict::with(Reason::Unavailable, "the retry answer could not be opened"));
    };
    serde_json::from_slice(&plain).map_err(|e| Verdict::with(Reason::Unavailable, e.to_string()))
}

/// Revokes a refresh family and every access token minted from it, durably and on this node at
/// once.
pub async fn revoke_family(
    state: &AppState,
    rt: &RefreshToken,
    reason: RevokeReason,
    actor: &str,
    now: i64,
) -> Result<u64, StoreError> {
    let entry = DenyEntry {
        kind: DenyKind::Family,
        value: rt.family.clone(),
        until: now + state.config.access_token_max_ttl + state.config.leeway,
        revocation: Revocation { at: now, reason, note: None, actor: actor.to_string() },
    };
    let n = state.store.revoke_refresh_family(&entry).await?;
    state.deny.add([entry]);
    Ok(n)
}

/// A signed access token that passed every check.
#[derive(Debug, Clone)]
pub struct VerifiedAccess {
    /// Its claims.
    pub claims: AccessClaims,
    /// The key that signed it.
    pub kid: String,
    /// Its encoding.
    pub format: Format,
}

/// Verifies a signed access token offline: key by `kid`, signature, claims, then the deny set.
pub async fn verify(
    state: &AppState,
    token: &str,
    audience: Option<&str>,
) -> Result<Arc<VerifiedAccess>, Verdict> {
    let now = state.clock.now();
    if let Some(hit) = state.verifier.signed_hit(token) {
        // An expired hit goes the full way, so the answer can name a retired key or clock skew.
        if now < hit.claims.exp.saturating_add(state.config.leeway) {
            check_cached(&hit, audience)?;
            deny_check(state, &hit, now)?;
            return Ok(hit);
        }
    }
    let peeked = ward_signed::peek(token)?;
    let kid = peeked.kid.clone().ok_or_else(|| {
        Verdict::with(Reason::UnknownKey, "the token names no key (`kid`); Ward's tokens always do")
    })?;
    let key: Option<Arc<LoadedKey>> = state.keyring.find(state, &kid).await.map_err(unavailable)?;
    let key = match key {
        Some(k) if k.record.state(now) != ward_core::keyring::KeyState::Retired => k,
        other => return Err(unknown_key(&kid, other.as_deref())),
    };
    let expect = Expect {
        issuer: state.config.issuer.clone(),
        audience: audience.map(str::to_string),
        typ: AT_TYP.to_string(),
        leeway: state.config.leeway,
    };
    let claims = ward_signed::verify(token, &key.verifying, &expect, now)?;
    let format = match key.alg {
        Algorithm::PasetoV4Public => Format::Paseto,
        Algorithm::PasetoV4Local => Format::PasetoLocal,
        _ => Format::Jwt,
    };
    let verified = Arc::new(VerifiedAccess { claims, kid, format });
    deny_check(state, &verified, now)?;
    state.verifier.signed_insert(token, verified.clone());
    Ok(verified)
}

fn deny_check(state: &AppState, v: &VerifiedAccess, now: i64) -> Result<(), Verdict> {
    let facts = SignedFacts {
        jti: &v.claims.jti,
        family: v.claims.extra.get(FAMILY_CLAIM).and_then(|f| f.as_str()),
        subject: &v.claims.sub,
        issued_at: v.claims.iat,
    };
    match state.deny.check(&facts, now) {
        Some(verdict) => Err(verdict),
        None => Ok(()),
    }
}

/// The audience check a cached verification must still pass (time and revocation are checked by
/// the caller).
fn check_cached(v: &VerifiedAccess, audience: Option<&str>) -> Result<(), Verdict> {
    if let Some(a) = audience {
        if !v.claims.aud.iter().any(|x| x == a) {
            return Err(Verdict::with(
                Reason::WrongAudience,
                format!("expected audience `{a}`, the token is for: {}", v.claims.aud.join(", ")),
            ));
        }
    }
    Ok(())
}

/// Whether a token looks like a signed token (JWT or PASETO) rather than a Ward opaque token.
pub fn looks_signed(token: &str) -> bool {
    // Ward's opaque tokens come first: they are what the hot path sees most, and no JWT (`eyJ…`)
    // or PASETO (`v4.…`) starts this way.
    !token.starts_with("ward_") && ward_signed::detect(token).is_some()
}

/// Checks scopes against an access token's `scope` claim.
pub fn check_scopes(v: &VerifiedAccess, scopes: &[String]) -> Result<(), Verdict> {
    let have = v.claims.scope.as_deref().unwrap_or_default().split(' ').filter(|s| !s.is_empty());
    ward_core::key::require_scopes(have, scopes, "the token")
}

/// Validates an admin's request for an access token.
pub fn check_grant(state: &AppState, g: &Grant) -> Result<(), ApiError> {
    crate::keys::check_label("subject", &g.subject)?;
    if g.audience.is_empty() || g.audience.iter().any(|a| !crate::clients::valid_audience(a)) {
        return Err(ApiError::BadRequest("`audience` must name at least one audience".into()));
    }
    if g.scopes.iter().any(|s| !ward_core::key::valid_scope(s)) {
        return Err(ApiError::BadRequest("a scope is not a valid scope name".into()));
    }
    if !(1..=state.config.access_token_max_ttl).contains(&g.expires_in) {
        return Err(ApiError::BadRequest(format!(
            "`expires_in` must be between 1 and {} seconds",
            state.config.access_token_max_ttl
        )));
    }
    Ok(())
}
