//! Ward's HTTP API. [`app`] builds the whole router from an [`AppState`], so tests drive it with
//! `tower::ServiceExt::oneshot` and the binary serves it on a socket.
//!
//! One module per stage: [`extract`] turns requests into typed input (and authenticates the
//! caller), [`routes`] holds the handlers, [`problem`] is the one place that turns reasons and
//! errors into HTTP, and [`verifier`] is the hot path with its cache.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::Router;
use tower_http::trace::TraceLayer;
use ward_core::secret::{Sealer, SecretHasher};
use ward_core::{Clock, MasterKey, SecretSource};
use ward_store::Store;

pub mod access;
pub mod clients;
pub mod deny;
pub mod extract;
pub mod keyring;
pub mod keys;
pub mod maintenance;
pub mod onetime;
pub mod openapi;
pub mod problem;
pub mod routes;
pub mod serve;
pub mod sessions;
pub mod verifier;
pub mod views;

pub use verifier::Verifier;

/// The scope that allows everything.
pub const SCOPE_ADMIN: &str = "ward:admin";
/// The scope that allows verifying tokens (and nothing else).
pub const SCOPE_VERIFY: &str = "ward:verify";

/// Settings the server needs, validated by the binary before it builds the app.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// The environment this deployment issues and accepts tokens for (`live`, `test`, ...).
    pub env: String,
    /// How long a verified key's record may be served from memory before it is read again.
    /// Revocations made on this node apply at once; on other nodes within this time.
    pub cache_ttl: Duration,
    /// How many key records the verify cache holds.
    pub cache_capacity: usize,
    /// The largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// How long a client may take to send a request's head (and, on a kept-alive connection, to
    /// start the next one) before the connection is closed; `None` for no limit ([`serve`]).
    pub header_read_timeout: Option<Duration>,
    /// How long a client may take to send a request's body before it is answered `408`.
    pub body_read_timeout: Duration,
    /// Whether `POST /v1/verify` answers callers without a Ward key (with the RFC 6750 category only).
    pub allow_anonymous_verify: bool,
    /// Whether every request gets a tracing span (tower-http `TraceLayer`). It logs at `debug`
    /// only, so the binary turns it on only when the log filter asks for debug output: it costs
    /// a few percent of throughput on the verify path.
    pub trace_requests: bool,
    /// Default seconds of inactivity after which a session closes.
    pub session_idle_timeout: i64,
    /// Default seconds after which a session closes whatever its activity.
    pub session_absolute_timeout: i64,
    /// The longest idle or absolute timeout a session may ask for.
    pub session_max_lifetime: i64,
    /// Seconds a renewed session's old token keeps working, so requests in flight don't fail.
    pub renewal_grace: i64,
    /// Default lifetime of one-time tokens, in seconds.
    pub one_time_ttl: i64,
    /// The longest lifetime a one-time token may ask for.
    pub one_time_max_ttl: i64,
    /// How often buffered last-use times are written to the store: the most activity a crash loses.
    pub activity_flush_interval: Duration,
    /// How often the sweeper runs.
    pub sweep_interval: Duration,
    /// Seconds a dead record (revoked, superseded, used, expired) is kept whole before it becomes a
    /// tombstone.
    pub dead_record_grace: i64,
    /// Seconds a tombstone is kept.
    pub tombstone_retention: i64,
    /// Most records per table one sweep handles.
    pub sweep_batch: u32,
    /// The `iss` of every signed token, and the OAuth issuer identifier (RFC 8414).
    pub issuer: String,
    /// Default lifetime of access tokens, in seconds.
    pub access_token_ttl: i64,
    /// The longest lifetime an access token may have: also how long revocations of signed tokens
    /// are remembered.
    pub access_token_max_ttl: i64,
    /// Lifetime of refresh tokens, in seconds.
    pub refresh_token_ttl: i64,
    /// Seconds after a refresh during which presenting the old refresh token again is a retry
    /// (same answer), not theft.
    pub refresh_grace: i64,
    /// Clock-skew leeway for `exp`, `nbf` and `iat` of signed tokens, in seconds.
    pub leeway: i64,
    /// The algorithm new signing keys use: `EdDSA` (default), `ES256` or `RS256`.
    pub signing_alg: String,
    /// Seconds between scheduled signing-key rotations.
    pub key_rotation_interval: i64,
    /// Seconds a new signing key is published before it signs, so JWKS caches pick it up.
    pub key_publish_lead: i64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            env: "live".into(),
            cache_ttl: Duration::from_secs(5),
            cache_capacity: 100_000,
            max_body_bytes: 64 * 1024,
            header_read_timeout: Some(Duration::from_secs(30)),
            body_read_timeout: Duration::from_secs(30),
            allow_anonymous_verify: true,
            trace_requests: false,
            session_idle_timeout: 30 * 60,
            session_absolute_timeout: 12 * 3600,
            session_max_lifetime: 90 * 86_400,
            renewal_grace: 30,
            one_time_ttl: 15 * 60,
            one_time_max_ttl: 7 * 86_400,
            activity_flush_interval: Duration::from_secs(5),
            sweep_interval: Duration::from_secs(60),
            dead_record_grace: 7 * 86_400,
            tombstone_retention: 400 * 86_400,
            sweep_batch: 500,
            issuer: "http://127.0.0.1:7878".into(),
            access_token_ttl: 15 * 60,
            access_token_max_ttl: 24 * 3600,
            refresh_token_ttl: 30 * 86_400,
            refresh_grace: 10,
            leeway: 60,
            signing_alg: "EdDSA".into(),
            key_rotation_interval: 30 * 86_400,
            key_publish_lead: 3600,
        }
    }
}

/// Everything a request handler needs; cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState(Arc<Inner>);

/// The shared parts of [`AppState`].
#[derive(Debug)]
pub struct Inner {
    /// The store.
    pub store: Arc<dyn Store>,
    /// The clock every validity decision uses.
    pub clock: Arc<dyn Clock>,
    /// Where token secrets come from.
    pub secrets: Arc<dyn SecretSource>,
    /// Keyed hashing of token secrets.
    pub hasher: SecretHasher,
    /// Encryption of private keys at rest.
    pub sealer: Sealer,
    /// The signing keys.
    pub keyring: keyring::KeyRing,
    /// Settings.
    pub config: ServerConfig,
    /// The verify path and its cache.
    pub verifier: Verifier,
    /// Revocations of signed tokens, as this node knows them.
    pub deny: deny::DenyCache,
}

impl AppState {
    /// Builds the state from its parts; every server-side key derives from `master`.
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        secrets: Arc<dyn SecretSource>,
        master: &MasterKey,
        config: ServerConfig,
    ) -> Self {
        let verifier = Verifier::new(config.cache_capacity, config.cache_ttl);
        AppState(Arc::new(Inner {
            store,
            clock,
            secrets,
            hasher: master.token_hasher(),
            sealer: master.key_sealer(),
            keyring: keyring::KeyRing::default(),
            config,
            verifier,
            deny: deny::DenyCache::default(),
        }))
    }
}

impl std::ops::Deref for AppState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}

/// The whole HTTP API.
pub fn app(state: AppState) -> Router {
    let limit = state.config.max_body_bytes;
    let router = routes::router()
        .fallback(problem::not_found)
        .method_not_allowed_fallback(problem::method_not_allowed)
        .layer(DefaultBodyLimit::max(limit));
    let router = if state.config.trace_requests { router.layer(TraceLayer::new_for_http()) } else { router };
    router.with_state(state)
}
