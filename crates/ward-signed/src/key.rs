//! Signing keys and their verifying halves. Each key is bound to one [`Algorithm`] and one `kid`.
//!
//! The private half leaves a [`SigningKey`] only through [`SigningKey::to_secret_bytes`], for the
//! server to encrypt before storing it; every private half wipes itself when dropped.

use std::fmt;

use ed25519_dalek::Signer as _;
use hmac::{Hmac, Mac};
use pasetors::keys::{AsymmetricPublicKey, AsymmetricSecretKey, SymmetricKey};
use pasetors::paserk::{FormatAsPaserk, Id};
use pasetors::version4::V4;
use rand::{CryptoRng, RngCore};
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use rsa::signature::{RandomizedSigner, SignatureEncoding, Verifier};
use rsa::traits::PublicKeyParts;
use sha2::Sha256;
use zeroize::{Zeroize, Zeroizing};

use crate::algorithm::Algorithm;
use crate::json::b64;

/// RSA keys Ward generates.
pub const RSA_BITS: usize = 2048;
/// Smallest RSA modulus Ward accepts (RFC 7518 §3.3 requires 2048 bits).
pub const RSA_MIN_BITS: usize = 2048;
/// Largest RSA modulus Ward accepts (the `rsa` crate's limit for public keys).
pub const RSA_MAX_BITS: usize = 4096;
/// Bytes of key for HS256 and v4.local (HS256 keys may be longer, never shorter: RFC 7518 §3.2).
pub const SYMMETRIC_KEY_LEN: usize = 32;
/// Longest `kid` Ward issues or accepts.
pub const MAX_KID_LEN: usize = 256;

/// Why key material could not be made into a key.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The bytes, JWK or PASERK do not hold a valid key for the algorithm.
    #[error("not a valid {alg} key: {why}")]
    Invalid {
        /// The algorithm the material was read for.
        alg: &'static str,
        /// What is wrong with it.
        why: String,
    },
    /// The key id is empty, too long or contains control characters.
    #[error("invalid kid: {0}")]
    Kid(String),
    /// Generating a key failed (only RSA generation can).
    #[error("key generation failed: {0}")]
    Generation(String),
}

fn invalid(alg: Algorithm, why: impl Into<String>) -> KeyError {
    KeyError::Invalid { alg: alg.as_str(), why: why.into() }
}

/// Why a token could not be signed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignError {
    /// The key's algorithm belongs to the other token format (a PASETO key asked to sign a JWT, or
    /// the reverse).
    #[error("key `{kid}` is bound to {alg}, which cannot sign a {format}")]
    WrongFormat {
        /// The key.
        kid: String,
        /// Its algorithm.
        alg: Algorithm,
        /// The format asked for.
        format: &'static str,
    },
    /// The signing primitive failed (RSA arithmetic, or no OS randomness for a v4.local nonce).
    #[error("signing failed: {0}")]
    Crypto(String),
}

/// Checks a `kid`: 1 to 256 bytes, no control characters (it ends up in logs and JSON).
pub(crate) fn check_kid(kid: &str) -> Result<(), String> {
    if kid.is_empty() {
        Err("it is empty".into())
    } else if kid.len() > MAX_KID_LEN {
        Err(format!("it is {} bytes long; at most {MAX_KID_LEN}", kid.len()))
    } else if kid.chars().any(char::is_control) {
        Err("it contains control characters".into())
    } else {
        Ok(())
    }
}

/// A private key, bound to one algorithm and one `kid`. Wiped from memory when dropped.
pub struct SigningKey {
    kid: String,
    secret: Secret,
}

/// The private halves. Each type zeroizes itself on drop: `ed25519_dalek::SigningKey`,
/// `p256::ecdsa::SigningKey` and `rsa::RsaPrivateKey` implement `ZeroizeOnDrop`, pasetors'
/// keys zeroize in `Drop`, and the HMAC key is `Zeroizing`.
enum Secret {
    Ed25519(ed25519_dalek::SigningKey),
    P256(p256::ecdsa::SigningKey),
    Rsa(Box<rsa::pkcs1v15::SigningKey<Sha256>>),
    Hmac(Zeroizing<Vec<u8>>),
    PasetoPublic(AsymmetricSecretKey<V4>),
    PasetoLocal(SymmetricKey<V4>),
}

impl zeroize::ZeroizeOnDrop for SigningKey {}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("alg", &self.algorithm())
            .field("secret", &"<redacted>")
            .finish()
    }
}

impl SigningKey {
    /// A new key for `alg`, drawn from `rng`, with a `kid` derived from its public half: the
    /// RFC 7638 thumbprint for JWT public keys, the PASERK id (`k4.pid.…`, `k4.lid.…`) for PASETO
    /// keys, 16 random bytes for HS256 (whose thumbprint would be a hash of the secret).
    pub fn generate<R: RngCore + CryptoRng>(alg: Algorithm, rng: &mut R) -> Result<Self, KeyError> {
        let secret = match alg {
            Algorithm::EdDSA => Secret::Ed25519(ed25519_dalek::SigningKey::from_bytes(&random32(rng))),
            Algorithm::PasetoV4Public => paseto_secret(&random32(rng))?,
            Algorithm::HS256 => Secret::Hmac(Zeroizing::new(random32(rng).to_vec())),
            Algorithm::PasetoV4Local => Secret::PasetoLocal(
                SymmetricKey::<V4>::from(&*random32(rng)).map_err(|e| invalid(alg, format!("{e:?}")))?,
            ),
            Algorithm::ES256 => Secret::P256(p256::ecdsa::SigningKey::random(rng)),
            Algorithm::RS256 => {
                let key = rsa::RsaPrivateKey::new(rng, RSA_BITS)
                    .map_err(|e| KeyError::Generation(e.to_string()))?;
                Secret::Rsa(Box::new(rsa::pkcs1v15::SigningKey::new(key)))
            }
        };
        let mut key = SigningKey { kid: String::new(), secret };
        key.kid = match alg {
            Algorithm::HS256 => {
                let mut id = [0u8; 16];
                rng.fill_bytes(&mut id);
                b64(id)
            }
            _ => key.verifying_key().default_kid(),
        };
        Ok(key)
    }

    /// Rebuilds a key from the bytes [`SigningKey::to_secret_bytes`] gave (after the server
    /// decrypted them).
    pub fn from_secret_bytes(kid: &str, alg: Algorithm, bytes: &[u8]) -> Result<Self, KeyError> {
        check_kid(kid).map_err(KeyError::Kid)?;
        let secret = match alg {
            Algorithm::EdDSA => Secret::Ed25519(ed25519_dalek::SigningKey::from_bytes(&*seed(alg, bytes)?)),
            Algorithm::PasetoV4Public => paseto_secret(&*seed(alg, bytes)?)?,
            Algorithm::ES256 => Secret::P256(
                p256::ecdsa::SigningKey::from_slice(bytes)
                    .map_err(|_| invalid(alg, "expected a 32-byte P-256 scalar in [1, n)"))?,
            ),
            Algorithm::RS256 => {
                let key = rsa::RsaPrivateKey::from_pkcs8_der(bytes)
                    .map_err(|e| invalid(alg, format!("expected PKCS#8 DER: {e}")))?;
                key.validate().map_err(|e| invalid(alg, e.to_string()))?;
                check_rsa_size(alg, key.n().bits())?;
                Secret::Rsa(Box::new(rsa::pkcs1v15::SigningKey::new(key)))
            }
            Algorithm::HS256 => {
                if bytes.len() < SYMMETRIC_KEY_LEN {
                    return Err(invalid(
                        alg,
                        format!("{} bytes; HS256 keys must have at least {SYMMETRIC_KEY_LEN}", bytes.len()),
                    ));
                }
                Secret::Hmac(Zeroizing::new(bytes.to_vec()))
            }
            Algorithm::PasetoV4Local => Secret::PasetoLocal(
                SymmetricKey::<V4>::from(bytes)
                    .map_err(|_| invalid(alg, format!("{} bytes; v4.local keys have 32", bytes.len())))?,
            ),
        };
        Ok(SigningKey { kid: kid.to_string(), secret })
    }

    /// The private half, for encrypted storage: the 32-byte seed (EdDSA, v4.public), the 32-byte
    /// scalar (ES256), PKCS#8 DER (RS256), or the secret itself (HS256, v4.local).
    pub fn to_secret_bytes(&self) -> Zeroizing<Vec<u8>> {
        match &self.secret {
            Secret::Ed25519(k) => Zeroizing::new(k.to_bytes().to_vec()),
            Secret::P256(k) => {
                let mut fb = k.to_bytes();
                let out = Zeroizing::new(fb.to_vec());
                fb.as_mut_slice().zeroize();
                out
            }
            Secret::Rsa(k) => match rsa_private(k).to_pkcs8_der() {
                Ok(doc) => Zeroizing::new(doc.as_bytes().to_vec()),
                // Encoding a valid in-memory key cannot fail; an empty result fails loudly on import.
                Err(_) => Zeroizing::new(Vec::new()),
            },
            Secret::Hmac(k) => Zeroizing::new(k.to_vec()),
            Secret::PasetoPublic(k) => Zeroizing::new(k.as_bytes().get(..32).unwrap_or_default().to_vec()),
            Secret::PasetoLocal(k) => Zeroizing::new(k.as_bytes().to_vec()),
        }
    }

    /// Its key id.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// Replaces the key id (for servers that name keys their own way).
    pub fn with_kid(mut self, kid: &str) -> Result<Self, KeyError> {
        check_kid(kid).map_err(KeyError::Kid)?;
        self.kid = kid.to_string();
        Ok(self)
    }

    /// Its one algorithm.
    pub fn algorithm(&self) -> Algorithm {
        match &self.secret {
            Secret::Ed25519(_) => Algorithm::EdDSA,
            Secret::P256(_) => Algorithm::ES256,
            Secret::Rsa(_) => Algorithm::RS256,
            Secret::Hmac(_) => Algorithm::HS256,
            Secret::PasetoPublic(_) => Algorithm::PasetoV4Public,
            Secret::PasetoLocal(_) => Algorithm::PasetoV4Local,
        }
    }

    /// The half that verifies. For HS256 and v4.local it holds the secret: never publish it.
    pub fn verifying_key(&self) -> VerifyingKey {
        let public = match &self.secret {
            Secret::Ed25519(k) => Material::Ed25519(k.verifying_key()),
            Secret::P256(k) => Material::P256(*k.verifying_key()),
            Secret::Rsa(k) => {
                Material::Rsa(Box::new(rsa::pkcs1v15::VerifyingKey::new(rsa_private(k).to_public_key())))
            }
            Secret::Hmac(k) => Material::Hmac(k.clone()),
            Secret::PasetoPublic(k) => match AsymmetricPublicKey::<V4>::try_from(k) {
                Ok(pk) => Material::PasetoPublic(pk),
                // The secret key was validated against its public half when it was built.
                Err(_) => Material::Broken,
            },
            Secret::PasetoLocal(k) => Material::PasetoLocal(k.clone()),
        };
        VerifyingKey { kid: self.kid.clone(), public }
    }

    /// Signs `msg` with a JWS algorithm (the JWS signing input, RFC 7515 §5.1).
    pub(crate) fn sign_jws_input(&self, msg: &[u8]) -> Result<Vec<u8>, SignError> {
        match &self.secret {
            Secret::Ed25519(k) => Ok(k.sign(msg).to_bytes().to_vec()),
            Secret::P256(k) => {
                let sig: p256::ecdsa::Signature = p256::ecdsa::signature::Signer::sign(k, msg);
                Ok(sig.to_bytes().to_vec())
            }
            // Blinded with OS randomness: the output is deterministic, the timing is not.
            Secret::Rsa(k) => k
                .try_sign_with_rng(&mut rand::rngs::OsRng, msg)
                .map(|s| s.to_vec())
                .map_err(|e| SignError::Crypto(e.to_string())),
            Secret::Hmac(k) => {
                let mut mac =
                    <Hmac<Sha256> as Mac>::new_from_slice(k).map_err(|e| SignError::Crypto(e.to_string()))?;
                mac.update(msg);
                Ok(mac.finalize().into_bytes().to_vec())
            }
            Secret::PasetoPublic(_) | Secret::PasetoLocal(_) => Err(self.wrong_format("JWT")),
        }
    }

    pub(crate) fn paseto_public(&self) -> Option<&AsymmetricSecretKey<V4>> {
        match &self.secret {
            Secret::PasetoPublic(k) => Some(k),
            _ => None,
        }
    }

    pub(crate) fn paseto_local(&self) -> Option<&SymmetricKey<V4>> {
        match &self.secret {
            Secret::PasetoLocal(k) => Some(k),
            _ => None,
        }
    }

    pub(crate) fn wrong_format(&self, format: &'static str) -> SignError {
        SignError::WrongFormat { kid: self.kid.clone(), alg: self.algorithm(), format }
    }
}

/// 32 random bytes, never all zero: ed25519-compact refuses (panics on) the all-zero seed. Drawing
/// it from a CSPRNG means the RNG is broken, but retrying costs nothing.
fn random32<R: RngCore + CryptoRng>(rng: &mut R) -> Zeroizing<[u8; 32]> {
    let mut b = Zeroizing::new([0u8; 32]);
    while b.iter().all(|&x| x == 0) {
        rng.fill_bytes(&mut *b);
    }
    b
}

fn rsa_private(k: &rsa::pkcs1v15::SigningKey<Sha256>) -> &rsa::RsaPrivateKey {
    k.as_ref()
}

pub(crate) fn rsa_public(k: &rsa::pkcs1v15::VerifyingKey<Sha256>) -> &rsa::RsaPublicKey {
    k.as_ref()
}

fn seed(alg: Algorithm, bytes: &[u8]) -> Result<Zeroizing<[u8; 32]>, KeyError> {
    let mut seed = Zeroizing::new([0u8; 32]);
    if bytes.len() != seed.len() {
        return Err(invalid(alg, format!("{} bytes; an Ed25519 seed has 32", bytes.len())));
    }
    seed.copy_from_slice(bytes);
    if seed.iter().all(|&b| b == 0) {
        return Err(invalid(alg, "the all-zero seed is refused"));
    }
    Ok(seed)
}

/// A v4.public secret key from a seed: pasetors wants `seed ‖ public key`.
fn paseto_secret(seed: &[u8; 32]) -> Result<Secret, KeyError> {
    let alg = Algorithm::PasetoV4Public;
    if seed.iter().all(|&b| b == 0) {
        // ed25519-compact panics on it.
        return Err(invalid(alg, "the all-zero seed is refused"));
    }
    let dalek = ed25519_dalek::SigningKey::from_bytes(seed);
    let mut both = Zeroizing::new([0u8; 64]);
    let (s, p) = both.split_at_mut(32);
    s.copy_from_slice(seed);
    p.copy_from_slice(dalek.verifying_key().as_bytes());
    AsymmetricSecretKey::<V4>::from(&*both)
        .map(Secret::PasetoPublic)
        .map_err(|e| invalid(alg, format!("{e:?}")))
}

pub(crate) fn check_rsa_size(alg: Algorithm, bits: usize) -> Result<(), KeyError> {
    if (RSA_MIN_BITS..=RSA_MAX_BITS).contains(&bits) {
        Ok(())
    } else {
        Err(invalid(alg, format!("a {bits}-bit modulus; Ward accepts {RSA_MIN_BITS} to {RSA_MAX_BITS} bits")))
    }
}

/// The half of a key that verifies, bound to one algorithm and one `kid`. Cheap to clone.
///
/// For HS256 and v4.local it holds the secret itself and is never published:
/// [`VerifyingKey::to_jwk`] and [`VerifyingKey::to_paserk`] give `None` for them.
#[derive(Clone)]
pub struct VerifyingKey {
    pub(crate) kid: String,
    pub(crate) public: Material,
}

#[derive(Clone)]
pub(crate) enum Material {
    Ed25519(ed25519_dalek::VerifyingKey),
    P256(p256::ecdsa::VerifyingKey),
    Rsa(Box<rsa::pkcs1v15::VerifyingKey<Sha256>>),
    Hmac(Zeroizing<Vec<u8>>),
    PasetoPublic(AsymmetricPublicKey<V4>),
    PasetoLocal(SymmetricKey<V4>),
    /// A v4.public key whose public half could not be derived (unreachable); verifies nothing.
    Broken,
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("VerifyingKey");
        d.field("kid", &self.kid).field("alg", &self.algorithm());
        if self.algorithm().is_symmetric() {
            d.field("secret", &"<redacted>");
        }
        d.finish()
    }
}

impl VerifyingKey {
    /// Its key id.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// Replaces the key id.
    pub fn with_kid(mut self, kid: &str) -> Result<Self, KeyError> {
        check_kid(kid).map_err(KeyError::Kid)?;
        self.kid = kid.to_string();
        Ok(self)
    }

    /// Its one algorithm.
    pub fn algorithm(&self) -> Algorithm {
        match &self.public {
            Material::Ed25519(_) => Algorithm::EdDSA,
            Material::P256(_) => Algorithm::ES256,
            Material::Rsa(_) => Algorithm::RS256,
            Material::Hmac(_) => Algorithm::HS256,
            Material::PasetoPublic(_) | Material::Broken => Algorithm::PasetoV4Public,
            Material::PasetoLocal(_) => Algorithm::PasetoV4Local,
        }
    }

    /// Whether this key may be published (it is not a symmetric secret).
    pub fn is_public(&self) -> bool {
        !self.algorithm().is_symmetric()
    }

    /// Checks a JWS signature over `msg` (the signing input) with this key's one algorithm:
    /// `verify_strict` for Ed25519, fixed-width `r ‖ s` for ES256, PKCS#1 v1.5 with SHA-256 for
    /// RS256, a constant-time tag comparison for HS256. PASETO keys verify no JWS.
    pub fn verify_signature(&self, msg: &[u8], sig: &[u8]) -> bool {
        match &self.public {
            Material::Ed25519(k) => {
                ed25519_dalek::Signature::from_slice(sig).is_ok_and(|s| k.verify_strict(msg, &s).is_ok())
            }
            Material::P256(k) => {
                p256::ecdsa::Signature::from_slice(sig).is_ok_and(|s| k.verify(msg, &s).is_ok())
            }
            Material::Rsa(k) => {
                rsa::pkcs1v15::Signature::try_from(sig).is_ok_and(|s| k.verify(msg, &s).is_ok())
            }
            Material::Hmac(k) => <Hmac<Sha256> as Mac>::new_from_slice(k).is_ok_and(|mut mac| {
                mac.update(msg);
                // `verify_slice` compares in constant time and refuses truncated tags.
                mac.verify_slice(sig).is_ok()
            }),
            Material::PasetoPublic(_) | Material::PasetoLocal(_) | Material::Broken => false,
        }
    }

    /// The length of this key's JWS signatures, to tell a truncated signature from a wrong one.
    pub(crate) fn signature_len(&self) -> Option<usize> {
        match &self.public {
            Material::Ed25519(_) | Material::P256(_) => Some(64),
            Material::Rsa(k) => Some(rsa_public(k).size()),
            Material::Hmac(_) => Some(32),
            Material::PasetoPublic(_) | Material::PasetoLocal(_) | Material::Broken => None,
        }
    }

    /// The PASERK form of a v4.public key (`k4.public.…`); `None` for every other algorithm (JWT
    /// keys publish as JWK, symmetric keys never leave Ward).
    pub fn to_paserk(&self) -> Option<String> {
        match &self.public {
            Material::PasetoPublic(k) => {
                let mut s = String::new();
                k.fmt(&mut s).ok()?;
                Some(s)
            }
            _ => None,
        }
    }

    /// Reads a `k4.public.…` PASERK. The `kid` is its PASERK id (`k4.pid.…`).
    pub fn from_paserk(paserk: &str) -> Result<Self, KeyError> {
        let k = AsymmetricPublicKey::<V4>::try_from(paserk)
            .map_err(|_| invalid(Algorithm::PasetoV4Public, "expected a `k4.public.` PASERK"))?;
        let mut key = VerifyingKey { kid: String::new(), public: Material::PasetoPublic(k) };
        key.kid = key.default_kid();
        Ok(key)
    }

    /// A v4.public key from its 32 raw bytes, and a v4.local one from its secret (for tools).
    pub fn from_paseto_bytes(kid: &str, alg: Algorithm, bytes: &[u8]) -> Result<Self, KeyError> {
        check_kid(kid).map_err(KeyError::Kid)?;
        let public = match alg {
            Algorithm::PasetoV4Public => Material::PasetoPublic(
                AsymmetricPublicKey::<V4>::from(bytes).map_err(|_| invalid(alg, "expected 32 bytes"))?,
            ),
            Algorithm::PasetoV4Local => Material::PasetoLocal(
                SymmetricKey::<V4>::from(bytes).map_err(|_| invalid(alg, "expected 32 bytes"))?,
            ),
            _ => return Err(invalid(alg, "not a PASETO algorithm")),
        };
        Ok(VerifyingKey { kid: kid.to_string(), public })
    }

    /// The PASERK id of a PASETO key: `k4.pid.…` for v4.public, `k4.lid.…` for v4.local (a
    /// one-way hash: it does not reveal the key). `None` for JWT keys.
    pub fn paserk_id(&self) -> Option<String> {
        let id = match &self.public {
            Material::PasetoPublic(k) => Id::from(k),
            Material::PasetoLocal(k) => Id::from(k),
            _ => return None,
        };
        let mut s = String::new();
        id.fmt(&mut s).ok()?;
        Some(s)
    }

    /// The `kid` a generated key gets: the PASERK id, or the RFC 7638 thumbprint.
    fn default_kid(&self) -> String {
        self.paserk_id().or_else(|| self.thumbprint()).unwrap_or_default()
    }

    pub(crate) fn paseto_public(&self) -> Option<&AsymmetricPublicKey<V4>> {
        match &self.public {
            Material::PasetoPublic(k) => Some(k),
            _ => None,
        }
    }

    pub(crate) fn paseto_local(&self) -> Option<&SymmetricKey<V4>> {
        match &self.public {
            Material::PasetoLocal(k) => Some(k),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::OsRng;

    #[test]
    fn secret_bytes_round_trip_for_every_fast_algorithm() {
        for alg in [
            Algorithm::EdDSA,
            Algorithm::ES256,
            Algorithm::HS256,
            Algorithm::PasetoV4Public,
            Algorithm::PasetoV4Local,
        ] {
            let k = SigningKey::generate(alg, &mut OsRng).unwrap();
            assert_eq!(k.algorithm(), alg);
            let bytes = k.to_secret_bytes();
            assert_eq!(bytes.len(), 32, "{alg}");
            let again = SigningKey::from_secret_bytes(k.kid(), alg, &bytes).unwrap();
            assert_eq!(*again.to_secret_bytes(), *bytes);
            assert_eq!(again.verifying_key().kid(), k.kid());
        }
    }

    #[test]
    fn generated_kids_follow_the_algorithm() {
        let pid = SigningKey::generate(Algorithm::PasetoV4Public, &mut OsRng).unwrap();
        assert!(pid.kid().starts_with("k4.pid."), "{}", pid.kid());
        let lid = SigningKey::generate(Algorithm::PasetoV4Local, &mut OsRng).unwrap();
        assert!(lid.kid().starts_with("k4.lid."), "{}", lid.kid());
        let ed = SigningKey::generate(Algorithm::EdDSA, &mut OsRng).unwrap();
        assert_eq!(Some(ed.kid().to_string()), ed.verifying_key().thumbprint());
        let hs = SigningKey::generate(Algorithm::HS256, &mut OsRng).unwrap();
        assert_eq!(hs.kid().len(), 22);
    }

    #[test]
    fn bad_material_is_refused_not_panicked_on() {
        let cases: [(Algorithm, &[u8]); 9] = [
            (Algorithm::EdDSA, &[1; 31]),
            (Algorithm::EdDSA, &[0; 32]),
            (Algorithm::PasetoV4Public, &[0; 32]),
            (Algorithm::ES256, &[0; 32]),
            (Algorithm::ES256, &[0xff; 32]),
            (Algorithm::RS256, b"not der"),
            (Algorithm::HS256, &[7; 31]),
            (Algorithm::PasetoV4Local, &[7; 33]),
            (Algorithm::PasetoV4Local, &[]),
        ];
        for (alg, bytes) in cases {
            assert!(SigningKey::from_secret_bytes("k", alg, bytes).is_err(), "{alg} {bytes:?}");
        }
        for kid in ["", "a\nb", &"x".repeat(MAX_KID_LEN + 1)] {
            assert!(matches!(
                SigningKey::from_secret_bytes(kid, Algorithm::HS256, &[7; 32]),
                Err(KeyError::Kid(_))
            ));
        }
        assert!(SigningKey::from_secret_bytes("' OR 1=1 --", Algorithm::HS256, &[7; 64]).is_ok());
    }

    #[test]
    fn debug_never_shows_secrets() {
        let k = SigningKey::from_secret_bytes("k1", Algorithm::HS256, &[0xab; 32]).unwrap();
        let shown = format!("{k:?} {:?}", k.verifying_key());
        assert!(shown.contains("k1") && shown.contains("<redacted>"), "{shown}");
        assert!(!shown.contains("171") && !shown.to_lowercase().contains("abab"), "{shown}");
    }

    #[test]
    fn paseto_keys_verify_no_jws() {
        let k = SigningKey::generate(Algorithm::PasetoV4Public, &mut OsRng).unwrap();
        assert!(k.sign_jws_input(b"x").is_err());
        assert!(!k.verifying_key().verify_signature(b"x", &[0; 64]));
    }
}
