//! Ward's engine: every operation Ward performs on every token kind — issuing, verifying,
//! renewing, rotating and revoking; subjects; OAuth clients; the key ring; refresh rotation and
//! theft handling; maintenance — with its caches, its events, and the change feed that makes
//! many nodes act as one. No HTTP: the axum server, the CLI and a Rust service embedding Ward
//! are all adapters over this crate.
//!
//! The embedding example (`cargo run -p ward-engine --example embedded`, which CI runs): open a
//! store, start an engine, issue an API key, a session and a JWT, verify each, revoke one, and
//! print every verdict with its reason.
//!
//! ```
#![doc = include_str!("../examples/embedded.rs")]
//! ```
//!
//! The modules, one concern each: [`verify`] (the hot path; tokens are classified once into
//! [`Presented`]), [`credential`] (the one presented-secret check of every opaque kind),
//! [`keys`], [`sessions`], [`onetime`], [`clients`], [`access`] (signed tokens and refresh
//! rotation), [`keyring`], [`subjects`], [`events`], [`sync`] (the change feed), [`maintenance`].

use std::sync::{Arc, Mutex, PoisonError};

use ward_core::secret::Sealer;
use ward_core::token::{self, NewToken};
use ward_core::{Clock, MasterKey, SecretHash, SecretHasher, SecretSource, SourceRng, TokenKind, UnixTime};
use ward_store::Store;

pub mod access;
mod builder;
mod cache;
pub mod clients;
pub mod credential;
mod deny;
pub mod dpop;
mod error;
pub mod events;
pub mod guard;
pub mod keyring;
pub mod keys;
pub mod maintenance;
pub mod onetime;
mod policy;
pub mod presented;
pub mod replay;
pub mod sessions;
pub mod subjects;
pub mod sync;
pub mod validate;
pub mod verify;

pub use access::{
    ClientRevocation, Format, Grant, Introspected, SignedTarget, TokenResponse, VerifiedAccess,
};
pub use builder::{check_issuer, EngineBuilder};
pub use cache::Memo;
pub use clients::NewClient;
pub use error::EngineError;
pub use events::{Call, Context, ContextSource, Event, EventKind, Subscription};
pub use keyring::KeyInfo;
pub use keys::{KeyQuery, NewKey, MAX_LIST};
pub use onetime::NewOneTime;
pub use policy::{Policy, DEFAULT_ROTATION_OVERLAP, MAX_ROTATION_OVERLAP};
pub use presented::Presented;
pub use sessions::NewSession;
pub use verify::{Checked, LimitAsk, Verification, Verified, VerifyOptions, VERIFIABLE};
pub use ward_store::SubjectRevocation;

/// The engine: cheap to clone, shared by every request.
#[derive(Clone)]
pub struct Engine(Arc<Inner>);

pub(crate) struct Inner {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) secrets: Arc<dyn SecretSource>,
    pub(crate) hasher: SecretHasher,
    pub(crate) sealer: Sealer,
    pub(crate) policy: Policy,
    pub(crate) issuer: String,
    pub(crate) deployment_id: String,
    pub(crate) cache: cache::Records,
    pub(crate) activity: cache::Activity,
    pub(crate) keyring: keyring::KeyRing,
    pub(crate) deny: deny::DenyCache,
    pub(crate) events: events::Events,
    pub(crate) follower: sync::Follower,
    pub(crate) limits: guard::NamedLimits,
    pub(crate) throttle: guard::Throttle,
    pub(crate) nonces: SecretHasher,
    pub(crate) tasks: Mutex<Vec<tokio::task::JoinHandle<()>>>,
    pub(crate) stop: tokio::sync::watch::Sender<bool>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("deployment", &self.0.deployment_id)
            .field("issuer", &self.0.issuer)
            .field("store", &self.0.store)
            .field("cache", &self.0.cache)
            .finish_non_exhaustive()
    }
}

/// A freshly minted token and the keyed hash to store for it.
pub(crate) struct Minted {
    pub(crate) token: NewToken,
    pub(crate) hash: SecretHash,
}

impl Minted {
    pub(crate) fn id(&self) -> &str {
        &self.token.id
    }
}

impl Engine {
    /// Starts building an engine on `store`, whose every server-side key derives from `master`.
    pub fn builder(store: Arc<dyn Store>, master: &MasterKey) -> EngineBuilder {
        EngineBuilder::new(store, master)
    }

    /// The current time on the engine's clock.
    pub fn now(&self) -> UnixTime {
        self.0.clock.now()
    }

    /// The policy the engine runs with.
    pub fn policy(&self) -> &Policy {
        &self.0.policy
    }

    /// The `iss` of this deployment's signed tokens (RFC 8414's issuer identifier).
    pub fn issuer(&self) -> &str {
        &self.0.issuer
    }

    /// The id of the deployment this engine's store belongs to.
    pub fn deployment_id(&self) -> &str {
        &self.0.deployment_id
    }

    /// The store, for tools and tests; adapters go through the engine's operations.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.0.store
    }

    /// Whether the store answers.
    pub async fn ping(&self) -> Result<(), EngineError> {
        Ok(self.0.store.ping().await?)
    }

    /// Receives every event from now on, through a queue of the policy's `event_queue` size.
    pub fn subscribe(&self) -> Subscription {
        self.0.events.subscribe(self.0.policy.event_queue)
    }

    /// Receives every event from now on, through a queue of `capacity` events.
    pub fn subscribe_with(&self, capacity: usize) -> Subscription {
        self.0.events.subscribe(capacity)
    }

    /// How many events were dropped in all because a subscriber's queue was full.
    pub fn events_dropped(&self) -> u64 {
        self.0.events.dropped()
    }

    /// How many signed-token revocations this node holds in memory.
    pub fn deny_len(&self) -> usize {
        self.0.deny.len()
    }

    pub(crate) fn emit(&self, make: impl FnOnce() -> Event) {
        self.0.events.emit(make)
    }

    /// Mints a token of `kind` for this deployment from the injected secret source.
    pub(crate) fn mint(&self, kind: TokenKind) -> Minted {
        let token = token::mint(&mut SourceRng(self.0.secrets.as_ref()), &self.0.policy.env, kind);
        let hash = self.0.hasher.hash(token.hashed_part());
        Minted { token, hash }
    }

    /// Stops the background tasks, waits for them, and writes the buffered activity.
    pub async fn shutdown(&self) {
        let _ = self.0.stop.send(true);
        let tasks: Vec<_> = std::mem::take(&mut *self.0.tasks.lock().unwrap_or_else(PoisonError::into_inner));
        for t in tasks {
            t.abort();
            let _ = t.await;
        }
        if let Err(e) = self.flush_activity().await {
            tracing::warn!(error = %e, "could not write the last activity before stopping");
        }
    }
}
