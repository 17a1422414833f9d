//! The algorithms a Ward signing key can be bound to: one per key, never negotiated by the token.

use std::fmt;
use std::str::FromStr;

/// A signing algorithm. Each key has exactly one; a token naming any other is refused
/// (`unsupported_algorithm`, RFC 8725 §3.1).
///
/// The JOSE names are the registered `alg` values (RFC 7518, RFC 8037); the PASETO ones are the
/// token headers without the trailing dot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
// The variant names are the registered JOSE identifiers, spelled as the registry spells them.
#[allow(clippy::upper_case_acronyms)]
pub enum Algorithm {
    /// JWS with Ed25519 (RFC 8037).
    EdDSA,
    /// JWS with ECDSA on P-256 and SHA-256, signature as fixed-width `r ‖ s` (RFC 7518 §3.4).
    ES256,
    /// JWS with RSASSA-PKCS1-v1_5 and SHA-256, keys of 2048 to 4096 bits (RFC 7518 §3.3).
    RS256,
    /// JWS with HMAC-SHA256. Symmetric: the key is never published.
    HS256,
    /// PASETO v4.public: Ed25519 over the PASETO pre-authentication encoding.
    PasetoV4Public,
    /// PASETO v4.local: XChaCha20 with a BLAKE2b-MAC. Symmetric: the key is never published.
    PasetoV4Local,
}

impl Algorithm {
    /// Every algorithm.
    pub const ALL: &'static [Algorithm] = &[
        Algorithm::EdDSA,
        Algorithm::ES256,
        Algorithm::RS256,
        Algorithm::HS256,
        Algorithm::PasetoV4Public,
        Algorithm::PasetoV4Local,
    ];

    /// The stable name: the JOSE `alg` value, or `v4.public` / `v4.local`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Algorithm::EdDSA => "EdDSA",
            Algorithm::ES256 => "ES256",
            Algorithm::RS256 => "RS256",
            Algorithm::HS256 => "HS256",
            Algorithm::PasetoV4Public => "v4.public",
            Algorithm::PasetoV4Local => "v4.local",
        }
    }

    /// Whether verifying needs the secret itself (HMAC, v4.local): such keys are never published.
    pub const fn is_symmetric(self) -> bool {
        matches!(self, Algorithm::HS256 | Algorithm::PasetoV4Local)
    }

    /// Whether tokens of this algorithm are JWTs (as opposed to PASETO tokens).
    pub const fn is_jwt(self) -> bool {
        !self.is_paseto()
    }

    /// Whether tokens of this algorithm are PASETO tokens.
    pub const fn is_paseto(self) -> bool {
        matches!(self, Algorithm::PasetoV4Public | Algorithm::PasetoV4Local)
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not one of Ward's algorithms (names are case-sensitive, as in RFC 7515).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an algorithm Ward signs with (EdDSA, ES256, RS256, HS256, v4.public, v4.local)")]
pub struct UnknownAlgorithm(pub String);

impl FromStr for Algorithm {
    type Err = UnknownAlgorithm;

    /// Parses the exact, case-sensitive name: `EdDSA` is an algorithm, `eddsa` is not.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Algorithm::ALL
            .iter()
            .copied()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| UnknownAlgorithm(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The names are stored in the key ring and published in JWKS: they never change.
    #[test]
    fn names_are_pinned_and_round_trip() {
        let names: Vec<&str> = Algorithm::ALL.iter().map(|a| a.as_str()).collect();
        assert_eq!(names, ["EdDSA", "ES256", "RS256", "HS256", "v4.public", "v4.local"]);
        for a in Algorithm::ALL {
            assert_eq!(a.as_str().parse::<Algorithm>(), Ok(*a));
        }
    }

    #[test]
    fn parsing_is_exact() {
        for s in ["eddsa", "EDDSA", "es256", "none", "None", "", " EdDSA", "v4.Public", "v2.public", "PS256"]
        {
            assert!(s.parse::<Algorithm>().is_err(), "{s:?} must not parse");
        }
    }

    #[test]
    fn only_hmac_and_local_are_symmetric() {
        let symmetric: Vec<Algorithm> = Algorithm::ALL.iter().copied().filter(|a| a.is_symmetric()).collect();
        assert_eq!(symmetric, [Algorithm::HS256, Algorithm::PasetoV4Local]);
        assert!(Algorithm::EdDSA.is_jwt() && !Algorithm::EdDSA.is_paseto());
        assert!(Algorithm::PasetoV4Local.is_paseto() && !Algorithm::PasetoV4Local.is_jwt());
    }
}
