//! Ward's HTTP API: an adapter over [`ward_engine::Engine`]. [`app`] builds the whole router from
//! an [`AppState`], so tests drive it with `tower::ServiceExt::oneshot` and the binary serves it
//! on a socket.
//!
//! One module per stage: [`extract`] turns requests into typed input (and authenticates the
//! caller), [`routes`] holds the handlers — each extracts, calls the engine, and answers —,
//! [`problem`] is the one place that turns reasons and errors into HTTP, and the wire types and
//! views live beside the resource they describe ([`keys`], [`sessions`], [`onetime`],
//! [`clients`], [`views`]). No handler touches the store.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::Router;
use tower_http::trace::TraceLayer;

pub mod address;
pub mod body;
pub mod clients;
pub mod dpop;
pub mod extract;
pub mod keys;
pub mod onetime;
pub mod openapi;
pub mod problem;
pub mod routes;
pub mod serve;
pub mod sessions;
pub mod views;

pub use ward_engine::Engine;

/// The scope that allows everything: every other `ward:` scope, plus listing and reading keys
/// and clients and managing the signing key ring.
pub const SCOPE_ADMIN: &str = "ward:admin";
/// The scope that allows checking tokens: verify, redeem one-time tokens, introspect, and read
/// sessions.
pub const SCOPE_VERIFY: &str = "ward:verify";
/// The scope that allows minting: API keys (with no `ward:` scope the caller lacks), sessions and
/// their renewal, one-time tokens, access tokens and their refresh, OAuth clients.
pub const SCOPE_ISSUE: &str = "ward:issue";
/// The scope that allows ending things: revoke, disable and enable any token, log sessions out,
/// revoke a subject's everything.
pub const SCOPE_REVOKE: &str = "ward:revoke";

/// Every scope Ward's own API knows, least to most privileged.
pub const WARD_SCOPES: &[&str] = &[SCOPE_VERIFY, SCOPE_ISSUE, SCOPE_REVOKE, SCOPE_ADMIN];

/// Whether `held` (a key's scopes) allows `scope`: it names it, or it names `ward:admin`.
pub fn allows<S: AsRef<str>>(held: &[S], scope: &str) -> bool {
    held.iter().any(|s| s.as_ref() == scope || s.as_ref() == SCOPE_ADMIN)
}

/// What the HTTP layer adds to the engine's policy: limits on requests and who may ask what.
#[derive(Clone, Debug)]
pub struct HttpConfig {
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
    /// Proxies whose `X-Forwarded-For` is believed: the end user's address is then the nearest
    /// untrusted hop (for the failure throttle, sender binding and events). Empty: the
    /// connection's peer is the address.
    pub trusted_proxies: Vec<ward_core::guard::IpNet>,
    /// The cookie `GET /v1/forward-auth` reads a token from when a request has no
    /// `Authorization` (e.g. `__Host-session`); `None`: cookies are not read.
    pub forward_auth_cookie: Option<String>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            max_body_bytes: 64 * 1024,
            header_read_timeout: Some(Duration::from_secs(30)),
            body_read_timeout: Duration::from_secs(30),
            allow_anonymous_verify: true,
            trace_requests: false,
            trusted_proxies: Vec::new(),
            forward_auth_cookie: None,
        }
    }
}

/// Everything a request handler needs; cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState(Arc<Inner>);

/// The shared parts of [`AppState`].
#[derive(Debug)]
pub struct Inner {
    /// The engine every handler calls.
    pub engine: Engine,
    /// The HTTP layer's settings.
    pub http: HttpConfig,
}

impl AppState {
    /// The state for serving `engine` with `http`.
    pub fn new(engine: Engine, http: HttpConfig) -> Self {
        AppState(Arc::new(Inner { engine, http }))
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
    let limit = state.http.max_body_bytes;
    let router = routes::router()
        .fallback(problem::not_found)
        .method_not_allowed_fallback(problem::method_not_allowed)
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::middleware::from_fn_with_state(state.clone(), address::stamp));
    let router = if state.http.trace_requests { router.layer(TraceLayer::new_for_http()) } else { router };
    router.with_state(state)
}
