//! The engine through its own API and behind the HTTP app: events, several nodes on one store,
//! and the limits rotation and renewal must keep. Every case runs on SQLite and PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod events;
mod limits;
mod nodes;

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use ward_testkit::{Method, StatusCode, TestApp};

/// The raw key from a `POST /v1/keys` answer.
pub fn key_of(created: &Value) -> String {
    created["key"].as_str().unwrap().to_string()
}

/// `POST path` as admin; returns status and body.
pub async fn post(app: &TestApp, path: &str, body: Value) -> (StatusCode, Value) {
    let (s, _, v) = app.call(Method::POST, path, Some(app.admin_token()), Some(body)).await;
    (s, v)
}

/// A session token for `subject`.
pub async fn session(app: &TestApp, subject: &str) -> String {
    let (s, v) = post(app, "/v1/sessions", json!({ "subject": subject })).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    v["token"].as_str().unwrap().to_string()
}

/// An access token (and refresh token, when asked) for `subject`.
pub async fn access(app: &TestApp, subject: &str, refresh: bool) -> Value {
    let (s, v) =
        post(app, "/v1/access-tokens", json!({ "subject": subject, "audience": "api", "refresh": refresh }))
            .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    v
}

/// The reason `app` gives for `token` now.
pub async fn reason(app: &TestApp, token: &str) -> String {
    app.verify(token, &[]).await["reason"].as_str().unwrap_or_default().to_string()
}

/// Waits (at most five seconds of real time, polling every few milliseconds) until `app` answers
/// `want` for `token`; returns how long that took, or fails naming what it answered instead.
/// Propagation between nodes is real-time work, so this is the one place the tests wait.
pub async fn until_reason(app: &TestApp, token: &str, want: &str) -> Duration {
    let start = Instant::now();
    loop {
        let got = reason(app, token).await;
        if got == want {
            return start.elapsed();
        }
        assert!(start.elapsed() < Duration::from_secs(5), "still `{got}` after 5 s, expected `{want}`");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
