//! API keys: the record Ward keeps for each key, and the policy that judges a presented key.

use crate::clock::{human_span, rfc3339, UnixTime};
use crate::reason::{Reason, Verdict};
use crate::secret::SecretHash;

/// Longest scope name.
pub const MAX_SCOPE_LEN: usize = 128;
/// Most scopes one token may carry.
pub const MAX_SCOPES: usize = 64;

/// Why a token was revoked: a fixed vocabulary, so reports can group by it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RevokeReason {
    /// The holder logged out.
    Logout,
    /// The secret leaked or is suspected to have.
    Compromised,
    /// The holder left the organisation.
    Offboarded,
    /// The holder's password changed, so every credential derived from it goes.
    PasswordChanged,
    /// Replaced by a newer token.
    Rotated,
    /// An operator decided, for a reason given in the note.
    Admin,
}

impl RevokeReason {
    /// Every revocation reason.
    pub const ALL: &'static [RevokeReason] = &[
        RevokeReason::Logout,
        RevokeReason::Compromised,
        RevokeReason::Offboarded,
        RevokeReason::PasswordChanged,
        RevokeReason::Rotated,
        RevokeReason::Admin,
    ];

    /// The stable code.
    pub const fn as_str(self) -> &'static str {
        match self {
            RevokeReason::Logout => "logout",
            RevokeReason::Compromised => "compromised",
            RevokeReason::Offboarded => "offboarded",
            RevokeReason::PasswordChanged => "password_changed",
            RevokeReason::Rotated => "rotated",
            RevokeReason::Admin => "admin",
        }
    }

    /// Looks a reason up by its code.
    pub fn from_code(s: &str) -> Option<Self> {
        RevokeReason::ALL.iter().copied().find(|r| r.as_str() == s)
    }
}

/// Who revoked a token, when and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Revocation {
    /// When.
    pub at: UnixTime,
    /// Why, from the vocabulary.
    pub reason: RevokeReason,
    /// Free text from the operator, if any.
    pub note: Option<String>,
    /// Who: the id of the Ward key that made the call, or `cli`/`system`.
    pub actor: String,
}

/// Everything Ward stores about one API key. The secret itself is never part of it.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiKey {
    /// The id embedded in the token.
    pub id: String,
    /// The environment the key was issued for.
    pub env: String,
    /// Who the key acts for.
    pub subject: String,
    /// A label for people.
    pub name: Option<String>,
    /// What the key may do.
    pub scopes: Vec<String>,
    /// Caller-supplied metadata, returned on verify.
    pub meta: serde_json::Value,
    /// The keyed hash of the token.
    pub secret_hash: SecretHash,
    /// When it was issued.
    pub created_at: UnixTime,
    /// When it stops working, if ever.
    pub expires_at: Option<UnixTime>,
    /// When it starts working, if not at once.
    pub not_before: Option<UnixTime>,
    /// Uses left, if limited. Decremented atomically by the store on each valid verify.
    pub remaining_uses: Option<i64>,
    /// When an operator disabled it, if disabled.
    pub disabled_at: Option<UnixTime>,
    /// Its revocation, if revoked.
    pub revoked: Option<Revocation>,
}

/// Checks that a scope name is printable ASCII without spaces, 1 to 128 characters.
pub fn valid_scope(s: &str) -> bool {
    !s.is_empty() && s.len() <= MAX_SCOPE_LEN && s.bytes().all(|b| b.is_ascii_graphic())
}

impl ApiKey {
    /// Judges the key's own state at `now` against the scopes a request needs.
    ///
    /// The secret has already been checked; the usage counter is the store's business (it must be
    /// decremented atomically), so only a key already known to be exhausted is reported here.
    /// The order matters: a revoked key says `revoked` even if it has also expired.
    pub fn check(&self, now: UnixTime, required_scopes: &[String]) -> Result<(), Verdict> {
        if let Some(rev) = &self.revoked {
            let mut d = format!(
                "revoked at {} ({} ago) by {}, reason `{}`",
                rfc3339(rev.at),
                human_span(now - rev.at),
                rev.actor,
                rev.reason.as_str()
            );
            if let Some(note) = &rev.note {
                d.push_str(&format!(": {note}"));
            }
            return Err(Verdict::with(Reason::Revoked, d));
        }
        if let Some(at) = self.disabled_at {
            return Err(Verdict::with(
                Reason::Disabled,
                format!("disabled at {} ({} ago)", rfc3339(at), human_span(now - at)),
            ));
        }
        if let Some(exp) = self.expires_at {
            if now >= exp {
                return Err(Verdict::with(
                    Reason::Expired,
                    format!("expired at {} ({} ago)", rfc3339(exp), human_span(now - exp)),
                ));
            }
        }
        if let Some(nbf) = self.not_before {
            if now < nbf {
                return Err(Verdict::with(
                    Reason::NotYetValid,
                    format!("valid from {} (in {})", rfc3339(nbf), human_span(nbf - now)),
                ));
            }
        }
        if self.remaining_uses.is_some_and(|n| n <= 0) {
            return Err(usage_exceeded());
        }
        let missing: Vec<&str> = required_scopes
            .iter()
            .filter(|s| !self.scopes.iter().any(|have| have == *s))
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            return Err(Verdict::with(
                Reason::InsufficientScope,
                format!(
                    "missing scope(s): {}; the key has: {}",
                    missing.join(", "),
                    if self.scopes.is_empty() { "none".to_string() } else { self.scopes.join(", ") }
                ),
            ));
        }
        Ok(())
    }
}

/// The verdict for a key whose uses ran out.
pub fn usage_exceeded() -> Verdict {
    Verdict::with(Reason::UsageExceeded, "all of the key's uses have been spent")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> ApiKey {
        ApiKey {
            id: "id".into(),
            env: "live".into(),
            subject: "user_1".into(),
            name: None,
            scopes: vec!["read".into()],
            meta: serde_json::Value::Null,
            secret_hash: SecretHash([0; 32]),
            created_at: 1_000,
            expires_at: Some(2_000),
            not_before: Some(1_100),
            remaining_uses: None,
            disabled_at: None,
            revoked: None,
        }
    }

    fn reason(k: &ApiKey, now: i64, scopes: &[&str]) -> Reason {
        let scopes: Vec<String> = scopes.iter().map(|s| s.to_string()).collect();
        k.check(now, &scopes).err().map_or(Reason::Valid, |v| v.reason)
    }

    #[test]
    fn expiry_boundaries_are_exact() {
        let k = key();
        assert_eq!(reason(&k, 1_999, &[]), Reason::Valid);
        assert_eq!(reason(&k, 2_000, &[]), Reason::Expired);
        assert_eq!(reason(&k, 1_099, &[]), Reason::NotYetValid);
        assert_eq!(reason(&k, 1_100, &[]), Reason::Valid);
    }

    #[test]
    fn scopes_are_all_required() {
        let k = key();
        assert_eq!(reason(&k, 1_500, &["read"]), Reason::Valid);
        assert_eq!(reason(&k, 1_500, &["read", "write"]), Reason::InsufficientScope);
    }

    #[test]
    fn revocation_outranks_everything_and_explains_itself() {
        let mut k = key();
        k.disabled_at = Some(1_200);
        k.revoked = Some(Revocation {
            at: 1_300,
            reason: RevokeReason::Offboarded,
            note: Some("left the company".into()),
            actor: "ak_admin".into(),
        });
        let v = k.check(5_000, &[]).expect_err("revoked");
        assert_eq!(v.reason, Reason::Revoked);
        let d = v.detail.expect("detail");
        assert!(d.contains("offboarded") && d.contains("ak_admin") && d.contains("left the company"), "{d}");
        k.revoked = None;
        assert_eq!(reason(&k, 5_000, &[]), Reason::Disabled);
    }

    #[test]
    fn exhausted_keys_say_so() {
        let mut k = key();
        k.remaining_uses = Some(0);
        assert_eq!(reason(&k, 1_500, &[]), Reason::UsageExceeded);
    }

    #[test]
    fn revoke_reasons_round_trip() {
        for r in RevokeReason::ALL {
            assert_eq!(RevokeReason::from_code(r.as_str()), Some(*r));
        }
    }
}
