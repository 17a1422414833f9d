//! Starting an engine: the deployment check (the right master key, one issuer), the deny set
//! loaded before anything is answered, the key ring, and the background tasks.

use std::sync::{Arc, Mutex, PoisonError};

use subtle::ConstantTimeEq;
use ward_core::{Clock, MasterKey, OsSecrets, SecretSource, SystemClock};
use ward_store::{Deployment, Store};

use crate::cache::{Activity, Records};
use crate::events::Events;
use crate::{Engine, EngineError, Inner, Policy};

/// What [`Engine::builder`] returns: set what differs from the defaults, then [`build`](Self::build).
pub struct EngineBuilder {
    store: Arc<dyn Store>,
    master: MasterKey,
    clock: Arc<dyn Clock>,
    secrets: Arc<dyn SecretSource>,
    policy: Policy,
    default_issuer: Option<String>,
    background: bool,
    log_events: bool,
}

impl std::fmt::Debug for EngineBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineBuilder").field("policy", &self.policy).finish_non_exhaustive()
    }
}

/// Checks an issuer identifier: an `http` or `https` URL with a host that names this
/// deployment (never the unspecified address a server listens on), no query or fragment.
pub fn check_issuer(iss: &str) -> Result<(), EngineError> {
    let bad = |why: &str| Err(EngineError::Invalid(format!("issuer {iss:?} {why}")));
    let Some(rest) = iss.strip_prefix("https://").or_else(|| iss.strip_prefix("http://")) else {
        return bad("must start with https:// (or http://)");
    };
    let host = rest.split('/').next().unwrap_or_default();
    if host.is_empty() {
        return bad("has no host");
    }
    if iss.len() > 512 || iss.chars().any(|c| c.is_whitespace() || c.is_control()) || iss.contains(['?', '#'])
    {
        return bad("must be a URL without spaces, query or fragment");
    }
    let bare = host.rsplit_once(':').map_or(host, |(h, _)| h);
    if matches!(bare, "0.0.0.0" | "[::]" | "") {
        return bad("names the unspecified address: set `issuer` to the URL clients reach Ward at");
    }
    Ok(())
}

impl EngineBuilder {
    pub(crate) fn new(store: Arc<dyn Store>, master: &MasterKey) -> Self {
        EngineBuilder {
            store,
            master: master.clone(),
            clock: Arc::new(SystemClock),
            secrets: Arc::new(OsSecrets),
            policy: Policy::default(),
            default_issuer: None,
            background: true,
            log_events: false,
        }
    }

    /// The clock every validity decision uses (tests pass a `ManualClock`).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Where token secrets come from.
    pub fn secrets(mut self, secrets: Arc<dyn SecretSource>) -> Self {
        self.secrets = secrets;
        self
    }

    /// The token policy.
    pub fn policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    /// The issuer to record when this engine creates the deployment (the first node on a fresh
    /// store) and the policy names none. Later nodes use the stored one.
    pub fn default_issuer(mut self, issuer: impl Into<String>) -> Self {
        self.default_issuer = Some(issuer.into());
        self
    }

    /// Whether to run the background tasks (write-behind, sweeper, key rotation, change feed).
    /// On by default; tests that drive time by hand turn it off and call them directly.
    pub fn background(mut self, on: bool) -> Self {
        self.background = on;
        self
    }

    /// Whether to log every event with `tracing` ([`crate::events::log_events`]).
    pub fn log_events(mut self, on: bool) -> Self {
        self.log_events = on;
        self
    }

    /// Checks the deployment, loads what verification needs and starts the background tasks.
    /// Fails, writing nothing, if the store belongs to a deployment with another master key.
    pub async fn build(self) -> Result<Engine, EngineError> {
        self.policy.validate()?;
        let now = self.clock.now();
        let check = self.master.deployment_check();
        let deployment = match self.store.deployment().await? {
            Some(d) => d,
            None => {
                let issuer = self
                    .policy
                    .issuer
                    .clone()
                    .or(self.default_issuer.clone())
                    .unwrap_or_else(|| "http://127.0.0.1:7878".into());
                check_issuer(&issuer)?;
                let mut id = [0u8; 16];
                self.secrets.fill(&mut id);
                let d = Deployment {
                    id: id.iter().map(|b| format!("{b:02x}")).collect(),
                    issuer,
                    master_check: check.to_vec(),
                    created_at: now,
                };
                if self.store.create_deployment(&d).await? {
                    d
                } else {
                    // Another node created it first: take theirs.
                    self.store
                        .deployment()
                        .await?
                        .ok_or_else(|| EngineError::Unavailable("the deployment record vanished".into()))?
                }
            }
        };
        if !bool::from(deployment.master_check.as_slice().ct_eq(check.as_slice())) {
            return Err(EngineError::Deployment(format!(
                "this node's master key is not the one deployment {} was created with: copy that \
                 deployment's master.key into the data directory (nothing was written)",
                deployment.id
            )));
        }
        let issuer = self.policy.issuer.clone().unwrap_or_else(|| deployment.issuer.clone());
        let engine = Engine(Arc::new(Inner {
            hasher: self.master.token_hasher(),
            sealer: self.master.key_sealer(),
            nonces: self.master.nonce_hasher(),
            limits: crate::guard::NamedLimits::new(Box::new(crate::guard::GovernorBackend::new(
                self.clock.clone(),
            ))),
            throttle: crate::guard::Throttle::new(self.policy.guard.throttle.clone()),
            cache: Records::new(self.policy.cache_capacity, self.policy.cache_ttl),
            activity: Activity::default(),
            keyring: crate::keyring::KeyRing::default(),
            deny: crate::deny::DenyCache::default(),
            events: Events::default(),
            follower: crate::sync::Follower::default(),
            tasks: Mutex::new(Vec::new()),
            stop: tokio::sync::watch::channel(false).0,
            deployment_id: deployment.id,
            issuer,
            store: self.store,
            clock: self.clock,
            secrets: self.secrets,
            policy: self.policy,
        }));
        // The feed position first, then the deny set: whatever commits in between is in the feed.
        engine.start_feed().await?;
        let entries = engine.0.store.signed_revocations_since(i64::MIN, now).await?;
        engine.0.deny.replace(entries);
        engine.ensure_keys().await?;
        if self.log_events {
            let sub = engine.subscribe();
            engine.spawn(crate::events::log_events(sub));
        }
        if self.background {
            crate::maintenance::start(&engine);
        }
        Ok(engine)
    }
}

impl Engine {
    /// Keeps a background task's handle, so [`Engine::shutdown`] can wait for it.
    pub(crate) fn spawn(&self, task: impl std::future::Future<Output = ()> + Send + 'static) {
        let handle = tokio::spawn(task);
        self.0.tasks.lock().unwrap_or_else(PoisonError::into_inner).push(handle);
    }
}
