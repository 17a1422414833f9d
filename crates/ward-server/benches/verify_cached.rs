//! The verify hot path through the server's [`Verifier`](ward_server::Verifier), measured next to
//! its storage-free floor in the same run.
//!
//! Run: `cargo bench -p ward-server --bench verify_cached` (add `-- --warm-up-time 1
//! --measurement-time 3` for a quick pass). Three cases, one group:
//!
//! * `verify/core_parse_hmac`: `ParsedToken::parse` + `SecretHasher::matches` and nothing else,
//!   the work no verify can skip. This is the baseline.
//! * `verify/cached`: `Verifier::verify` for an unlimited key whose record is in the cache, so no
//!   storage is touched (the last use goes to the in-memory activity buffer): what almost every
//!   verify in production costs.
//! * `verify/cached_ratelimited`: the cached verify of the same key applying its named limit
//!   (`ratelimit: {name}`, GCRA through governor, issue 11). The engine's clock here ticks one
//!   millisecond per read of `now_millis` (seconds stay put, so the cache never expires), so the
//!   limit of 1,000,000 per second always has budget: the case measures the limiter's work on an
//!   allowed call, not refusals.
//! * `verify/uncached_sqlite`: the same key through a verifier with `cache_ttl = 0`, so every
//!   verify reads the record from SQLite (a file in a temporary directory): what a cache miss costs.
//!
//! After criterion's own report it prints the medians again with the ratios `cached / core` (the
//! verifier's overhead: cache lookup, policy, clock), `cached_ratelimited - cached` (what a named
//! limit adds; issue 11 asks under 1 µs) and `uncached / cached` (what the cache saves).
//! Read the ratios, not the absolute times: those depend on the machine. `docs/benchmarks.md`
//! records a run.

// A bench is a program run by hand: failing loudly on a broken setup is what it should do.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use criterion::{black_box, Criterion};
use tokio::runtime::Runtime;
use ward_core::guard::NamedLimit;
use ward_core::{Clock, MasterKey, ParsedToken, SecretHash, SecretHasher, TokenKind, UnixTime};
use ward_engine::{Call, Checked, Context, Engine, LimitAsk, NewKey, Policy, Verified, VerifyOptions};

/// The kinds `POST /v1/verify` accepts when the request names none, passed the same way here.
const KINDS: &[TokenKind] = &[TokenKind::ApiKey, TokenKind::Session, TokenKind::AccessToken];

/// The three cases, as criterion names them (group `verify`).
const GROUP: &str = "verify";
const CORE: &str = "core_parse_hmac";
const CACHED: &str = "cached";
const LIMITED: &str = "cached_ratelimited";
/// The key's named limit: a million per second, refilled continuously.
const LIMIT: &str = "bench";

/// Seconds stand still; milliseconds tick once per read, so a GCRA limit always has budget.
#[derive(Debug)]
struct Ticking {
    second: UnixTime,
    ms: AtomicI64,
}

impl Clock for Ticking {
    fn now(&self) -> UnixTime {
        self.second
    }

    fn now_millis(&self) -> i64 {
        self.second * 1000 + self.ms.fetch_add(1, Ordering::Relaxed)
    }
}
const UNCACHED: &str = "uncached_sqlite";

/// A SQLite-backed server state holding one unlimited key, with the key and its stored hash.
struct Fixture {
    /// Keeps the database directory alive for the whole run.
    _dir: tempfile::TempDir,
    /// The record is served from the cache after the first read.
    cached: Engine,
    /// Same store and master key, `cache_ttl = 0`: every verify reads the store.
    uncached: Engine,
    /// The deployment's hasher, for the core case.
    hasher: SecretHasher,
    token: String,
    stored_hash: SecretHash,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("ward.db").display());
    let store = ward_store::open(&url).await.expect("open the SQLite store");
    let master = MasterKey::generate(&mut rand::rngs::OsRng);
    let now = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs() as i64;
    let clock = Arc::new(Ticking { second: now, ms: AtomicI64::new(0) });
    let engine = |ttl: Duration| {
        let policy = Policy { cache_ttl: ttl, ..Policy::default() };
        Engine::builder(store.clone(), &master).policy(policy).clock(clock.clone()).background(false).build()
    };
    // An hour, not the default 5 s, so the record cannot expire mid-measurement: the hit path
    // costs the same whatever the TTL, and this case must never touch the store.
    let cached = engine(Duration::from_secs(3600)).await.expect("engine");
    let uncached = engine(Duration::ZERO).await.expect("engine");
    let req = NewKey {
        subject: "bench".into(),
        scopes: vec!["read".into(), "write".into()],
        ratelimits: vec![NamedLimit { name: LIMIT.into(), limit: 1_000_000, period: 1 }],
        ..NewKey::default()
    };
    let (key, minted) = cached.issue_key(req, &Call::by("bench")).await.expect("issue a key");
    assert_eq!(key.remaining_uses, None, "the key must be unlimited, or every verify writes");
    let token = minted.token.to_string();
    Fixture {
        _dir: dir,
        cached,
        uncached,
        hasher: master.token_hasher(),
        token,
        stored_hash: key.secret_hash,
    }
}

fn bench(c: &mut Criterion) {
    let rt = Runtime::new().expect("tokio runtime");
    let fx = rt.block_on(fixture());
    let scopes = vec!["read".to_string()];
    let opts = VerifyOptions {
        kinds: KINDS,
        scopes: &scopes,
        audience: None,
        client_ip: None,
        ratelimit: None,
        dpop: None,
    };
    let limited =
        VerifyOptions { ratelimit: Some(LimitAsk { name: LIMIT, cost: 1, per_address: false }), ..opts };
    let ctx = Context::default();
    let answer = rt.block_on(fx.cached.verify_full(&fx.token, &limited, &ctx));
    assert!(matches!(answer.checked, Checked::Valid(_)) && answer.limit.is_some(), "{answer:?}");

    // Warm the cache, and make sure every case measures a verify that succeeds.
    for engine in [&fx.cached, &fx.uncached] {
        let checked = rt.block_on(engine.verify(&fx.token, &opts, &ctx));
        assert!(matches!(checked, Checked::Valid(Verified::Key { .. })), "the key must verify: {checked:?}");
    }
    let parsed = ParsedToken::parse(&fx.token).expect("parses");
    assert!(fx.hasher.matches(parsed.hashed_part, &fx.stored_hash));

    let mut group = c.benchmark_group(GROUP);
    group.bench_function(CORE, |b| {
        b.iter(|| {
            let p = ParsedToken::parse(black_box(&fx.token)).ok()?;
            Some(fx.hasher.matches(p.hashed_part, black_box(&fx.stored_hash)))
        })
    });
    group.bench_function(CACHED, |b| {
        let engine = &fx.cached;
        b.to_async(&rt).iter(|| engine.verify(black_box(&fx.token), black_box(&opts), &ctx))
    });
    group.bench_function(LIMITED, |b| {
        let engine = &fx.cached;
        b.to_async(&rt).iter(|| engine.verify(black_box(&fx.token), black_box(&limited), &ctx))
    });
    group.bench_function(UNCACHED, |b| {
        let engine = &fx.uncached;
        b.to_async(&rt).iter(|| engine.verify(black_box(&fx.token), black_box(&opts), &ctx))
    });
    group.finish();
}

fn main() {
    let started = SystemTime::now();
    // What `criterion_group!` + `criterion_main!` expand to, plus the summary at the end.
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
    // `cargo bench` passes `--bench`; without it criterion only runs each case once as a test.
    if std::env::args().any(|a| a == "--bench") {
        summary(started);
    }
}

/// Where criterion writes its estimates, found the way criterion finds it (short of running
/// `cargo metadata`): `$CRITERION_HOME`, `$CARGO_TARGET_DIR/criterion`, or `criterion/` in the
/// target directory this bench binary was built into (`target/<profile>/deps/<bench>`).
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

/// The median (ns) criterion estimated for `case` in this run; `None` if the case did not run
/// (filtered out) or its estimates file is older than this process.
fn median_ns(dir: &Path, case: &str, started: SystemTime) -> Option<f64> {
    let file = dir.join(GROUP).join(case).join("new").join("estimates.json");
    let modified = std::fs::metadata(&file).and_then(|m| m.modified()).ok()?;
    if modified < started {
        return None;
    }
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).ok()?).ok()?;
    json.pointer("/median/point_estimate")?.as_f64()
}

fn human(ns: f64) -> String {
    if ns >= 1_000_000.0 {
        format!("{:.2} ms", ns / 1_000_000.0)
    } else if ns >= 1_000.0 {
        format!("{:.2} µs", ns / 1_000.0)
    } else {
        format!("{ns:.0} ns")
    }
}

fn summary(started: SystemTime) {
    let Some(dir) = criterion_dir() else {
        println!("(no summary: cannot tell where criterion writes its estimates)");
        return;
    };
    let [core, cached, limited, uncached] =
        [CORE, CACHED, LIMITED, UNCACHED].map(|c| median_ns(&dir, c, started));
    println!("\nsummary (criterion medians, this run)");
    for (case, median) in [(CORE, core), (CACHED, cached), (LIMITED, limited), (UNCACHED, uncached)] {
        let shown = median.map_or_else(|| "not run".to_string(), human);
        println!("  {GROUP}/{case:<18} {shown:>12}");
    }
    if let (Some(core), Some(cached)) = (core, cached) {
        println!("  cached / core_parse_hmac   = {:.2}x", cached / core);
    }
    if let (Some(cached), Some(limited)) = (cached, limited) {
        println!("  cached_ratelimited - cached = {} (the named limit's cost)", human(limited - cached));
    }
    if let (Some(cached), Some(uncached)) = (cached, uncached) {
        println!("  uncached_sqlite / cached   = {:.1}x", uncached / cached);
    }
}
