//! DPoP proofs (RFC 9449): a JWS the client signs with its own key, made for one request, whose
//! key a token may be bound to (`cnf.jkt`).
//!
//! [`verify_proof`] makes every check the proof alone can show: its shape, its header (`typ:
//! dpop+jwt`, an asymmetric `alg`, a public `jwk` suiting it), its signature under that key, its
//! claims, and their agreement with the request (method, URL, time, access token, key). Whether the
//! `jti` was seen before and whether the `nonce` is the server's current one need state: the
//! caller checks them with the [`DpopProof`] returned.
//!
//! ```
//! # use ward_core::Reason;
//! use ward_signed::{verify_proof, ProofRequest, DEFAULT_PROOF_WINDOW};
//!
//! let req = ProofRequest::new("POST", "https://ward.example/token");
//! let refused = verify_proof("not.a.proof", &req, 1_700_000_000, DEFAULT_PROOF_WINDOW).unwrap_err();
//! assert_eq!(refused.reason, Reason::Malformed);
//! ```

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use ward_core::{Reason, Verdict};

use crate::algorithm::Algorithm;
use crate::json::{self, b64};
use crate::key::VerifyingKey;

/// The `typ` every DPoP proof carries (RFC 9449 §4.2), compared exactly.
pub const DPOP_TYP: &str = "dpop+jwt";

/// The proof algorithms Ward verifies, for `dpop_signing_alg_values_supported` (RFC 9449 §5.1).
/// Asymmetric only: a proof is signed with the client's private key. `Ed25519` is the
/// fully-specified name of EdDSA with Ed25519 (RFC 9864), which current clients (panva's `dpop`)
/// send; `EdDSA` is the older, polymorphic name, accepted with an Ed25519 key only.
pub const PROOF_ALGORITHMS: &[&str] = &["ES256", "Ed25519", "EdDSA", "RS256"];

/// The key algorithm a proof's `alg` names, if Ward verifies proofs with it.
fn proof_algorithm(alg: &str) -> Option<Algorithm> {
    match alg {
        "ES256" => Some(Algorithm::ES256),
        "Ed25519" | "EdDSA" => Some(Algorithm::EdDSA),
        "RS256" => Some(Algorithm::RS256),
        _ => None,
    }
}

/// Longest proof Ward reads (a 4096-bit RSA key and signature fit with room to spare).
pub const MAX_PROOF_LEN: usize = 8192;

/// Longest `jti` Ward accepts (RFC 9449 §4.2 asks for at least 96 bits of randomness; 256 bytes
/// is ample and bounds what the replay cache stores).
pub const MAX_JTI_LEN: usize = 256;

/// The JWK members that hold private or symmetric key material (RFC 7518 §6.2.2, §6.3.2, §6.4).
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// Header members that name a key other than `jwk`: a proof carrying one is ambiguous.
const OTHER_KEY_MEMBERS: [&str; 3] = ["jku", "x5u", "x5c"];

/// What the request the proof must match looks like.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProofRequest<'a> {
    /// The HTTP method, e.g. `POST`, compared exactly (RFC 9110 §9.1: methods are case-sensitive).
    pub htm: &'a str,
    /// The request URL as the server was reached (its query and fragment are ignored, RFC 9449
    /// §4.3).
    pub htu: &'a str,
    /// The access token presented with the proof: when present, the proof must carry its `ath`.
    pub access_token: Option<&'a str>,
    /// The key the token is bound to (`cnf.jkt`): when present, the proof's key must have this
    /// RFC 7638 thumbprint.
    pub jkt: Option<&'a str>,
}

impl<'a> ProofRequest<'a> {
    /// A request with no access token and no key binding (a token request, RFC 9449 §5).
    pub const fn new(htm: &'a str, htu: &'a str) -> Self {
        ProofRequest { htm, htu, access_token: None, jkt: None }
    }

    /// The same request presenting `access_token`, bound to the key with thumbprint `jkt`.
    pub const fn with_token(self, access_token: &'a str, jkt: &'a str) -> Self {
        ProofRequest { access_token: Some(access_token), jkt: Some(jkt), ..self }
    }
}

/// How old and how far in the future a proof's `iat` may be, in seconds: it must lie within
/// `[now - max_age - leeway, now + leeway]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProofWindow {
    /// How long a proof is accepted after it was made.
    pub max_age: i64,
    /// The clock difference tolerated between client and server, either way.
    pub leeway: i64,
}

/// Proofs are accepted for 5 minutes, with a minute of clock difference either way.
pub const DEFAULT_PROOF_WINDOW: ProofWindow = ProofWindow { max_age: 300, leeway: 60 };

impl Default for ProofWindow {
    fn default() -> Self {
        DEFAULT_PROOF_WINDOW
    }
}

/// A proof that passed every check the proof alone can show. The caller still checks that `jti`
/// was not seen before (within the window) and, if it requires nonces, that `nonce` is current.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DpopProof {
    /// The RFC 7638 thumbprint of the proof's key: what a token issued for it binds (`cnf.jkt`).
    pub jkt: String,
    /// The proof key's algorithm (`alg: Ed25519` and `alg: EdDSA` are both [`Algorithm::EdDSA`]).
    pub alg: Algorithm,
    /// The proof's unique id, for the replay check.
    pub jti: String,
    /// When the client made it (Unix seconds).
    pub iat: i64,
    /// The server nonce it carries, if any (checked by the caller).
    pub nonce: Option<String>,
    /// The method it was made for, as the proof spells it.
    pub htm: String,
    /// The URL it was made for, as the proof spells it.
    pub htu: String,
}

/// Verifies a DPoP proof (the `DPoP` header's value) for `req` at `now` (Unix seconds).
///
/// The checks, in order, and the reason each refusal gives:
/// shape, size, base64url and JSON (`malformed`); `typ` (`wrong_type`); `alg`
/// (`unsupported_algorithm`: `none`, HMAC and anything not in [`PROOF_ALGORITHMS`], or a `jwk`
/// of another key type); the `jwk` (`malformed`: missing, private, or not a valid public key); the
/// signature (`tampered`); the claims `jti`, `htm`, `htu`, `iat` (`malformed` if missing or of
/// the wrong type); method and URL (`binding_mismatch`); `iat` (`expired`, `not_yet_valid`);
/// `ath` and the key thumbprint (`binding_mismatch`).
pub fn verify_proof(
    proof: &str,
    req: &ProofRequest<'_>,
    now: i64,
    window: ProofWindow,
) -> Result<DpopProof, Verdict> {
    let parts = split(proof)?;
    let header = json::object(&json::part(parts.header, "DPoP proof header")?, "DPoP proof header")?;
    check_typ(&header)?;
    let alg = header_alg(&header)?;
    for name in OTHER_KEY_MEMBERS.into_iter().chain(["crit"]) {
        if header.contains_key(name) {
            return Err(Verdict::with(
                Reason::Malformed,
                format!(
                    "the DPoP proof header carries `{name}`; a proof names its key in `jwk` alone and \
                     Ward implements no JWS extension"
                ),
            ));
        }
    }
    let key = match header.get("jwk") {
        None => {
            return Err(Verdict::with(
                Reason::Malformed,
                "the DPoP proof header has no `jwk`: a proof carries the public key it is signed with \
                 (RFC 9449 §4.2)",
            ))
        }
        Some(Value::Object(jwk)) => proof_key(jwk, alg, "the DPoP proof's `jwk`")?,
        Some(other) => {
            return Err(Verdict::with(
                Reason::Malformed,
                format!(
                    "the DPoP proof header's `jwk` must be a JSON object, not {}",
                    json::type_name(other)
                ),
            ))
        }
    };
    let jkt = key.thumbprint().ok_or_else(|| {
        Verdict::with(Reason::Malformed, "the DPoP proof's `jwk` has no RFC 7638 thumbprint")
    })?;
    check_signature(&parts, &key, alg, &jkt)?;
    let claims = json::object(&json::part(parts.payload, "DPoP proof payload")?, "DPoP proof payload")?;
    let jti = string_claim(&claims, "jti")?.ok_or_else(|| missing("jti"))?;
    if jti.is_empty() {
        return Err(Verdict::with(Reason::Malformed, "the DPoP proof's `jti` is empty"));
    }
    if jti.len() > MAX_JTI_LEN {
        return Err(Verdict::with(
            Reason::Malformed,
            format!("the DPoP proof's `jti` is {} bytes long; Ward accepts at most {MAX_JTI_LEN}", jti.len()),
        ));
    }
    let htm = string_claim(&claims, "htm")?.ok_or_else(|| missing("htm"))?;
    let htu = string_claim(&claims, "htu")?.ok_or_else(|| missing("htu"))?;
    let iat = match claims.get("iat") {
        None => return Err(missing("iat")),
        Some(Value::Number(n)) => n.as_i64().ok_or_else(|| {
            Verdict::with(
                Reason::Malformed,
                format!("the DPoP proof's `iat` must be whole seconds since 1970, not {n}"),
            )
        })?,
        Some(other) => return Err(claim_type("iat", "a number", other)),
    };
    let nonce = string_claim(&claims, "nonce")?;
    let ath = string_claim(&claims, "ath")?;

    if htm != req.htm {
        return Err(Verdict::with(
            Reason::BindingMismatch,
            format!(
                "the DPoP proof was made for {}, this request is {} (`htm` must equal the method exactly)",
                json::shown(htm),
                json::shown(req.htm)
            ),
        ));
    }
    check_htu(htu, req.htu)?;
    check_iat(iat, now, window)?;
    if let Some(token) = req.access_token {
        let want = access_token_hash(token);
        match ath {
            None => {
                return Err(Verdict::with(
                    Reason::BindingMismatch,
                    "the DPoP proof has no `ath`, but an access token is presented with it: a proof sent \
                     with a token must carry the token's hash (RFC 9449 §4.3)",
                ))
            }
            Some(ath) if !bool::from(ath.as_bytes().ct_eq(want.as_bytes())) => {
                return Err(Verdict::with(
                    Reason::BindingMismatch,
                    "the DPoP proof's `ath` is not the hash of the access token presented with it: the \
                     proof was made for another token",
                ))
            }
            Some(_) => {}
        }
    }
    if let Some(bound) = req.jkt {
        if !bool::from(bound.as_bytes().ct_eq(jkt.as_bytes())) {
            return Err(Verdict::with(
                Reason::BindingMismatch,
                format!(
                    "the token is bound to key {}, the DPoP proof is signed by {jkt}",
                    json::shown(bound)
                ),
            ));
        }
    }
    Ok(DpopProof {
        jkt,
        alg,
        jti: jti.to_string(),
        iat,
        nonce: nonce.map(str::to_string),
        htm: htm.to_string(),
        htu: htu.to_string(),
    })
}

/// The RFC 7638 SHA-256 thumbprint of a public JWK (EC P-256, OKP Ed25519 or RSA), base64url
/// without padding: the `jkt` of RFC 9449 §6.1. The JWK is checked as a proof's would be: a
/// private or symmetric key, an unknown key type or a point off the curve is `malformed`.
pub fn jwk_thumbprint(jwk: &Value) -> Result<String, Verdict> {
    let Value::Object(m) = jwk else {
        return Err(Verdict::with(
            Reason::Malformed,
            format!("a JWK must be a JSON object, not {}", json::type_name(jwk)),
        ));
    };
    let key = proof_key(m, key_algorithm(m), "the JWK")?;
    key.thumbprint().ok_or_else(|| Verdict::with(Reason::Malformed, "this JWK has no RFC 7638 thumbprint"))
}

/// `ath` (RFC 9449 §4.2): base64url without padding of the SHA-256 of the access token's ASCII.
pub fn access_token_hash(token: &str) -> String {
    b64(Sha256::digest(token.as_bytes()))
}

/// The three parts of a compact JWS and the signing input.
struct Parts<'a> {
    header: &'a str,
    payload: &'a str,
    signature: &'a str,
    signing_input: &'a str,
}

fn split(proof: &str) -> Result<Parts<'_>, Verdict> {
    if proof.is_empty() {
        return Err(Verdict::with(Reason::Malformed, "the DPoP proof is empty"));
    }
    if proof.len() > MAX_PROOF_LEN {
        return Err(Verdict::with(
            Reason::Malformed,
            format!(
                "the DPoP proof is {} bytes long; Ward reads proofs of at most {MAX_PROOF_LEN}",
                proof.len()
            ),
        ));
    }
    let mut it = proof.split('.');
    let (Some(header), Some(payload), Some(signature), None) = (it.next(), it.next(), it.next(), it.next())
    else {
        return Err(Verdict::with(
            Reason::Malformed,
            format!(
                "a DPoP proof is a JWS of three parts separated by dots; this has {}",
                proof.split('.').count()
            ),
        ));
    };
    let signing_input = proof.get(..header.len() + 1 + payload.len()).unwrap_or_default();
    Ok(Parts { header, payload, signature, signing_input })
}

fn check_typ(header: &Map<String, Value>) -> Result<(), Verdict> {
    match header.get("typ") {
        Some(Value::String(t)) if t == DPOP_TYP => Ok(()),
        Some(Value::String(t)) => Err(Verdict::with(
            Reason::WrongType,
            format!(
                "the proof's `typ` is `{}`; a DPoP proof has `typ: {DPOP_TYP}` (RFC 9449 §4.2)",
                json::shown(t)
            ),
        )),
        Some(other) => Err(Verdict::with(
            Reason::Malformed,
            format!("the DPoP proof header's `typ` must be a string, not {}", json::type_name(other)),
        )),
        None => Err(Verdict::with(
            Reason::WrongType,
            format!("the JWT has no `typ`; a DPoP proof has `typ: {DPOP_TYP}` (RFC 9449 §4.2)"),
        )),
    }
}

fn header_alg(header: &Map<String, Value>) -> Result<Algorithm, Verdict> {
    let alg = match header.get("alg") {
        None => return Err(Verdict::with(Reason::Malformed, "the DPoP proof header has no `alg`")),
        Some(Value::String(a)) => a.as_str(),
        Some(other) => {
            return Err(Verdict::with(
                Reason::Malformed,
                format!("the DPoP proof header's `alg` must be a string, not {}", json::type_name(other)),
            ))
        }
    };
    if alg.eq_ignore_ascii_case("none") {
        return Err(Verdict::with(
            Reason::UnsupportedAlgorithm,
            format!(
                "`alg: {}` marks an unsigned proof; a DPoP proof must be signed (RFC 9449 §4.2)",
                json::shown(alg)
            ),
        ));
    }
    if alg.len() > 2 && alg.get(..2).is_some_and(|p| p.eq_ignore_ascii_case("HS")) {
        return Err(Verdict::with(
            Reason::UnsupportedAlgorithm,
            format!(
                "`alg: {}` is a MAC; a DPoP proof is signed with the client's private key (RFC 9449 §4.2)",
                json::shown(alg)
            ),
        ));
    }
    if let Some(a) = proof_algorithm(alg) {
        return Ok(a);
    }
    Err(Verdict::with(
        Reason::UnsupportedAlgorithm,
        format!(
            "`alg: {}` is not an algorithm Ward verifies DPoP proofs with ({})",
            json::shown(alg),
            PROOF_ALGORITHMS.join(", ")
        ),
    ))
}

/// The algorithm a JWK's key type implies (for [`jwk_thumbprint`], where no header names one).
/// Anything else is read as ES256, and [`proof_key`] explains what is wrong with its `kty`.
fn key_algorithm(jwk: &Map<String, Value>) -> Algorithm {
    match jwk.get("kty").and_then(Value::as_str) {
        Some("OKP") => Algorithm::EdDSA,
        Some("RSA") => Algorithm::RS256,
        _ => Algorithm::ES256,
    }
}

/// The members RFC 7638 §3.2 takes for each key type.
fn required_members(kty: &str) -> Option<&'static [&'static str]> {
    match kty {
        "EC" => Some(&["crv", "kty", "x", "y"]),
        "OKP" => Some(&["crv", "kty", "x"]),
        "RSA" => Some(&["e", "kty", "n"]),
        _ => None,
    }
}

/// Reads the public key a proof carries, for `alg`: public members only, a key type and curve
/// Ward verifies, a valid point or modulus, each member in its one canonical encoding (so the
/// thumbprint any other implementation computes from the same JWK is the one Ward computes).
fn proof_key(jwk: &Map<String, Value>, alg: Algorithm, what: &str) -> Result<VerifyingKey, Verdict> {
    let bad = |why: String| Verdict::with(Reason::Malformed, format!("{what} {why}"));
    if let Some(member) = PRIVATE_MEMBERS.iter().find(|m| jwk.contains_key(**m)) {
        return Err(bad(format!(
            "holds private or symmetric key material (`{member}`); a proof carries only its public key"
        )));
    }
    let kty = match jwk.get("kty") {
        Some(Value::String(k)) => k.as_str(),
        Some(other) => {
            return Err(bad(format!("has a `kty` that is {}, not a string", json::type_name(other))))
        }
        None => return Err(bad("has no `kty`".into())),
    };
    let Some(names) = required_members(kty) else {
        return Err(bad(format!(
            "has `kty: {}`; Ward verifies EC P-256, OKP Ed25519 and RSA keys",
            json::shown(kty)
        )));
    };
    let mut minimal = Map::new();
    for name in names {
        match jwk.get(*name) {
            Some(Value::String(s)) => {
                minimal.insert((*name).to_string(), Value::String(s.clone()));
            }
            Some(other) => {
                return Err(bad(format!("has a `{name}` that is {}, not a string", json::type_name(other))))
            }
            None => return Err(bad(format!("has no `{name}`, which a `kty: {kty}` key needs"))),
        }
    }
    let implied = match kty {
        "EC" => Algorithm::ES256,
        "OKP" => Algorithm::EdDSA,
        _ => Algorithm::RS256,
    };
    if implied != alg {
        return Err(Verdict::with(
            Reason::UnsupportedAlgorithm,
            format!("the DPoP proof says `alg: {alg}`, but its `jwk` is a {kty} key, which signs {implied}"),
        ));
    }
    if let Some(Value::String(named)) = jwk.get("alg") {
        if proof_algorithm(named) != Some(alg) {
            return Err(Verdict::with(
                Reason::UnsupportedAlgorithm,
                format!("the DPoP proof says `alg: {alg}`, but its `jwk` says `alg: {}`", json::shown(named)),
            ));
        }
    }
    if alg == Algorithm::RS256 {
        // `from_jwk` asks RSA keys to name their algorithm; here the header has named it.
        minimal.insert("alg".into(), Value::String(alg.as_str().into()));
    }
    let key = VerifyingKey::from_jwk(&Value::Object(minimal.clone()))
        .map_err(|e| bad(format!("is not a usable public key: {e}")))?;
    let canonical = key.to_jwk().ok_or_else(|| bad("is not a public key".into()))?;
    for name in names {
        if canonical.get(*name) != minimal.get(*name) {
            return Err(bad(format!(
                "spells `{name}` in a non-canonical form (RFC 7518 §6: no leading zero octets, exact \
                 field size)"
            )));
        }
    }
    Ok(key)
}

fn check_signature(parts: &Parts<'_>, key: &VerifyingKey, alg: Algorithm, jkt: &str) -> Result<(), Verdict> {
    if parts.signature.is_empty() {
        return Err(Verdict::with(Reason::Tampered, "the DPoP proof's signature is missing (stripped)"));
    }
    let Some(sig) = json::unb64(parts.signature) else {
        return Err(Verdict::with(
            Reason::Tampered,
            format!(
                "the DPoP proof's signature is not {} (truncated or altered?)",
                json::b64_problem(parts.signature)
            ),
        ));
    };
    if key.verify_signature(parts.signing_input.as_bytes(), &sig) {
        Ok(())
    } else {
        Err(Verdict::with(
            Reason::Tampered,
            format!("the DPoP proof's {alg} signature does not match its header and claims under its own key {jkt}"),
        ))
    }
}

fn string_claim<'m>(claims: &'m Map<String, Value>, name: &str) -> Result<Option<&'m str>, Verdict> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(claim_type(name, "a string", other)),
    }
}

fn missing(name: &str) -> Verdict {
    Verdict::with(Reason::Malformed, format!("the DPoP proof has no `{name}` claim (RFC 9449 §4.2)"))
}

fn claim_type(name: &str, want: &str, got: &Value) -> Verdict {
    Verdict::with(
        Reason::Malformed,
        format!("the DPoP proof's `{name}` must be {want}, not {}", json::type_name(got)),
    )
}

/// A URL as RFC 9449 §4.3 compares it: parsed (so scheme and host are lower-cased, the default
/// port, dot segments and an empty path normalised, RFC 3986 §6.2.2–6.2.3), without query and
/// fragment. `None` for anything but an absolute http(s) URL.
fn normalised_htu(s: &str) -> Option<String> {
    let mut u = url::Url::parse(s).ok()?;
    if !matches!(u.scheme(), "https" | "http") || u.host().is_none() {
        return None;
    }
    u.set_query(None);
    u.set_fragment(None);
    Some(u.into())
}

fn check_htu(htu: &str, request: &str) -> Result<(), Verdict> {
    let Some(want) = normalised_htu(request) else {
        return Err(Verdict::with(
            Reason::BindingMismatch,
            format!(
                "the request URL `{}` is not an absolute http(s) URL, so no proof can match it",
                json::shown(request)
            ),
        ));
    };
    let Some(got) = normalised_htu(htu) else {
        return Err(Verdict::with(
            Reason::Malformed,
            format!("the DPoP proof's `htu` `{}` is not an absolute http(s) URL", json::shown(htu)),
        ));
    };
    if got == want {
        Ok(())
    } else {
        Err(Verdict::with(
            Reason::BindingMismatch,
            format!(
                "the DPoP proof was made for {}, this request is to {} (compared without query and \
                 fragment, RFC 9449 §4.3)",
                json::shown(&got),
                json::shown(&want)
            ),
        ))
    }
}

fn check_iat(iat: i64, now: i64, window: ProofWindow) -> Result<(), Verdict> {
    let leeway = window.leeway.max(0);
    let max_age = window.max_age.max(0);
    let age = now.saturating_sub(iat);
    if age > max_age.saturating_add(leeway) {
        return Err(Verdict::with(
            Reason::Expired,
            format!(
                "the DPoP proof was made {} ago; proofs are accepted for {} (with {} of clock difference)",
                span(age),
                span(max_age),
                span(leeway)
            ),
        ));
    }
    let ahead = iat.saturating_sub(now);
    if ahead > leeway {
        return Err(Verdict::with(
            Reason::NotYetValid,
            format!(
                "the DPoP proof was made {} in the future by Ward's clock; clocks may differ by {}: the \
                 client's clock appears to be {} ahead",
                span(ahead),
                span(leeway),
                span(ahead)
            ),
        ));
    }
    Ok(())
}

/// A span of seconds, exactly, for a person: `45 s`, `7 min 3 s`, `5 min`, `2 h 1 min`, `3 d 4 h`.
fn span(secs: i64) -> String {
    let s = secs.unsigned_abs();
    let units = [(86_400, "d"), (3_600, "h"), (60, "min"), (1, "s")];
    let mut out: Vec<String> = Vec::new();
    let mut rest = s;
    for (size, name) in units {
        let n = rest / size;
        rest %= size;
        if n > 0 {
            out.push(format!("{n} {name}"));
        }
        if out.len() == 2 {
            break;
        }
    }
    if out.is_empty() {
        "0 s".into()
    } else {
        out.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_read_exactly() {
        assert_eq!(span(423), "7 min 3 s");
        assert_eq!(span(300), "5 min");
        assert_eq!(span(45), "45 s");
        assert_eq!(span(0), "0 s");
        assert_eq!(span(7_260), "2 h 1 min");
        assert_eq!(span(-61), "1 min 1 s");
    }

    #[test]
    fn urls_normalise_per_rfc_3986() {
        let n = |s| normalised_htu(s);
        assert_eq!(
            n("HTTPS://Server.Example.com:443/token?x=1#f").as_deref(),
            Some("https://server.example.com/token")
        );
        assert_eq!(n("https://server.example.com").as_deref(), Some("https://server.example.com/"));
        assert_eq!(n("http://a.example:80/b/../c").as_deref(), Some("http://a.example/c"));
        assert_eq!(n("https://a.example:8443/").as_deref(), Some("https://a.example:8443/"));
        assert_eq!(n("/token"), None);
        assert_eq!(n("urn:x:y"), None);
        assert_eq!(n("ftp://a.example/"), None);
    }
}
