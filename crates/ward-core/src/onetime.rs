//! One-time tokens: password resets, magic links, email verification, invitations.

use crate::clock::{human_span, rfc3339, UnixTime};
use crate::lifecycle::{Revocation, Supersession};
use crate::reason::{Reason, Verdict};
use crate::secret::SecretHash;

/// Longest purpose name.
pub const MAX_PURPOSE_LEN: usize = 64;

/// Checks a purpose name: 1 to 64 lowercase letters, digits, `_`, `-` or `.`.
pub fn valid_purpose(p: &str) -> bool {
    !p.is_empty()
        && p.len() <= MAX_PURPOSE_LEN
        && p.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'-' | b'.'))
}

/// Everything Ward stores about one one-time token.
#[derive(Clone, Debug, PartialEq)]
pub struct OneTimeToken {
    /// The id embedded in the token.
    pub id: String,
    /// The environment it was issued for.
    pub env: String,
    /// Who it was issued for.
    pub subject: String,
    /// What it is for (`password_reset`, `email_verification`, ...): redeeming for another
    /// purpose is `wrong_type`.
    pub purpose: String,
    /// Caller-supplied data, returned on redemption.
    pub data: serde_json::Value,
    /// The keyed hash of the token.
    pub secret_hash: SecretHash,
    /// When it was issued.
    pub created_at: UnixTime,
    /// When it expires.
    pub expires_at: UnixTime,
    /// When it was redeemed, if it was.
    pub used_at: Option<UnixTime>,
    /// Replaced by a newer token for the same subject and purpose, if it was.
    pub superseded: Option<Supersession>,
    /// Its revocation, if revoked.
    pub revoked: Option<Revocation>,
}

impl OneTimeToken {
    /// Judges whether the token may be redeemed for `purpose` at `now`. The store's conditional
    /// update is what makes redemption happen exactly once; this only explains why not.
    pub fn check(&self, now: UnixTime, purpose: &str) -> Result<(), Verdict> {
        if self.purpose != purpose {
            return Err(Verdict::with(
                Reason::WrongType,
                format!("this token is for `{}`, not `{purpose}`", self.purpose),
            ));
        }
        if let Some(rev) = &self.revoked {
            return Err(rev.verdict(now));
        }
        if let Some(at) = self.used_at {
            return Err(Verdict::with(
                Reason::AlreadyUsed,
                format!("used at {} ({} ago)", rfc3339(at), human_span(now - at)),
            ));
        }
        if let Some(s) = &self.superseded {
            if !s.in_grace(now) {
                return Err(s.verdict(now));
            }
        }
        if now >= self.expires_at {
            return Err(Verdict::with(
                Reason::Expired,
                format!(
                    "expired at {} ({} ago)",
                    rfc3339(self.expires_at),
                    human_span(now - self.expires_at)
                ),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token() -> OneTimeToken {
        OneTimeToken {
            id: "o".into(),
            env: "live".into(),
            subject: "u".into(),
            purpose: "password_reset".into(),
            data: serde_json::Value::Null,
            secret_hash: SecretHash([0; 32]),
            created_at: 0,
            expires_at: 900,
            used_at: None,
            superseded: None,
            revoked: None,
        }
    }

    #[test]
    fn purpose_use_and_expiry() {
        let mut t = token();
        assert!(t.check(899, "password_reset").is_ok());
        assert_eq!(t.check(901, "password_reset").map_err(|v| v.reason), Err(Reason::Expired));
        assert_eq!(t.check(1, "magic_link").map_err(|v| v.reason), Err(Reason::WrongType));
        t.used_at = Some(10);
        assert_eq!(t.check(20, "password_reset").map_err(|v| v.reason), Err(Reason::AlreadyUsed));
    }

    #[test]
    fn purposes_are_strict() {
        assert!(valid_purpose("password_reset"));
        assert!(!valid_purpose("Password Reset"));
        assert!(!valid_purpose(""));
    }
}
