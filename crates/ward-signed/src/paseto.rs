//! PASETO v4 tokens through `pasetors`: `v4.public` (Ed25519) and `v4.local` (XChaCha20 +
//! BLAKE2b-MAC). Only version 4 is accepted, and only the purpose of the key presented.
//!
//! Ward's footer is `{"kid":"…"}`: authenticated with the token, readable before verifying so the
//! server can find the key. PASETO has no `typ`: a Ward PASETO key signs access tokens only
//! (one purpose per key, see `ward_core::keyring`), so the key itself types the token.

use pasetors::errors::Error as PasetoError;
use pasetors::token::UntrustedToken;
use pasetors::version4::{LocalToken, PublicToken, V4};
use pasetors::{Local, Public};
use serde_json::{Map, Value};
use ward_core::{Reason, Verdict};

use crate::algorithm::Algorithm;
use crate::claims::{AccessClaims, Dates};
use crate::json;
use crate::key::{check_kid, SignError, SigningKey, VerifyingKey};

/// The purpose of a PASETO token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Purpose {
    /// Encrypted and authenticated with a shared key.
    Local,
    /// Signed with a public-key signature.
    Public,
}

impl Purpose {
    /// `local` or `public`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Purpose::Local => "local",
            Purpose::Public => "public",
        }
    }
}

/// Ward's bound on a PASETO footer; real footers are a few dozen bytes.
const MAX_FOOTER_LEN: usize = 1024;
/// A v4 body's fixed overhead: the signature (public) or nonce and tag (local).
const V4_OVERHEAD: usize = 64;

/// A v4 PASETO token whose header, body encoding and footer were checked; nothing verified.
pub(crate) struct Paseto<'a> {
    pub purpose: Purpose,
    pub kid: Option<String>,
    token: &'a str,
}

/// Reads `vN.purpose.` from the front of a token: `None` if it is not PASETO-shaped at all.
pub(crate) fn header(token: &str) -> Option<(u8, Purpose)> {
    let mut parts = token.splitn(3, '.');
    let version = parts.next()?.strip_prefix('v')?;
    if version.is_empty() || version.len() > 3 || !version.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let purpose = match parts.next()? {
        "local" => Purpose::Local,
        "public" => Purpose::Public,
        _ => return None,
    };
    parts.next()?;
    Some((version.parse().ok()?, purpose))
}

/// Checks a PASETO token's shape: version 4 (else `unsupported_algorithm`), base64url without
/// padding, a body long enough, a footer that, if it is JSON, is a strict object with a string
/// `kid`.
pub(crate) fn parse(token: &str) -> Result<Paseto<'_>, Verdict> {
    let Some((version, purpose)) = header(token) else {
        return Err(Verdict::with(Reason::Malformed, "not a PASETO token (`v4.public.…` or `v4.local.…`)"));
    };
    if version != 4 {
        return Err(Verdict::with(
            Reason::UnsupportedAlgorithm,
            format!(
                "a PASETO v{version}.{} token: Ward issues and accepts only version 4 (`v4.public`, `v4.local`)",
                purpose.as_str()
            ),
        ));
    }
    let parts: Vec<&str> = token.split('.').collect();
    let (body, footer) = match parts.as_slice() {
        [_, _, body] => (*body, None),
        [_, _, body, footer] => (*body, Some(*footer)),
        _ => {
            return Err(Verdict::with(
                Reason::Malformed,
                format!("a PASETO token has three or four parts separated by dots; this has {}", parts.len()),
            ))
        }
    };
    let body = match json::unb64(body) {
        Some(b) => b,
        // Only the last character's spare bits are off: the body was altered or cut short.
        None if json::only_trailing_bits_wrong(body) => {
            return Err(Verdict::with(
                Reason::Tampered,
                "the body's last character does not decode canonically: it was altered or cut short",
            ))
        }
        None => json::part(body, "PASETO body")?,
    };
    if body.len() <= V4_OVERHEAD {
        return Err(Verdict::with(
            Reason::Malformed,
            format!("the PASETO body has {} bytes: too short to hold any claims", body.len()),
        ));
    }
    let kid = match footer {
        None => None,
        Some("") => return Err(Verdict::with(Reason::Malformed, "the token ends with an empty footer part")),
        Some(f) => footer_kid(&json::part(f, "PASETO footer")?)?,
    };
    Ok(Paseto { purpose, kid, token })
}

/// The `kid` of a JSON footer. A footer that is not JSON (PASETO allows any bytes) has no kid.
fn footer_kid(footer: &[u8]) -> Result<Option<String>, Verdict> {
    if footer.len() > MAX_FOOTER_LEN {
        return Err(Verdict::with(
            Reason::Malformed,
            format!("the PASETO footer has {} bytes; Ward reads at most {MAX_FOOTER_LEN}", footer.len()),
        ));
    }
    if footer.first() != Some(&b'{') {
        return Ok(None);
    }
    match json::object(footer, "PASETO footer")?.remove("kid") {
        None => Ok(None),
        Some(Value::String(kid)) => {
            check_kid(&kid).map_err(|why| {
                Verdict::with(Reason::Malformed, format!("the footer's `kid` is invalid: {why}"))
            })?;
            Ok(Some(kid))
        }
        Some(other) => Err(Verdict::with(
            Reason::Malformed,
            format!("the footer's `kid` must be a string, not {}", json::type_name(&other)),
        )),
    }
}

impl Paseto<'_> {
    /// The algorithm this token's header names.
    pub(crate) fn alg(&self) -> Algorithm {
        match self.purpose {
            Purpose::Public => Algorithm::PasetoV4Public,
            Purpose::Local => Algorithm::PasetoV4Local,
        }
    }

    /// Verifies (public) or decrypts (local) with `key`, whose algorithm must be this token's:
    /// a v4.local token shown to a v4.public key, or the reverse, is `unsupported_algorithm`.
    /// Returns the payload and the footer.
    pub(crate) fn open(&self, key: &VerifyingKey, implicit: &[u8]) -> Result<(Vec<u8>, Vec<u8>), Verdict> {
        let bound = key.algorithm();
        if bound != self.alg() {
            return Err(Verdict::with(
                Reason::UnsupportedAlgorithm,
                format!("this is a `{}` token, but key `{}` is bound to {bound}", self.alg(), key.kid()),
            ));
        }
        let trusted = match (key.paseto_public(), key.paseto_local()) {
            (Some(pk), _) => UntrustedToken::<Public, V4>::try_from(self.token)
                .and_then(|t| PublicToken::verify(pk, &t, None, Some(implicit))),
            (_, Some(sk)) => UntrustedToken::<Local, V4>::try_from(self.token)
                .and_then(|t| LocalToken::decrypt(sk, &t, None, Some(implicit))),
            (None, None) => Err(PasetoError::Key),
        };
        match trusted {
            Ok(t) => Ok((t.payload().as_bytes().to_vec(), t.footer().to_vec())),
            Err(PasetoError::TokenValidation) => Err(Verdict::with(
                Reason::Tampered,
                format!(
                    "the {} does not match the token under key `{}`",
                    if self.purpose == Purpose::Public { "signature" } else { "authentication tag" },
                    key.kid()
                ),
            )),
            Err(PasetoError::PayloadInvalidUtf8) => {
                Err(Verdict::with(Reason::Malformed, "the PASETO payload is not UTF-8"))
            }
            Err(e) => {
                Err(Verdict::with(Reason::Malformed, format!("the PASETO token could not be read: {e:?}")))
            }
        }
    }

    /// Opens the token and reads its payload as claims (RFC 3339 times).
    pub(crate) fn claims(&self, key: &VerifyingKey) -> Result<AccessClaims, Verdict> {
        let (payload, _) = self.open(key, &[])?;
        AccessClaims::from_object(json::object(&payload, "PASETO payload")?, Dates::Rfc3339)
    }
}

/// Signs (v4.public) or encrypts (v4.local) an access token, with the footer `{"kid":"…"}`.
///
/// Times are written as RFC 3339 strings, as PASETO's registered claims require. A v4.local
/// nonce comes from the OS CSPRNG inside `pasetors`.
pub fn sign_paseto(key: &SigningKey, claims: &AccessClaims) -> Result<String, SignError> {
    let payload = serde_json::to_vec(&claims.to_object(Dates::Rfc3339))
        .map_err(|e| SignError::Crypto(e.to_string()))?;
    let mut footer = Map::new();
    footer.insert("kid".into(), Value::String(key.kid().into()));
    let footer = serde_json::to_vec(&footer).map_err(|e| SignError::Crypto(e.to_string()))?;
    seal_paseto(key, &payload, &footer, &[])
}

/// Signs or encrypts any payload with any footer and implicit assertion (lower level: Ward's own
/// tokens come from [`sign_paseto`]).
pub fn seal_paseto(
    key: &SigningKey,
    payload: &[u8],
    footer: &[u8],
    implicit: &[u8],
) -> Result<String, SignError> {
    let footer = (!footer.is_empty()).then_some(footer);
    let result = match (key.paseto_public(), key.paseto_local()) {
        (Some(sk), _) => PublicToken::sign(sk, payload, footer, Some(implicit)),
        (_, Some(sk)) => LocalToken::encrypt(sk, payload, footer, Some(implicit)),
        (None, None) => return Err(key.wrong_format("PASETO token")),
    };
    result.map_err(|e| SignError::Crypto(format!("{e:?}")))
}

/// Verifies or decrypts a v4 token with `key` and the given implicit assertion (lower level, for
/// vectors and tools): returns the payload and footer bytes, reads no claim and checks no `kid`.
pub fn open_paseto(token: &str, key: &VerifyingKey, implicit: &[u8]) -> Result<(Vec<u8>, Vec<u8>), Verdict> {
    parse(token)?.open(key, implicit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_recognised_strictly() {
        assert_eq!(header("v4.public.xyz"), Some((4, Purpose::Public)));
        assert_eq!(header("v2.local.xyz"), Some((2, Purpose::Local)));
        for t in [
            "v4.public",
            "v4.secret.x",
            "V4.public.x",
            "v.public.x",
            "v4444.local.x",
            "v-1.local.x",
            "k4.local.x",
        ] {
            assert_eq!(header(t), None, "{t}");
        }
    }

    #[test]
    fn other_versions_are_unsupported() {
        for t in ["v1.local.AAAA", "v2.public.AAAA", "v3.public.AAAA", "v5.local.AAAA"] {
            assert_eq!(parse(t).err().unwrap().reason, Reason::UnsupportedAlgorithm, "{t}");
        }
    }

    #[test]
    fn footers_are_read_carefully() {
        assert_eq!(footer_kid(b"{\"kid\":\"k1\"}").unwrap(), Some("k1".into()));
        assert_eq!(footer_kid(b"arbitrary").unwrap(), None);
        assert_eq!(footer_kid(b"{}").unwrap(), None);
        for bad in [&b"{\"kid\":1}"[..], b"{\"kid\":\"a\",\"kid\":\"b\"}", b"{\"kid\":\"\"}", b"{"] {
            assert_eq!(footer_kid(bad).unwrap_err().reason, Reason::Malformed);
        }
        assert!(footer_kid(&[b'{'; MAX_FOOTER_LEN + 1]).is_err());
    }
}
