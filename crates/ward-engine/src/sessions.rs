//! Sessions: issue, renew (rotation with a grace), log out, revoke, read and list.

use ward_core::token::NewToken;
use ward_core::{Reason, RevokeReason, Session, TokenKind, Verdict};
use ward_store::StoreError;

use crate::error::unavailable;
use crate::events::{Call, Event, EventKind};
use crate::keys::check_limit;
use crate::validate::{check_label, check_object};
use crate::verify::{Checked, Verified, VerifyOptions};
use crate::{Engine, EngineError};

/// A session to start.
#[derive(Debug, Clone, Default)]
pub struct NewSession {
    /// The signed-in user.
    pub subject: String,
    /// Seconds of inactivity after which the session closes (policy default if absent).
    pub idle_timeout: Option<i64>,
    /// Seconds after which the session closes whatever its activity (policy default if absent).
    pub absolute_timeout: Option<i64>,
    /// Any JSON object, returned on verify; a `scopes` array in it is checked against the scopes
    /// a verify asks for.
    pub claims: Option<serde_json::Value>,
}

fn check_timeout(what: &str, v: Option<i64>, max: i64) -> Result<(), EngineError> {
    match v {
        Some(s) if !(1..=max).contains(&s) => {
            Err(EngineError::Invalid(format!("`{what}` must be between 1 and {max} seconds")))
        }
        _ => Ok(()),
    }
}

impl Engine {
    /// Checks a session request against the policy; nothing is written unless it holds (an
    /// adapter may check first, before it accepts the request).
    pub fn check_session(&self, req: &NewSession) -> Result<(), EngineError> {
        let p = &self.0.policy;
        check_label("subject", &req.subject)?;
        check_timeout("idle_timeout", req.idle_timeout, p.session_max_lifetime)?;
        check_timeout("absolute_timeout", req.absolute_timeout, p.session_max_lifetime)?;
        check_object("claims", req.claims.as_ref())
    }

    fn session_event(&self, kind: EventKind, s: &Session, call: &Call) -> Event {
        Event::new(kind, self.now())
            .token(TokenKind::Session, s.id.clone())
            .prefix(&s.env, TokenKind::Session)
            .subject(s.subject.clone())
            .call(call)
    }

    /// Validates `req`, mints a session and stores it. The token is shown this once.
    pub async fn issue_session(
        &self,
        req: NewSession,
        call: &Call,
    ) -> Result<(Session, NewToken), EngineError> {
        let p = &self.0.policy;
        self.check_session(&req)?;
        let now = self.now();
        for _ in 0..3 {
            let minted = self.mint(TokenKind::Session);
            let session = Session {
                id: minted.id().to_string(),
                env: p.env.clone(),
                subject: req.subject.clone(),
                claims: req.claims.clone().unwrap_or_else(|| serde_json::json!({})),
                secret_hash: minted.hash,
                created_at: now,
                expires_at: now + req.absolute_timeout.unwrap_or(p.session_absolute_timeout),
                idle_timeout: req.idle_timeout.unwrap_or(p.session_idle_timeout),
                last_seen_at: now,
                superseded: None,
                revoked: None,
            };
            match self.0.store.insert_session(&session).await {
                Ok(()) => {
                    self.emit(|| self.session_event(EventKind::Issued, &session, call));
                    return Ok((session, minted.token));
                }
                Err(StoreError::Conflict) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(EngineError::Unavailable("could not allocate a unique session id".into()))
    }

    /// Replaces the session `token` names (which must be valid) by a new one with the same
    /// subject, absolute deadline and idle timeout; the old one keeps working for the renewal
    /// grace. `claims` replaces the claims (rotation on privilege change).
    pub async fn renew_session(
        &self,
        token: &str,
        claims: Option<serde_json::Value>,
        call: &Call,
    ) -> Result<(Session, NewToken), EngineError> {
        check_object("claims", claims.as_ref())?;
        let opts = VerifyOptions { kinds: &[TokenKind::Session], ..VerifyOptions::default() };
        let old = match self.verify(token, &opts, &call.context).await {
            Checked::Valid(Verified::Session { session, .. }) => session,
            Checked::Valid(_) => return Err(EngineError::Invalid("only a session can be renewed".into())),
            Checked::Invalid(v) => return Err(v.into()),
        };
        let now = self.now();
        let minted = self.mint(TokenKind::Session);
        let session = Session {
            id: minted.id().to_string(),
            secret_hash: minted.hash,
            created_at: now,
            last_seen_at: now,
            claims: claims.unwrap_or_else(|| old.claims.clone()),
            superseded: None,
            revoked: None,
            ..(*old).clone()
        };
        let renewed =
            self.0.store.renew_session(&old.id, &session, now + self.0.policy.renewal_grace).await?;
        self.0.cache.invalidate(&old.id);
        if !renewed {
            let current = self.0.store.get_session(&old.id).await?;
            let verdict = match current.as_ref().map(|s| (&s.revoked, &s.superseded)) {
                Some((Some(r), _)) => r.verdict(now),
                Some((None, Some(sup))) => Verdict::with(
                    Reason::Superseded,
                    format!("this session was already renewed: it was replaced by `{}`", sup.by),
                ),
                _ => Verdict::of(Reason::Unknown),
            };
            return Err(EngineError::Token(verdict));
        }
        self.emit(|| {
            self.session_event(EventKind::Renewed, &old, call).detail(format!("successor `{}`", session.id))
        });
        Ok((session, minted.token))
    }

    /// Logs out the session `token` names (reason `logout`): the session, its predecessor still in
    /// its renewal grace, and its successors, if it was renewed. Idempotent.
    pub async fn logout(&self, token: &str, call: &Call) -> Result<Session, EngineError> {
        let parsed = self.parse_opaque(token, &[TokenKind::Session])?;
        let found = self.0.store.get_session(parsed.id).await.map_err(unavailable);
        let s = match self.unlock(&parsed, found).await {
            Ok(s) => s,
            Err(v) => {
                self.verify_failed(token, &v, &call.context);
                return Err(v.into());
            }
        };
        let ended = self.revoke_session(&s.id, RevokeReason::Logout, None, call).await?;
        // A renewed session's successors end with it: logging out of any token of the chain ends
        // the chain.
        let mut next = ended.superseded.as_ref().map(|sup| sup.by.clone());
        let mut hops = 0;
        while let Some(id) = next.take() {
            hops += 1;
            if hops > 16 {
                break;
            }
            match self.revoke_session(&id, RevokeReason::Logout, None, call).await {
                Ok(succ) => next = succ.superseded.as_ref().map(|sup| sup.by.clone()),
                Err(EngineError::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(ended)
    }

    /// Revokes one session by id (and its predecessor still in its renewal grace).
    pub async fn revoke_session(
        &self,
        id: &str,
        reason: RevokeReason,
        note: Option<String>,
        call: &Call,
    ) -> Result<Session, EngineError> {
        let rev = self.revocation(reason, note, call)?;
        let s = self.0.store.revoke_session(id, &rev).await?;
        self.0.cache.invalidate(id);
        let s = s.ok_or_else(|| EngineError::NotFound(format!("no session `{id}`")))?;
        self.caught_up().await;
        self.emit(|| {
            self.session_event(EventKind::Revoked, &s, call).detail(format!("reason `{}`", reason.as_str()))
        });
        Ok(s)
    }

    /// One session's record.
    pub async fn session(&self, id: &str) -> Result<Session, EngineError> {
        self.0.store.get_session(id).await?.ok_or_else(|| EngineError::NotFound(format!("no session `{id}`")))
    }

    /// A subject's sessions, newest first.
    pub async fn sessions(&self, subject: &str, limit: Option<u32>) -> Result<Vec<Session>, EngineError> {
        let limit = check_limit(limit)?;
        check_label("subject", subject)?;
        Ok(self.0.store.list_sessions(subject, limit).await?)
    }
}
