//! The JWS examples of RFC 7515 Appendix A.1–A.3 and RFC 8037 Appendix A.4 verify with their
//! published keys (signature only: their payloads are not access tokens), and the deterministic
//! ones (RS256, EdDSA) are reproduced byte for byte.

use serde_json::{json, Map, Value};
use ward_core::Reason;
use ward_signed::raw::{sign_jws, verify_jws_signature};
use ward_signed::{peek, verify, Algorithm, SigningKey, VerifyingKey};

use crate::{data, unb64};

fn examples() -> Vec<Value> {
    data("jws-examples.json")["examples"].as_array().unwrap().clone()
}

fn verifying_key(ex: &Value) -> VerifyingKey {
    match ex["alg"].as_str().unwrap() {
        "HS256" => {
            SigningKey::from_secret_bytes("a1", Algorithm::HS256, &unb64(ex["key_b64"].as_str().unwrap()))
                .unwrap()
                .verifying_key()
        }
        _ => VerifyingKey::from_jwk(&ex["jwk"]).unwrap(),
    }
}

#[test]
fn examples_verify_with_their_published_keys() {
    let all = examples();
    assert_eq!(all.len(), 4);
    for ex in all {
        let name = ex["name"].as_str().unwrap();
        let token = ex["token"].as_str().unwrap();
        let key = verifying_key(&ex);
        assert_eq!(key.algorithm().as_str(), ex["alg"].as_str().unwrap(), "{name}");
        let (header, payload) = verify_jws_signature(token, &key).unwrap_or_else(|v| panic!("{name}: {v:?}"));
        assert_eq!(header["alg"], ex["alg"], "{name}");
        assert_eq!(payload, ex["payload"].as_str().unwrap().as_bytes(), "{name}");
        // Peek reads a token as an access token: RFC 8037's payload is a sentence, not claims.
        match peek(token) {
            Ok(p) => assert_eq!(p.alg, key.algorithm(), "{name}"),
            Err(v) => assert_eq!((name, v.reason), ("RFC 8037 A.4 (EdDSA)", Reason::Malformed)),
        }

        // One character of the payload changed: the signature no longer matches.
        let mut parts: Vec<String> = token.split('.').map(String::from).collect();
        let first = parts[1].remove(0);
        parts[1].insert(0, if first == 'A' { 'B' } else { 'A' });
        let altered = parts.join(".");
        assert_eq!(verify_jws_signature(&altered, &key).unwrap_err().reason, Reason::Tampered, "{name}");

        // As access tokens they fail before the signature: none has `typ: at+jwt`.
        let v = verify(token, &key, &crate::expect(), crate::NOW).unwrap_err();
        assert_eq!(v.reason, Reason::WrongType, "{name}: {v:?}");
    }
}

/// RSASSA-PKCS1-v1_5 and Ed25519 are deterministic: Ward's signer reproduces the published tokens.
#[test]
fn deterministic_examples_are_reproduced() {
    let all = examples();
    let rs = crate::key(Algorithm::RS256);
    let a2 = &all[1];
    assert_eq!(rs.verifying_key().to_jwk().unwrap()["n"], a2["jwk"]["n"]);
    let a4 = &all[3];
    let ed =
        SigningKey::from_secret_bytes("a4", Algorithm::EdDSA, &unb64(a4["private"]["d"].as_str().unwrap()))
            .unwrap();
    assert_eq!(ed.verifying_key().to_jwk().unwrap()["x"], a4["jwk"]["x"]);
    for (key, ex) in [(rs, a2), (ed, a4)] {
        let mut header = Map::new();
        header.insert("alg".into(), json!(key.algorithm().as_str()));
        let token = sign_jws(&key, &header, ex["payload"].as_str().unwrap().as_bytes()).unwrap();
        assert_eq!(token, ex["token"].as_str().unwrap(), "{}", ex["name"]);
    }
}

/// ECDSA signatures are randomised, so A.3 cannot be reproduced: its private scalar must give
/// the published public key, and a fresh signature must verify under the published JWK.
#[test]
fn es256_example_key_signs_verifiably() {
    let a3 = &examples()[2];
    let sk =
        SigningKey::from_secret_bytes("a3", Algorithm::ES256, &unb64(a3["private"]["d"].as_str().unwrap()))
            .unwrap();
    let jwk = sk.verifying_key().to_jwk().unwrap();
    assert_eq!((&jwk["x"], &jwk["y"]), (&a3["jwk"]["x"], &a3["jwk"]["y"]));
    let mut header = Map::new();
    header.insert("alg".into(), json!("ES256"));
    let token = sign_jws(&sk, &header, b"fresh").unwrap();
    let (_, payload) = verify_jws_signature(&token, &VerifyingKey::from_jwk(&a3["jwk"]).unwrap()).unwrap();
    assert_eq!(payload, b"fresh");
}

/// RFC 7515 A.5: the unsecured JWS is refused however it is spelled.
#[test]
fn unsecured_example_is_refused() {
    let token = "eyJhbGciOiJub25lIn0.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.";
    assert_eq!(peek(token).unwrap_err().reason, Reason::UnsupportedAlgorithm);
    for ex in examples() {
        let v = verify_jws_signature(token, &verifying_key(&ex)).unwrap_err();
        assert_eq!(v.reason, Reason::UnsupportedAlgorithm);
    }
}
