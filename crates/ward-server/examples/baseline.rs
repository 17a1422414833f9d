//! The load test's baseline: the least an axum server can do for `POST /v1/verify`.
//!
//! It reads the body as JSON (`serde_json::Value`) and answers `{"valid":true}`, on the same axum
//! and tokio (multi-thread) as Ward and served by the same `ward_server::serve` (with its limit on
//! slow clients), with no state, no logging and no middleware. `scripts/load.sh`
//! measures it and Ward in one run, so the ratio of the two shows what Ward's own work costs over
//! HTTP, JSON and the runtime.
//!
//! Run: `cargo run --release -p ward-server --example baseline -- 127.0.0.1:7879`

// An example program: a bad address or a failed bind should stop it with the error shown.
#![allow(clippy::expect_used)]

use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};

async fn verify(Json(body): Json<Value>) -> Json<Value> {
    // Touch the body so the parse cannot be skipped, as Ward must read `token` from it.
    std::hint::black_box(&body);
    Json(json!({ "valid": true }))
}

fn main() {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:7879".to_string());
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(&addr).await.expect("bind the listen address");
        eprintln!("baseline listening on {addr}");
        let app = Router::new().route("/v1/verify", post(verify));
        // Served as Ward is served, with the same limit on slow clients (`ward_server::serve`).
        let header_read_timeout = ward_server::HttpConfig::default().header_read_timeout;
        ward_server::serve::serve(listener, app, header_read_timeout, std::future::pending()).await;
    });
}
