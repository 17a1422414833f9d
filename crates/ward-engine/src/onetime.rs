//! One-time tokens: issue, and redeem exactly once.
//!
//! No enumeration: issuing does the same work and answers the same shape for any subject, and a
//! redemption of an id Ward never issued does a wrong secret's work.

use ward_core::onetime::valid_purpose;
use ward_core::token::NewToken;
use ward_core::{OneTimeToken, Reason, TokenKind, Verdict};
use ward_store::StoreError;

use crate::error::unavailable;
use crate::events::{Call, ContextSource, Event, EventKind};
use crate::validate::{check_label, check_object};
use crate::{Engine, EngineError};

/// A one-time token to issue.
#[derive(Debug, Clone, Default)]
pub struct NewOneTime {
    /// Who the token is for.
    pub subject: String,
    /// What it is for (`password_reset`, `magic_link`, ...).
    pub purpose: String,
    /// Seconds until it expires (policy default if absent).
    pub expires_in: Option<i64>,
    /// Any JSON object, returned when the token is redeemed.
    pub data: Option<serde_json::Value>,
    /// Supersede the subject's earlier unused tokens of the same purpose.
    pub supersede_previous: bool,
}

impl Engine {
    /// Checks a one-time token request against the policy; nothing is written unless it holds.
    pub fn check_one_time(&self, req: &NewOneTime) -> Result<(), EngineError> {
        let p = &self.0.policy;
        check_label("subject", &req.subject)?;
        if !valid_purpose(&req.purpose) {
            return Err(EngineError::Invalid(
                "`purpose` must be 1 to 64 lowercase letters, digits, `_`, `-` or `.`".into(),
            ));
        }
        let ttl = req.expires_in.unwrap_or(p.one_time_ttl);
        if !(1..=p.one_time_max_ttl).contains(&ttl) {
            return Err(EngineError::Invalid(format!(
                "`expires_in` must be between 1 and {} seconds (the configured maximum)",
                p.one_time_max_ttl
            )));
        }
        check_object("data", req.data.as_ref())
    }

    /// Validates `req`, mints a one-time token and stores it. The token is shown this once.
    pub async fn issue_one_time(
        &self,
        req: NewOneTime,
        call: &Call,
    ) -> Result<(OneTimeToken, NewToken), EngineError> {
        let p = &self.0.policy;
        self.check_one_time(&req)?;
        let ttl = req.expires_in.unwrap_or(p.one_time_ttl);
        let now = self.now();
        for _ in 0..3 {
            let minted = self.mint(TokenKind::OneTime);
            let t = OneTimeToken {
                id: minted.id().to_string(),
                env: p.env.clone(),
                subject: req.subject.clone(),
                purpose: req.purpose.clone(),
                data: req.data.clone().unwrap_or_else(|| serde_json::json!({})),
                secret_hash: minted.hash,
                created_at: now,
                expires_at: now + ttl,
                used_at: None,
                superseded: None,
                revoked: None,
            };
            match self.0.store.insert_one_time(&t, req.supersede_previous).await {
                Ok(_) => {
                    self.emit(|| {
                        Event::new(EventKind::Issued, now)
                            .token(TokenKind::OneTime, t.id.clone())
                            .prefix(&t.env, TokenKind::OneTime)
                            .subject(t.subject.clone())
                            .detail(format!("purpose `{}`", t.purpose))
                            .call(call)
                    });
                    return Ok((t, minted.token));
                }
                Err(StoreError::Conflict) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(EngineError::Unavailable("could not allocate a unique token id".into()))
    }

    /// Redeems `token` for `purpose`: `Ok` for exactly one caller, however many race.
    pub async fn redeem(
        &self,
        token: &str,
        purpose: &str,
        ctx: &dyn ContextSource,
    ) -> Result<OneTimeToken, Verdict> {
        let result = self.redeem_inner(token, purpose).await;
        match &result {
            Ok(t) => self.emit(|| {
                Event::new(EventKind::Redeemed, self.now())
                    .token(TokenKind::OneTime, t.id.clone())
                    .prefix(&t.env, TokenKind::OneTime)
                    .subject(t.subject.clone())
                    .detail(format!("purpose `{}`", t.purpose))
                    .context(&ctx.context())
            }),
            Err(v) => self.verify_failed(token, v, ctx),
        }
        result
    }

    async fn redeem_inner(&self, token: &str, purpose: &str) -> Result<OneTimeToken, Verdict> {
        let parsed = self.parse_opaque(token, &[TokenKind::OneTime])?;
        let found = self.0.store.get_one_time(parsed.id).await.map_err(unavailable);
        let t = self.unlock(&parsed, found).await?;
        let now = self.now();
        t.check(now, purpose)?;
        if self.0.store.redeem_one_time(&t.id, now).await.map_err(unavailable)? {
            return Ok(OneTimeToken { used_at: Some(now), ..t });
        }
        // Someone else won the race (or the state changed under us): say why, from the record.
        let current = self.0.store.get_one_time(&t.id).await.map_err(unavailable)?;
        Err(current.and_then(|c| c.check(now, purpose).err()).unwrap_or_else(|| {
            Verdict::with(Reason::AlreadyUsed, "redeemed by a concurrent request a moment ago")
        }))
    }
}
