//! The whole HTTP app (SQLite store, or PostgreSQL with `WARD_FUZZ_BACKEND=postgres`; in process) on arbitrary requests: whatever the method, path,
//! caller and body, the answer is a success or a 4xx whose JSON body says why; never a 5xx, a
//! panic or a hang (libFuzzer's `-timeout` catches a hang).
//!
//! The input is read as: one byte choosing the method, one the caller, one a route (so the fuzzer
//! need not guess paths), then a path suffix up to the first newline, then the body. `$KEY` and
//! `$ID` stand for a real API key and its id.
#![no_main]

use std::sync::OnceLock;

use axum::body::Body;
use axum::http::{Method, Request};
use libfuzzer_sys::fuzz_target;
use ward_testkit::{assert_answered_sanely, Backend, TestApp};

const ROUTES: &[&str] = &[
    "/v1/keys",
    "/v1/keys/",
    "/v1/verify",
    "/v1/sessions",
    "/v1/sessions/",
    "/v1/sessions/renew",
    "/v1/sessions/revoke",
    "/v1/one-time",
    "/v1/one-time/redeem",
    "/v1/subjects/",
    "/v1/clients",
    "/v1/clients/",
    "/v1/access-tokens",
    "/v1/access-tokens/refresh",
    "/v1/access-tokens/revoke",
    "/v1/keyring",
    "/v1/keyring/rotate",
    "/v1/reasons",
    "/oauth2/token",
    "/oauth2/introspect",
    "/oauth2/revoke",
    "/.well-known/jwks.json",
    "/.well-known/paserk.json",
    "/.well-known/oauth-authorization-server",
    "/healthz",
    "/readyz",
    "/openapi.json",
    "",
];

const METHODS: &[Method] =
    &[Method::POST, Method::GET, Method::DELETE, Method::PUT, Method::PATCH, Method::OPTIONS, Method::HEAD];

const CONTENT_TYPES: &[Option<&str>] =
    &[Some("application/json"), Some("application/x-www-form-urlencoded"), Some("text/plain"), None];

struct World {
    rt: tokio::runtime::Runtime,
    app: TestApp,
    /// A key the fuzzer may present as its caller or inside bodies (`$KEY` is replaced by it).
    key: String,
    /// That key's id (`$ID` in a path or body is replaced by it).
    id: String,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
        let (app, key, id) = rt.block_on(async {
            // `WARD_FUZZ_BACKEND=postgres` runs it on a throwaway PostgreSQL cluster instead.
            let backend = match std::env::var("WARD_FUZZ_BACKEND").as_deref() {
                Ok("postgres") => Backend::Postgres,
                _ => Backend::Sqlite,
            };
            let app = TestApp::start(backend).await.expect("PostgreSQL (see ward-testkit's postgres module)");
            let key = app.create_key(serde_json::json!({"subject": "fuzz", "scopes": ["read"]})).await;
            let id = key["id"].as_str().expect("an id").to_string();
            let key = key["key"].as_str().expect("a key").to_string();
            (app, key, id)
        });
        World { rt, app, key, id }
    })
}

fuzz_target!(|data: &[u8]| {
    let [method, caller, route, rest @ ..] = data else { return };
    let w = world();
    let method = METHODS[usize::from(*method) % METHODS.len()].clone();
    let content_type = CONTENT_TYPES[usize::from(*caller >> 4) % CONTENT_TYPES.len()];
    let mut parts = rest.splitn(2, |b| *b == b'\n');
    let (suffix, body) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
    let Ok(suffix) = std::str::from_utf8(suffix) else { return };
    let path = format!("{}{}", ROUTES[usize::from(*route) % ROUTES.len()], suffix.replace("$ID", &w.id));
    let body = match std::str::from_utf8(body) {
        Ok(text) => text.replace("$KEY", &w.key).replace("$ID", &w.id).into_bytes(),
        Err(_) => body.to_vec(),
    };

    let mut req = Request::builder().method(method.clone()).uri(&path);
    match caller & 0x0F {
        0 => {}
        1 => req = req.header("authorization", format!("Bearer {}", w.key)),
        2 => req = req.header("authorization", "Bearer ward_live_ak_x"),
        _ => req = req.header("authorization", format!("Bearer {}", w.app.admin_token())),
    }
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    // A path that is not a URI never reaches Ward: hyper refuses it first.
    let Ok(req) = req.body(Body::from(body.clone())) else { return };
    let answer = w.rt.block_on(w.app.send(req));
    let what = format!("{method} {path} with {}", String::from_utf8_lossy(&body));
    if method == Method::HEAD {
        // An answer to HEAD has no body by definition.
        let status = answer.0;
        assert!(status.is_success() || status.is_client_error(), "{what} answered {status}");
    } else {
        assert_answered_sanely(&what, &answer);
    }
});
