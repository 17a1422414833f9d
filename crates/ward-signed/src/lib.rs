//! Ward's signed access tokens: JWTs (RFC 9068, `typ: at+jwt`) and PASETO v4, the keys that sign
//! them, and verification that explains every refusal with a [`ward_core::Verdict`]. No I/O, no
//! async runtime; the only contact with the OS is its CSPRNG, for v4.local nonces and RSA blinding.
//!
//! ```
//! use ward_core::Reason;
//! use ward_signed::{peek, sign_jwt, verify, AccessClaims, Algorithm, Expect, SigningKey};
//!
//! let key = SigningKey::generate(Algorithm::EdDSA, &mut rand::rngs::OsRng).unwrap();
//! let now = 1_700_000_000;
//! let claims = AccessClaims {
//!     iss: "https://ward.example".into(),
//!     sub: "user_1".into(),
//!     aud: vec!["api".into()],
//!     exp: now + 300,
//!     iat: now,
//!     jti: "at_1".into(),
//!     ..AccessClaims::default()
//! };
//! let token = sign_jwt(&key, "at+jwt", &claims).unwrap();
//!
//! // The server finds the key by the token's `kid`, then verifies with that key alone.
//! assert_eq!(peek(&token).unwrap().kid.as_deref(), Some(key.kid()));
//! let expect = Expect::access_token("https://ward.example", Some("api".into()));
//! assert_eq!(verify(&token, &key.verifying_key(), &expect, now).unwrap(), claims);
//!
//! // Ten minutes later, with the default 60-second leeway:
//! let late = verify(&token, &key.verifying_key(), &expect, now + 600).unwrap_err();
//! assert_eq!(late.reason, Reason::Expired);
//! ```
//!
//! The rules (RFC 8725): each key is bound to one [`Algorithm`] and a token naming another is
//! refused (`alg: none` in any case, HS256 shown for a public key); no key is ever taken from the
//! token (`jku`, `jwk`, `x5u`, `x5c` are refused, as is any `crit`); parsing is strict (three
//! base64url parts without padding, JSON objects without repeated members, claims of the right
//! JSON type or `malformed`).
//!
//! DPoP proofs (RFC 9449) are the one place a key comes from the token: [`verify_proof`] checks a
//! proof against its own header `jwk` and the request, and gives the key's RFC 7638 thumbprint for
//! the `cnf.jkt` binding.

mod algorithm;
mod claims;
mod dpop;
mod expect;
mod json;
mod jwk;
mod jwt;
mod key;
mod paseto;
mod verify;

pub use algorithm::{Algorithm, UnknownAlgorithm};
pub use claims::AccessClaims;
pub use dpop::{
    access_token_hash, jwk_thumbprint, verify_proof, DpopProof, ProofRequest, ProofWindow,
    DEFAULT_PROOF_WINDOW, DPOP_TYP, MAX_JTI_LEN, MAX_PROOF_LEN, PROOF_ALGORITHMS,
};
pub use expect::{Expect, ACCESS_TOKEN_TYP, DEFAULT_LEEWAY, SKEW_WINDOW};
pub use jwt::sign_jwt;
pub use key::{
    KeyError, SignError, SigningKey, VerifyingKey, MAX_KID_LEN, RSA_BITS, RSA_MAX_BITS, RSA_MIN_BITS,
    SYMMETRIC_KEY_LEN,
};
pub use paseto::{sign_paseto, Purpose};
pub use verify::{detect, parse, peek, verify, Format, Parsed, Peeked, MAX_TOKEN_LEN};

/// Lower-level operations without claim semantics: for test vectors, tools, and tests that must
/// build tokens Ward would never issue. Ward's own tokens go through [`sign_jwt`],
/// [`sign_paseto`] and [`verify`].
pub mod raw {
    pub use crate::jwt::{sign_jws, verify_jws_signature};
    pub use crate::paseto::{open_paseto, seal_paseto};
}
