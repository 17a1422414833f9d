//! JWS compact serialization (RFC 7515) for access tokens (RFC 9068), parsed strictly and checked
//! against RFC 8725: the algorithm comes from the key, never from the token.

use serde_json::{Map, Value};
use ward_core::{Reason, Verdict};

use crate::algorithm::Algorithm;
use crate::claims::{AccessClaims, Dates};
use crate::json::{self, b64};
use crate::key::{check_kid, SignError, SigningKey, VerifyingKey};

/// Header members that point at a key inside or outside the token. Ward never follows them
/// (RFC 8725 §3.10): a token carrying one is refused before any key is looked up.
const KEY_LOCATORS: [&str; 4] = ["jku", "jwk", "x5u", "x5c"];

/// A JWT split into its parts, its header read and checked; payload and signature untouched.
pub(crate) struct Jws<'a> {
    /// The algorithm the header names (already known to be one of Ward's JWS algorithms).
    pub alg: Algorithm,
    /// The `kid`, verbatim.
    pub kid: Option<String>,
    /// The `typ`, verbatim.
    pub typ: Option<String>,
    /// `header.payload`: what the signature covers.
    signing_input: &'a str,
    payload_b64: &'a str,
    signature_b64: &'a str,
}

/// Splits and reads a JWT's header. Fails with `malformed` (shape, base64url, JSON, members Ward
/// never issues) or `unsupported_algorithm` (`none` in any case, or an algorithm Ward lacks).
pub(crate) fn parse(token: &str) -> Result<Jws<'_>, Verdict> {
    let mut parts = token.split('.');
    let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        let n = token.split('.').count();
        let detail = if n == 5 {
            "five parts: this is an encrypted JWT (JWE); Ward issues and accepts only signed JWTs".to_string()
        } else {
            format!("a JWT has three parts separated by dots; this has {n}")
        };
        return Err(Verdict::with(Reason::Malformed, detail));
    };
    let signing_input = token.get(..header_b64.len() + 1 + payload_b64.len()).unwrap_or_default();
    let header = json::object(&json::part(header_b64, "JWT header")?, "JWT header")?;
    let alg = header_alg(&header)?;
    for name in KEY_LOCATORS {
        if header.contains_key(name) {
            return Err(Verdict::with(
                Reason::Malformed,
                format!(
                    "the header carries `{name}`: Ward never takes a verification key from the token or a \
                     URL it names (RFC 8725 §3.10), and never issues such a header"
                ),
            ));
        }
    }
    if let Some(crit) = header.get("crit") {
        return Err(Verdict::with(
            Reason::Malformed,
            format!(
                "the header marks {} as critical (`crit`); Ward implements no JWS extension, so it must \
                 refuse the token (RFC 7515 §4.1.11)",
                json::shown(&crit.to_string())
            ),
        ));
    }
    let kid = match header.get("kid") {
        None => None,
        Some(Value::String(k)) => {
            check_kid(k).map_err(|why| {
                Verdict::with(Reason::Malformed, format!("the header's `kid` is invalid: {why}"))
            })?;
            Some(k.clone())
        }
        Some(other) => return Err(member_type("kid", other)),
    };
    let typ = match header.get("typ") {
        None => None,
        Some(Value::String(t)) => Some(t.clone()),
        Some(other) => return Err(member_type("typ", other)),
    };
    Ok(Jws { alg, kid, typ, signing_input, payload_b64, signature_b64 })
}

fn member_type(name: &str, v: &Value) -> Verdict {
    Verdict::with(
        Reason::Malformed,
        format!("the header's `{name}` must be a string, not {}", json::type_name(v)),
    )
}

fn header_alg(header: &Map<String, Value>) -> Result<Algorithm, Verdict> {
    let alg = match header.get("alg") {
        None => return Err(Verdict::with(Reason::Malformed, "the header has no `alg`")),
        Some(Value::String(a)) => a.as_str(),
        Some(other) => return Err(member_type("alg", other)),
    };
    if alg.eq_ignore_ascii_case("none") {
        return Err(Verdict::with(
            Reason::UnsupportedAlgorithm,
            format!(
                "`alg: {}` marks an unsigned token; Ward never accepts one (RFC 8725 §3.1)",
                json::shown(alg)
            ),
        ));
    }
    match alg.parse::<Algorithm>() {
        Ok(a) if a.is_jwt() => Ok(a),
        _ => {
            let detail = match Algorithm::ALL
                .iter()
                .find(|a| a.is_jwt() && a.as_str().eq_ignore_ascii_case(alg))
            {
                Some(known) => format!("`alg: {alg}` is not `{known}`: algorithm names are case-sensitive"),
                None => format!(
                    "`alg: {alg}` is not an algorithm Ward signs JWTs with (EdDSA, ES256, RS256, HS256)"
                ),
            };
            Err(Verdict::with(Reason::UnsupportedAlgorithm, detail))
        }
    }
}

impl Jws<'_> {
    /// Refuses a token whose algorithm is not the key's own (RFC 8725 §3.1): this is where
    /// `HS256` presented for a public key (the key-confusion attack) stops.
    pub(crate) fn check_alg(&self, key: &VerifyingKey) -> Result<(), Verdict> {
        let bound = key.algorithm();
        if self.alg == bound {
            return Ok(());
        }
        let mut detail =
            format!("the token says `alg: {}`, but key `{}` is bound to {bound}", self.alg, key.kid());
        if self.alg.is_symmetric() && !bound.is_symmetric() {
            detail
                .push_str(": an HMAC over a public key is the classic key-confusion forgery (RFC 8725 §2.1)");
        }
        Err(Verdict::with(Reason::UnsupportedAlgorithm, detail))
    }

    /// Checks the signature with `key` (whose algorithm [`Jws::check_alg`] matched). Any damage to
    /// the signature part, including its absence or a truncation, is `tampered`.
    pub(crate) fn check_signature(&self, key: &VerifyingKey) -> Result<(), Verdict> {
        if self.signature_b64.is_empty() {
            return Err(Verdict::with(Reason::Tampered, "the signature is missing (stripped)"));
        }
        let Some(sig) = json::unb64(self.signature_b64) else {
            return Err(Verdict::with(
                Reason::Tampered,
                format!(
                    "the signature is not {} (truncated or altered?)",
                    json::b64_problem(self.signature_b64)
                ),
            ));
        };
        if let Some(want) = key.signature_len() {
            if sig.len() != want {
                return Err(Verdict::with(
                    Reason::Tampered,
                    format!(
                        "the signature has {} bytes; {} signatures with key `{}` have {want} (truncated or altered?)",
                        sig.len(),
                        self.alg,
                        key.kid()
                    ),
                ));
            }
        }
        if key.verify_signature(self.signing_input.as_bytes(), &sig) {
            Ok(())
        } else {
            Err(Verdict::with(
                Reason::Tampered,
                format!(
                    "the {} signature does not match the header and claims under key `{}`",
                    self.alg,
                    key.kid()
                ),
            ))
        }
    }

    /// The decoded payload. Call only after [`Jws::check_signature`].
    pub(crate) fn payload(&self) -> Result<Vec<u8>, Verdict> {
        json::part(self.payload_b64, "JWT payload")
    }

    /// The payload as claims. Call only after [`Jws::check_signature`].
    pub(crate) fn claims(&self) -> Result<AccessClaims, Verdict> {
        AccessClaims::from_object(json::object(&self.payload()?, "JWT payload")?, Dates::Numeric)
    }

    /// Checks the payload's shape without verifying anything (for [`crate::peek`]).
    pub(crate) fn check_payload_shape(&self) -> Result<(), Verdict> {
        json::object(&self.payload()?, "JWT payload").map(|_| ())
    }
}

/// Whether a `typ` value names `expected`, compared case-insensitively, with or without the
/// `application/` prefix (RFC 7515 §4.1.9, RFC 9068 §2.1).
pub(crate) fn typ_matches(typ: &str, expected: &str) -> bool {
    let bare = match typ.get(..12) {
        Some(prefix) if prefix.eq_ignore_ascii_case("application/") => typ.get(12..).unwrap_or_default(),
        _ => typ,
    };
    bare.eq_ignore_ascii_case(expected)
}

/// Signs a JWT access token: header `{"alg", "kid", "typ"}`, the claims as payload.
///
/// `typ` is `at+jwt` for access tokens (RFC 9068 §2.1). Fails only if `key` is a PASETO key or
/// the signing primitive fails.
pub fn sign_jwt(key: &SigningKey, typ: &str, claims: &AccessClaims) -> Result<String, SignError> {
    let mut header = Map::new();
    header.insert("alg".into(), Value::String(key.algorithm().as_str().into()));
    header.insert("kid".into(), Value::String(key.kid().into()));
    header.insert("typ".into(), Value::String(typ.into()));
    let payload = serde_json::to_vec(&claims.to_object(Dates::Numeric))
        .map_err(|e| SignError::Crypto(e.to_string()))?;
    sign_jws(key, &header, &payload)
}

/// Signs any payload under exactly the header given (lower level: no claims, no checks of the
/// header against the key). Ward's own tokens come from [`sign_jwt`]; tests use this to build
/// tokens Ward would never issue.
pub fn sign_jws(key: &SigningKey, header: &Map<String, Value>, payload: &[u8]) -> Result<String, SignError> {
    if !key.algorithm().is_jwt() {
        return Err(key.wrong_format("JWT"));
    }
    let header = serde_json::to_vec(header).map_err(|e| SignError::Crypto(e.to_string()))?;
    let mut token = format!("{}.{}", b64(header), b64(payload));
    let sig = key.sign_jws_input(token.as_bytes())?;
    token.push('.');
    token.push_str(&b64(sig));
    Ok(token)
}

/// Checks only the signature of a compact JWS (lower level, for vectors and tools): the header is
/// read and checked as for any token (its `alg` must be the key's), the payload is returned
/// undecoded as JSON. No `kid`, `typ` or claim is looked at.
pub fn verify_jws_signature(
    token: &str,
    key: &VerifyingKey,
) -> Result<(Map<String, Value>, Vec<u8>), Verdict> {
    let jws = parse(token)?;
    jws.check_alg(key)?;
    jws.check_signature(key)?;
    let header =
        json::object(&json::part(token.split('.').next().unwrap_or_default(), "JWT header")?, "JWT header")?;
    Ok((header, jws.payload()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typ_comparison_follows_rfc_7515() {
        for t in ["at+jwt", "AT+JWT", "application/at+jwt", "Application/AT+JWT"] {
            assert!(typ_matches(t, "at+jwt"), "{t}");
        }
        for t in ["JWT", "jwt", "at+jwt ", "application/", "applicationat+jwt", "rt+jwt", ""] {
            assert!(!typ_matches(t, "at+jwt"), "{t}");
        }
    }
}
