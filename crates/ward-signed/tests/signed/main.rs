//! ward-signed's integration tests, one binary: published vectors (PASETO v4 and PASERK k4, the
//! RFC 7515 / RFC 8037 JWS examples, Wycheproof), a suite of forged tokens, round trips for every
//! algorithm, and property tests of the parsers.

// Tests: a failing assertion or a missing fixture is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod dpop;
mod forged;
mod paseto_vectors;
mod props;
mod rfc_examples;
mod roundtrip;
mod wycheproof_vectors;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rsa::pkcs8::EncodePrivateKey;
use serde_json::Value;
use ward_signed::{AccessClaims, Algorithm, Expect, SigningKey};

/// The fixed "now" of every test.
const NOW: i64 = 1_700_000_000;
const ISSUER: &str = "https://ward.example";
const AUDIENCE: &str = "api";

fn claims() -> AccessClaims {
    AccessClaims {
        iss: ISSUER.into(),
        sub: "user_1".into(),
        aud: vec![AUDIENCE.into()],
        exp: NOW + 300,
        iat: NOW,
        nbf: None,
        jti: "at_1".into(),
        scope: Some("read write".into()),
        client_id: Some("client_1".into()),
        extra: serde_json::Map::new(),
    }
}

fn expect() -> Expect {
    Expect::access_token(ISSUER, Some(AUDIENCE.into()))
}

fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn unb64(s: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(s).unwrap()
}

/// A JSON file under `tests/data/`.
fn data(name: &str) -> Value {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))).unwrap()
}

/// A file of the official vectors, copied into `tests/data/` with their provenance (see its README).
fn shared(name: &str) -> Value {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))).unwrap()
}

/// A key of each algorithm from fixed bytes (RSA: the RFC 7515 A.2 key, so no test waits for
/// RSA key generation).
fn key(alg: Algorithm) -> SigningKey {
    let kid = format!("{}-1", alg.as_str());
    match alg {
        Algorithm::RS256 => {
            let ex = &data("jws-examples.json")["examples"][1];
            let int = |v: &Value| rsa::BigUint::from_bytes_be(&unb64(v.as_str().unwrap()));
            let private = rsa::RsaPrivateKey::from_components(
                int(&ex["jwk"]["n"]),
                int(&ex["jwk"]["e"]),
                int(&ex["private"]["d"]),
                vec![int(&ex["private"]["p"]), int(&ex["private"]["q"])],
            )
            .unwrap();
            let der = private.to_pkcs8_der().unwrap();
            SigningKey::from_secret_bytes(&kid, alg, der.as_bytes()).unwrap()
        }
        _ => SigningKey::from_secret_bytes(&kid, alg, &[0x42; 32]).unwrap(),
    }
}

/// Every algorithm's fixture key.
fn all_keys() -> Vec<SigningKey> {
    Algorithm::ALL.iter().map(|a| key(*a)).collect()
}

/// Builds a compact JWS from raw parts, signature bytes as given (possibly empty).
fn forge(header: &Value, payload: &[u8], sig: &[u8]) -> String {
    format!("{}.{}.{}", b64(serde_json::to_vec(header).unwrap()), b64(payload), b64(sig))
}
