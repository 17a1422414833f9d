//! Warm-cache verification of every token kind, in one run, through `Engine::verify` (the
//! same call `POST /v1/verify` makes, without HTTP):
//!
//! * `api_key` — the baseline;
//! * `session` — must stay within 1.5× of `api_key` (issue: sessions);
//! * `jwt_repeat` — a signed access token verified before: must cost under 2 µs;
//! * `jwt_first` — a signed token never seen (full EdDSA verification), next to
//!   `raw_ed25519_verify_strict` of the same signature, for the ratio `ward-signed` promises.
//!
//! Run: `cargo bench -p ward-server --bench kinds`. Ratios are printed at the end.

#![allow(missing_docs)] // criterion_group! generates an undocumented pub fn.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // a bench fails loudly

use std::time::{Duration, Instant};

use base64::Engine;
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use serde_json::json;
use ward_core::TokenKind;
use ward_engine::{Checked, Context, VerifyOptions};
use ward_testkit::{Method, TestApp};

const ALL: VerifyOptions<'static> = VerifyOptions {
    kinds: &[TokenKind::ApiKey, TokenKind::Session, TokenKind::AccessToken],
    scopes: &[],
    audience: None,
    client_ip: None,
    ratelimit: None,
    dpop: None,
};

fn median_ns(rt: &tokio::runtime::Runtime, app: &TestApp, token: &str, iters: u32) -> f64 {
    let mut samples = Vec::with_capacity(15);
    for _ in 0..15 {
        let start = Instant::now();
        for _ in 0..iters {
            let c = rt.block_on(app.engine.verify(black_box(token), &ALL, &Context::default()));
            assert!(matches!(c, Checked::Valid(_)));
        }
        samples.push(start.elapsed().as_nanos() as f64 / f64::from(iters));
    }
    samples.sort_by(|a, b| a.total_cmp(b));
    samples[samples.len() / 2]
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let app = rt.block_on(TestApp::sqlite());
    let key = rt.block_on(app.create_key(json!({"subject": "bench"})))["key"].as_str().unwrap().to_string();
    let (_, _, s) = rt.block_on(app.call(
        Method::POST,
        "/v1/sessions",
        Some(app.admin_token()),
        Some(json!({"subject": "bench"})),
    ));
    let session = s["token"].as_str().unwrap().to_string();
    let (_, _, t) = rt.block_on(app.call(
        Method::POST,
        "/v1/access-tokens",
        Some(app.admin_token()),
        Some(json!({"subject": "bench", "audience": "api", "expires_in": 86400})),
    ));
    let jwt = t["access_token"].as_str().unwrap().to_string();

    // Warm the caches.
    for token in [&key, &session, &jwt] {
        let c = rt.block_on(app.engine.verify(token, &ALL, &Context::default()));
        assert!(matches!(c, Checked::Valid(_)), "{c:?}");
    }

    let mut g = c.benchmark_group("verify_warm");
    g.measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    for (name, token) in [("api_key", &key), ("session", &session), ("jwt_repeat", &jwt)] {
        g.bench_function(name, |b| {
            b.iter(|| rt.block_on(app.engine.verify(black_box(token), &ALL, &Context::default())))
        });
    }
    g.finish();

    // First-time verification of a signed token against the raw primitive.
    let now = ward_core::Clock::now(&*app.clock);
    let signer = app.engine.signer(ward_signed::Algorithm::EdDSA).unwrap();
    let vk = signer.verifying.clone();
    let expect = ward_signed::Expect::access_token(app.engine.issuer().to_string(), Some("api".into()));
    let (signing_input, sig_b64) = jwt.rsplit_once('.').unwrap();
    let sig = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(sig_b64).unwrap();
    let jwk = vk.to_jwk().unwrap();
    let x = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(jwk["x"].as_str().unwrap()).unwrap();
    let raw = ed25519_dalek::VerifyingKey::from_bytes(&x.try_into().unwrap()).unwrap();
    let raw_sig = ed25519_dalek::Signature::from_slice(&sig).unwrap();
    let mut g = c.benchmark_group("eddsa");
    g.measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    g.bench_function("jwt_first", |b| {
        b.iter(|| ward_signed::verify(black_box(&jwt), &vk, &expect, now).unwrap())
    });
    g.bench_function("raw_ed25519_verify_strict", |b| {
        b.iter(|| raw.verify_strict(black_box(signing_input.as_bytes()), &raw_sig).unwrap())
    });
    g.finish();

    // The ratios the issues promise, measured in this run.
    let api = median_ns(&rt, &app, &key, 20_000);
    let ses = median_ns(&rt, &app, &session, 20_000);
    let rep = median_ns(&rt, &app, &jwt, 20_000);
    println!("\nwarm verify: api_key {api:.0} ns, session {ses:.0} ns, jwt_repeat {rep:.0} ns");
    println!("session / api_key = {:.2} (target <= 1.5)", ses / api);
    println!("jwt_repeat = {:.2} us (target < 2 us)", rep / 1000.0);
}

criterion_group!(benches, bench);
criterion_main!(benches);
