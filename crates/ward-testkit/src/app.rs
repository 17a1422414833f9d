//! [`TestApp`]: the real axum app over a fresh store, a manual clock and a bootstrap admin key,
//! driven in process with `tower::ServiceExt::oneshot` (no socket).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::{HeaderMap, Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt as _;
use serde_json::{json, Value};
use tempfile::TempDir;
use tower::ServiceExt as _;
use ward_core::token::SECRET_LEN;
use ward_core::{Clock, ManualClock, MasterKey, ParsedToken, UnixTime};
use ward_engine::{Call, Engine, NewKey, Policy};
use ward_server::{AppState, HttpConfig, SCOPE_ADMIN};

use crate::postgres::{self, TestDb};

/// Where every test clock starts: 2027-01-15T08:00:00Z.
pub const START: UnixTime = 1_800_000_000;

/// Which store a [`TestApp`] runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file in a temporary directory.
    Sqlite,
    /// A fresh database in the test process's PostgreSQL cluster.
    Postgres,
}

/// The store's backing, kept alive as long as the app.
#[derive(Debug)]
enum Storage {
    Sqlite {
        /// Deleted when the app is dropped.
        _dir: TempDir,
        path: PathBuf,
    },
    Postgres(TestDb),
}

/// The whole Ward API in process, over a fresh store, with a clock that moves only when told.
#[derive(Debug)]
pub struct TestApp {
    /// The state the app was built from: the engine and the HTTP settings.
    pub state: AppState,
    /// The engine behind the app (the same as `state.engine`).
    pub engine: Engine,
    /// The app's clock; tests move it instead of sleeping.
    pub clock: Arc<ManualClock>,
    router: Router,
    storage: Arc<Storage>,
    url: String,
    master: MasterKey,
    backend: Backend,
    admin_token: String,
    admin_id: String,
    /// Every raw token the API has handed out, in order.
    seen: Mutex<Vec<String>>,
}

impl TestApp {
    /// An app on a fresh SQLite store, with the default configuration.
    pub async fn sqlite() -> TestApp {
        Self::sqlite_with(Policy::default(), HttpConfig::default()).await
    }

    /// An app on a fresh PostgreSQL database, or `None` if PostgreSQL is missing and that is
    /// allowed (see [`crate::postgres`]).
    pub async fn postgres() -> Option<TestApp> {
        Self::with_config(Backend::Postgres, Policy::default(), HttpConfig::default()).await
    }

    /// An app on `backend` with the default configuration (`None`: see [`TestApp::postgres`]).
    pub async fn start(backend: Backend) -> Option<TestApp> {
        Self::with_config(backend, Policy::default(), HttpConfig::default()).await
    }

    /// An app on `backend` with `policy` and `http` (`None`: see [`TestApp::postgres`]).
    pub async fn with_config(backend: Backend, policy: Policy, http: HttpConfig) -> Option<TestApp> {
        match backend {
            Backend::Sqlite => Some(Self::sqlite_with(policy, http).await),
            Backend::Postgres => {
                let db = postgres::fresh_database().await?;
                let url = db.url.clone();
                let master = MasterKey::generate(&mut rand::rngs::OsRng);
                Some(Self::build(backend, Arc::new(Storage::Postgres(db)), &url, master, policy, http).await)
            }
        }
    }

    async fn sqlite_with(policy: Policy, http: HttpConfig) -> TestApp {
        let dir = tempfile::Builder::new()
            .prefix("ward-test-")
            .tempdir()
            .unwrap_or_else(|e| panic!("ward-testkit: cannot make a temporary directory: {e}"));
        let path = dir.path().join("ward.db");
        let url = format!("sqlite://{}", path.display());
        let master = MasterKey::generate(&mut rand::rngs::OsRng);
        Self::build(
            Backend::Sqlite,
            Arc::new(Storage::Sqlite { _dir: dir, path }),
            &url,
            master,
            policy,
            http,
        )
        .await
    }

    /// The engine builder this kit uses: the store at `url`, a manual clock, no background tasks
    /// (tests run maintenance by hand) unless `background`.
    pub async fn engine_on(
        url: &str,
        master: &MasterKey,
        clock: Arc<ManualClock>,
        policy: Policy,
        background: bool,
    ) -> Result<Engine, ward_engine::EngineError> {
        let store = ward_store::open(url)
            .await
            .unwrap_or_else(|e| panic!("ward-testkit: cannot open the store at {url}: {e}"));
        let shared_clock: Arc<dyn Clock> = clock;
        Engine::builder(store, master).clock(shared_clock).policy(policy).background(background).build().await
    }

    async fn build(
        backend: Backend,
        storage: Arc<Storage>,
        url: &str,
        master: MasterKey,
        policy: Policy,
        http: HttpConfig,
    ) -> TestApp {
        let clock = Arc::new(ManualClock::new(START));
        let engine = Self::engine_on(url, &master, clock.clone(), policy, false)
            .await
            .unwrap_or_else(|e| panic!("ward-testkit: cannot start the engine on {backend:?}: {e}"));
        let bootstrap = NewKey {
            subject: "testkit-admin".into(),
            name: Some("bootstrap admin key".into()),
            scopes: vec![SCOPE_ADMIN.into()],
            ..NewKey::default()
        };
        let (key, minted) = engine
            .issue_key(bootstrap, &Call::by("testkit"))
            .await
            .unwrap_or_else(|e| panic!("ward-testkit: cannot issue the admin key: {e:?}"));
        let admin_token = minted.token.to_string();
        let state = AppState::new(engine.clone(), http);
        TestApp {
            router: ward_server::app(state.clone()),
            state,
            engine,
            clock,
            storage,
            url: url.to_string(),
            master,
            backend,
            admin_id: key.id,
            seen: Mutex::new(vec![admin_token.clone()]),
            admin_token,
        }
    }

    /// Another node of the same deployment: a new engine (its own caches, deny set and clock,
    /// starting at this app's time) on the same store with the same master key, behind its own
    /// router, sharing the bootstrap admin key. With `background`, it follows the change feed by
    /// itself (as `ward serve` does); without, tests call `engine.sync()`.
    pub async fn another_node(&self, policy: Policy, background: bool) -> TestApp {
        let clock = Arc::new(ManualClock::new(self.clock.now()));
        let engine = Self::engine_on(&self.url, &self.master, clock.clone(), policy, background)
            .await
            .unwrap_or_else(|e| panic!("ward-testkit: cannot start another node: {e}"));
        let state = AppState::new(engine.clone(), self.state.http.clone());
        TestApp {
            router: ward_server::app(state.clone()),
            state,
            engine,
            clock,
            storage: self.storage.clone(),
            url: self.url.clone(),
            master: self.master.clone(),
            backend: self.backend,
            admin_id: self.admin_id.clone(),
            seen: Mutex::new(self.seen_tokens()),
            admin_token: self.admin_token.clone(),
        }
    }

    /// The store's URL (every node of this deployment opens it).
    pub fn store_url(&self) -> &str {
        &self.url
    }

    /// The deployment's master key.
    pub fn master_key(&self) -> &MasterKey {
        &self.master
    }

    /// Which store this app runs on.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The raw bootstrap admin key (scope `ward:admin`).
    pub fn admin_token(&self) -> &str {
        &self.admin_token
    }

    /// The bootstrap admin key's id: revocations it makes name `key:<id>` as the actor.
    pub fn admin_id(&self) -> &str {
        &self.admin_id
    }

    /// A copy of the router, e.g. to drive from spawned tasks.
    pub fn router(&self) -> Router {
        self.router.clone()
    }

    /// Sends one request through the app and reads the answer (a body that is not JSON comes
    /// back as a JSON string, so that assertions on fields fail visibly).
    pub async fn send(&self, req: Request<Body>) -> (StatusCode, HeaderMap, Value) {
        let resp = match self.router.clone().oneshot(req).await {
            Ok(r) => r,
            Err(never) => match never {},
        };
        let (parts, body) = resp.into_parts();
        let bytes = body
            .collect()
            .await
            .unwrap_or_else(|e| panic!("ward-testkit: cannot read the response body: {e}"))
            .to_bytes();
        let value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        self.record_tokens(&value);
        (parts.status, parts.headers, value)
    }

    /// `method path` with an optional `Authorization: Bearer` and an optional JSON body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        bearer: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, HeaderMap, Value) {
        match body {
            Some(v) => self.call_raw(method, path, bearer, Some("application/json"), v.to_string()).await,
            None => self.call_raw(method, path, bearer, None, Vec::new()).await,
        }
    }

    /// `method path` with arbitrary body bytes and content type.
    pub async fn call_raw(
        &self,
        method: Method,
        path: &str,
        bearer: Option<&str>,
        content_type: Option<&str>,
        body: impl Into<Vec<u8>>,
    ) -> (StatusCode, HeaderMap, Value) {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(token) = bearer {
            req = req.header(AUTHORIZATION, format!("Bearer {token}"));
        }
        if let Some(ct) = content_type {
            req = req.header(CONTENT_TYPE, ct);
        }
        let req = req
            .body(Body::from(body.into()))
            .unwrap_or_else(|e| panic!("ward-testkit: cannot build the request for {path}: {e}"));
        self.send(req).await
    }

    /// `POST /v1/keys` as admin; asserts `201 Created` and returns the body (with the raw `key`).
    pub async fn create_key(&self, req: Value) -> Value {
        let (status, _, body) =
            self.call(Method::POST, "/v1/keys", Some(&self.admin_token), Some(req.clone())).await;
        assert_eq!(status, StatusCode::CREATED, "creating {req}: {body}");
        body
    }

    /// `POST /v1/verify` as admin (the full answer), requiring `scopes`; returns the body.
    pub async fn verify(&self, token: &str, scopes: &[&str]) -> Value {
        let req = json!({ "token": token, "scopes": scopes });
        self.call(Method::POST, "/v1/verify", Some(&self.admin_token), Some(req)).await.2
    }

    /// `GET path` as admin; asserts `200 OK` and returns the body.
    pub async fn get(&self, path: &str) -> Value {
        let (status, _, body) = self.call(Method::GET, path, Some(&self.admin_token), None).await;
        assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
        body
    }

    /// Closes the store's connections, as if the database went away; later store calls fail.
    pub async fn close_store(&self) {
        self.engine.store().close().await;
    }

    /// The SQLite database file, on SQLite.
    pub fn sqlite_path(&self) -> Option<&Path> {
        match &*self.storage {
            Storage::Sqlite { path, .. } => Some(path),
            Storage::Postgres(_) => None,
        }
    }

    /// The `pg_dump` of the database, on PostgreSQL.
    pub async fn pg_dump(&self) -> Option<String> {
        match &*self.storage {
            Storage::Sqlite { .. } => None,
            Storage::Postgres(db) => Some(db.dump().await),
        }
    }

    /// Everything the store holds at rest: the bytes of the SQLite database and its `-wal` and
    /// `-shm` files, or the PostgreSQL dump.
    pub async fn store_bytes(&self) -> Vec<u8> {
        match &*self.storage {
            Storage::Sqlite { path, .. } => {
                let mut all = Vec::new();
                for suffix in ["", "-wal", "-shm"] {
                    let file = PathBuf::from(format!("{}{suffix}", path.display()));
                    if let Ok(bytes) = std::fs::read(&file) {
                        all.extend_from_slice(&bytes);
                    }
                }
                all
            }
            Storage::Postgres(db) => db.dump().await.into_bytes(),
        }
    }

    /// Every raw token the API has returned so far (and the admin key), each once.
    pub fn seen_tokens(&self) -> Vec<String> {
        self.seen.lock().map(|s| s.clone()).unwrap_or_else(|p| p.into_inner().clone())
    }

    /// Which of the seen tokens appear in `haystack`, whole or by their secret part: one line
    /// per finding, naming the key id but not the secret.
    pub fn leaks_in(&self, haystack: &[u8]) -> Vec<String> {
        let mut found = Vec::new();
        for token in self.seen_tokens() {
            let id = ParsedToken::parse(&token).map(|p| p.id.to_string()).unwrap_or_default();
            if contains(haystack, token.as_bytes()) {
                found.push(format!("the whole key {id}"));
            } else if secret_part(&token).is_some_and(|s| contains(haystack, s.as_bytes())) {
                found.push(format!("the secret of key {id}"));
            }
        }
        found
    }

    /// Remembers every string in `value` that parses as a Ward token.
    fn record_tokens(&self, value: &Value) {
        let mut found = Vec::new();
        collect_tokens(value, &mut found);
        if found.is_empty() {
            return;
        }
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        for t in found {
            if !seen.contains(&t) {
                seen.push(t);
            }
        }
    }
}

fn collect_tokens(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) if ParsedToken::parse(s).is_ok() => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| collect_tokens(v, out)),
        Value::Object(map) => map.values().for_each(|v| collect_tokens(v, out)),
        _ => {}
    }
}

/// The 32-character secret of a well-formed token.
pub fn secret_part(token: &str) -> Option<&str> {
    let hashed = ParsedToken::parse(token).ok()?.hashed_part;
    hashed.get(hashed.len().checked_sub(SECRET_LEN)?..)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// Asserts what any request, however bad, must get: a success, or a 4xx whose JSON body says why
/// (`reason`, `error`, `detail` or `title`); never a 5xx. `what` names the request in the failure.
#[track_caller]
pub fn assert_answered_sanely(what: &str, answer: &(StatusCode, HeaderMap, Value)) {
    let (status, headers, body) = answer;
    assert!(status.is_success() || status.is_client_error(), "{what} answered {status}: {body}");
    if status.is_client_error() {
        let ct = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
        assert!(ct.contains("json"), "{what}: a {status} without a JSON body ({ct})");
        let why = ["reason", "error", "detail", "title"].iter().any(|k| body.get(k).is_some());
        assert!(why, "{what}: a {status} that does not say why: {body}");
    }
}

/// Asserts that an answer is an RFC 9457 problem with `status` and the stable `reason` code.
#[track_caller]
pub fn assert_problem(answer: &(StatusCode, HeaderMap, Value), status: StatusCode, reason: &str) {
    let (got, headers, body) = answer;
    assert_eq!(*got, status, "status of {body}");
    let ct = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok());
    assert_eq!(ct, Some("application/problem+json"), "content type of {body}");
    assert_eq!(body["reason"], reason, "reason in {body}");
    assert_eq!(body["status"], status.as_u16(), "status field in {body}");
}
