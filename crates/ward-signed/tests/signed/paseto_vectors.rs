//! The official PASETO v4 and PASERK k4 vectors (paseto-standard/test-vectors at 32d7406, ISC;
//! read from `shared/vectors/paseto/`). Every `expect-fail` case must be refused, each for the
//! reason named here.

use pasetors::keys::{AsymmetricSecretKey, SymmetricKey};
use pasetors::paserk::{FormatAsPaserk, Id};
use pasetors::version4::V4;
use serde_json::Value;
use ward_core::Reason;
use ward_signed::raw::{open_paseto, seal_paseto};
use ward_signed::{peek, Algorithm, SigningKey, VerifyingKey};

fn hex(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().unwrap()).unwrap()
}

fn text(v: &Value) -> &str {
    v.as_str().unwrap()
}

fn tests(file: &str) -> Vec<Value> {
    crate::shared(&format!("paseto/{file}"))["tests"].as_array().unwrap().clone()
}

/// Why each failing v4 vector must fail.
fn expected_failure(name: &str) -> Reason {
    match name {
        // 4-F-1: a v4.local token shown to a v4.public key; 4-F-2: the reverse.
        "4-F-1" | "4-F-2" => Reason::UnsupportedAlgorithm,
        // 4-F-3: a v3 token.
        "4-F-3" => Reason::UnsupportedAlgorithm,
        // 4-F-4: a modified authentication tag.
        "4-F-4" => Reason::Tampered,
        // 4-F-5: base64 padding.
        "4-F-5" => Reason::Malformed,
        other => panic!("no expectation written for {other}"),
    }
}

#[test]
fn v4_vectors() {
    let (mut passed, mut refused) = (0, 0);
    for t in tests("v4.json") {
        let name = text(&t["name"]);
        let token = text(&t["token"]);
        let implicit = text(&t["implicit-assertion"]).as_bytes();
        // The key a verifier holds: the public key where the case has one, else the shared key.
        let key = if t.get("public-key").is_some() {
            VerifyingKey::from_paseto_bytes("vector", Algorithm::PasetoV4Public, &hex(&t["public-key"]))
                .unwrap()
        } else {
            VerifyingKey::from_paseto_bytes("vector", Algorithm::PasetoV4Local, &hex(&t["key"])).unwrap()
        };
        let opened = open_paseto(token, &key, implicit);
        if t["expect-fail"].as_bool().unwrap() {
            let v = opened.expect_err(name);
            assert_eq!(v.reason, expected_failure(name), "{name}: {v:?}");
            refused += 1;
            continue;
        }
        let (payload, footer) = opened.unwrap_or_else(|v| panic!("{name}: {v:?}"));
        assert_eq!(payload, text(&t["payload"]).as_bytes(), "{name}");
        assert_eq!(footer, text(&t["footer"]).as_bytes(), "{name}");
        let peeked = peek(token).unwrap();
        assert_eq!(peeked.alg, key.algorithm(), "{name}");
        let footer_kid =
            serde_json::from_slice::<Value>(&footer).ok().and_then(|f| f["kid"].as_str().map(String::from));
        assert_eq!(peeked.kid, footer_kid, "{name}");
        // Ed25519 is deterministic: signing the same payload with the vector's seed gives the token.
        if let Some(seed) = t.get("secret-key-seed") {
            let sk = SigningKey::from_secret_bytes("vector", Algorithm::PasetoV4Public, &hex(seed)).unwrap();
            assert_eq!(sk.verifying_key().to_paserk(), key.to_paserk(), "{name}");
            let resigned = seal_paseto(&sk, text(&t["payload"]).as_bytes(), &footer, implicit).unwrap();
            assert_eq!(resigned, token, "{name}");
        }
        // A wrong implicit assertion must not open the token.
        assert_eq!(open_paseto(token, &key, b"other").unwrap_err().reason, Reason::Tampered, "{name}");
        passed += 1;
    }
    assert_eq!((passed, refused), (12, 5));
}

#[test]
fn k4_lid_and_pid() {
    for (file, alg) in [("k4.lid.json", Algorithm::PasetoV4Local), ("k4.pid.json", Algorithm::PasetoV4Public)]
    {
        for t in tests(file) {
            let name = text(&t["name"]);
            let key = VerifyingKey::from_paseto_bytes("k", alg, &hex(&t["key"]));
            if t["expect-fail"].as_bool().unwrap() {
                assert!(key.is_err(), "{name}");
            } else {
                assert_eq!(key.unwrap().paserk_id().as_deref(), Some(text(&t["paserk"])), "{name}");
            }
        }
    }
}

#[test]
fn k4_public() {
    for t in tests("k4.public.json") {
        let name = text(&t["name"]);
        let key = VerifyingKey::from_paseto_bytes("k", Algorithm::PasetoV4Public, &hex(&t["key"]));
        if t["expect-fail"].as_bool().unwrap() {
            assert!(key.is_err(), "{name}");
            continue;
        }
        let paserk = text(&t["paserk"]);
        assert_eq!(key.unwrap().to_paserk().as_deref(), Some(paserk), "{name}");
        let back = VerifyingKey::from_paserk(paserk).unwrap();
        assert_eq!(back.to_paserk().as_deref(), Some(paserk), "{name}");
        assert!(back.kid().starts_with("k4.pid."), "{name}");
    }
    assert!(VerifyingKey::from_paserk("k3.public.AAAA").is_err());
    assert!(VerifyingKey::from_paserk("k4.local.cHFyc3R1dnd4eXp7fH1-f4CBgoOEhYaHiImKi4yNjo8").is_err());
}

/// Ward never exports a local key as PASERK; the vectors check that `pasetors` (which Ward uses
/// for v4.local) reads and writes them as specified.
#[test]
fn k4_local_through_pasetors() {
    for t in tests("k4.local.json") {
        let name = text(&t["name"]);
        let paserk = text(&t["paserk"]);
        if t["expect-fail"].as_bool().unwrap() {
            assert!(SymmetricKey::<V4>::try_from(paserk).is_err(), "{name}");
            continue;
        }
        let key = SymmetricKey::<V4>::from(&hex(&t["key"])).unwrap();
        let mut s = String::new();
        key.fmt(&mut s).unwrap();
        assert_eq!(s, paserk, "{name}");
        assert_eq!(SymmetricKey::<V4>::try_from(paserk).unwrap(), key, "{name}");
    }
}

/// `k4.secret` and `k4.sid` through pasetors, from Ward's seed form. The `-1` vectors use the
/// all-zero seed, on which ed25519-compact (under pasetors) panics: Ward refuses that seed instead,
/// and these tests check that it does.
#[test]
fn k4_secret_and_sid() {
    for (file, paserk_of) in [
        (
            "k4.secret.json",
            (|k: &AsymmetricSecretKey<V4>| {
                let mut s = String::new();
                k.fmt(&mut s).unwrap();
                s
            }) as fn(&AsymmetricSecretKey<V4>) -> String,
        ),
        ("k4.sid.json", |k: &AsymmetricSecretKey<V4>| {
            let mut s = String::new();
            Id::from(k).fmt(&mut s).unwrap();
            s
        }),
    ] {
        for t in tests(file) {
            let name = text(&t["name"]);
            let key = hex(&t["key"]);
            if t["expect-fail"].as_bool().unwrap() {
                assert!(AsymmetricSecretKey::<V4>::from(&key).is_err(), "{name}");
                continue;
            }
            let (seed, public) = key.split_at(32);
            let ours = SigningKey::from_secret_bytes("k", Algorithm::PasetoV4Public, seed);
            if seed.iter().all(|&b| b == 0) {
                assert!(ours.is_err(), "{name}: the all-zero seed must be refused");
                continue;
            }
            let ours = ours.unwrap();
            assert_eq!(*ours.to_secret_bytes(), seed, "{name}");
            let pk = VerifyingKey::from_paseto_bytes("k", Algorithm::PasetoV4Public, public).unwrap();
            assert_eq!(ours.verifying_key().to_paserk(), pk.to_paserk(), "{name}");
            let sk = AsymmetricSecretKey::<V4>::from(&key).unwrap();
            assert_eq!(paserk_of(&sk), text(&t["paserk"]), "{name}");
        }
    }
}
