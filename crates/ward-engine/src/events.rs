//! Domain events: every state change and every failed verification, as typed values that
//! subscribers (the log today; the audit log, metrics and alerts later) receive without ever
//! slowing the operation that produced them.
//!
//! Each subscriber has its own bounded queue. Emitting never waits: when a queue is full the
//! event is dropped for that subscriber and counted ([`Subscription::dropped`],
//! [`Engine::events_dropped`](crate::Engine::events_dropped)), never silently. With no
//! subscriber, emitting costs one atomic load and builds nothing.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use tokio::sync::mpsc;
use ward_core::{Reason, TokenKind, UnixTime};

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EventKind {
    /// A token (or client) was issued.
    Issued,
    /// A session was renewed: the old token ends after the grace.
    Renewed,
    /// An API key or refresh token was rotated.
    Rotated,
    /// A token, client or signed-token family was revoked.
    Revoked,
    /// An API key was disabled.
    Disabled,
    /// An API key was enabled again.
    Enabled,
    /// A one-time token was redeemed.
    Redeemed,
    /// A rotated refresh token was presented again after its grace: theft; the family is revoked.
    RefreshReuse,
    /// A signing key was created or scheduled to retire.
    KeyRingChanged,
    /// Everything a subject held was revoked.
    SubjectRevoked,
    /// A presented token (or client secret) was refused.
    VerifyFailed,
    /// A nonce, client nonce or DPoP proof was refused (`replayed`, expired, forged, ...).
    ReplayRefused,
    /// A request was refused by a rate limit, or an address was locked out after failed guesses.
    RateLimited,
    /// A subject's named rate limits were set or removed.
    SubjectLimitsChanged,
    /// An operator lifted an address's lockout.
    Unlocked,
}

impl EventKind {
    /// Every kind.
    pub const ALL: [EventKind; 15] = [
        EventKind::Issued,
        EventKind::Renewed,
        EventKind::Rotated,
        EventKind::Revoked,
        EventKind::Disabled,
        EventKind::Enabled,
        EventKind::Redeemed,
        EventKind::RefreshReuse,
        EventKind::KeyRingChanged,
        EventKind::SubjectRevoked,
        EventKind::VerifyFailed,
        EventKind::ReplayRefused,
        EventKind::RateLimited,
        EventKind::SubjectLimitsChanged,
        EventKind::Unlocked,
    ];

    /// The stable name.
    pub const fn as_str(self) -> &'static str {
        match self {
            EventKind::Issued => "issued",
            EventKind::Renewed => "renewed",
            EventKind::Rotated => "rotated",
            EventKind::Revoked => "revoked",
            EventKind::Disabled => "disabled",
            EventKind::Enabled => "enabled",
            EventKind::Redeemed => "redeemed",
            EventKind::RefreshReuse => "refresh_reuse",
            EventKind::KeyRingChanged => "keyring_changed",
            EventKind::SubjectRevoked => "subject_revoked",
            EventKind::VerifyFailed => "verify_failed",
            EventKind::ReplayRefused => "replay_refused",
            EventKind::RateLimited => "rate_limited",
            EventKind::SubjectLimitsChanged => "subject_limits_changed",
            EventKind::Unlocked => "unlocked",
        }
    }
}

/// Who asked, as the adapter saw them: recorded with every event, never used to decide.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Context {
    /// The end user's (or caller's) IP address.
    pub client_ip: Option<String>,
    /// The end user's User-Agent.
    pub user_agent: Option<String>,
    /// The request id the adapter assigned.
    pub request_id: Option<String>,
}

/// Where a [`Context`] comes from when it is only needed on failure: the verify path takes one of
/// these, so a valid verify never builds (or allocates) the context it would not record.
pub trait ContextSource: Send + Sync {
    /// The context.
    fn context(&self) -> Context;
}

impl ContextSource for Context {
    fn context(&self) -> Context {
        self.clone()
    }
}

/// The caller of a state-changing operation: who (recorded as the actor) and from where.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Call {
    /// `key:<id>` for a Ward key, `client:<id>` for an OAuth client, `system:…` for Ward itself.
    pub actor: String,
    /// Where the request came from.
    pub context: Context,
}

impl Call {
    /// A call by `actor` with no context.
    pub fn by(actor: impl Into<String>) -> Self {
        Call { actor: actor.into(), context: Context::default() }
    }
}

/// One event. Never carries a secret: tokens are named by kind, id and prefix only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// When (the engine's clock).
    pub at: UnixTime,
    /// What happened.
    pub kind: EventKind,
    /// The kind of token concerned, if any.
    pub token_kind: Option<TokenKind>,
    /// The token's id (an opaque token's id, a signed token's `jti`, a family id, a kid).
    pub token_id: Option<String>,
    /// The token's public prefix (`ward_live_ak`), for opaque tokens.
    pub prefix: Option<String>,
    /// The subject concerned.
    pub subject: Option<String>,
    /// Who made the change (`None` for verifications).
    pub actor: Option<String>,
    /// The reason: a verify failure's code, or a revocation's reason code in `detail`.
    pub reason: Option<Reason>,
    /// Particulars: the verdict's detail, a revocation reason, a successor's id.
    pub detail: Option<String>,
    /// The caller's context.
    pub context: Context,
}

impl Event {
    /// An event of `kind` at `at`, everything else empty.
    pub fn new(kind: EventKind, at: UnixTime) -> Self {
        Event {
            at,
            kind,
            token_kind: None,
            token_id: None,
            prefix: None,
            subject: None,
            actor: None,
            reason: None,
            detail: None,
            context: Context::default(),
        }
    }

    /// Names the token.
    pub fn token(mut self, kind: TokenKind, id: impl Into<String>) -> Self {
        self.token_kind = Some(kind);
        self.token_id = Some(id.into());
        self
    }

    /// Sets the prefix.
    pub fn prefix(mut self, env: &str, kind: TokenKind) -> Self {
        if kind != TokenKind::AccessToken {
            self.prefix = Some(format!("ward_{env}_{}", kind.code()));
        }
        self
    }

    /// Sets the subject.
    pub fn subject(mut self, s: impl Into<String>) -> Self {
        self.subject = Some(s.into());
        self
    }

    /// Sets the actor and context from a call.
    pub fn call(mut self, call: &Call) -> Self {
        self.actor = Some(call.actor.clone());
        self.context = call.context.clone();
        self
    }

    /// Sets the context.
    pub fn context(mut self, ctx: &Context) -> Self {
        self.context = ctx.clone();
        self
    }

    /// Sets the reason.
    pub fn reason(mut self, r: Reason) -> Self {
        self.reason = Some(r);
        self
    }

    /// Sets the detail.
    pub fn detail(mut self, d: impl Into<String>) -> Self {
        self.detail = Some(d.into());
        self
    }
}

#[derive(Debug)]
struct Subscriber {
    tx: mpsc::Sender<Arc<Event>>,
    dropped: Arc<AtomicU64>,
}

/// Events received by one subscriber.
#[derive(Debug)]
pub struct Subscription {
    rx: mpsc::Receiver<Arc<Event>>,
    dropped: Arc<AtomicU64>,
}

impl Subscription {
    /// The next event; `None` once the engine is gone.
    pub async fn recv(&mut self) -> Option<Arc<Event>> {
        self.rx.recv().await
    }

    /// An event already queued, without waiting.
    pub fn try_recv(&mut self) -> Option<Arc<Event>> {
        self.rx.try_recv().ok()
    }

    /// How many events this subscriber missed because its queue was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

/// The subscribers and the drop count.
#[derive(Debug, Default)]
pub(crate) struct Events {
    subscribers: RwLock<Arc<Vec<Subscriber>>>,
    count: AtomicUsize,
    dropped: AtomicU64,
}

impl Events {
    pub(crate) fn subscribe(&self, capacity: usize) -> Subscription {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        let dropped = Arc::new(AtomicU64::new(0));
        let mut guard = self.subscribers.write().unwrap_or_else(PoisonError::into_inner);
        let mut next: Vec<Subscriber> = guard
            .iter()
            .filter(|s| !s.tx.is_closed())
            .map(|s| Subscriber { tx: s.tx.clone(), dropped: s.dropped.clone() })
            .collect();
        next.push(Subscriber { tx, dropped: dropped.clone() });
        self.count.store(next.len(), Ordering::Release);
        *guard = Arc::new(next);
        Subscription { rx, dropped }
    }

    /// Sends the event `make` builds to every subscriber, building it only if there is one.
    pub(crate) fn emit(&self, make: impl FnOnce() -> Event) {
        if self.count.load(Ordering::Acquire) == 0 {
            return;
        }
        let subs = self.subscribers.read().unwrap_or_else(PoisonError::into_inner).clone();
        let event = Arc::new(make());
        for s in subs.iter() {
            if let Err(mpsc::error::TrySendError::Full(_)) = s.tx.try_send(event.clone()) {
                s.dropped.fetch_add(1, Ordering::Relaxed);
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    pub(crate) fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

/// Logs every event with `tracing` (target `ward::events`) until the engine stops: the
/// subscriber that ships with Ward. Text a caller supplied is logged with `{:?}`, so a newline or
/// an escape code in it cannot forge a line.
pub async fn log_events(mut sub: Subscription) {
    while let Some(e) = sub.recv().await {
        tracing::info!(
            target: "ward::events",
            event = e.kind.as_str(),
            token_kind = e.token_kind.map(|k| k.noun()),
            token_id = ?e.token_id,
            subject = ?e.subject,
            actor = ?e.actor,
            reason = e.reason.map(|r| r.as_str()),
            detail = ?e.detail,
            client_ip = ?e.context.client_ip,
            user_agent = ?e.context.user_agent,
            request_id = ?e.context.request_id,
            "event"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_full_queue_drops_and_counts() {
        let events = Events::default();
        let mut built = 0;
        events.emit(|| {
            built += 1;
            Event::new(EventKind::Issued, 1)
        });
        assert_eq!(built, 0, "no subscriber: nothing is built");
        let mut sub = events.subscribe(2);
        for i in 0..5 {
            events.emit(|| Event::new(EventKind::Issued, i));
        }
        assert_eq!(sub.dropped(), 3);
        assert_eq!(events.dropped(), 3);
        assert_eq!(sub.try_recv().map(|e| e.at), Some(0));
        assert_eq!(sub.try_recv().map(|e| e.at), Some(1));
        assert!(sub.try_recv().is_none());
    }
}
