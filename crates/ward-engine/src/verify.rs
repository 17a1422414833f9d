//! The verify path: the hot path of the whole product.
//!
//! A presented token is classified once, at the boundary ([`Presented`]), and every later step
//! takes the typed value. An opaque token's record comes from the cache (or the store on a miss),
//! its secret is checked by the one [`credential`](crate::credential) check, then the kind's policy.
//! Only usage-limited keys touch the store on every verify (the counter must be decremented
//! atomically, across nodes); last-use times go to a write-behind buffer. A signed token verifies
//! offline against the key ring and the deny set.

use std::net::IpAddr;
use std::sync::Arc;

use ward_core::guard::check_address;
use ward_core::key::{require_scopes, usage_exceeded};
use ward_core::{ApiKey, ParsedToken, Reason, Session, TokenKind, UnixTime, Verdict};

pub use crate::presented::Presented;

use crate::access::VerifiedAccess;
use crate::cache::Memo;
use crate::dpop::{bound_key, DpopAsk};
use crate::error::unavailable;
use crate::events::{ContextSource, Event, EventKind};
use crate::guard::{is_guess, LimitState, Refused};
use crate::Engine;

/// What a verify requires of the token.
#[derive(Clone, Copy, Debug, Default)]
pub struct VerifyOptions<'a> {
    /// The kinds accepted; an empty list accepts API keys, sessions and access tokens.
    pub kinds: &'a [TokenKind],
    /// Scopes the token must all carry.
    pub scopes: &'a [String],
    /// An audience a signed access token must carry in `aud`.
    pub audience: Option<&'a str>,
    /// The end user's address: for sender binding and the failure throttle.
    pub client_ip: Option<IpAddr>,
    /// A named rate limit to apply to the token (its own, else its subject's).
    pub ratelimit: Option<LimitAsk<'a>>,
    /// The DPoP proof sent with the token, and the request it was made for: required for an
    /// access token bound to a key (`cnf.jkt`).
    pub dpop: Option<DpopAsk<'a>>,
}

/// A named rate limit a verify applies.
#[derive(Clone, Copy, Debug)]
pub struct LimitAsk<'a> {
    /// The limit's name, as attached to the key or its subject.
    pub name: &'a str,
    /// Units to spend (at least 1).
    pub cost: u32,
    /// Count the budget per end-user address (`client_ip`) as well: each address gets the whole
    /// limit for itself, as `limit_req` per `$binary_remote_addr` does in nginx.
    pub per_address: bool,
}

/// A verify's whole outcome: the verdict, and where a rate limit stands.
#[derive(Debug, Clone)]
pub struct Verification {
    /// The verdict.
    pub checked: Checked,
    /// The named limit applied, after this call (when one was asked for and the token was
    /// otherwise good).
    pub limit: Option<LimitState>,
    /// Seconds until a `rate_limited` verdict would be lifted.
    pub retry_after: Option<u64>,
}

/// The kinds a verify accepts when it names none.
pub const VERIFIABLE: &[TokenKind] = &[TokenKind::ApiKey, TokenKind::Session, TokenKind::AccessToken];

/// A token that passed every check.
#[derive(Debug, Clone)]
pub enum Verified {
    /// An API key.
    Key {
        /// The key's record (as cached; `remaining_uses` below is current).
        key: Arc<ApiKey>,
        /// Uses left after this one, for usage-limited keys.
        remaining_uses: Option<i64>,
        /// The cache entry's memo.
        memo: Arc<Memo>,
    },
    /// A session.
    Session {
        /// The session's record.
        session: Arc<Session>,
        /// This use: the idle deadline now runs from here.
        last_seen: UnixTime,
    },
    /// A signed access token (JWT or PASETO).
    Access(Arc<VerifiedAccess>),
}

impl Verified {
    /// The subject the token acts for.
    pub fn subject(&self) -> &str {
        match self {
            Verified::Key { key, .. } => &key.subject,
            Verified::Session { session, .. } => &session.subject,
            Verified::Access(a) => &a.claims.sub,
        }
    }
}

/// The outcome of checking one token.
#[derive(Debug, Clone)]
pub enum Checked {
    /// The token is good.
    Valid(Verified),
    /// The token is not good, or Ward could not tell (`unavailable`).
    Invalid(Verdict),
}

impl Engine {
    /// Checks `token` against `opts`. Spends one use of a usage-limited key if (and only if)
    /// everything else holds, records the activity, and emits `verify_failed` on a refusal.
    pub async fn verify(&self, token: &str, opts: &VerifyOptions<'_>, ctx: &dyn ContextSource) -> Checked {
        self.verify_full(token, opts, ctx).await.checked
    }

    /// [`Engine::verify`], also answering where the asked-for rate limit stands and, for a
    /// `rate_limited` verdict, when to retry. An address locked out by the failure throttle is
    /// refused before its token is looked at; a failed guess from it counts towards the lockout.
    pub async fn verify_full(
        &self,
        token: &str,
        opts: &VerifyOptions<'_>,
        ctx: &dyn ContextSource,
    ) -> Verification {
        if let Some(ip) = opts.client_ip {
            if let Some(v) = self.locked_out(ip) {
                let retry_after = v.1;
                self.verify_failed(token, &v.0, ctx);
                return Verification {
                    checked: Checked::Invalid(v.0),
                    limit: None,
                    retry_after: Some(retry_after),
                };
            }
        }
        let mut limit = None;
        let mut retry_after = None;
        let checked = match self.verify_inner(token, opts, &mut limit, ctx).await {
            Ok(v) => Checked::Valid(v),
            Err((v, retry)) => {
                retry_after = retry;
                self.verify_failed(token, &v, ctx);
                if let Some(ip) = opts.client_ip.filter(|_| is_guess(v.reason)) {
                    self.guess_failed(ip, ctx);
                }
                Checked::Invalid(v)
            }
        };
        Verification { checked, limit, retry_after }
    }

    /// `rate_limited` (and seconds to wait) when `ip` is locked out by the failure throttle.
    pub fn locked_out(&self, ip: IpAddr) -> Option<(Verdict, u64)> {
        let now = self.now();
        let until = self.0.throttle.locked_until(ip, now)?;
        let wait = until - now;
        Some((
            Verdict::with(
                Reason::RateLimited,
                format!(
                    "too many failed attempts from {ip}: locked out until {} (in {})",
                    ward_core::clock::rfc3339(until),
                    ward_core::clock::human_span(wait)
                ),
            ),
            u64::try_from(wait).unwrap_or(1).max(1),
        ))
    }

    /// Counts a failed guess from `ip`; a lockout it starts is an event.
    pub fn guess_failed(&self, ip: IpAddr, ctx: &dyn ContextSource) {
        let now = self.now();
        if let Some(until) = self.0.throttle.failed(ip, now) {
            self.emit(|| {
                let mut c = ctx.context();
                c.client_ip = Some(ip.to_string());
                Event::new(EventKind::RateLimited, now).reason(Reason::RateLimited).context(&c).detail(
                    format!(
                        "{ip} locked out until {} after too many failed attempts",
                        ward_core::clock::rfc3339(until)
                    ),
                )
            });
        }
    }

    /// Lifts a lockout of `ip` on this node (an operator's unlock) and forgets its failures.
    /// Returns when the lockout would have ended, if one was in force; either way it is an event.
    pub fn unlock_address(&self, ip: IpAddr, call: &crate::events::Call) -> Option<UnixTime> {
        let now = self.now();
        let was = self.0.throttle.clear(ip, now);
        self.emit(|| {
            let detail = match was {
                Some(until) => {
                    format!("{ip} unlocked (locked out until {})", ward_core::clock::rfc3339(until))
                }
                None => format!("{ip} was not locked out; its failures are forgotten"),
            };
            Event::new(EventKind::Unlocked, now).call(call).detail(detail)
        });
        was
    }

    /// The addresses locked out on this node now.
    pub fn lockouts(&self) -> Vec<crate::guard::Lockout> {
        self.0.throttle.lockouts(self.now())
    }

    /// Emits `verify_failed` for `token` (named by kind and id when its text allows).
    pub(crate) fn verify_failed(&self, token: &str, v: &Verdict, ctx: &dyn ContextSource) {
        if v.reason == Reason::Unavailable {
            return;
        }
        let now = self.now();
        let env = &self.0.policy.env;
        self.0.events.emit(|| {
            let e = Event::new(EventKind::VerifyFailed, now).reason(v.reason).context(&ctx.context());
            let e = match v.detail.as_deref() {
                Some(d) => e.detail(d),
                None => e,
            };
            match Presented::classify(token) {
                Ok(Presented::Opaque(p)) => e.token(p.kind, p.id).prefix(env, p.kind),
                Ok(Presented::Signed(_)) => Event { token_kind: Some(TokenKind::AccessToken), ..e },
                Err(_) => e,
            }
        });
    }

    /// Authenticates a caller's own Ward key (an API key) like [`Engine::verify`], but spends no
    /// use of a usage-limited key: the adapter spends one with [`Engine::spend_use`] once it has
    /// accepted the request, so a request refused for its input costs the caller nothing. A key
    /// whose cached record shows no uses left is refused here already. For a key without a usage
    /// limit this is exactly the cached verify: no store round-trip, then or later.
    pub async fn verify_caller(
        &self,
        token: &str,
        client_ip: Option<IpAddr>,
        ctx: &dyn ContextSource,
    ) -> Checked {
        if let Some((v, _)) = client_ip.and_then(|ip| self.locked_out(ip)) {
            self.verify_failed(token, &v, ctx);
            return Checked::Invalid(v);
        }
        let opts = VerifyOptions { client_ip, ..VerifyOptions::default() };
        let result = match Presented::classify(token) {
            Ok(Presented::Opaque(parsed)) => match parsed.expect(&self.0.policy.env, &[TokenKind::ApiKey]) {
                Ok(()) => self.verify_key(&parsed, &opts, false).await,
                Err(v) => Err(v),
            },
            Ok(Presented::Signed(_)) => Err(Verdict::with(
                Reason::WrongType,
                "a signed access token cannot call Ward's API; use a Ward key",
            )),
            Err(v) => Err(v),
        };
        match result {
            Ok(v) => Checked::Valid(v),
            Err(v) => {
                self.verify_failed(token, &v, ctx);
                if let Some(ip) = client_ip.filter(|_| is_guess(v.reason)) {
                    self.guess_failed(ip, ctx);
                }
                Checked::Invalid(v)
            }
        }
    }

    /// Spends one use of `key` (a caller authenticated by [`Engine::verify_caller`]) and returns
    /// the uses left: `None` for a key without a limit, which costs nothing. A key whose budget
    /// ran out meanwhile is `usage_exceeded`.
    pub async fn spend_use(&self, key: &ApiKey, ctx: &dyn ContextSource) -> Result<Option<i64>, Verdict> {
        if key.remaining_uses.is_none() {
            return Ok(None);
        }
        let now = self.now();
        let spent = self.consume(key, now).await;
        if let Err(v) = &spent {
            if v.reason != Reason::Unavailable {
                self.0.events.emit(|| {
                    let e = Event::new(EventKind::VerifyFailed, now)
                        .reason(v.reason)
                        .context(&ctx.context())
                        .token(TokenKind::ApiKey, key.id.clone())
                        .prefix(&key.env, TokenKind::ApiKey);
                    match v.detail.as_deref() {
                        Some(d) => e.detail(d),
                        None => e,
                    }
                });
            }
        }
        spent
    }

    /// One use of a usage-limited key, from the budget it shares with its rotation successor.
    async fn consume(&self, key: &ApiKey, now: UnixTime) -> Result<Option<i64>, Verdict> {
        let inner = &self.0;
        // A rotated key in its overlap and its successor share one budget: the successor's
        // counter.
        let budget = key.superseded.as_ref().map_or(key.id.as_str(), |s| s.by.as_str());
        match inner.store.consume_api_key_use(budget, now).await {
            Ok(Some(left)) => Ok(Some(left)),
            Ok(None) => {
                inner.cache.invalidate(&key.id);
                Err(usage_exceeded())
            }
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn verify_inner(
        &self,
        token: &str,
        opts: &VerifyOptions<'_>,
        limit: &mut Option<LimitState>,
        ctx: &dyn ContextSource,
    ) -> Result<Verified, (Verdict, Option<u64>)> {
        let kinds = if opts.kinds.is_empty() { VERIFIABLE } else { opts.kinds };
        let no_retry = |v: Verdict| (v, None);
        let verified = match Presented::classify(token).map_err(no_retry)? {
            Presented::Signed(text) => {
                if !kinds.contains(&TokenKind::AccessToken) {
                    return Err(no_retry(Verdict::with(
                        Reason::WrongType,
                        "a signed access token is not accepted here",
                    )));
                }
                let v = self.verify_signed(text, opts.audience).await.map_err(no_retry)?;
                crate::access::check_scopes(&v, opts.scopes).map_err(no_retry)?;
                self.check_token_binding(text, bound_key(&v.claims.extra), opts.dpop, ctx)
                    .await
                    .map_err(no_retry)?;
                Verified::Access(v)
            }
            Presented::Opaque(parsed) => {
                if parsed.kind == TokenKind::OneTime && !kinds.contains(&TokenKind::OneTime) {
                    return Err(no_retry(Verdict::with(
                        Reason::WrongType,
                        "this is a one-time token: redeem it with POST /v1/one-time/redeem, it cannot be verified",
                    )));
                }
                parsed.expect(&self.0.policy.env, kinds).map_err(no_retry)?;
                match parsed.kind {
                    TokenKind::Session => {
                        self.verify_session(&parsed, opts.scopes).await.map_err(no_retry)?
                    }
                    // A usage-limited key spends its use only once its rate limit has allowed the call.
                    _ => {
                        let v = self
                            .verify_key(&parsed, opts, opts.ratelimit.is_none())
                            .await
                            .map_err(no_retry)?;
                        if let (Some(ask), Verified::Key { key, .. }) = (opts.ratelimit, &v) {
                            *limit = Some(self.apply_limit(&v, ask, opts.client_ip).await?);
                            if key.remaining_uses.is_some() {
                                let left = self.consume(key, self.now()).await.map_err(no_retry)?;
                                return Ok(match v {
                                    Verified::Key { key, memo, .. } => {
                                        Verified::Key { key, remaining_uses: left, memo }
                                    }
                                    other => other,
                                });
                            }
                        }
                        return Ok(v);
                    }
                }
            }
        };
        if let Some(ask) = opts.ratelimit {
            *limit = Some(self.apply_limit(&verified, ask, opts.client_ip).await?);
        }
        Ok(verified)
    }

    /// Applies the named limit `ask` to a verified token: the token's own limit of that name
    /// (API keys), else its subject's.
    async fn apply_limit(
        &self,
        v: &Verified,
        ask: LimitAsk<'_>,
        client_ip: Option<IpAddr>,
    ) -> Result<LimitState, (Verdict, Option<u64>)> {
        let (mut owner, limit) = match v {
            Verified::Key { key, .. } if key.ratelimits.iter().any(|l| l.name == ask.name) => {
                // A rotated key and its successor share one budget, as they share uses.
                let id = key.superseded.as_ref().map_or(key.id.as_str(), |s| s.by.as_str());
                let l = key.ratelimits.iter().find(|l| l.name == ask.name).cloned();
                (format!("key:{id}:{}", ask.name), l)
            }
            _ => {
                let subject = v.subject();
                let limits = self.subject_limits(subject).await.map_err(|e| (unavailable(e), None))?;
                let l = limits.iter().find(|l| l.name == ask.name).cloned();
                (format!("subject:{subject}:{}", ask.name), l)
            }
        };
        let Some(limit) = limit else {
            return Err((
                Verdict::with(
                    Reason::RateLimited,
                    format!(
                        "no rate limit named `{}` is attached to this token or its subject `{}`; attach one \
                         (POST /v1/keys `ratelimits`, PUT /v1/subjects/{{subject}}/ratelimits) or drop `ratelimit`",
                        ask.name,
                        v.subject()
                    ),
                ),
                None,
            ));
        };
        if ask.per_address {
            // No address (an adapter that could not tell): one shared bucket, never none.
            match client_ip {
                Some(ip) => owner = format!("{owner}@{}", ward_core::guard::canonical(ip)),
                None => owner.push_str("@unknown"),
            }
        }
        match self.0.limits.backend.take(&owner, &limit, ask.cost) {
            Ok(state) => Ok(state),
            Err(Refused::Limited { limit, retry_after }) => Err((
                Verdict::with(
                    Reason::RateLimited,
                    format!(
                        "rate limit `{}` ({} per {}) is spent; retry in {retry_after} s",
                        limit.name,
                        limit.limit,
                        ward_core::clock::human_span(i64::from(limit.period))
                    ),
                ),
                Some(retry_after),
            )),
            Err(Refused::CostTooHigh { limit, cost }) => Err((
                Verdict::with(
                    Reason::RateLimited,
                    format!(
                        "a cost of {cost} is more than the whole budget of rate limit `{}` ({})",
                        limit.name, limit.limit
                    ),
                ),
                None,
            )),
        }
    }

    /// A subject's named limits, from memory when this node has read them.
    pub(crate) async fn subject_limits(
        &self,
        subject: &str,
    ) -> Result<Arc<Vec<ward_core::guard::NamedLimit>>, ward_store::StoreError> {
        if let Some(l) = self.0.limits.cached_subject(subject) {
            return Ok(l);
        }
        let l = Arc::new(self.0.store.get_subject_limits(subject).await?);
        self.0.limits.remember_subject(subject, l.clone());
        Ok(l)
    }

    /// An API key's verify; `spend` spends a use of a usage-limited key (else the caller does,
    /// later, with [`Engine::spend_use`]).
    async fn verify_key(
        &self,
        parsed: &ParsedToken<'_>,
        opts: &VerifyOptions<'_>,
        spend: bool,
    ) -> Result<Verified, Verdict> {
        let inner = &self.0;
        let found =
            inner.cache.get(&inner.cache.keys, parsed.id, || inner.store.get_api_key(parsed.id)).await;
        let (key, memo) = self.unlock(parsed, found).await?;
        let now = self.now();
        key.check(now, opts.scopes)?;
        check_address(&key.allowed_ips, opts.client_ip)?;
        let remaining_uses = match key.remaining_uses {
            Some(_) if spend => self.consume(&key, now).await?,
            _ => None,
        };
        inner.activity.key_used(&memo, &key.id, now);
        Ok(Verified::Key { key, remaining_uses, memo })
    }

    async fn verify_session(&self, parsed: &ParsedToken<'_>, scopes: &[String]) -> Result<Verified, Verdict> {
        let inner = &self.0;
        let found =
            inner.cache.get(&inner.cache.sessions, parsed.id, || inner.store.get_session(parsed.id)).await;
        let (session, memo) = self.unlock(parsed, found).await?;
        let now = self.now();
        let seen = inner.activity.session_seen(Some(&memo), &session);
        session.check(now, seen)?;
        check_session_scopes(&session, scopes)?;
        inner.activity.session_used(&memo, &session.id, now);
        Ok(Verified::Session { session, last_seen: now })
    }

    /// The latest use of a session, counting this node's unflushed activity.
    pub fn session_last_seen(&self, s: &Session) -> UnixTime {
        self.0.activity.session_seen(None, s)
    }
}

/// Sessions carry scopes, if any, as a `scopes` array in their claims.
fn check_session_scopes(s: &Session, scopes: &[String]) -> Result<(), Verdict> {
    if scopes.is_empty() {
        return Ok(());
    }
    let have = s.claims.get("scopes").and_then(|v| v.as_array()).map(Vec::as_slice).unwrap_or_default();
    require_scopes(have.iter().filter_map(|v| v.as_str()), scopes, "the session's `claims.scopes`")
}
