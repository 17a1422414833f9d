//! Every algorithm signs, peeks and verifies its own tokens, in the documented wire form.

use serde_json::{json, Value};
use ward_core::Reason;
use ward_signed::{detect, peek, sign_jwt, sign_paseto, verify, Algorithm, Format, Purpose, SigningKey};

use crate::{all_keys, claims, expect, unb64, NOW};

fn sign(key: &SigningKey) -> String {
    if key.algorithm().is_jwt() {
        sign_jwt(key, "at+jwt", &claims()).unwrap()
    } else {
        sign_paseto(key, &claims()).unwrap()
    }
}

#[test]
fn every_algorithm_round_trips() {
    for key in all_keys() {
        let alg = key.algorithm();
        let token = sign(&key);
        let peeked = peek(&token).unwrap();
        assert_eq!(peeked.alg, alg);
        assert_eq!(peeked.kid.as_deref(), Some(key.kid()));
        let format = detect(&token).unwrap();
        assert_eq!(format, peeked.format);
        match alg {
            Algorithm::PasetoV4Public => {
                assert_eq!(format, Format::Paseto { version: 4, purpose: Purpose::Public })
            }
            Algorithm::PasetoV4Local => {
                assert_eq!(format, Format::Paseto { version: 4, purpose: Purpose::Local })
            }
            _ => assert_eq!((format, peeked.typ.as_deref()), (Format::Jwt, Some("at+jwt"))),
        }
        // The verifying key rebuilt from stored secret bytes verifies too.
        let stored = SigningKey::from_secret_bytes(key.kid(), alg, &key.to_secret_bytes()).unwrap();
        for vk in [key.verifying_key(), stored.verifying_key()] {
            assert_eq!(verify(&token, &vk, &expect(), NOW).unwrap(), claims(), "{alg}");
        }
        // Another key of the same algorithm and kid does not.
        let other = SigningKey::generate(alg, &mut rand::rngs::OsRng).unwrap().with_kid(key.kid()).unwrap();
        let v = verify(&token, &other.verifying_key(), &expect(), NOW).unwrap_err();
        assert_eq!(v.reason, Reason::Tampered, "{alg}");
    }
}

#[test]
fn jwt_wire_form() {
    let key = crate::key(Algorithm::EdDSA);
    let token = sign(&key);
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3);
    let header: Value = serde_json::from_slice(&unb64(parts[0])).unwrap();
    assert_eq!(header, json!({"alg": "EdDSA", "kid": "EdDSA-1", "typ": "at+jwt"}));
    let payload: Value = serde_json::from_slice(&unb64(parts[1])).unwrap();
    assert_eq!(payload["aud"], json!("api"));
    assert_eq!(payload["exp"], json!(NOW + 300));
    assert_eq!(payload["scope"], json!("read write"));
    assert_eq!(unb64(parts[2]).len(), 64);
}

#[test]
fn paseto_wire_form() {
    let key = crate::key(Algorithm::PasetoV4Public);
    let token = sign(&key);
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!((parts[0], parts[1], parts.len()), ("v4", "public", 4));
    let footer: Value = serde_json::from_slice(&unb64(parts[3])).unwrap();
    assert_eq!(footer, json!({"kid": key.kid()}));
    // v4.public payloads are readable: times are RFC 3339, as PASETO's registered claims require.
    let body = unb64(parts[2]);
    let payload: Value = serde_json::from_slice(&body[..body.len() - 64]).unwrap();
    assert_eq!(payload["exp"], json!("2023-11-14T22:18:20Z"));
    assert_eq!(payload["iat"], json!("2023-11-14T22:13:20Z"));
    // v4.local payloads are not.
    let local = sign(&crate::key(Algorithm::PasetoV4Local));
    assert!(!String::from_utf8_lossy(&unb64(local.split('.').nth(2).unwrap())).contains("user_1"));
}

#[test]
fn generated_rsa_keys_work() {
    let key = SigningKey::generate(Algorithm::RS256, &mut rand::rngs::OsRng).unwrap();
    assert_eq!(key.verifying_key().to_jwk().unwrap()["n"].as_str().unwrap().len(), 342);
    let token = sign(&key);
    assert_eq!(verify(&token, &key.verifying_key(), &expect(), NOW).unwrap(), claims());
}
