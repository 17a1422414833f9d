//! Does timing tell which key ids exist? Measures `POST /v1/verify` for an id Ward never issued
//! and for a known id with a wrong secret, interleaved in the same run, and prints the medians
//! and their ratio (issue 9: target within 10%).
//!
//! Run: `bash scripts/timing.sh` (or `cargo run --release -p ward-server --example timing`).
//! The app runs in process over SQLite in a temporary directory, driven with
//! `tower::ServiceExt::oneshot` (no socket, so the network does not hide a difference). Each
//! round sends one request of each case in alternating order, so drift on the machine reaches
//! both alike. Two scenarios:
//!
//! * `repeat`: the same unknown id and the same known id, again and again (what a prober does to
//!   average out noise). Both are answered from memory: the known id's record from the cache,
//!   the unknown id's verdict from the cache of misses.
//! * `first sight`: a fresh unknown id every time against a fresh wrong secret for the known id
//!   (informational: each unknown id must be looked up in the store once).
//!
//! Settings (environment): `ROUNDS` (default 20000), `WARMUP` (default 2000).

// An example is a program run by hand: failing loudly on a broken setup is what it should do.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout, clippy::indexing_slicing)]

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::Request;
use serde_json::json;
use tower::ServiceExt as _;
use ward_core::token::{self, CHECKSUM_LEN};
use ward_core::TokenKind;
use ward_testkit::TestApp;

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// `token` with its last secret character changed and the checksum recomputed: the same id, a
/// wrong secret.
fn wrong_secret(token: &str, salt: usize) -> String {
    let mut hashed = token[..token.len() - CHECKSUM_LEN].to_string();
    let last = hashed.pop().unwrap();
    let alphabet = b"ABCDEFGHJKMNPQRSTVWXYZ0123456789";
    let mut c = char::from(alphabet[salt % alphabet.len()]);
    if c == last {
        c = char::from(alphabet[(salt + 1) % alphabet.len()]);
    }
    hashed.push(c);
    token::with_checksum(&hashed)
}

async fn once(app: &TestApp, body: &str) -> (Duration, String) {
    let req = Request::post("/v1/verify")
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {}", app.admin_token()))
        .body(Body::from(body.to_string()))
        .unwrap();
    let started = Instant::now();
    let resp = app.router().oneshot(req).await.unwrap();
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20).await.unwrap();
    let took = started.elapsed();
    let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    (took, v["reason"].as_str().unwrap_or("?").to_string())
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

async fn scenario(app: &TestApp, name: &str, known: &str, rounds: usize, warmup: usize, fresh: bool) -> f64 {
    let unknown = token::mint(&mut rand::rngs::OsRng, "live", TokenKind::ApiKey).token.to_string();
    let wrong = wrong_secret(known, 0);
    let (mut a, mut b) = (Vec::with_capacity(rounds), Vec::with_capacity(rounds));
    for i in 0..warmup + rounds {
        let u = if fresh {
            token::mint(&mut rand::rngs::OsRng, "live", TokenKind::ApiKey).token.to_string()
        } else {
            unknown.clone()
        };
        let w = if fresh { wrong_secret(known, i) } else { wrong.clone() };
        let ub = json!({ "token": u }).to_string();
        let wb = json!({ "token": w }).to_string();
        // Alternate which goes first, so neither always follows the other.
        let ((tu, ru), (tw, rw)) = if i % 2 == 0 {
            let x = once(app, &ub).await;
            (x, once(app, &wb).await)
        } else {
            let y = once(app, &wb).await;
            (once(app, &ub).await, y)
        };
        assert_eq!((ru.as_str(), rw.as_str()), ("unknown", "tampered"), "the cases are what they claim");
        if i >= warmup {
            a.push(tu);
            b.push(tw);
        }
    }
    let (mu, mw) = (median(a), median(b));
    let ratio = mu.as_secs_f64() / mw.as_secs_f64();
    println!(
        "{name:<12} unknown id: median {:>8.1} µs   known id, wrong secret: median {:>8.1} µs   ratio {ratio:.3}",
        mu.as_secs_f64() * 1e6,
        mw.as_secs_f64() * 1e6
    );
    ratio
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let rounds = env_or("ROUNDS", 20_000);
    let warmup = env_or("WARMUP", 2_000);
    let app = TestApp::sqlite().await;
    let created = app.create_key(json!({ "subject": "timing" })).await;
    let known = created["key"].as_str().unwrap().to_string();
    println!("POST /v1/verify in process on SQLite, {rounds} rounds after {warmup} of warm-up, medians:");
    let ratio = scenario(&app, "repeat", &known, rounds, warmup, false).await;
    scenario(&app, "first sight", &known, rounds / 4, warmup / 4, true).await;
    let within = (0.9..=1.1).contains(&ratio);
    println!(
        "repeat ratio unknown/known {ratio:.3}: {}",
        if within { "within 10%" } else { "NOT within 10%" }
    );
    if !within {
        std::process::exit(1);
    }
}
