//! The full verify of an EdDSA JWT access token, measured next to the bare signature check it
//! cannot avoid, in the same run.
//!
//! Run: `cargo bench -p ward-signed --bench verify` (add `-- --warm-up-time 1 --measurement-time 3`
//! for a quick pass). Two cases, one group:
//!
//! * `eddsa/raw_verify_strict`: `ed25519_dalek::VerifyingKey::verify_strict` of the token's
//!   signature over its signing input, both decoded beforehand. This is the floor.
//! * `eddsa/verify`: `ward_signed::verify` of the token string: shape, header, `alg`/`kid`/`typ`,
//!   base64url, the same `verify_strict`, strict JSON, claims, issuer, audience and times.
//!
//! After criterion's report it prints both medians again and the ratio `verify / raw` (the
//! target is ≤ 1.2). Read the ratio, not the absolute times: those depend on the machine.

// A bench is a program run by hand: failing loudly on a broken setup is what it should do.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use criterion::{black_box, Criterion};
use ward_signed::{sign_jwt, verify, AccessClaims, Algorithm, Expect, SigningKey};

const GROUP: &str = "eddsa";
const RAW: &str = "raw_verify_strict";
const FULL: &str = "verify";

fn bench(c: &mut Criterion) {
    let seed = [0x42u8; 32];
    let key = SigningKey::from_secret_bytes("bench-1", Algorithm::EdDSA, &seed).unwrap();
    let now = 1_700_000_000;
    let claims = AccessClaims {
        iss: "https://ward.example".into(),
        sub: "user_1".into(),
        aud: vec!["api".into()],
        exp: now + 300,
        iat: now,
        jti: "at_0123456789abcdef".into(),
        scope: Some("read write".into()),
        client_id: Some("client_1".into()),
        ..AccessClaims::default()
    };
    let token = sign_jwt(&key, "at+jwt", &claims).unwrap();
    let vk = key.verifying_key();
    let expect = Expect::access_token("https://ward.example", Some("api".into()));
    assert_eq!(verify(&token, &vk, &expect, now).unwrap(), claims, "the measured verify must succeed");

    // The same signature, checked by ed25519-dalek directly.
    let (signing_input, sig_b64) = token.rsplit_once('.').unwrap();
    let sig = ed25519_dalek::Signature::from_slice(&URL_SAFE_NO_PAD.decode(sig_b64).unwrap()).unwrap();
    let dalek = ed25519_dalek::SigningKey::from_bytes(&seed).verifying_key();
    dalek.verify_strict(signing_input.as_bytes(), &sig).unwrap();

    let mut group = c.benchmark_group(GROUP);
    group.bench_function(RAW, |b| {
        b.iter(|| dalek.verify_strict(black_box(signing_input.as_bytes()), black_box(&sig)).is_ok())
    });
    group
        .bench_function(FULL, |b| b.iter(|| verify(black_box(&token), &vk, &expect, black_box(now)).is_ok()));
    group.finish();
}

fn main() {
    let started = SystemTime::now();
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
    // `cargo bench` passes `--bench`; without it criterion runs each case once, as a test.
    if std::env::args().any(|a| a == "--bench") {
        summary(started);
    }
}

/// Where criterion writes its estimates: `$CRITERION_HOME`, `$CARGO_TARGET_DIR/criterion`, or
/// `criterion/` in the target directory this bench was built into (`target/<profile>/deps/<bench>`).
fn criterion_dir() -> Option<PathBuf> {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return Some(home.into());
    }
    if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
        return Some(PathBuf::from(target).join("criterion"));
    }
    let exe = std::env::current_exe().ok()?;
    Some(exe.parent()?.parent()?.parent()?.join("criterion"))
}

/// The median (ns) criterion estimated for `case` in this run; `None` if it did not run.
fn median_ns(dir: &Path, case: &str, started: SystemTime) -> Option<f64> {
    let file = dir.join(GROUP).join(case).join("new").join("estimates.json");
    let modified = std::fs::metadata(&file).and_then(|m| m.modified()).ok()?;
    if modified < started {
        return None;
    }
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).ok()?).ok()?;
    json.pointer("/median/point_estimate")?.as_f64()
}

fn summary(started: SystemTime) {
    let Some(dir) = criterion_dir() else {
        println!("(no summary: cannot tell where criterion writes its estimates)");
        return;
    };
    let (raw, full) = (median_ns(&dir, RAW, started), median_ns(&dir, FULL, started));
    println!("\nsummary (criterion medians, this run)");
    for (case, median) in [(RAW, raw), (FULL, full)] {
        let shown = median.map_or_else(|| "not run".to_string(), |ns| format!("{:.2} µs", ns / 1_000.0));
        println!("  {GROUP}/{case:<18} {shown:>12}");
    }
    if let (Some(raw), Some(full)) = (raw, full) {
        println!("  verify / raw_verify_strict = {:.3}x (target ≤ 1.2)", full / raw);
    }
}
