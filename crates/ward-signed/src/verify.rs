//! The entry points for a presented token: [`detect`] its format, [`peek`] at it without a key
//! (to find the key), [`verify`] it with the key.
//!
//! The checks run in a fixed order, cheapest and text-only first: shape (`malformed`), algorithm
//! (`unsupported_algorithm`), key id (`unknown_key`), type (`wrong_type`), signature
//! (`tampered`), claims (`malformed`), issuer, audience, times.

use ward_core::clock::UnixTime;
use ward_core::{ParsedToken, Reason, Verdict};

use crate::algorithm::Algorithm;
use crate::claims::AccessClaims;
use crate::expect::Expect;
use crate::json;
use crate::jwt;
use crate::key::VerifyingKey;
use crate::paseto::{self, Purpose};

/// Longest token Ward reads; anything longer is `malformed` without further work.
pub const MAX_TOKEN_LEN: usize = 8192;

/// The format of a signed token, as its text shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// A JWS in compact serialization (three base64url parts).
    Jwt,
    /// A PASETO token of some version and purpose (only v4 verifies).
    Paseto {
        /// The version number (`4` in `v4.public.…`).
        version: u8,
        /// `local` or `public`.
        purpose: Purpose,
    },
}

/// What a token says about itself before anything is verified: enough to find the key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Peeked {
    /// The format.
    pub format: Format,
    /// The algorithm the token names (for a PASETO token, its version and purpose).
    pub alg: Algorithm,
    /// The key id, verbatim. Untrusted: look it up in a map, never use it as a path or in SQL.
    pub kid: Option<String>,
    /// The JWT `typ`, verbatim (`None` for PASETO).
    pub typ: Option<String>,
}

/// Tells a signed token's format from its text alone, or `None` if it is neither a JWT nor
/// PASETO-shaped (an opaque Ward token, or junk). Cheap: no decoding.
pub fn detect(token: &str) -> Option<Format> {
    if let Some((version, purpose)) = paseto::header(token) {
        return Some(Format::Paseto { version, purpose });
    }
    let jwt_alphabet = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.';
    let dots = token.bytes().filter(|&b| b == b'.').count();
    (dots == 2 && !token.starts_with('.') && token.bytes().all(jwt_alphabet)).then_some(Format::Jwt)
}

/// Checks what any presented token must satisfy, and recognises Ward's opaque tokens.
fn precheck(token: &str) -> Result<Format, Verdict> {
    if token.is_empty() {
        return Err(Verdict::of(Reason::Missing));
    }
    if token.len() > MAX_TOKEN_LEN {
        return Err(Verdict::with(
            Reason::Malformed,
            format!(
                "the token is {} bytes long; Ward reads signed tokens of at most {MAX_TOKEN_LEN}",
                token.len()
            ),
        ));
    }
    if token.bytes().any(|b| b.is_ascii_whitespace()) {
        let detail = if token.get(..7).is_some_and(|p| p.eq_ignore_ascii_case("bearer ")) {
            "the token starts with `Bearer `: send only the token itself"
        } else {
            "the token contains whitespace (a line break or space picked up when copying?)"
        };
        return Err(Verdict::with(Reason::Malformed, detail));
    }
    if token.starts_with("ward_") {
        // An opaque Ward token (API key, session, refresh token…) shown where an access token goes.
        let parsed = ParsedToken::parse(token)?;
        return Err(Verdict::with(
            Reason::WrongType,
            format!(
                "this is a Ward {} (`ward_{}_{}_…`), an opaque token, not a signed access token",
                parsed.kind.noun(),
                parsed.env,
                parsed.kind.code()
            ),
        ));
    }
    detect(token).ok_or_else(|| {
        let parts = token.split('.').count();
        let detail = if parts == 5 {
            "five parts: this is an encrypted JWT (JWE); Ward issues and accepts only signed JWTs".to_string()
        } else {
            "neither a JWT (three base64url parts separated by dots) nor a PASETO token (`v4.public.…`, \
             `v4.local.…`)"
                .to_string()
        };
        Verdict::with(Reason::Malformed, detail)
    })
}

/// A signed token parsed once: its header read and checked, enough to find the key by `kid`, then
/// verified with that key by [`Parsed::verify`] without parsing the text again.
pub struct Parsed<'a> {
    peeked: Peeked,
    inner: Inner<'a>,
}

enum Inner<'a> {
    Jwt(jwt::Jws<'a>),
    Paseto(paseto::Paseto<'a>),
}

impl std::fmt::Debug for Parsed<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Parsed").field("peeked", &self.peeked).finish_non_exhaustive()
    }
}

/// Parses a token strictly without verifying it, once: the checks [`peek`] makes except the
/// payload's shape, which [`Parsed::verify`] checks after the signature.
pub fn parse(token: &str) -> Result<Parsed<'_>, Verdict> {
    match precheck(token)? {
        Format::Jwt => {
            let jws = jwt::parse(token)?;
            let peeked =
                Peeked { format: Format::Jwt, alg: jws.alg, kid: jws.kid.clone(), typ: jws.typ.clone() };
            Ok(Parsed { peeked, inner: Inner::Jwt(jws) })
        }
        format @ Format::Paseto { .. } => {
            let p = paseto::parse(token)?;
            let peeked = Peeked { format, alg: p.alg(), kid: p.kid.clone(), typ: None };
            Ok(Parsed { peeked, inner: Inner::Paseto(p) })
        }
    }
}

impl Parsed<'_> {
    /// What the token says about itself (untrusted).
    pub fn peeked(&self) -> &Peeked {
        &self.peeked
    }

    /// Verifies the parsed token with `key` at `now`: the checks of [`verify`] after parsing,
    /// in the same order.
    pub fn verify(
        &self,
        key: &VerifyingKey,
        expect: &Expect,
        now: UnixTime,
    ) -> Result<AccessClaims, Verdict> {
        let claims = match &self.inner {
            Inner::Jwt(jws) => {
                jws.check_alg(key)?;
                check_kid(jws.kid.as_deref(), key)?;
                match jws.typ.as_deref() {
                    Some(typ) if jwt::typ_matches(typ, &expect.typ) => {}
                    Some(typ) => {
                        return Err(Verdict::with(
                            Reason::WrongType,
                            format!(
                                "the JWT's `typ` is `{}`; expected `{}` (RFC 9068): an ID token or another \
                                 kind of JWT is not an access token",
                                json::shown(typ),
                                expect.typ
                            ),
                        ))
                    }
                    None => {
                        return Err(Verdict::with(
                            Reason::WrongType,
                            format!(
                                "the JWT has no `typ`; access tokens carry `typ: {}` (RFC 9068 §2.1), so this is \
                                 an ID token or another kind of JWT",
                                expect.typ
                            ),
                        ))
                    }
                }
                jws.check_signature(key)?;
                jws.claims()?
            }
            Inner::Paseto(p) => {
                check_kid(p.kid.as_deref(), key)?;
                p.claims(key)?
            }
        };
        expect.check(&claims, now)?;
        Ok(claims)
    }
}

/// Parses a token strictly without verifying it, so the server can find the key by `kid`.
///
/// Fails, from the text alone, with `missing`, `malformed` (shape, encoding, JSON, a header
/// member Ward never issues such as `jku`/`jwk`/`x5u`/`x5c`/`crit`), `unsupported_algorithm`
/// (`none`, an unknown algorithm, PASETO other than v4) or `wrong_type` (an opaque Ward token).
/// The `kid` comes back verbatim; it is checked only for length and control characters.
pub fn peek(token: &str) -> Result<Peeked, Verdict> {
    let parsed = parse(token)?;
    if let Inner::Jwt(jws) = &parsed.inner {
        jws.check_payload_shape()?;
    }
    Ok(parsed.peeked)
}

/// Verifies a token with `key` at `now`: the whole check, returning the claims or the first
/// failure as a [`Verdict`].
///
/// The key's algorithm decides (RFC 8725 §3.1): a token naming another one is
/// `unsupported_algorithm`. A token naming another `kid` is `unknown_key`. A JWT must have
/// `typ` equal to `expect.typ` (`wrong_type`: an ID token or a refresh token is not an access
/// token). Then the signature (`tampered`), the claims (`malformed`), the issuer
/// (`wrong_issuer`), the audience (`wrong_audience`), and the times with `expect.leeway`
/// (`expired`, `not_yet_valid`).
pub fn verify(
    token: &str,
    key: &VerifyingKey,
    expect: &Expect,
    now: UnixTime,
) -> Result<AccessClaims, Verdict> {
    parse(token)?.verify(key, expect, now)
}

/// A token that names a `kid` must name the key it is checked with. (One without a `kid` is
/// checked with the key given.)
fn check_kid(kid: Option<&str>, key: &VerifyingKey) -> Result<(), Verdict> {
    match kid {
        Some(kid) if kid != key.kid() => Err(Verdict::with(
            Reason::UnknownKey,
            format!("the token names key `{kid}`, but it was checked against key `{}`", key.kid()),
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detection_needs_no_decoding() {
        assert_eq!(detect("eyJ.eyJ.sig"), Some(Format::Jwt));
        assert_eq!(detect("a.b."), Some(Format::Jwt));
        assert_eq!(detect("v4.public.x"), Some(Format::Paseto { version: 4, purpose: Purpose::Public }));
        assert_eq!(detect("v2.local.x.y"), Some(Format::Paseto { version: 2, purpose: Purpose::Local }));
        for t in ["", "a.b", "a.b.c.d", "a.b.c.d.e", ".b.c", "a b.c.d", "a+b.c.d", "ward_live_ak_x"] {
            assert_eq!(detect(t), None, "{t}");
        }
    }

    #[test]
    fn prechecks_explain_themselves() {
        assert_eq!(peek("").unwrap_err().reason, Reason::Missing);
        let v = peek("Bearer eyJ.eyJ.x").unwrap_err();
        assert!(v.detail.unwrap().contains("Bearer"));
        assert_eq!(peek(&"a".repeat(MAX_TOKEN_LEN + 1)).unwrap_err().reason, Reason::Malformed);
        let v = peek("a.b.c.d.e").unwrap_err();
        assert!(v.detail.unwrap().contains("JWE"));
    }

    #[test]
    fn opaque_ward_tokens_are_the_wrong_type() {
        let minted = ward_core::token::mint(&mut rand::rngs::OsRng, "live", ward_core::TokenKind::Refresh);
        let v = peek(&minted.token).unwrap_err();
        assert_eq!(v.reason, Reason::WrongType);
        assert!(v.detail.unwrap().contains("refresh token"));
        let cut = &minted.token[..minted.token.len() - 1];
        assert_eq!(peek(cut).unwrap_err().reason, Reason::ChecksumMismatch);
    }
}
