//! The reason model: every verdict Ward gives names exactly one [`Reason`].
//!
//! This file is the single table of reasons. Each reason's stable code, HTTP status, RFC 6750 error
//! code, message and fix hint live here and nowhere else; the server, the CLI and the docs all read
//! them from [`Reason::info`]. Codes never change once released (a snapshot test pins the list).

use serde::{Serialize, Serializer};

/// Why a token was accepted or rejected.
///
/// Marked `non_exhaustive` because later capabilities add reasons; existing codes never change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Reason {
    /// The token is good.
    Valid,
    /// No token was presented.
    Missing,
    /// The token does not have the shape of any Ward token.
    Malformed,
    /// The token's checksum does not match: a typo, a truncation or a copy-paste accident.
    ChecksumMismatch,
    /// The token is well-formed, but no such token was ever issued (or its record was purged).
    Unknown,
    /// The token's id is known but its secret is wrong.
    Tampered,
    /// The token is past its expiry time.
    Expired,
    /// The token's validity has not started yet.
    NotYetValid,
    /// The token was revoked.
    Revoked,
    /// The token was disabled by an operator; it can be enabled again.
    Disabled,
    /// The token has no uses left.
    UsageExceeded,
    /// The token is valid but lacks a scope the request needs.
    InsufficientScope,
    /// The token is of another kind or belongs to another environment.
    WrongType,
    /// Ward could not reach its store, so it cannot decide; not a verdict on the token.
    Unavailable,
    /// The session was inactive for longer than its idle timeout.
    IdleTimeout,
    /// The token was replaced by a newer one (renewal or rotation) and its grace period is over.
    Superseded,
    /// The one-time token was already redeemed.
    AlreadyUsed,
    /// The token's algorithm is not the one its key is bound to (or `none`, or a wrong PASETO
    /// version or purpose).
    UnsupportedAlgorithm,
    /// The token names a signing key Ward does not have (or has retired).
    UnknownKey,
    /// The token was not issued for this audience.
    WrongAudience,
    /// The token was not issued by the expected issuer.
    WrongIssuer,
    /// A rotated refresh token was presented again after the grace: its family is revoked.
    RefreshReuse,
    /// The caller's own credential (its Ward key) was refused. The caller is not authenticated,
    /// so it is not told why: that could tell it which key ids exist.
    CredentialRefused,
    /// A single-use value (a nonce, a DPoP proof, a TOTP code) was presented a second time.
    Replayed,
    /// The token is bound to something this request does not show: a DPoP key, a request
    /// (method and URL), or a set of client addresses.
    BindingMismatch,
    /// Too many requests (or too many failures) from this caller, key, subject or address.
    RateLimited,
    /// The DPoP proof must carry the server's current nonce (RFC 9449 §8, §9).
    NonceRequired,
}

/// The format a presented token has, or most resembles: it decides the words of the
/// explanation ([`Reason::info_for`]), never the code, status or category.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenFormat {
    /// A Ward opaque token (`ward_<env>_<kind>_…`), or text that resembles no other format.
    Opaque,
    /// A JWT (JWS compact serialisation), or something shaped like one (a JWE, a damaged JWT).
    Jwt,
    /// A PASETO token (`v4.public.…`, `v4.local.…`), or something shaped like one.
    Paseto,
}

impl TokenFormat {
    /// The formats whose words may differ from the opaque ones, as `GET /v1/reasons` lists them.
    pub const SIGNED: &'static [TokenFormat] = &[TokenFormat::Jwt, TokenFormat::Paseto];

    /// The stable name: `opaque`, `jwt` or `paseto`.
    pub const fn as_str(self) -> &'static str {
        match self {
            TokenFormat::Opaque => "opaque",
            TokenFormat::Jwt => "jwt",
            TokenFormat::Paseto => "paseto",
        }
    }
}

/// Everything Ward says about one reason, in one row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ReasonInfo {
    /// The stable snake_case code.
    pub code: &'static str,
    /// The HTTP status a resource server should answer with for this reason.
    pub status: u16,
    /// The RFC 6750 (or, for `unavailable`, RFC 6749) error code: the category anonymous callers see.
    pub error: Option<&'static str>,
    /// What happened, for a person.
    pub message: &'static str,
    /// What to do about it.
    pub hint: &'static str,
}

const INVALID_TOKEN: Option<&str> = Some("invalid_token");

impl Reason {
    /// Every reason, in the order the documentation lists them.
    pub const ALL: &'static [Reason] = &[
        Reason::Valid,
        Reason::Missing,
        Reason::Malformed,
        Reason::ChecksumMismatch,
        Reason::Unknown,
        Reason::Tampered,
        Reason::Expired,
        Reason::NotYetValid,
        Reason::Revoked,
        Reason::Disabled,
        Reason::UsageExceeded,
        Reason::InsufficientScope,
        Reason::WrongType,
        Reason::Unavailable,
        Reason::IdleTimeout,
        Reason::Superseded,
        Reason::AlreadyUsed,
        Reason::UnsupportedAlgorithm,
        Reason::UnknownKey,
        Reason::WrongAudience,
        Reason::WrongIssuer,
        Reason::RefreshReuse,
        Reason::CredentialRefused,
        Reason::Replayed,
        Reason::BindingMismatch,
        Reason::RateLimited,
        Reason::NonceRequired,
    ];

    /// The full row for this reason.
    pub const fn info(self) -> ReasonInfo {
        match self {
            Reason::Valid => ReasonInfo {
                code: "valid",
                status: 200,
                error: None,
                message: "The token is valid.",
                hint: "Nothing to do.",
            },
            Reason::Missing => ReasonInfo {
                code: "missing",
                status: 401,
                error: None,
                message: "No token was presented.",
                hint: "Send the token in the request (for HTTP: `Authorization: Bearer <token>`).",
            },
            Reason::Malformed => ReasonInfo {
                code: "malformed",
                status: 401,
                error: INVALID_TOKEN,
                message: "The token does not have the shape of a Ward token.",
                hint: "Check that the whole token was copied, without quotes, spaces or line breaks, \
                       and that it is a Ward token (it starts with `ward_`).",
            },
            Reason::ChecksumMismatch => ReasonInfo {
                code: "checksum_mismatch",
                status: 401,
                error: INVALID_TOKEN,
                message: "The token's checksum does not match its contents: it was mistyped, \
                          truncated or altered.",
                hint: "Copy the token again from where it was issued; do not retype it.",
            },
            Reason::Unknown => ReasonInfo {
                code: "unknown",
                status: 401,
                error: INVALID_TOKEN,
                message: "No token with this id was issued by this Ward deployment.",
                hint: "Check that the token comes from this deployment and has not been deleted; \
                       issue a new one if needed.",
            },
            Reason::Tampered => ReasonInfo {
                code: "tampered",
                status: 401,
                error: INVALID_TOKEN,
                message: "The token's id is known but its secret does not match.",
                hint: "The token was altered or forged. Use the token exactly as issued; if you did \
                       not alter it, treat this as an attack on that key.",
            },
            Reason::Expired => ReasonInfo {
                code: "expired",
                status: 401,
                error: INVALID_TOKEN,
                message: "The token has expired.",
                hint: "Issue a new token, or renew before the expiry time next time.",
            },
            Reason::NotYetValid => ReasonInfo {
                code: "not_yet_valid",
                status: 401,
                error: INVALID_TOKEN,
                message: "The token is not valid yet.",
                hint: "Wait until its start time, or check that the caller's clock is right.",
            },
            Reason::Revoked => ReasonInfo {
                code: "revoked",
                status: 401,
                error: INVALID_TOKEN,
                message: "The token was revoked.",
                hint: "A revoked token never works again; issue a new one if the holder should \
                       still have access.",
            },
            Reason::Disabled => ReasonInfo {
                code: "disabled",
                status: 401,
                error: INVALID_TOKEN,
                message: "The token is disabled.",
                hint: "An operator disabled it; it works again once enabled.",
            },
            Reason::UsageExceeded => ReasonInfo {
                code: "usage_exceeded",
                status: 401,
                error: INVALID_TOKEN,
                message: "The token has no uses left.",
                hint: "Issue a new token or give this one more uses.",
            },
            Reason::InsufficientScope => ReasonInfo {
                code: "insufficient_scope",
                status: 403,
                error: Some("insufficient_scope"),
                message: "The token is valid but lacks a scope this request needs.",
                hint: "Issue a token that carries the missing scopes.",
            },
            Reason::WrongType => ReasonInfo {
                code: "wrong_type",
                status: 401,
                error: INVALID_TOKEN,
                message: "The token is of another kind, or belongs to another environment.",
                hint: "Use a token of the kind this endpoint expects, issued for this environment \
                       (for example a live key against the live deployment).",
            },
            Reason::Unavailable => ReasonInfo {
                code: "unavailable",
                status: 503,
                error: Some("temporarily_unavailable"),
                message: "Ward could not reach its store, so it could not check the token.",
                hint: "This says nothing about the token; retry shortly. Operators: check the \
                       store's health (`GET /readyz`).",
            },
            Reason::IdleTimeout => ReasonInfo {
                code: "idle_timeout",
                status: 401,
                error: INVALID_TOKEN,
                message: "The session was inactive for longer than its idle timeout.",
                hint: "Sign in again. Activity within the idle timeout keeps a session open; \
                       raise `idle_timeout` if sessions close too soon.",
            },
            Reason::Superseded => ReasonInfo {
                code: "superseded",
                status: 401,
                error: INVALID_TOKEN,
                message: "The token was replaced by a newer one and its grace period is over.",
                hint: "Use the newest token from the renewal or rotation; old ones work only for a \
                       short overlap so requests in flight do not fail.",
            },
            Reason::AlreadyUsed => ReasonInfo {
                code: "already_used",
                status: 401,
                error: INVALID_TOKEN,
                message: "This one-time token was already used.",
                hint: "One-time tokens work exactly once; request a new one. If you did not use it, \
                       someone else may have.",
            },
            Reason::UnsupportedAlgorithm => ReasonInfo {
                code: "unsupported_algorithm",
                status: 401,
                error: INVALID_TOKEN,
                message: "The token's algorithm is not the one its key is bound to.",
                hint: "Each Ward key signs with exactly one algorithm (`none` is never accepted, nor a \
                       symmetric algorithm for a public key). Use tokens as Ward issued them.",
            },
            Reason::UnknownKey => ReasonInfo {
                code: "unknown_key",
                status: 401,
                error: INVALID_TOKEN,
                message: "The token names a signing key (`kid`) that Ward does not have.",
                hint: "If Ward retired the key, the token outlived it: get a new token. Otherwise the \
                       token comes from another issuer or deployment.",
            },
            Reason::WrongAudience => ReasonInfo {
                code: "wrong_audience",
                status: 401,
                error: INVALID_TOKEN,
                message: "The token was not issued for this audience.",
                hint: "Request a token whose `aud` includes this service's audience.",
            },
            Reason::WrongIssuer => ReasonInfo {
                code: "wrong_issuer",
                status: 401,
                error: INVALID_TOKEN,
                message: "The token was not issued by the expected issuer.",
                hint: "Compare the expected and presented issuers character by character (scheme, \
                       host, port, trailing slash).",
            },
            Reason::RefreshReuse => ReasonInfo {
                code: "refresh_reuse",
                status: 401,
                error: INVALID_TOKEN,
                message: "A refresh token that was already exchanged was presented again.",
                hint: "This is how a stolen refresh token shows itself: the whole token family has \
                       been revoked. Sign in again; investigate where the copy came from.",
            },
            Reason::CredentialRefused => ReasonInfo {
                code: "credential_refused",
                status: 401,
                error: INVALID_TOKEN,
                message: "Ward did not accept the caller's own credential.",
                hint: "Check the Ward key sent in `Authorization: Bearer <key>` (or the OAuth client's \
                       credentials). Ward does not tell a caller it could not authenticate why, since \
                       that would reveal which keys exist; an operator finds the reason in Ward's \
                       event log.",
            },
            Reason::Replayed => ReasonInfo {
                code: "replayed",
                status: 401,
                error: INVALID_TOKEN,
                message: "This value was already used: a nonce, a DPoP proof or a code is accepted \
                          exactly once.",
                hint: "Make a fresh one for every request (a new nonce, a new DPoP proof with a new \
                       `jti`). If the client did not send it twice, someone replayed an intercepted \
                       request.",
            },
            Reason::BindingMismatch => ReasonInfo {
                code: "binding_mismatch",
                status: 401,
                error: INVALID_TOKEN,
                message: "The token is bound to a key, a request or client addresses that this \
                          request does not match.",
                hint: "Send the token with a DPoP proof signed by the key it was issued to, made for \
                       this request's method and URL, or from an address the key allows. The detail \
                       names what differs.",
            },
            Reason::RateLimited => ReasonInfo {
                code: "rate_limited",
                status: 429,
                error: Some("temporarily_unavailable"),
                message: "Too many requests, or too many failed attempts, in a short time.",
                hint: "Wait until the time in `Retry-After`, then try again more slowly. Many failed \
                       guesses from one address lock it out for a while, longer each time.",
            },
            Reason::NonceRequired => ReasonInfo {
                code: "nonce_required",
                status: 401,
                error: Some("use_dpop_nonce"),
                message: "The DPoP proof must carry the server's current nonce.",
                hint: "Take the nonce from the `DPoP-Nonce` header of this answer, put it in the \
                       proof's `nonce` claim and send the request again (RFC 9449 §8).",
            },
        }
    }

    /// The row for this reason, worded for a token of `format`: a JWT that fails its signature
    /// check is told about its signature, not about a Ward key's secret. The code, status and
    /// category are the same in every format; only the message and hint change.
    pub const fn info_for(self, format: TokenFormat) -> ReasonInfo {
        let base = self.info();
        match self.worded(format) {
            Some((message, hint)) => {
                ReasonInfo { code: base.code, status: base.status, error: base.error, message, hint }
            }
            None => base,
        }
    }

    /// This reason's message and hint for a signed format, where they differ from the opaque
    /// words of [`Reason::info`].
    pub const fn worded(self, format: TokenFormat) -> Option<(&'static str, &'static str)> {
        use TokenFormat::{Jwt, Paseto};
        Some(match (self, format) {
            (_, TokenFormat::Opaque) => return None,
            (Reason::Malformed, Jwt) => (
                "The token is not a JWT Ward accepts: a part, its header or its claims do not have the \
                 required shape.",
                "Send the compact JWS exactly as issued: three base64url parts without padding, and \
                 nothing in front of it (no `Bearer `). Ward does not accept encrypted JWTs (JWE), nor \
                 headers that point at keys (`jku`, `x5u`, `jwk`). The detail names the part at fault.",
            ),
            (Reason::Malformed, Paseto) => (
                "The token is not a PASETO token Ward accepts: its version, purpose, payload, footer or \
                 claims do not have the required shape.",
                "Send the token exactly as issued (`v4.public.…` or `v4.local.…`, the key id in a JSON \
                 footer), with nothing in front of it. The detail names the part at fault.",
            ),
            (Reason::ChecksumMismatch, Jwt | Paseto) => (
                "The token looks cut short or damaged in transit.",
                "Copy the whole token again from where it was issued; do not retype it.",
            ),
            (Reason::Tampered, Jwt) => (
                "The JWT's signature does not verify with the key its `kid` names.",
                "The header or claims were changed after signing, or the signature was altered, \
                 stripped or re-encoded (padding is not allowed). Use the token exactly as issued; if \
                 nobody changed it, treat it as forged.",
            ),
            (Reason::Tampered, Paseto) => (
                "The PASETO token's signature (or, for `v4.local`, its authentication tag) does not \
                 verify with the key its footer names.",
                "The payload or footer was changed after the token was made. Use the token exactly as \
                 issued; if nobody changed it, treat it as forged.",
            ),
            (Reason::Expired, Jwt | Paseto) => (
                "The access token is past its `exp` claim (allowing for Ward's clock leeway).",
                "Get a new access token: exchange the refresh token, or ask the token endpoint again. \
                 Access tokens are short-lived by design.",
            ),
            (Reason::NotYetValid, Jwt | Paseto) => (
                "The access token's `nbf` (or `iat`) claim is in the future.",
                "Check the clocks of the issuer and of this service; wait until the token's start time.",
            ),
            (Reason::Revoked, Jwt | Paseto) => (
                "The access token was revoked: its `jti`, its refresh family or its subject.",
                "A revoked access token never works again; get a new one if the holder should still \
                 have access.",
            ),
            (Reason::WrongType, Jwt) => (
                "The JWT is not an access token (its `typ` is not `at+jwt`), or this endpoint takes \
                 another kind of token.",
                "Send an RFC 9068 access token Ward issued (`typ: at+jwt`); an ID token or another \
                 service's JWT is not one. Check the `type` the request asks for.",
            ),
            (Reason::WrongType, Paseto) => (
                "The PASETO token is not an access token this endpoint takes.",
                "Send an access token Ward issued, where an access token is expected.",
            ),
            (Reason::UnsupportedAlgorithm, Jwt) => (
                "The JWT's `alg` is not the algorithm its signing key is bound to.",
                "Each Ward signing key verifies exactly one algorithm; `none`, and a symmetric `alg` for \
                 a public key, are never accepted. Use tokens as Ward issued them.",
            ),
            (Reason::UnsupportedAlgorithm, Paseto) => (
                "The token's PASETO version or purpose is not the one its key is bound to.",
                "Ward accepts `v4.public` and `v4.local` only, each with its own key. Use tokens as \
                 Ward issued them.",
            ),
            _ => return None,
        })
    }

    /// The stable code, e.g. `checksum_mismatch`.
    pub const fn as_str(self) -> &'static str {
        self.info().code
    }

    /// Whether this reason accepts the token.
    pub const fn is_valid(self) -> bool {
        matches!(self, Reason::Valid)
    }

    /// Looks a reason up by its stable code.
    pub fn from_code(code: &str) -> Option<Reason> {
        Reason::ALL.iter().copied().find(|r| r.as_str() == code)
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Reason {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A reason together with the specifics of this case ("expired 3 minutes ago", "needs `read`").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// The reason.
    pub reason: Reason,
    /// What is particular to this token, for authenticated callers only. Never contains a secret.
    pub detail: Option<String>,
}

impl Verdict {
    /// A verdict with no particulars.
    pub const fn of(reason: Reason) -> Self {
        Verdict { reason, detail: None }
    }

    /// A verdict with particulars.
    pub fn with(reason: Reason, detail: impl Into<String>) -> Self {
        Verdict { reason, detail: Some(detail.into()) }
    }
}

impl From<Reason> for Verdict {
    fn from(reason: Reason) -> Self {
        Verdict::of(reason)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reason codes are a public contract: this list only ever grows.
    #[test]
    fn reason_codes_are_pinned() {
        let codes: Vec<&str> = Reason::ALL.iter().map(|r| r.as_str()).collect();
        assert_eq!(
            codes,
            [
                "valid",
                "missing",
                "malformed",
                "checksum_mismatch",
                "unknown",
                "tampered",
                "expired",
                "not_yet_valid",
                "revoked",
                "disabled",
                "usage_exceeded",
                "insufficient_scope",
                "wrong_type",
                "unavailable",
                "idle_timeout",
                "superseded",
                "already_used",
                "unsupported_algorithm",
                "unknown_key",
                "wrong_audience",
                "wrong_issuer",
                "refresh_reuse",
                "credential_refused",
                "replayed",
                "binding_mismatch",
                "rate_limited",
                "nonce_required",
            ]
        );
    }

    #[test]
    fn codes_round_trip_and_are_unique() {
        for r in Reason::ALL {
            assert_eq!(Reason::from_code(r.as_str()), Some(*r));
            let info = r.info();
            assert!(!info.message.is_empty() && !info.hint.is_empty(), "{r} lacks text");
        }
        assert_eq!(Reason::from_code("nope"), None);
    }

    #[test]
    fn signed_formats_get_their_own_words() {
        for r in Reason::ALL {
            assert_eq!(r.info_for(TokenFormat::Opaque), r.info(), "{r}: opaque words are the table's");
            for f in TokenFormat::SIGNED {
                let worded = r.info_for(*f);
                let base = r.info();
                assert_eq!((worded.code, worded.status, worded.error), (base.code, base.status, base.error));
                // No signed token is told about Ward keys' secrets or their `ward_` prefix.
                for opaque_only in ["ward_", "secret", "shape of a Ward token"] {
                    assert!(
                        !worded.message.contains(opaque_only) && !worded.hint.contains(opaque_only),
                        "{r} for {f:?} reads {opaque_only:?}: {worded:?}"
                    );
                }
            }
        }
        assert!(Reason::Tampered.info_for(TokenFormat::Jwt).message.contains("signature"));
        assert!(Reason::Malformed.info_for(TokenFormat::Paseto).message.contains("PASETO"));
    }

    #[test]
    fn statuses_follow_rfc_6750() {
        assert_eq!(Reason::InsufficientScope.info().status, 403);
        assert_eq!(Reason::Unavailable.info().status, 503);
        assert_eq!(Reason::Expired.info().error, Some("invalid_token"));
        // RFC 6750 §3.1: a request without credentials gets no error code.
        assert_eq!(Reason::Missing.info().error, None);
    }
}
