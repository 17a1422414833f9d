//! Secrets at rest: the master key, the pepper derived from it, and keyed hashes of token secrets.
//!
//! Ward never stores a token secret. It stores `HMAC-SHA256(pepper, prefix ‖ id ‖ secret)` and
//! compares in constant time. The pepper is derived from the master key with HKDF, so a stolen
//! database alone does not allow checking guesses offline.

use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use rand::{CryptoRng, RngCore};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// Length of the master key in bytes.
pub const MASTER_KEY_LEN: usize = 32;
const MASTER_KEY_TAG: &str = "ward-master-key:v1:";

/// The deployment's root secret, from which every other server-side key is derived.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct MasterKey([u8; MASTER_KEY_LEN]);

/// Why a master key file could not be read.
#[derive(Debug, PartialEq, Eq)]
pub struct BadMasterKey(pub &'static str);

impl std::fmt::Display for BadMasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for BadMasterKey {}

impl MasterKey {
    /// A new random master key.
    pub fn generate<R: RngCore + CryptoRng>(rng: &mut R) -> Self {
        let mut k = [0u8; MASTER_KEY_LEN];
        rng.fill_bytes(&mut k);
        MasterKey(k)
    }

    /// The file form: one line, `ward-master-key:v1:<hex>`.
    pub fn to_file_contents(&self) -> zeroize::Zeroizing<String> {
        let mut s = String::with_capacity(MASTER_KEY_TAG.len() + 2 * MASTER_KEY_LEN + 1);
        s.push_str(MASTER_KEY_TAG);
        for b in self.0 {
            s.push_str(&format!("{b:02x}"));
        }
        s.push('\n');
        zeroize::Zeroizing::new(s)
    }

    /// Reads the file form.
    pub fn from_file_contents(s: &str) -> Result<Self, BadMasterKey> {
        let hex = s
            .trim_end()
            .strip_prefix(MASTER_KEY_TAG)
            .ok_or(BadMasterKey("not a Ward master key file (expected `ward-master-key:v1:`)"))?;
        if hex.len() != 2 * MASTER_KEY_LEN {
            return Err(BadMasterKey("master key has the wrong length"));
        }
        let mut k = [0u8; MASTER_KEY_LEN];
        for (i, slot) in k.iter_mut().enumerate() {
            let pair = hex.get(2 * i..2 * i + 2).ok_or(BadMasterKey("master key is not hex"))?;
            *slot = u8::from_str_radix(pair, 16).map_err(|_| BadMasterKey("master key is not hex"))?;
        }
        Ok(MasterKey(k))
    }

    /// Derives a purpose-bound 32-byte subkey (HKDF-SHA256, the purpose as `info`).
    fn derive(&self, purpose: &str) -> [u8; 32] {
        let hk = Hkdf::<Sha256>::new(None, &self.0);
        let mut out = [0u8; 32];
        // 32 bytes is far below HKDF-SHA256's 8160-byte limit, so expand cannot fail.
        if hk.expand(purpose.as_bytes(), &mut out).is_err() {
            out = [0u8; 32];
        }
        out
    }

    /// A value that proves which master key a node holds, stored with the deployment: a node
    /// whose key gives another value refuses to start. One-way, so it reveals nothing of the key.
    pub fn deployment_check(&self) -> [u8; 32] {
        self.derive("ward/v1/deployment-check")
    }

    /// The key that authenticates the nonces Ward hands out (server nonces, DPoP nonces), so
    /// they need no storage until they are spent.
    pub fn nonce_hasher(&self) -> SecretHasher {
        SecretHasher::with_pepper(self.derive("ward/v1/nonce-mac"))
    }

    /// The keyed hasher for token secrets.
    pub fn token_hasher(&self) -> SecretHasher {
        SecretHasher::with_pepper(self.derive("ward/v1/token-pepper"))
    }
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(<redacted>)")
    }
}

/// A keyed hash of a token secret: what the store keeps instead of the secret.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SecretHash(pub [u8; 32]);

impl std::fmt::Debug for SecretHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretHash(..)")
    }
}

impl SecretHash {
    /// Reads a hash from stored bytes.
    pub fn from_slice(b: &[u8]) -> Option<Self> {
        <[u8; 32]>::try_from(b).ok().map(SecretHash)
    }
}

/// Computes and checks keyed hashes of token secrets.
///
/// It keeps the HMAC state already keyed with the pepper (the hashed inner and outer pads), so a
/// hash costs two SHA-256 compressions fewer than keying anew: this is on every verify. That
/// state is derived from the pepper but is not the pepper; the pepper itself is zeroized.
#[derive(Clone)]
pub struct SecretHasher {
    keyed: Option<Hmac<Sha256>>,
}

impl SecretHasher {
    /// A hasher with an explicit pepper (tests and benches; servers derive it from the master key).
    pub fn with_pepper(pepper: [u8; 32]) -> Self {
        let mut pepper = pepper;
        // HMAC accepts keys of any length, so keying cannot fail for a 32-byte key.
        let keyed = <Hmac<Sha256> as Mac>::new_from_slice(&pepper).ok();
        pepper.zeroize();
        SecretHasher { keyed }
    }

    /// `HMAC-SHA256(pepper, material)`.
    pub fn hash(&self, material: &str) -> SecretHash {
        let Some(mut mac) = self.keyed.clone() else {
            return SecretHash([0u8; 32]);
        };
        mac.update(material.as_bytes());
        SecretHash(mac.finalize().into_bytes().into())
    }

    /// Whether `material` hashes to `expected`, compared in constant time.
    pub fn matches(&self, material: &str, expected: &SecretHash) -> bool {
        self.hash(material).0.ct_eq(&expected.0).into()
    }
}

impl std::fmt::Debug for SecretHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretHasher(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::OsRng;

    #[test]
    fn master_key_file_round_trips() {
        let k = MasterKey::generate(&mut OsRng);
        let again = MasterKey::from_file_contents(&k.to_file_contents()).expect("reads");
        assert_eq!(k.0, again.0);
        assert!(MasterKey::from_file_contents("nonsense").is_err());
        assert!(MasterKey::from_file_contents("ward-master-key:v1:zz").is_err());
    }

    #[test]
    fn hashes_depend_on_the_pepper_and_match_only_the_material() {
        let a = MasterKey::generate(&mut OsRng).token_hasher();
        let b = MasterKey::generate(&mut OsRng).token_hasher();
        let h = a.hash("ward_live_ak_x");
        assert!(a.matches("ward_live_ak_x", &h));
        assert!(!a.matches("ward_live_ak_y", &h));
        assert!(!b.matches("ward_live_ak_x", &h));
    }

    #[test]
    fn hmac_matches_rfc_4231_case_2() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        let mut key = [0u8; 32];
        key[..4].copy_from_slice(b"Jefe");
        // HMAC pads short keys with zeros, so a zero-padded 32-byte key is the same key.
        let h = SecretHasher::with_pepper(key).hash("what do ya want for nothing?");
        let hex: String = h.0.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    }
}

/// Seals and opens secrets at rest (signing keys' private halves, retry answers) with AES-256-GCM.
/// Each sealed value is bound to a context string (its key id, say) as associated data, so a
/// ciphertext moved to another record does not open.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Sealer {
    key: [u8; 32],
}

/// Length of an AES-GCM nonce.
pub const NONCE_LEN: usize = 12;

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(<redacted>)")
    }
}

impl Sealer {
    /// A sealer under an explicit 32-byte key.
    pub fn with_key(key: [u8; 32]) -> Self {
        Sealer { key }
    }

    /// A sealer whose key is derived (HKDF-SHA256) from `material`, e.g. a token the client will
    /// present again: only its holder can open what is sealed.
    pub fn derived_from(material: &str, purpose: &str) -> Self {
        let hk = Hkdf::<Sha256>::new(None, material.as_bytes());
        let mut key = [0u8; 32];
        if hk.expand(purpose.as_bytes(), &mut key).is_err() {
            key = [0u8; 32];
        }
        Sealer { key }
    }

    /// Encrypts `plaintext` bound to `context`, with a fresh random nonce from `rng`.
    /// Returns `(nonce, ciphertext)`.
    pub fn seal<R: RngCore + CryptoRng>(
        &self,
        rng: &mut R,
        context: &str,
        plaintext: &[u8],
    ) -> Option<(Vec<u8>, Vec<u8>)> {
        use aes_gcm::aead::{Aead, KeyInit, Payload};
        let cipher = aes_gcm::Aes256Gcm::new_from_slice(&self.key).ok()?;
        let mut nonce = [0u8; NONCE_LEN];
        rng.fill_bytes(&mut nonce);
        let ct = cipher
            .encrypt(aes_gcm::Nonce::from_slice(&nonce), Payload { msg: plaintext, aad: context.as_bytes() })
            .ok()?;
        Some((nonce.to_vec(), ct))
    }

    /// Decrypts what [`Sealer::seal`] produced for the same `context`; `None` if it was altered,
    /// moved, or sealed under another key.
    pub fn open(
        &self,
        context: &str,
        nonce: &[u8],
        ciphertext: &[u8],
    ) -> Option<zeroize::Zeroizing<Vec<u8>>> {
        use aes_gcm::aead::{Aead, KeyInit, Payload};
        if nonce.len() != NONCE_LEN {
            return None;
        }
        let cipher = aes_gcm::Aes256Gcm::new_from_slice(&self.key).ok()?;
        cipher
            .decrypt(aes_gcm::Nonce::from_slice(nonce), Payload { msg: ciphertext, aad: context.as_bytes() })
            .ok()
            .map(zeroize::Zeroizing::new)
    }
}

impl MasterKey {
    /// The sealer for private keys at rest.
    pub fn key_sealer(&self) -> Sealer {
        Sealer { key: self.derive("ward/v1/key-wrap") }
    }
}

#[cfg(test)]
mod sealer_tests {
    use super::*;
    use rand::rngs::OsRng;

    #[test]
    fn sealed_values_open_only_in_their_context_and_under_their_key() {
        let s = MasterKey::generate(&mut OsRng).key_sealer();
        let (nonce, ct) = s.seal(&mut OsRng, "kid-1", b"private").expect("seals");
        assert_eq!(s.open("kid-1", &nonce, &ct).as_deref().map(Vec::as_slice), Some(&b"private"[..]));
        assert!(s.open("kid-2", &nonce, &ct).is_none(), "moved to another record");
        let other = MasterKey::generate(&mut OsRng).key_sealer();
        assert!(other.open("kid-1", &nonce, &ct).is_none(), "another master key");
        let mut bad = ct.clone();
        bad[0] ^= 1;
        assert!(s.open("kid-1", &nonce, &bad).is_none(), "altered");
    }

    #[test]
    fn derived_sealers_need_the_same_material() {
        let a = Sealer::derived_from("ward_live_rt_x", "retry");
        let (n, ct) = a.seal(&mut OsRng, "ctx", b"pair").expect("seals");
        assert!(Sealer::derived_from("ward_live_rt_x", "retry").open("ctx", &n, &ct).is_some());
        assert!(Sealer::derived_from("ward_live_rt_y", "retry").open("ctx", &n, &ct).is_none());
    }
}
