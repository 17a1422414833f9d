//! Signed access tokens and their rotating refresh tokens: issuing, refreshing (with a retry
//! grace and theft detection), verifying offline against the key ring and the deny set, and
//! revoking them.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use ward_core::deny::{DenyEntry, DenyKind, SignedFacts};
use ward_core::refresh::{RefreshToken, RefreshUse};
use ward_core::secret::Sealer;
use ward_core::{Reason, Revocation, RevokeReason, TokenKind, Verdict};
use ward_signed::{AccessClaims, Algorithm, Expect};

use crate::error::unavailable;
use crate::events::{Call, ContextSource, Event, EventKind};
use crate::keyring::unknown_key;
use crate::presented::Presented;
use crate::validate::{check_label, valid_audience};
use crate::{Engine, EngineError};

/// The `typ` of Ward's JWT access tokens (RFC 9068).
pub const AT_TYP: &str = "at+jwt";
/// The private claim carrying the refresh family an access token was minted from.
pub const FAMILY_CLAIM: &str = "fid";
const RETRY_PURPOSE: &str = "ward/v1/refresh-retry";

/// How an access token is encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
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

    fn algorithm(self, engine: &Engine) -> Algorithm {
        match self {
            Format::Jwt => engine.0.policy.signing_alg,
            Format::Paseto => Algorithm::PasetoV4Public,
            Format::PasetoLocal => Algorithm::PasetoV4Local,
        }
    }
}

/// The OAuth 2.0 token answer (RFC 6749 §5.1).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct TokenResponse {
    /// The access token.
    pub access_token: String,
    /// `Bearer`, or `DPoP` for a token bound to a DPoP key (RFC 9449 §5).
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
    /// Seconds of life; the policy's default if `None`.
    pub expires_in: Option<i64>,
    /// The encoding.
    pub format: Format,
    /// `client_id`, for tokens issued to an OAuth client.
    pub client_id: Option<String>,
    /// The RFC 7638 thumbprint of the DPoP key to bind the token to (`cnf.jkt`), from a proof
    /// the caller checked with [`Engine::check_dpop`]. The refresh token, if any, is bound too.
    pub jkt: Option<String>,
}

fn token_type(jkt: Option<&str>) -> String {
    if jkt.is_some() { "DPoP" } else { "Bearer" }.to_string()
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

impl VerifiedAccess {
    fn facts(&self) -> SignedFacts<'_> {
        SignedFacts {
            jti: &self.claims.jti,
            family: self.claims.extra.get(FAMILY_CLAIM).and_then(|f| f.as_str()),
            subject: &self.claims.sub,
            issued_at: self.claims.iat,
        }
    }
}

/// What an OAuth client's revocation request (RFC 7009) came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientRevocation {
    /// The client's own token is revoked now.
    Revoked,
    /// The token is not valid (or not a kind a client revokes): nothing to do, and RFC 7009 §2.2
    /// answers 200 all the same.
    Nothing,
    /// A valid token issued to another client, or to none: refused, nothing changed (§2.1).
    NotYours,
}

/// What to revoke among signed tokens.
#[derive(Debug, Clone)]
pub enum SignedTarget {
    /// A presented token: a signed access token (its `jti`) or a refresh token (its family).
    Token(String),
    /// A `jti`.
    Jti(String),
    /// A refresh family, with every access token minted from it.
    Family(String),
}

/// What introspection found about a live token (RFC 7662 §2.2 members).
#[derive(Debug, Clone, Default)]
pub struct Introspected {
    /// `access_token` or `refresh_token`.
    pub token_type: &'static str,
    /// Space-separated scopes.
    pub scope: Option<String>,
    /// The OAuth client it was issued to.
    pub client_id: Option<String>,
    /// `sub`.
    pub sub: String,
    /// `aud`.
    pub aud: Vec<String>,
    /// `iss`.
    pub iss: String,
    /// `exp`.
    pub exp: i64,
    /// `iat`.
    pub iat: i64,
    /// `jti`, for access tokens.
    pub jti: Option<String>,
}

fn random_id(engine: &Engine) -> String {
    let mut b = [0u8; 16];
    engine.0.secrets.fill(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A DPoP-bound refresh token is presented with a proof from its own key (RFC 9449 §5).
fn check_refresh_binding(rt: &RefreshToken, jkt: Option<&str>) -> Result<(), Verdict> {
    let Some(bound) = rt.jkt.as_deref() else { return Ok(()) };
    match jkt {
        Some(j) if bool::from(subtle::ConstantTimeEq::ct_eq(j.as_bytes(), bound.as_bytes())) => Ok(()),
        Some(j) => Err(Verdict::with(
            Reason::BindingMismatch,
            format!("this refresh token is bound to DPoP key {bound}; the proof was made with key {j}"),
        )),
        None => Err(Verdict::with(
            Reason::BindingMismatch,
            format!("this refresh token is bound to DPoP key {bound}: send a `DPoP` proof made with it"),
        )),
    }
}

/// Checks scopes against an access token's `scope` claim.
pub fn check_scopes(v: &VerifiedAccess, scopes: &[String]) -> Result<(), Verdict> {
    let have = v.claims.scope.as_deref().unwrap_or_default().split(' ').filter(|s| !s.is_empty());
    ward_core::key::require_scopes(have, scopes, "the token")
}

fn scope_string(scopes: &[String]) -> Option<String> {
    (!scopes.is_empty()).then(|| scopes.join(" "))
}

impl Engine {
    /// Signs one access token for `grant`, minted from refresh `family` if any.
    fn sign(&self, grant: &Grant, family: Option<&str>) -> Result<String, EngineError> {
        let now = self.now();
        let alg = grant.format.algorithm(self);
        let key = self
            .0
            .keyring
            .signer(alg, now)
            .ok_or_else(|| EngineError::Unavailable(format!("no active {} signing key", alg.as_str())))?;
        let mut extra = serde_json::Map::new();
        if let Some(f) = family {
            extra.insert(FAMILY_CLAIM.into(), serde_json::Value::String(f.to_string()));
        }
        if let Some(jkt) = &grant.jkt {
            extra.insert(crate::dpop::CNF_CLAIM.into(), serde_json::json!({ "jkt": jkt }));
        }
        let claims = AccessClaims {
            iss: self.0.issuer.clone(),
            sub: grant.subject.clone(),
            aud: grant.audience.clone(),
            exp: now + grant.expires_in.unwrap_or(self.0.policy.access_token_ttl),
            iat: now,
            nbf: Some(now),
            jti: random_id(self),
            scope: scope_string(&grant.scopes),
            client_id: grant.client_id.clone(),
            extra,
        };
        let token = match grant.format {
            Format::Jwt => ward_signed::sign_jwt(&key.signing, AT_TYP, &claims),
            Format::Paseto | Format::PasetoLocal => ward_signed::sign_paseto(&key.signing, &claims),
        };
        token.map_err(|e| EngineError::Unavailable(format!("could not sign the token: {e}")))
    }

    /// Issues an access token and, if asked, the first refresh token of a new family. A grant
    /// naming a client must stay within the client's audiences and scopes.
    pub async fn issue_access(
        &self,
        grant: &Grant,
        with_refresh: bool,
        call: &Call,
    ) -> Result<TokenResponse, EngineError> {
        self.check_grant(grant)?;
        if let Some(id) = &grant.client_id {
            let client = self
                .0
                .store
                .get_client(id)
                .await?
                .filter(|c| c.revoked.is_none())
                .ok_or_else(|| EngineError::Invalid(format!("no live OAuth client `{id}`")))?;
            if let Some(a) = grant.audience.iter().find(|a| !client.audiences.contains(a)) {
                return Err(EngineError::Invalid(format!("audience `{a}` is not allowed for client `{id}`")));
            }
            if let Some(s) = grant.scopes.iter().find(|s| !client.scopes.contains(s)) {
                return Err(EngineError::Invalid(format!("scope `{s}` is not allowed for client `{id}`")));
            }
        }
        let mut refresh_token = None;
        let mut family = None;
        if with_refresh {
            let now = self.now();
            let minted = self.mint(TokenKind::Refresh);
            let rt = RefreshToken {
                id: minted.id().to_string(),
                env: self.0.policy.env.clone(),
                family: minted.id().to_string(),
                subject: grant.subject.clone(),
                client_id: grant.client_id.clone(),
                audience: grant.audience.clone(),
                scopes: grant.scopes.clone(),
                format: grant.format.as_str().to_string(),
                secret_hash: minted.hash,
                created_at: now,
                expires_at: now + self.0.policy.refresh_token_ttl,
                rotated: None,
                revoked: None,
                jkt: grant.jkt.clone(),
            };
            self.0.store.insert_refresh(&rt).await?;
            self.emit(|| {
                Event::new(EventKind::Issued, now)
                    .token(TokenKind::Refresh, rt.id.clone())
                    .prefix(&self.0.policy.env, TokenKind::Refresh)
                    .subject(rt.subject.clone())
                    .call(call)
            });
            family = Some(rt.family.clone());
            refresh_token = Some(minted.token.token.to_string());
        }
        let access_token = self.sign(grant, family.as_deref())?;
        self.emit(|| {
            Event::new(EventKind::Issued, self.now())
                .token(TokenKind::AccessToken, grant.format.as_str())
                .subject(grant.subject.clone())
                .call(call)
        });
        Ok(TokenResponse {
            access_token,
            token_type: token_type(grant.jkt.as_deref()),
            expires_in: grant.expires_in.unwrap_or(self.0.policy.access_token_ttl),
            refresh_token,
            scope: scope_string(&grant.scopes),
        })
    }

    /// Validates a grant: subject, audiences, scopes, lifetime within the policy.
    pub fn check_grant(&self, g: &Grant) -> Result<(), EngineError> {
        check_label("subject", &g.subject)?;
        if g.audience.is_empty() || g.audience.iter().any(|a| !valid_audience(a)) {
            return Err(EngineError::Invalid("`audience` must name at least one audience".into()));
        }
        if g.scopes.iter().any(|s| !ward_core::key::valid_scope(s)) {
            return Err(EngineError::Invalid("a scope is not a valid scope name".into()));
        }
        let max = self.0.policy.access_token_max_ttl;
        if g.expires_in.is_some_and(|e| !(1..=max).contains(&e)) {
            return Err(EngineError::Invalid(format!("`expires_in` must be between 1 and {max} seconds")));
        }
        Ok(())
    }

    /// Exchanges a refresh token for a new pair. `client_id` must match the token's client (None
    /// for tokens not issued to a client). `narrow` asks for fewer scopes (RFC 6749 §6); more than
    /// were granted is `insufficient_scope`. A retry inside the grace answers the same pair; a
    /// reuse after it revokes the whole family (`refresh_reuse`). `jkt` is the key of the DPoP
    /// proof sent with the request (checked by [`Engine::check_dpop`]): a bound refresh token
    /// needs one from its own key, and the new access token is bound to it.
    pub async fn refresh(
        &self,
        presented: &str,
        client_id: Option<&str>,
        narrow: Option<Vec<String>>,
        jkt: Option<&str>,
        ctx: &dyn ContextSource,
    ) -> Result<TokenResponse, Verdict> {
        let result = self.refresh_inner(presented, client_id, narrow, jkt, ctx).await;
        if let Err(v) = &result {
            self.verify_failed(presented, v, ctx);
        }
        result
    }

    async fn refresh_inner(
        &self,
        presented: &str,
        client_id: Option<&str>,
        narrow: Option<Vec<String>>,
        jkt: Option<&str>,
        ctx: &dyn ContextSource,
    ) -> Result<TokenResponse, Verdict> {
        let parsed = self.parse_opaque(presented, &[TokenKind::Refresh])?;
        let found = self.0.store.get_refresh(parsed.id).await.map_err(unavailable);
        let (rt, retry_blob) = self.unlock(&parsed, found).await?;
        if rt.client_id.as_deref() != client_id {
            return Err(Verdict::with(
                Reason::WrongType,
                "this refresh token was issued to another client (or to none)".to_string(),
            ));
        }
        let now = self.now();
        match rt.check(now, self.0.policy.refresh_grace) {
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
                check_refresh_binding(&rt, jkt)?;
                self.rotate_refresh(presented, &rt, scopes, jkt, ctx).await
            }
            Ok(RefreshUse::Retry { .. }) => {
                check_refresh_binding(&rt, jkt)?;
                replay(presented, &rt, retry_blob.as_deref())
            }
            Err(v) if v.reason == Reason::RefreshReuse => {
                let call = Call { actor: "system:refresh_reuse".into(), context: ctx.context() };
                self.revoke_family(&rt.family, RevokeReason::Compromised, None, &call)
                    .await
                    .map_err(|e| Verdict::with(Reason::Unavailable, e.to_string()))?;
                self.emit(|| {
                    Event::new(EventKind::RefreshReuse, now)
                        .token(TokenKind::Refresh, rt.id.clone())
                        .prefix(&self.0.policy.env, TokenKind::Refresh)
                        .subject(rt.subject.clone())
                        .reason(Reason::RefreshReuse)
                        .detail(format!("family `{}` revoked", rt.family))
                        .context(&ctx.context())
                });
                tracing::warn!(family = %rt.family, subject = ?rt.subject, token = %rt.id,
                    "refresh token reuse: family revoked");
                Err(v)
            }
            Err(v) => Err(v),
        }
    }

    async fn rotate_refresh(
        &self,
        presented: &str,
        old: &RefreshToken,
        scopes: Vec<String>,
        jkt: Option<&str>,
        ctx: &dyn ContextSource,
    ) -> Result<TokenResponse, Verdict> {
        let now = self.now();
        let format = Format::from_name(&old.format).unwrap_or(Format::Jwt);
        let minted = self.mint(TokenKind::Refresh);
        let new = RefreshToken {
            id: minted.id().to_string(),
            secret_hash: minted.hash,
            created_at: now,
            expires_at: now + self.0.policy.refresh_token_ttl,
            rotated: None,
            revoked: None,
            ..old.clone()
        };
        let grant = Grant {
            subject: old.subject.clone(),
            audience: old.audience.clone(),
            scopes,
            expires_in: None,
            format,
            client_id: old.client_id.clone(),
            jkt: jkt.map(str::to_string),
        };
        let access_token = self
            .sign(&grant, Some(&old.family))
            .map_err(|e| Verdict::with(Reason::Unavailable, e.to_string()))?;
        let response = TokenResponse {
            access_token,
            token_type: token_type(jkt),
            expires_in: self.0.policy.access_token_ttl,
            refresh_token: Some(minted.token.token.to_string()),
            scope: scope_string(&grant.scopes),
        };
        // The answer is kept, sealed under the presented token itself, so a retry inside the grace
        // (a lost response, two tabs) gets the same pair; nobody without the old token can open it.
        let plain =
            serde_json::to_vec(&response).map_err(|e| Verdict::with(Reason::Unavailable, e.to_string()))?;
        let sealer = Sealer::derived_from(presented, RETRY_PURPOSE);
        let (nonce, ct) = sealer
            .seal(&mut ward_core::SourceRng(self.0.secrets.as_ref()), &old.id, &plain)
            .ok_or_else(|| Verdict::with(Reason::Unavailable, "could not seal the retry answer"))?;
        let blob = [nonce, ct].concat();
        if self.0.store.rotate_refresh(&old.id, &new, now, &blob).await.map_err(unavailable)? {
            self.emit(|| {
                Event::new(EventKind::Rotated, now)
                    .token(TokenKind::Refresh, old.id.clone())
                    .prefix(&self.0.policy.env, TokenKind::Refresh)
                    .subject(old.subject.clone())
                    .detail(format!("successor `{}`", new.id))
                    .context(&ctx.context())
            });
            return Ok(response);
        }
        // A concurrent request rotated it first: answer as that retry would.
        match self.0.store.get_refresh(&old.id).await.map_err(unavailable)? {
            Some((current, blob)) => match current.check(now, self.0.policy.refresh_grace) {
                Ok(RefreshUse::Retry { .. }) => replay(presented, &current, blob.as_deref()),
                Ok(RefreshUse::Rotate) => {
                    Err(Verdict::with(Reason::Unavailable, "the rotation did not take; retry"))
                }
                Err(v) => Err(v),
            },
            None => Err(Verdict::of(Reason::Unknown)),
        }
    }

    /// Revokes a refresh family and every access token minted from it, durably, on this node at
    /// once and on the others through the change feed.
    pub async fn revoke_family(
        &self,
        family: &str,
        reason: RevokeReason,
        note: Option<String>,
        call: &Call,
    ) -> Result<u64, EngineError> {
        let now = self.now();
        let entry = DenyEntry {
            kind: DenyKind::Family,
            value: family.to_string(),
            until: self.0.policy.deny_until(now),
            revocation: Revocation { at: now, reason, note, actor: call.actor.clone() },
        };
        let n = self.0.store.revoke_refresh_family(&entry).await?;
        self.denied(entry, call);
        Ok(n)
    }

    /// Applies a recorded signed-token revocation here and tells the subscribers.
    fn denied(&self, entry: DenyEntry, call: &Call) {
        let at = entry.revocation.at;
        let (kind, value, reason) = (entry.kind, entry.value.clone(), entry.revocation.reason);
        self.0.deny.add([entry]);
        self.emit(|| {
            let token_kind =
                if kind == DenyKind::Family { TokenKind::Refresh } else { TokenKind::AccessToken };
            Event::new(EventKind::Revoked, at)
                .token(token_kind, value)
                .detail(format!("{} revoked, reason `{}`", kind.as_str(), reason.as_str()))
                .call(call)
        });
    }

    /// Verifies a signed access token offline: key by `kid`, signature, claims, then the deny
    /// set. A repeat of a token verified before costs a cache lookup plus the expiry, audience
    /// and deny checks.
    pub async fn verify_signed(
        &self,
        token: &str,
        audience: Option<&str>,
    ) -> Result<Arc<VerifiedAccess>, Verdict> {
        let now = self.now();
        let leeway = self.0.policy.leeway;
        if let Some(hit) = self.0.cache.signed.get(token) {
            // An expired hit goes the full way, so the answer can name a retired key or clock skew.
            if now < hit.claims.exp.saturating_add(leeway) {
                check_audience(&hit, audience)?;
                self.deny_check(&hit, now)?;
                return Ok(hit);
            }
        }
        // Parsed once: the kid finds the key, and the same parse is verified with it.
        let parsed = ward_signed::parse(token)?;
        let kid = parsed.peeked().kid.clone().ok_or_else(|| {
            Verdict::with(Reason::UnknownKey, "the token names no key (`kid`); Ward's tokens always do")
        })?;
        let key = self.0.keyring.find(self, &kid).await.map_err(unavailable)?;
        let key = match key {
            Some(k) if k.record.state(now) != ward_core::keyring::KeyState::Retired => k,
            other => return Err(unknown_key(&kid, other.as_deref())),
        };
        let expect = Expect {
            issuer: self.0.issuer.clone(),
            audience: audience.map(str::to_string),
            typ: AT_TYP.to_string(),
            leeway,
        };
        let claims = parsed.verify(&key.verifying, &expect, now)?;
        let format = match key.alg {
            Algorithm::PasetoV4Public => Format::Paseto,
            Algorithm::PasetoV4Local => Format::PasetoLocal,
            _ => Format::Jwt,
        };
        let verified = Arc::new(VerifiedAccess { claims, kid, format });
        self.deny_check(&verified, now)?;
        self.0.cache.signed.insert(token.to_string(), verified.clone());
        Ok(verified)
    }

    fn deny_check(&self, v: &VerifiedAccess, now: i64) -> Result<(), Verdict> {
        match self.0.deny.check(&v.facts(), now) {
            Some(verdict) => Err(verdict),
            None => Ok(()),
        }
    }

    /// Revokes signed tokens: one `jti` (until the token's `exp` plus leeway when the token is
    /// given, else until any token could have expired), or a refresh family. Returns what was
    /// revoked.
    pub async fn revoke_signed(
        &self,
        target: SignedTarget,
        reason: RevokeReason,
        note: Option<String>,
        call: &Call,
    ) -> Result<(DenyKind, String), EngineError> {
        crate::validate::check_note(note.as_deref())?;
        let now = self.now();
        let (kind, value, until) = match target {
            SignedTarget::Token(t) => match Presented::classify(&t).map_err(EngineError::Token)? {
                Presented::Signed(text) => {
                    let v = self.verify_signed(text, None).await?;
                    (DenyKind::Jti, v.claims.jti.clone(), v.claims.exp.saturating_add(self.0.policy.leeway))
                }
                Presented::Opaque(p) => {
                    p.expect(&self.0.policy.env, &[TokenKind::Refresh])?;
                    let found = self.0.store.get_refresh(p.id).await.map_err(unavailable);
                    let (rt, _) = self.unlock(&p, found).await?;
                    (DenyKind::Family, rt.family, self.0.policy.deny_until(now))
                }
            },
            SignedTarget::Jti(j) => (DenyKind::Jti, j, self.0.policy.deny_until(now)),
            SignedTarget::Family(f) => (DenyKind::Family, f, self.0.policy.deny_until(now)),
        };
        if value.is_empty() || value.len() > 128 || !value.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(EngineError::Invalid(
                "the value to revoke must be 1 to 128 printable ASCII characters, no spaces".into(),
            ));
        }
        let entry = DenyEntry {
            kind,
            value: value.clone(),
            until,
            revocation: Revocation { at: now, reason, note, actor: call.actor.clone() },
        };
        match kind {
            DenyKind::Family => {
                self.0.store.revoke_refresh_family(&entry).await?;
            }
            _ => self.0.store.add_signed_revocation(&entry).await?,
        }
        self.denied(entry, call);
        Ok((kind, value))
    }

    /// RFC 7009 for an OAuth client: revokes `token` if it is the client's own access or
    /// refresh token. A token that is not valid changes nothing ([`ClientRevocation::Nothing`]);
    /// another client's (or none's) valid token is refused and changes nothing either
    /// ([`ClientRevocation::NotYours`], RFC 7009 §2.1).
    pub async fn revoke_for_client(
        &self,
        token: &str,
        client_id: &str,
        call: &Call,
    ) -> Result<ClientRevocation, EngineError> {
        let now = self.now();
        match Presented::classify(token) {
            Ok(Presented::Signed(text)) => {
                let Ok(v) = self.verify_signed(text, None).await else {
                    return Ok(ClientRevocation::Nothing);
                };
                if v.claims.client_id.as_deref() != Some(client_id) {
                    return Ok(ClientRevocation::NotYours);
                }
                let entry = DenyEntry {
                    kind: DenyKind::Jti,
                    value: v.claims.jti.clone(),
                    until: v.claims.exp.saturating_add(self.0.policy.leeway),
                    revocation: Revocation {
                        at: now,
                        reason: RevokeReason::Logout,
                        note: None,
                        actor: call.actor.clone(),
                    },
                };
                self.0.store.add_signed_revocation(&entry).await?;
                self.denied(entry, call);
                Ok(ClientRevocation::Revoked)
            }
            Ok(Presented::Opaque(p)) if p.kind == TokenKind::Refresh && p.env == self.0.policy.env => {
                let found = self.0.store.get_refresh(p.id).await.map_err(unavailable);
                match self.unlock(&p, found).await {
                    Ok((rt, _)) if rt.client_id.as_deref() == Some(client_id) => {
                        self.revoke_family(&rt.family, RevokeReason::Logout, None, call).await?;
                        Ok(ClientRevocation::Revoked)
                    }
                    Ok(_) => Ok(ClientRevocation::NotYours),
                    Err(v) if v.reason == Reason::Unavailable => Err(v.into()),
                    Err(_) => Ok(ClientRevocation::Nothing),
                }
            }
            _ => Ok(ClientRevocation::Nothing),
        }
    }

    /// What RFC 7662 introspection may say about `token` to `asker`: an access or refresh
    /// token's claims if it is active, else why not. It looks; it never rotates.
    ///
    /// `asker` is the OAuth client asking (`None`: a Ward key entitled to everything). A client
    /// learns about its own tokens only (RFC 7662 §2.2, §4): another client's token, active or
    /// not, is `Err(None)` — inactive, nothing more — and so is any token Ward cannot attribute
    /// to it. Verdicts decided from the text alone (`malformed`, ...) tell nothing stored and are
    /// given to anyone; `unavailable` is always given, as it is no verdict on the token.
    pub async fn introspect(
        &self,
        token: &str,
        asker: Option<&str>,
    ) -> Result<Introspected, Option<Verdict>> {
        let presented = Presented::classify(token).map_err(Some)?;
        let mine = |owner: Option<&str>| asker.is_none() || asker == owner;
        // Before the token is attributed, a client is told nothing but an outage.
        let told = |v: Verdict| (asker.is_none() || v.reason == Reason::Unavailable).then_some(v);
        match presented {
            Presented::Signed(text) => {
                let v = self.verify_signed(text, None).await.map_err(told)?;
                let c = &v.claims;
                if !mine(c.client_id.as_deref()) {
                    return Err(None);
                }
                Ok(Introspected {
                    token_type: "access_token",
                    scope: c.scope.clone(),
                    client_id: c.client_id.clone(),
                    sub: c.sub.clone(),
                    aud: c.aud.clone(),
                    iss: c.iss.clone(),
                    exp: c.exp,
                    iat: c.iat,
                    jti: Some(c.jti.clone()),
                })
            }
            Presented::Opaque(parsed) => {
                parsed.expect(&self.0.policy.env, &[TokenKind::Refresh]).map_err(|mut v| {
                    v.detail = Some(
                        "introspection answers for access and refresh tokens; verify API keys and sessions with POST /v1/verify"
                            .into(),
                    );
                    Some(v)
                })?;
                let found = self.0.store.get_refresh(parsed.id).await.map_err(unavailable);
                let (rt, _) = self.unlock(&parsed, found).await.map_err(told)?;
                if !mine(rt.client_id.as_deref()) {
                    return Err(None);
                }
                let now = self.now();
                // A rotated token is done, whatever the grace: it says so, and not that its family
                // was revoked (only presenting it at the token endpoint does that).
                if let (None, Some((at, successor))) = (&rt.revoked, &rt.rotated) {
                    return Err(Some(Verdict::with(
                        Reason::Superseded,
                        format!(
                            "this refresh token was exchanged at {} for `{successor}`; its family is still live",
                            ward_core::clock::rfc3339(*at)
                        ),
                    )));
                }
                match rt.check(now, 0) {
                    Ok(_) => Ok(Introspected {
                        token_type: "refresh_token",
                        scope: Some(rt.scopes.join(" ")),
                        client_id: rt.client_id.clone(),
                        sub: rt.subject.clone(),
                        aud: rt.audience.clone(),
                        iss: self.0.issuer.clone(),
                        exp: rt.expires_at,
                        iat: rt.created_at,
                        jti: None,
                    }),
                    Err(v) => Err(Some(v)),
                }
            }
        }
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

/// The audience check a cached verification must still pass (time and revocation are checked by
/// the caller).
fn check_audience(v: &VerifiedAccess, audience: Option<&str>) -> Result<(), Verdict> {
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
