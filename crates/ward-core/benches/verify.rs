//! Parse + keyed-hash check + policy: the storage-free part of every verify.
//!
//! Run: `cargo bench -p ward-core --bench verify`. The `baseline_hmac` case times the bare HMAC in
//! the same run, so the ratio of the two is what to read, not the absolute numbers.

#![allow(missing_docs)] // criterion_group! generates an undocumented pub fn.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use rand::rngs::OsRng;
use ward_core::secret::SecretHasher;
use ward_core::{token, ApiKey, ParsedToken, SecretHash, TokenKind};

fn bench(c: &mut Criterion) {
    let hasher = SecretHasher::with_pepper([7u8; 32]);
    let minted = token::mint(&mut OsRng, "live", TokenKind::ApiKey);
    let key = ApiKey {
        id: minted.id.clone(),
        env: "live".into(),
        subject: "user_1".into(),
        name: None,
        scopes: vec!["read".into(), "write".into()],
        meta: serde_json::Value::Null,
        secret_hash: hasher.hash(minted.hashed_part()),
        created_at: 0,
        expires_at: Some(i64::MAX),
        not_before: None,
        remaining_uses: None,
        disabled_at: None,
        revoked: None,
        superseded: None,
        refill: None,
        last_used_at: None,
        allowed_ips: Vec::new(),
        ratelimits: Vec::new(),
    };
    let required = vec!["read".to_string()];
    let tok: &str = &minted.token;

    c.bench_function("parse", |b| b.iter(|| ParsedToken::parse(black_box(tok)).is_ok()));
    c.bench_function("baseline_hmac", |b| b.iter(|| hasher.hash(black_box(minted.hashed_part()))));
    c.bench_function("parse+verify", |b| {
        b.iter(|| {
            let p = ParsedToken::parse(black_box(tok)).ok()?;
            p.expect("live", &[TokenKind::ApiKey]).ok()?;
            let ok = hasher.matches(p.hashed_part, &key.secret_hash);
            key.check(1_000, &required).ok()?;
            Some(ok)
        })
    });
    let _ = SecretHash([0; 32]);
}

criterion_group!(benches, bench);
criterion_main!(benches);
