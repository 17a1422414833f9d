//! Public keys as JWK (RFC 7517; OKP from RFC 8037) and their RFC 7638 thumbprints.

use rsa::traits::PublicKeyParts;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::algorithm::Algorithm;
use crate::json::{b64, unb64};
use crate::key::{check_kid, check_rsa_size, rsa_public, KeyError, Material, VerifyingKey};

impl VerifyingKey {
    /// The public JWK, for a JWKS: `kty`, the key's own members, `kid`, `alg` and `use: "sig"`.
    ///
    /// `None` for HS256 and v4.local (secrets are never published) and for v4.public (PASETO
    /// keys have no JWK form that JOSE libraries would not misuse as an EdDSA key; publish
    /// [`VerifyingKey::to_paserk`] instead).
    pub fn to_jwk(&self) -> Option<Value> {
        let mut jwk = self.jwk_members()?;
        jwk.insert("kid".into(), Value::String(self.kid.clone()));
        jwk.insert("alg".into(), Value::String(self.algorithm().as_str().into()));
        jwk.insert("use".into(), Value::String("sig".into()));
        Some(Value::Object(jwk))
    }

    /// The RFC 7638 thumbprint: base64url SHA-256 of the required members in lexicographic order.
    /// `None` where [`VerifyingKey::to_jwk`] is `None`.
    pub fn thumbprint(&self) -> Option<String> {
        // serde_json's `Map` is ordered by key and writes no whitespace: exactly RFC 7638 §3.2.
        let canonical = serde_json::to_vec(&self.jwk_members()?).ok()?;
        Some(b64(Sha256::digest(canonical)))
    }

    /// The members RFC 7638 requires for each key type.
    fn jwk_members(&self) -> Option<Map<String, Value>> {
        let v = match &self.public {
            Material::Ed25519(k) => json!({"crv": "Ed25519", "kty": "OKP", "x": b64(k.as_bytes())}),
            Material::P256(k) => {
                let point = k.to_encoded_point(false);
                json!({"crv": "P-256", "kty": "EC", "x": b64(point.x()?), "y": b64(point.y()?)})
            }
            Material::Rsa(k) => {
                let k = rsa_public(k);
                json!({"e": b64(k.e().to_bytes_be()), "kty": "RSA", "n": b64(k.n().to_bytes_be())})
            }
            Material::Hmac(_) | Material::PasetoPublic(_) | Material::PasetoLocal(_) | Material::Broken => {
                return None
            }
        };
        match v {
            Value::Object(m) => Some(m),
            _ => None,
        }
    }

    /// Reads a public JWK (for tests and tools; Ward's own keys come from its key ring).
    ///
    /// `alg` binds the key: if present it must suit the key type; if absent it is inferred only
    /// where that is unambiguous (OKP Ed25519 is EdDSA, EC P-256 is ES256); an RSA key must name
    /// `RS256`. `use`, if present, must be `sig`. A JWK carrying a private member (`d`) or a
    /// symmetric key (`kty: oct`) is refused. Without `kid`, the thumbprint is the kid.
    pub fn from_jwk(jwk: &Value) -> Result<Self, KeyError> {
        let bad = |why: &str| KeyError::Invalid { alg: "JWK", why: why.to_string() };
        let m = jwk.as_object().ok_or_else(|| bad("a JWK is a JSON object"))?;
        let text = |name: &str| -> Result<Option<&str>, KeyError> {
            match m.get(name) {
                None => Ok(None),
                Some(Value::String(s)) => Ok(Some(s)),
                Some(_) => Err(bad(&format!("`{name}` must be a string"))),
            }
        };
        let bytes = |name: &str| -> Result<Vec<u8>, KeyError> {
            let s = text(name)?.ok_or_else(|| bad(&format!("`{name}` is missing")))?;
            unb64(s).ok_or_else(|| bad(&format!("`{name}` is not base64url without padding")))
        };
        if m.contains_key("d") {
            return Err(bad("it holds a private key (`d`); only public keys are read"));
        }
        if let Some(u) = text("use")? {
            if u != "sig" {
                return Err(bad(&format!("`use` is `{u}`; a verifying key has `use: sig`")));
            }
        }
        let named = text("alg")?.map(str::parse::<Algorithm>).transpose().map_err(|e| bad(&e.to_string()))?;
        let kty = text("kty")?.ok_or_else(|| bad("`kty` is missing"))?;
        let crv = text("crv")?;
        let (alg, public) = match (kty, crv) {
            ("OKP", Some("Ed25519")) => {
                let x: [u8; 32] = bytes("x")?.try_into().map_err(|_| bad("`x` must be 32 bytes"))?;
                let k = ed25519_dalek::VerifyingKey::from_bytes(&x)
                    .map_err(|_| bad("`x` is not an Ed25519 point"))?;
                (Algorithm::EdDSA, Material::Ed25519(k))
            }
            ("EC", Some("P-256")) => {
                let (x, y) = (bytes("x")?, bytes("y")?);
                if x.len() != 32 || y.len() != 32 {
                    return Err(bad("`x` and `y` must be 32 bytes each (RFC 7518 §6.2.1.2)"));
                }
                let point = p256::EncodedPoint::from_affine_coordinates(
                    p256::FieldBytes::from_slice(&x),
                    p256::FieldBytes::from_slice(&y),
                    false,
                );
                let k = p256::ecdsa::VerifyingKey::from_encoded_point(&point)
                    .map_err(|_| bad("(`x`, `y`) is not a point on P-256"))?;
                (Algorithm::ES256, Material::P256(k))
            }
            ("RSA", None) => {
                if named != Some(Algorithm::RS256) {
                    return Err(bad(
                        "an RSA JWK must name `alg: RS256` (RSA keys also serve PS256 and others)",
                    ));
                }
                let n = rsa::BigUint::from_bytes_be(&bytes("n")?);
                let e = rsa::BigUint::from_bytes_be(&bytes("e")?);
                check_rsa_size(Algorithm::RS256, n.bits())?;
                let k = rsa::RsaPublicKey::new(n, e).map_err(|e| bad(&e.to_string()))?;
                (Algorithm::RS256, Material::Rsa(Box::new(rsa::pkcs1v15::VerifyingKey::new(k))))
            }
            ("oct", _) => {
                return Err(bad("symmetric keys (`kty: oct`) are never read from or written to JWK"))
            }
            (kty, crv) => {
                return Err(bad(&format!(
                    "`kty: {kty}` with `crv: {}` is not a key type Ward uses",
                    crv.unwrap_or("-")
                )))
            }
        };
        if let Some(named) = named {
            if named != alg {
                return Err(bad(&format!("`alg: {named}` does not suit a {kty} key (it is a {alg} key)")));
            }
        }
        let mut key = VerifyingKey { kid: String::new(), public };
        key.kid = match text("kid")? {
            Some(kid) => {
                check_kid(kid).map_err(KeyError::Kid)?;
                kid.to_string()
            }
            None => key.thumbprint().unwrap_or_default(),
        };
        Ok(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::SigningKey;
    use rand::rngs::OsRng;

    /// RFC 7638 §3.1: the thumbprint of the RFC 7517 Appendix A.1 RSA key.
    #[test]
    fn rsa_thumbprint_matches_rfc_7638() {
        let jwk = json!({
            "kty": "RSA",
            "alg": "RS256",
            "kid": "2011-04-29",
            "e": "AQAB",
            "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
        });
        let k = VerifyingKey::from_jwk(&jwk).unwrap();
        assert_eq!(k.thumbprint().unwrap(), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
        assert_eq!(k.kid(), "2011-04-29");
    }

    /// RFC 8037 Appendix A.3: the thumbprint of the A.2 Ed25519 public key.
    #[test]
    fn ed25519_thumbprint_matches_rfc_8037() {
        let jwk = json!({"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"});
        let k = VerifyingKey::from_jwk(&jwk).unwrap();
        assert_eq!(k.algorithm(), Algorithm::EdDSA);
        assert_eq!(k.thumbprint().unwrap(), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
        assert_eq!(k.kid(), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
    }

    #[test]
    fn published_jwks_round_trip() {
        for alg in [Algorithm::EdDSA, Algorithm::ES256] {
            let k = SigningKey::generate(alg, &mut OsRng).unwrap().verifying_key();
            let jwk = k.to_jwk().unwrap();
            assert_eq!(jwk["use"], "sig");
            assert_eq!(jwk["alg"], alg.as_str());
            assert_eq!(jwk["kid"], k.kid());
            let back = VerifyingKey::from_jwk(&jwk).unwrap();
            assert_eq!(back.to_jwk(), Some(jwk));
        }
    }

    #[test]
    fn secrets_and_paseto_keys_have_no_jwk() {
        for alg in [Algorithm::HS256, Algorithm::PasetoV4Local, Algorithm::PasetoV4Public] {
            let k = SigningKey::generate(alg, &mut OsRng).unwrap().verifying_key();
            assert_eq!(k.to_jwk(), None, "{alg}");
            assert_eq!(k.thumbprint(), None, "{alg}");
        }
    }

    #[test]
    fn unsuitable_jwks_are_refused() {
        let x = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
        let bad = [
            json!("not an object"),
            json!({"kty": "OKP", "crv": "Ed25519", "x": x, "alg": "ES256"}),
            json!({"kty": "OKP", "crv": "Ed25519", "x": x, "alg": "none"}),
            json!({"kty": "OKP", "crv": "Ed25519", "x": x, "use": "enc"}),
            json!({"kty": "OKP", "crv": "Ed25519", "x": x, "d": "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"}),
            json!({"kty": "OKP", "crv": "X25519", "x": x}),
            json!({"kty": "OKP", "crv": "Ed25519", "x": "AAAA"}),
            json!({"kty": "oct", "k": "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ"}),
            json!({"kty": "RSA", "n": "AQAB", "e": "AQAB"}),
            json!({"kty": "RSA", "n": "AQAB", "e": "AQAB", "alg": "RS256"}),
            json!({"kty": "EC", "crv": "P-256", "x": x, "y": x}),
        ];
        for jwk in bad {
            assert!(VerifyingKey::from_jwk(&jwk).is_err(), "{jwk}");
        }
    }
}
