//! Signed tokens, two ways. Arbitrary text against a key of every algorithm: `detect`, `peek`,
//! `verify` and the key parsers (`from_jwk`, `from_paserk`) never panic. And tokens with a good
//! signature over arbitrary header, payload and footer bytes, so the fuzzer reaches what runs
//! after the signature check: `verify` never panics, and what it accepts meets every expectation
//! (issuer, audience, times with the leeway), with the key's algorithm, as `peek` reads it too.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use rand::SeedableRng;
use serde_json::{Map, Value};
use ward_signed::raw::{seal_paseto, sign_jws};
use ward_signed::{detect, peek, verify, Algorithm, Expect, SigningKey, VerifyingKey};

/// The fixed "now" every token is judged at.
const NOW: i64 = 1_700_000_000;
const ISSUER: &str = "https://ward.example";
const AUDIENCE: &str = "api";

/// A signing key of every algorithm, from a fixed seed (RSA generation is slow: once).
fn keys() -> &'static [(SigningKey, VerifyingKey)] {
    static KEYS: OnceLock<Vec<(SigningKey, VerifyingKey)>> = OnceLock::new();
    KEYS.get_or_init(|| {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        Algorithm::ALL
            .iter()
            .map(|alg| {
                let k = SigningKey::generate(*alg, &mut rng).expect("a key");
                let v = k.verifying_key();
                (k, v)
            })
            .collect()
    })
}

/// Claims Ward would accept at `NOW`: dates are numbers in a JWT, RFC 3339 text in PASETO.
fn good_claims(jwt: bool) -> Map<String, Value> {
    let date = |t: i64| if jwt { Value::from(t) } else { Value::String(ward_core::clock::rfc3339(t)) };
    let v = serde_json::json!({
        "iss": ISSUER, "sub": "user_1", "aud": [AUDIENCE], "exp": date(NOW + 300), "iat": date(NOW),
        "jti": "at_1", "scope": "read"
    });
    v.as_object().cloned().unwrap_or_default()
}

/// Checks one token against one key; whatever is accepted must meet the expectation.
fn check(token: &str, key: &VerifyingKey, expect: &Expect) {
    let Ok(claims) = verify(token, key, expect, NOW) else { return };
    let p = peek(token).expect("a token that verifies can be peeked at");
    assert_eq!(Some(p.format), detect(token));
    assert_eq!(p.alg, key.algorithm(), "{token}");
    assert_eq!(claims.iss, ISSUER, "{token}");
    assert!(claims.aud.iter().any(|a| a == AUDIENCE), "{token}");
    assert!(claims.exp + expect.leeway > NOW, "accepted after expiry: {token}");
    assert!(claims.nbf.is_none_or(|nbf| nbf - expect.leeway <= NOW), "accepted before nbf: {token}");
}

fuzz_target!(|data: &[u8]| {
    let expect = Expect::access_token(ISSUER, Some(AUDIENCE.into()));
    let [selector, rest @ ..] = data else { return };
    let keys = keys();
    let (signing, verifying) = &keys[usize::from(*selector) % keys.len()];
    if selector & 0x80 == 0 {
        // Text as presented.
        let Ok(text) = std::str::from_utf8(rest) else { return };
        let _ = detect(text);
        let _ = peek(text);
        for (_, key) in keys {
            check(text, key, &expect);
        }
        if let Ok(json) = serde_json::from_str::<Value>(text) {
            let _ = VerifyingKey::from_jwk(&json);
        }
        let _ = VerifyingKey::from_paserk(text);
        return;
    }
    // A good signature over arbitrary parts: the first part (up to a 0xFF byte) is the JWT
    // header, which must be a JSON object, or the PASETO footer; the rest is the payload. An
    // empty first part stands for the header or footer Ward writes. With bit 0x40, a payload
    // that is a JSON object is laid over claims that would pass, so the fuzzer explores changes
    // to good claims rather than having to find them.
    let mut parts = rest.splitn(2, |b| *b == 0xFF);
    let (first, payload) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
    let payload = match serde_json::from_slice::<Map<String, Value>>(payload) {
        Ok(over) if selector & 0x40 != 0 => {
            let mut claims = good_claims(signing.algorithm().is_jwt());
            claims.extend(over);
            serde_json::to_vec(&claims).unwrap_or_default()
        }
        _ => payload.to_vec(),
    };
    let kid = Value::String(signing.kid().into());
    let token = if signing.algorithm().is_jwt() {
        let header = if first.is_empty() {
            Map::from_iter([
                ("alg".to_string(), Value::String(signing.algorithm().as_str().into())),
                ("kid".to_string(), kid),
                ("typ".to_string(), Value::String("at+jwt".into())),
            ])
        } else {
            let Ok(header) = serde_json::from_slice::<Map<String, Value>>(first) else { return };
            header
        };
        sign_jws(signing, &header, &payload)
    } else if first.is_empty() {
        let footer = serde_json::to_vec(&Map::from_iter([("kid".to_string(), kid)])).unwrap_or_default();
        seal_paseto(signing, &payload, &footer, &[])
    } else {
        seal_paseto(signing, &payload, first, &[])
    };
    if let Ok(token) = token {
        check(&token, verifying, &expect);
    }
});
