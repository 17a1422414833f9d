//! Forged and damaged tokens, each refused for its own reason: the attacks of RFC 8725 and the
//! accidents of copy and paste.

use rsa::pkcs8::EncodePublicKey;
use serde_json::{json, Value};
use ward_core::{Reason, Verdict};
use ward_signed::raw::{seal_paseto, sign_jws};
use ward_signed::{peek, sign_jwt, sign_paseto, verify, AccessClaims, Algorithm, SigningKey, DEFAULT_LEEWAY};

use crate::{b64, claims, expect, forge, key, NOW};

fn ed() -> SigningKey {
    key(Algorithm::EdDSA)
}

fn refused(token: &str, key: &SigningKey) -> Verdict {
    verify(token, &key.verifying_key(), &expect(), NOW).expect_err("must be refused")
}

fn header(v: Value) -> serde_json::Map<String, Value> {
    v.as_object().unwrap().clone()
}

fn payload() -> Vec<u8> {
    serde_json::to_vec(&claims()).unwrap()
}

#[test]
fn alg_none_in_any_case_is_refused_before_any_key() {
    for alg in ["none", "None", "NONE", "nOnE"] {
        for sig in [&b""[..], b"anything"] {
            let token = forge(&json!({"alg": alg, "typ": "at+jwt", "kid": ed().kid()}), &payload(), sig);
            let v = peek(&token).unwrap_err();
            assert_eq!(v.reason, Reason::UnsupportedAlgorithm, "{alg}");
            assert!(v.detail.unwrap().contains("unsigned"), "{alg}");
            for k in crate::all_keys() {
                assert_eq!(
                    refused(&token, &k).reason,
                    Reason::UnsupportedAlgorithm,
                    "{alg} vs {}",
                    k.algorithm()
                );
            }
        }
    }
}

/// The key-confusion attack: an HMAC whose key is the public key, presented as HS256 for a
/// public-key algorithm. Tried with every byte form of each public key an attacker could fetch.
#[test]
fn hs256_over_the_public_key_is_refused() {
    for alg in [Algorithm::EdDSA, Algorithm::ES256, Algorithm::RS256] {
        let real = key(alg);
        let vk = real.verifying_key();
        let jwk = vk.to_jwk().unwrap();
        let mut forms: Vec<Vec<u8>> = vec![serde_json::to_vec(&jwk).unwrap()];
        match alg {
            Algorithm::EdDSA => forms.push(crate::unb64(jwk["x"].as_str().unwrap())),
            Algorithm::ES256 => {
                let mut sec1 = vec![4u8];
                sec1.extend(crate::unb64(jwk["x"].as_str().unwrap()));
                sec1.extend(crate::unb64(jwk["y"].as_str().unwrap()));
                forms.push(sec1);
            }
            _ => {
                // The modulus, and the public key as DER and PEM, as a JWKS or a certificate shows it.
                forms.push(crate::unb64(jwk["n"].as_str().unwrap()));
                let rsa = rsa::RsaPublicKey::new(
                    rsa::BigUint::from_bytes_be(&crate::unb64(jwk["n"].as_str().unwrap())),
                    rsa::BigUint::from_bytes_be(&crate::unb64(jwk["e"].as_str().unwrap())),
                )
                .unwrap();
                forms.push(rsa.to_public_key_der().unwrap().as_bytes().to_vec());
                forms.push(rsa.to_public_key_pem(rsa::pkcs8::LineEnding::LF).unwrap().into_bytes());
            }
        }
        for form in forms {
            let hmac = SigningKey::from_secret_bytes(real.kid(), Algorithm::HS256, &form).unwrap();
            let token = sign_jwt(&hmac, "at+jwt", &claims()).unwrap();
            assert_eq!(peek(&token).unwrap().alg, Algorithm::HS256);
            let v = refused(&token, &real);
            assert_eq!(v.reason, Reason::UnsupportedAlgorithm, "{alg}");
            assert!(v.detail.unwrap().contains("key-confusion"), "{alg}");
        }
    }
}

#[test]
fn another_algorithm_of_the_same_family_is_refused() {
    let es = key(Algorithm::ES256);
    let token = sign_jwt(&es, "at+jwt", &claims()).unwrap();
    let as_ed = ed().with_kid(es.kid()).unwrap();
    assert_eq!(refused(&token, &as_ed).reason, Reason::UnsupportedAlgorithm);
    let v = peek(&forge(&json!({"alg": "eddsa", "typ": "at+jwt"}), &payload(), &[0; 64])).unwrap_err();
    assert_eq!(v.reason, Reason::UnsupportedAlgorithm);
    assert!(v.detail.unwrap().contains("case-sensitive"));
    for alg in ["PS256", "ES384", "RS512", "HS512", "v4.public", "", "EdDSA "] {
        let token = forge(&json!({"alg": alg, "typ": "at+jwt"}), &payload(), &[0; 64]);
        assert_eq!(peek(&token).unwrap_err().reason, Reason::UnsupportedAlgorithm, "{alg:?}");
    }
    let token = forge(&json!({"alg": 5, "typ": "at+jwt"}), &payload(), &[0; 64]);
    assert_eq!(peek(&token).unwrap_err().reason, Reason::Malformed);
}

/// A `kid` is untrusted text: peek hands it back verbatim (for a map lookup, nothing else), and a
/// key registered under another name does not verify it.
#[test]
fn hostile_kids_are_returned_verbatim_and_harmless() {
    for kid in ["../../etc/passwd", "' OR 1=1 --", "kid\"}, {\"alg\":\"none", "\u{202e}gnp.exe", "%00"] {
        let token =
            sign_jws(&ed(), &header(json!({"alg": "EdDSA", "typ": "at+jwt", "kid": kid})), &payload())
                .unwrap();
        assert_eq!(peek(&token).unwrap().kid.as_deref(), Some(kid));
        let v = refused(&token, &ed());
        assert_eq!(v.reason, Reason::UnknownKey, "{kid}");
        // Registered under exactly that name, it is just a name.
        let named = ed().with_kid(kid).unwrap();
        assert!(verify(&token, &named.verifying_key(), &expect(), NOW).is_ok(), "{kid}");
    }
    for kid in [json!("line\nbreak"), json!(""), json!("x".repeat(257)), json!(7), json!(null)] {
        let token =
            sign_jws(&ed(), &header(json!({"alg": "EdDSA", "typ": "at+jwt", "kid": kid})), &payload())
                .unwrap();
        assert_eq!(peek(&token).unwrap_err().reason, Reason::Malformed, "{kid}");
    }
}

/// An attacker signs with their own key and points at it (`jwk` embedded, `jku`/`x5u` URLs,
/// `x5c` chain): refused from the header alone, and the signature would not verify anyway.
#[test]
fn embedded_or_remote_keys_are_never_used() {
    let attacker =
        SigningKey::generate(Algorithm::EdDSA, &mut rand::rngs::OsRng).unwrap().with_kid(ed().kid()).unwrap();
    let attacker_jwk = attacker.verifying_key().to_jwk().unwrap();
    let base = json!({"alg": "EdDSA", "typ": "at+jwt", "kid": ed().kid()});
    for (name, value) in [
        ("jwk", attacker_jwk.clone()),
        ("jku", json!("https://evil.example/jwks.json")),
        ("x5u", json!("https://evil.example/cert.pem")),
        ("x5c", json!(["MIIB..."])),
    ] {
        let mut h = header(base.clone());
        h.insert(name.into(), value);
        let token = sign_jws(&attacker, &h, &payload()).unwrap();
        let v = peek(&token).unwrap_err();
        assert_eq!(v.reason, Reason::Malformed, "{name}");
        assert!(v.detail.unwrap().contains(&format!("`{name}`")), "{name}");
        assert_eq!(refused(&token, &ed()).reason, Reason::Malformed, "{name}");
    }
    // Without the pointer, the attacker's signature is just wrong.
    let token = sign_jws(&attacker, &header(base), &payload()).unwrap();
    assert_eq!(refused(&token, &ed()).reason, Reason::Tampered);
}

#[test]
fn critical_extensions_are_refused() {
    for crit in [json!(["exp"]), json!(["b64"]), json!([]), json!("x")] {
        let token = sign_jws(
            &ed(),
            &header(json!({"alg": "EdDSA", "typ": "at+jwt", "crit": crit, "b64": false})),
            &payload(),
        )
        .unwrap();
        let v = peek(&token).unwrap_err();
        assert_eq!(v.reason, Reason::Malformed);
        assert!(v.detail.unwrap().contains("crit"));
    }
}

#[test]
fn stripped_and_truncated_signatures_are_tampered() {
    for k in [ed(), key(Algorithm::ES256), key(Algorithm::RS256), key(Algorithm::HS256)] {
        let token = sign_jwt(&k, "at+jwt", &claims()).unwrap();
        let (signed, _) = token.rsplit_once('.').unwrap();
        let v = refused(&format!("{signed}."), &k);
        assert_eq!(
            (v.reason, v.detail.as_deref()),
            (Reason::Tampered, Some("the signature is missing (stripped)"))
        );
        for cut in [1, 2, 3, 4, 10, 40] {
            let v = refused(&token[..token.len() - cut], &k);
            assert_eq!(v.reason, Reason::Tampered, "{} cut {cut}: {v:?}", k.algorithm());
        }
        // Without the signature part at all, it is not a JWT.
        assert_eq!(refused(signed, &k).reason, Reason::Malformed);
        // A signature one byte too long, or with bits flipped.
        let mut sig = crate::unb64(token.rsplit('.').next().unwrap());
        sig.push(0);
        assert_eq!(refused(&format!("{signed}.{}", b64(&sig)), &k).reason, Reason::Tampered);
        sig.pop();
        sig[0] ^= 1;
        assert_eq!(refused(&format!("{signed}.{}", b64(&sig)), &k).reason, Reason::Tampered);
    }
}

#[test]
fn a_payload_swapped_in_from_another_token_is_tampered() {
    let a = sign_jwt(&ed(), "at+jwt", &claims()).unwrap();
    let admin = AccessClaims { sub: "admin".into(), scope: Some("admin".into()), ..claims() };
    let b = sign_jwt(&key(Algorithm::HS256).with_kid(ed().kid()).unwrap(), "at+jwt", &admin).unwrap();
    let c = sign_jwt(
        &SigningKey::from_secret_bytes(ed().kid(), Algorithm::EdDSA, &[9; 32]).unwrap(),
        "at+jwt",
        &admin,
    )
    .unwrap();
    let parts = |t: &str| t.split('.').map(String::from).collect::<Vec<_>>();
    let (pa, pb, pc) = (parts(&a), parts(&b), parts(&c));
    for swapped in
        [format!("{}.{}.{}", pa[0], pb[1], pa[2]), format!("{}.{}.{}", pa[0], pc[1], pa[2]), c.clone()]
    {
        assert_eq!(refused(&swapped, &ed()).reason, Reason::Tampered);
    }
}

#[test]
fn only_access_tokens_pass_as_access_tokens() {
    for typ in ["at+jwt", "AT+JWT", "application/at+jwt", "Application/AT+JWT"] {
        let token = sign_jwt(&ed(), typ, &claims()).unwrap();
        assert!(verify(&token, &ed().verifying_key(), &expect(), NOW).is_ok(), "{typ}");
    }
    for typ in ["JWT", "jwt", "rt+jwt", "id_token+jwt", "at+jwt;", "application/jwt", "secevent+jwt"] {
        let token = sign_jwt(&ed(), typ, &claims()).unwrap();
        let v = refused(&token, &ed());
        assert_eq!(v.reason, Reason::WrongType, "{typ}");
        assert!(v.detail.unwrap().contains(&format!("`{typ}`")));
    }
    // No `typ` at all: an ID token, say.
    let token = sign_jws(&ed(), &header(json!({"alg": "EdDSA", "kid": ed().kid()})), &payload()).unwrap();
    assert_eq!(refused(&token, &ed()).reason, Reason::WrongType);
    let token = sign_jws(&ed(), &header(json!({"alg": "EdDSA", "typ": 1})), &payload()).unwrap();
    assert_eq!(refused(&token, &ed()).reason, Reason::Malformed);
    // An opaque refresh token shown as an access token.
    let rt = ward_core::token::mint(&mut rand::rngs::OsRng, "live", ward_core::TokenKind::Refresh);
    assert_eq!(refused(&rt.token, &ed()).reason, Reason::WrongType);
}

#[test]
fn claims_of_the_wrong_type_are_malformed_never_absent() {
    let cases = [
        ("exp", json!("soon")),
        ("exp", json!(null)),
        ("iat", json!("2023-11-14T22:13:20Z")),
        ("nbf", json!(false)),
        ("aud", json!(5)),
        ("aud", json!(["api", 5])),
        ("sub", json!(1)),
        ("iss", json!(["https://ward.example"])),
        ("jti", json!({})),
        ("scope", json!(["read"])),
        ("client_id", json!(null)),
    ];
    for (claim, bad) in cases {
        let mut m = serde_json::to_value(claims()).unwrap();
        m[claim] = bad.clone();
        let token = sign_jws(
            &ed(),
            &header(json!({"alg": "EdDSA", "typ": "at+jwt", "kid": ed().kid()})),
            &serde_json::to_vec(&m).unwrap(),
        )
        .unwrap();
        let v = refused(&token, &ed());
        assert_eq!(v.reason, Reason::Malformed, "{claim} = {bad}");
        assert!(v.detail.unwrap().contains(&format!("`{claim}`")), "{claim}");
    }
    for claim in ["exp", "iat", "sub", "iss", "jti"] {
        let mut m = serde_json::to_value(claims()).unwrap();
        m.as_object_mut().unwrap().remove(claim);
        let token = sign_jws(
            &ed(),
            &header(json!({"alg": "EdDSA", "typ": "at+jwt"})),
            &serde_json::to_vec(&m).unwrap(),
        )
        .unwrap();
        assert_eq!(refused(&token, &ed()).reason, Reason::Malformed, "{claim}");
    }
    // A repeated claim: two parsers could read two different subjects.
    let dup = br#"{"iss":"https://ward.example","sub":"user_1","sub":"admin","aud":"api","exp":1700000300,"iat":1700000000,"jti":"j"}"#;
    let token = sign_jws(&ed(), &header(json!({"alg": "EdDSA", "typ": "at+jwt"})), dup).unwrap();
    let v = refused(&token, &ed());
    assert_eq!(v.reason, Reason::Malformed);
    assert!(v.detail.unwrap().contains("`sub` appears twice"));
    assert_eq!(peek(&token).unwrap_err().reason, Reason::Malformed);
    // Payloads that are not objects.
    for body in [&b"[]"[..], b"\"claims\"", b"Example of Ed25519 signing"] {
        let token = sign_jws(&ed(), &header(json!({"alg": "EdDSA", "typ": "at+jwt"})), body).unwrap();
        assert_eq!(refused(&token, &ed()).reason, Reason::Malformed);
    }
}

#[test]
fn expiry_and_start_are_exact_around_the_leeway() {
    let token = |c: AccessClaims| sign_jwt(&ed(), "at+jwt", &c).unwrap();
    let at = |c: AccessClaims, now: i64| verify(&token(c), &ed().verifying_key(), &expect(), now).map(|_| ());
    let exp = AccessClaims { exp: NOW, ..claims() };
    assert_eq!(at(exp.clone(), NOW + DEFAULT_LEEWAY - 1), Ok(()));
    assert_eq!(at(exp.clone(), NOW + DEFAULT_LEEWAY).unwrap_err().reason, Reason::Expired);
    assert_eq!(at(exp, NOW + DEFAULT_LEEWAY + 1).unwrap_err().reason, Reason::Expired);

    let nbf = AccessClaims { nbf: Some(NOW + 1_000), exp: NOW + 2_000, ..claims() };
    assert_eq!(at(nbf.clone(), NOW + 1_000 - DEFAULT_LEEWAY), Ok(()));
    assert_eq!(at(nbf.clone(), NOW + 1_000 - DEFAULT_LEEWAY + 1), Ok(()));
    assert_eq!(at(nbf, NOW + 1_000 - DEFAULT_LEEWAY - 1).unwrap_err().reason, Reason::NotYetValid);

    let iat = AccessClaims { iat: NOW + 1_000, exp: NOW + 2_000, ..claims() };
    assert_eq!(at(iat.clone(), NOW + 1_000 - DEFAULT_LEEWAY), Ok(()));
    let v = at(iat, NOW + 1_000 - DEFAULT_LEEWAY - 1).unwrap_err();
    assert_eq!(v.reason, Reason::NotYetValid);
    assert!(v.detail.unwrap().ends_with("the issuer's clock appears to be 61 seconds ahead of Ward's"));

    // Expired by 2 minutes: the detail suggests clock skew.
    let v = at(AccessClaims { exp: NOW, ..claims() }, NOW + 120).unwrap_err();
    assert!(v.detail.unwrap().contains("the issuer's clock appears to be 2 minutes behind Ward's"));
}

#[test]
fn wrong_issuer_and_audience_name_both_sides() {
    let token =
        sign_jwt(&ed(), "at+jwt", &AccessClaims { iss: "http://ward.example".into(), ..claims() }).unwrap();
    let v = refused(&token, &ed());
    assert_eq!(v.reason, Reason::WrongIssuer);
    let d = v.detail.unwrap();
    assert!(
        d.contains("expected `https://ward.example`, presented `http://ward.example`")
            && d.contains("scheme"),
        "{d}"
    );
    let token = sign_jwt(&ed(), "at+jwt", &AccessClaims { aud: vec!["billing".into()], ..claims() }).unwrap();
    let v = refused(&token, &ed());
    assert_eq!(
        (v.reason, v.detail.as_deref()),
        (Reason::WrongAudience, Some("expected `api`; the token is for `billing`"))
    );
}

#[test]
fn shapes_that_are_not_tokens_are_malformed() {
    let good = sign_jwt(&ed(), "at+jwt", &claims()).unwrap();
    let parts: Vec<&str> = good.split('.').collect();
    let cases = [
        format!("{}=.{}.{}", parts[0], parts[1], parts[2]),
        format!("{}.{}=.{}", parts[0], parts[1], parts[2]),
        format!("{}.{}", parts[0], parts[1]),
        format!("{}.{}.{}.{}", parts[0], parts[1], parts[2], parts[2]),
        format!("{}.{}.{}", b64("[]"), parts[1], parts[2]),
        format!("{}.{}.{}", b64(r#"{"alg":"EdDSA","alg":"none","typ":"at+jwt"}"#), parts[1], parts[2]),
        format!("{}.{}.{}", b64("{\"alg\":\"EdDSA\""), parts[1], parts[2]),
        format!("{}.{}.{}", parts[0].replace('e', "+"), parts[1], parts[2]),
        format!(".{}.{}", parts[1], parts[2]),
        "not a token".into(),
        "ey".into(),
        format!("{good}\n"),
    ];
    for t in cases {
        let v = verify(&t, &ed().verifying_key(), &expect(), NOW).unwrap_err();
        assert_eq!(v.reason, Reason::Malformed, "{t:?}: {v:?}");
    }
}

#[test]
fn paseto_of_another_version_or_purpose_is_refused() {
    let public = key(Algorithm::PasetoV4Public);
    let local = key(Algorithm::PasetoV4Local);
    let body = b64([7u8; 120]);
    for t in [
        format!("v2.public.{body}"),
        format!("v3.public.{body}"),
        format!("v1.local.{body}"),
        format!("v2.local.{body}"),
    ] {
        assert_eq!(peek(&t).unwrap_err().reason, Reason::UnsupportedAlgorithm, "{t}");
        assert_eq!(refused(&t, &public).reason, Reason::UnsupportedAlgorithm, "{t}");
    }
    // A real v3 token from the official vectors (4-F-3).
    let v3 = "v3.local.23e_2PiqpQBPvRFKzB0zHhjmxK3sKo2grFZRRLM-U7L0a8uHxuF9RlVz3Ic6WmdUUWTxCaYycwWV1yM8gKbZB2JhygDMKvHQ7eBf8GtF0r3K0Q_gF1PXOxcOgztak1eD1dPe9rLVMSgR0nHJXeIGYVuVrVoLWQ.YXJiaXRyYXJ5LXN0cmluZy10aGF0LWlzbid0LWpzb24";
    assert_eq!(refused(v3, &local).reason, Reason::UnsupportedAlgorithm);

    // Each purpose shown to the other's key, with the kid of the key it is shown to.
    let l = sign_paseto(&local.with_kid(public.kid()).unwrap(), &claims()).unwrap();
    let v = refused(&l, &public);
    assert_eq!(v.reason, Reason::UnsupportedAlgorithm);
    assert!(v.detail.unwrap().contains("`v4.local` token"));
    let p = sign_paseto(&public, &claims()).unwrap();
    assert_eq!(
        refused(&p, &key(Algorithm::PasetoV4Local).with_kid(public.kid()).unwrap()).reason,
        Reason::UnsupportedAlgorithm
    );

    // PASETO to a JWT key and a JWT to a PASETO key.
    assert_eq!(refused(&p, &ed().with_kid(public.kid()).unwrap()).reason, Reason::UnsupportedAlgorithm);
    let j = sign_jwt(&ed().with_kid(public.kid()).unwrap(), "at+jwt", &claims()).unwrap();
    assert_eq!(refused(&j, &public).reason, Reason::UnsupportedAlgorithm);
}

#[test]
fn damaged_paseto_tokens_are_refused() {
    for k in [key(Algorithm::PasetoV4Public), key(Algorithm::PasetoV4Local)] {
        let token = sign_paseto(&k, &claims()).unwrap();
        let (body, footer) = token.rsplit_once('.').unwrap();
        // The footer is authenticated: dropping it, or naming another key in it, breaks the token.
        assert_eq!(refused(body, &k).reason, Reason::Tampered, "{}", k.algorithm());
        let other_footer = format!("{body}.{}", b64(r#"{"kid":"other"}"#));
        let other = k.verifying_key().with_kid("other").unwrap();
        let v = verify(&other_footer, &other, &expect(), NOW).unwrap_err();
        assert_eq!(v.reason, Reason::Tampered, "{}", k.algorithm());
        // A truncated body, and one character changed.
        let cut = format!("{}.{footer}", &body[..body.len() - 4]);
        assert_eq!(refused(&cut, &k).reason, Reason::Tampered, "{}", k.algorithm());
        let mut chars: Vec<char> = body.chars().collect();
        let i = chars.len() - 20;
        chars[i] = if chars[i] == 'A' { 'B' } else { 'A' };
        let flipped = format!("{}.{footer}", chars.into_iter().collect::<String>());
        assert_eq!(refused(&flipped, &k).reason, Reason::Tampered, "{}", k.algorithm());
        // The same token checked against a key with another kid.
        let v = verify(&token, &k.verifying_key().with_kid("other").unwrap(), &expect(), NOW).unwrap_err();
        assert_eq!(v.reason, Reason::UnknownKey);
        // Claims with NumericDates in a PASETO token are malformed (PASETO times are RFC 3339).
        let numeric = serde_json::to_vec(&claims()).unwrap();
        let footer_bytes = format!(r#"{{"kid":"{}"}}"#, k.kid());
        let t = seal_paseto(&k, &numeric, footer_bytes.as_bytes(), &[]).unwrap();
        let v = refused(&t, &k);
        assert_eq!(v.reason, Reason::Malformed);
        assert!(v.detail.unwrap().contains("RFC 3339"));
    }
}
