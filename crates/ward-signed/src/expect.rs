//! What a verifier expects of a token's claims, and the checks with their explanations: issuer,
//! audience, then time with a leeway, naming the clock skew when that is the likely cause.

use ward_core::clock::{human_span, rfc3339, UnixTime};
use ward_core::{Reason, Verdict};

use crate::claims::AccessClaims;
use crate::json::shown;

/// The leeway for clock differences between issuer and verifier, in seconds.
pub const DEFAULT_LEEWAY: i64 = 60;
/// The JWT `typ` of an access token (RFC 9068 §2.1).
pub const ACCESS_TOKEN_TYP: &str = "at+jwt";
/// A time failure within this many seconds beyond the leeway is explained as clock skew.
pub const SKEW_WINDOW: i64 = 300;

/// What [`crate::verify`] requires of a token besides a good signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expect {
    /// The exact `iss` (scheme, host, port and trailing slash included).
    pub issuer: String,
    /// An audience the token's `aud` must contain; `None` accepts any (or none).
    pub audience: Option<String>,
    /// The JWT `typ`, compared case-insensitively, `application/` prefix allowed. PASETO tokens
    /// have no `typ`: their key's single purpose types them.
    pub typ: String,
    /// Seconds of clock difference tolerated on `exp`, `nbf` and `iat`.
    pub leeway: i64,
}

impl Expect {
    /// An access token (`typ: at+jwt`) from `issuer` for `audience`, with the default leeway.
    pub fn access_token(issuer: impl Into<String>, audience: Option<String>) -> Self {
        Expect { issuer: issuer.into(), audience, typ: ACCESS_TOKEN_TYP.into(), leeway: DEFAULT_LEEWAY }
    }

    /// Checks issuer, audience and times, in that order.
    pub(crate) fn check(&self, c: &AccessClaims, now: UnixTime) -> Result<(), Verdict> {
        self.check_issuer(&c.iss)?;
        self.check_audience(&c.aud)?;
        self.check_times(c, now)
    }

    fn check_issuer(&self, iss: &str) -> Result<(), Verdict> {
        if iss == self.issuer {
            return Ok(());
        }
        let mut detail = format!("expected `{}`, presented `{}`", self.issuer, shown(iss));
        match (split_scheme(&self.issuer), split_scheme(iss)) {
            (Some((a, ra)), Some((b, rb))) if a != b && ra == rb => {
                detail.push_str(&format!(" (only the scheme differs: `{b}` where `{a}` is expected)"));
            }
            _ if self.issuer.trim_end_matches('/') == iss.trim_end_matches('/') => {
                detail.push_str(" (they differ only by a trailing slash)");
            }
            _ => {}
        }
        Err(Verdict::with(Reason::WrongIssuer, detail))
    }

    fn check_audience(&self, aud: &[String]) -> Result<(), Verdict> {
        let Some(want) = &self.audience else { return Ok(()) };
        if aud.iter().any(|a| a == want) {
            return Ok(());
        }
        let detail = if aud.is_empty() {
            format!("expected `{want}`; the token names no audience")
        } else {
            let named: Vec<String> = aud.iter().take(5).map(|a| format!("`{}`", shown(a))).collect();
            let more = if aud.len() > 5 { format!(" and {} more", aud.len() - 5) } else { String::new() };
            format!("expected `{want}`; the token is for {}{more}", named.join(", "))
        };
        Err(Verdict::with(Reason::WrongAudience, detail))
    }

    fn check_times(&self, c: &AccessClaims, now: UnixTime) -> Result<(), Verdict> {
        let leeway = self.leeway.max(0);
        // Valid while now < exp + leeway (RFC 7519 §4.1.4, with the leeway).
        if now >= c.exp.saturating_add(leeway) {
            let ago = now.saturating_sub(c.exp);
            let mut detail = format!(
                "expired at {} ({} ago, beyond the {leeway}-second leeway)",
                rfc3339(c.exp),
                human_span(ago)
            );
            if ago < leeway.saturating_add(SKEW_WINDOW) {
                detail.push_str(&format!(
                    "; if it was issued moments ago, the issuer's clock appears to be {} behind Ward's",
                    human_span(ago)
                ));
            }
            return Err(Verdict::with(Reason::Expired, detail));
        }
        // Valid once now >= nbf - leeway.
        if let Some(nbf) = c.nbf {
            if now < nbf.saturating_sub(leeway) {
                let ahead = nbf.saturating_sub(now);
                let mut detail = format!(
                    "not valid before {} (in {}, beyond the {leeway}-second leeway)",
                    rfc3339(nbf),
                    human_span(ahead)
                );
                if ahead < leeway.saturating_add(SKEW_WINDOW) {
                    detail.push_str(&format!(
                        "; if it was meant to be valid at once, the issuer's clock appears to be {} ahead of Ward's",
                        human_span(ahead)
                    ));
                }
                return Err(Verdict::with(Reason::NotYetValid, detail));
            }
        }
        // A token cannot have been issued in the future: beyond the leeway, the clocks disagree.
        if c.iat > now.saturating_add(leeway) {
            let ahead = c.iat.saturating_sub(now);
            return Err(Verdict::with(
                Reason::NotYetValid,
                format!(
                    "issued at {}, {} in the future (beyond the {leeway}-second leeway): the issuer's clock \
                     appears to be {} ahead of Ward's",
                    rfc3339(c.iat),
                    human_span(ahead),
                    human_span(ahead)
                ),
            ));
        }
        Ok(())
    }
}

/// `("https", "host/path")` for an http(s) URL.
fn split_scheme(url: &str) -> Option<(&'static str, &str)> {
    url.strip_prefix("https://")
        .map(|rest| ("https", rest))
        .or_else(|| url.strip_prefix("http://").map(|r| ("http", r)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_700_000_000;

    fn claims() -> AccessClaims {
        AccessClaims {
            iss: "https://ward.example".into(),
            sub: "u".into(),
            aud: vec!["api".into()],
            exp: NOW + 600,
            iat: NOW,
            jti: "j".into(),
            ..AccessClaims::default()
        }
    }

    fn expect() -> Expect {
        Expect::access_token("https://ward.example", Some("api".into()))
    }

    #[test]
    fn a_good_token_passes() {
        assert_eq!(expect().check(&claims(), NOW), Ok(()));
        assert_eq!(
            Expect { audience: None, ..expect() }.check(&AccessClaims { aud: vec![], ..claims() }, NOW),
            Ok(())
        );
    }

    #[test]
    fn issuer_details_point_at_the_difference() {
        let detail = |iss: &str| {
            let v = expect().check(&AccessClaims { iss: iss.into(), ..claims() }, NOW).unwrap_err();
            assert_eq!(v.reason, Reason::WrongIssuer);
            v.detail.unwrap()
        };
        let d = detail("http://ward.example");
        assert!(d.starts_with("expected `https://ward.example`, presented `http://ward.example`"), "{d}");
        assert!(d.contains("only the scheme differs"), "{d}");
        assert!(detail("https://ward.example/").contains("trailing slash"));
        assert_eq!(
            detail("https://evil.example"),
            "expected `https://ward.example`, presented `https://evil.example`"
        );
    }

    #[test]
    fn audience_details_name_both_sides() {
        let v = expect().check(&AccessClaims { aud: vec!["billing".into(), "mail".into()], ..claims() }, NOW);
        let v = v.unwrap_err();
        assert_eq!(v.reason, Reason::WrongAudience);
        assert_eq!(v.detail.unwrap(), "expected `api`; the token is for `billing`, `mail`");
        let v = expect().check(&AccessClaims { aud: vec![], ..claims() }, NOW).unwrap_err();
        assert_eq!(v.detail.unwrap(), "expected `api`; the token names no audience");
    }

    #[test]
    fn expiry_boundaries_around_the_leeway() {
        let c = AccessClaims { exp: NOW, ..claims() };
        assert_eq!(expect().check(&c, NOW + DEFAULT_LEEWAY - 1), Ok(()));
        let v = expect().check(&c, NOW + DEFAULT_LEEWAY).unwrap_err();
        assert_eq!(v.reason, Reason::Expired);
        assert!(v.detail.unwrap().contains("behind Ward's"));
        // Long expired: no talk of clocks.
        let v = expect().check(&c, NOW + 3_600).unwrap_err();
        assert_eq!(
            v.detail.unwrap(),
            "expired at 2023-11-14T22:13:20Z (60 minutes ago, beyond the 60-second leeway)"
        );
    }

    #[test]
    fn not_before_and_issued_at_boundaries() {
        let c = AccessClaims { nbf: Some(NOW + 100), ..claims() };
        assert_eq!(expect().check(&c, NOW + 100 - DEFAULT_LEEWAY), Ok(()));
        let v = expect().check(&c, NOW + 100 - DEFAULT_LEEWAY - 1).unwrap_err();
        assert_eq!(v.reason, Reason::NotYetValid);
        let c = AccessClaims { iat: NOW + 120, exp: NOW + 720, ..claims() };
        assert_eq!(expect().check(&c, NOW + 120 - DEFAULT_LEEWAY), Ok(()));
        let v = expect().check(&c, NOW).unwrap_err();
        assert_eq!(v.reason, Reason::NotYetValid);
        assert!(v.detail.unwrap().ends_with("the issuer's clock appears to be 2 minutes ahead of Ward's"));
        // Far in the future: a start date, not a skew.
        let c = AccessClaims { nbf: Some(NOW + 86_400), exp: NOW + 90_000, ..claims() };
        let d = expect().check(&c, NOW).unwrap_err().detail.unwrap();
        assert!(!d.contains("clock"), "{d}");
    }
}
