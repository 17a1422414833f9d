//! API keys: the record Ward keeps for each key, and the policy that judges a presented key.

use crate::clock::{human_span, rfc3339, UnixTime};
pub use crate::lifecycle::{Revocation, RevokeReason, Supersession};
use crate::reason::{Reason, Verdict};
use crate::secret::SecretHash;

/// Longest scope name.
pub const MAX_SCOPE_LEN: usize = 128;
/// Most scopes one token may carry.
pub const MAX_SCOPES: usize = 64;

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
    /// Replaced by a rotation, if it was: it keeps working until the overlap ends.
    pub superseded: Option<Supersession>,
    /// Periodic refill of `remaining_uses`, if configured.
    pub refill: Option<Refill>,
    /// The last valid use, as of the last write-behind flush.
    pub last_used_at: Option<UnixTime>,
    /// The client networks the key may be used from; empty: anywhere (sender binding).
    pub allowed_ips: Vec<ipnet::IpNet>,
    /// Named rate limits a verify can apply to the key (`ratelimit.name`).
    pub ratelimits: Vec<crate::guard::NamedLimit>,
}

/// Resets a key's remaining uses to `amount` every `interval` seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refill {
    /// Seconds between refills.
    pub interval: i64,
    /// Uses after a refill.
    pub amount: i64,
    /// The start of the current refill period.
    pub last_at: UnixTime,
}

impl Refill {
    /// Whether a refill is due at `now`.
    pub fn due(&self, now: UnixTime) -> bool {
        self.interval > 0 && now >= self.last_at.saturating_add(self.interval)
    }
}

/// Checks that a scope name is printable ASCII without spaces, 1 to 128 characters.
pub fn valid_scope(s: &str) -> bool {
    !s.is_empty() && s.len() <= MAX_SCOPE_LEN && s.bytes().all(|b| b.is_ascii_graphic())
}

impl ApiKey {
    /// Uses left at `now`, counting a refill that is due but not yet applied.
    pub fn remaining_uses_at(&self, now: UnixTime) -> Option<i64> {
        match (self.remaining_uses, self.refill) {
            (Some(_), Some(r)) if r.due(now) => Some(r.amount),
            (n, _) => n,
        }
    }

    /// Judges the key's own state at `now` against the scopes a request needs.
    ///
    /// The secret has already been checked; the usage counter is the store's business (it must be
    /// decremented atomically), so only a key already known to be exhausted is reported here.
    /// The order matters: a revoked key says `revoked` even if it has also expired.
    pub fn check(&self, now: UnixTime, required_scopes: &[String]) -> Result<(), Verdict> {
        if let Some(rev) = &self.revoked {
            return Err(rev.verdict(now));
        }
        if let Some(s) = &self.superseded {
            if !s.in_grace(now) {
                return Err(s.verdict(now));
            }
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
        if self.remaining_uses_at(now).is_some_and(|n| n <= 0) {
            return Err(usage_exceeded());
        }
        require_scopes(self.scopes.iter().map(String::as_str), required_scopes, "the key")
    }
}

/// Checks that every scope in `required` is among `have`; otherwise `insufficient_scope`, naming
/// the missing scopes and what `holder` ("the key", "the token") has. No allocation on success.
pub fn require_scopes<'a, I>(have: I, required: &[String], holder: &str) -> Result<(), Verdict>
where
    I: Iterator<Item = &'a str> + Clone,
{
    if required.iter().all(|r| have.clone().any(|h| h == r)) {
        return Ok(());
    }
    let missing: Vec<&str> =
        required.iter().map(String::as_str).filter(|r| !have.clone().any(|h| h == *r)).collect();
    let held: Vec<&str> = have.collect();
    Err(Verdict::with(
        Reason::InsufficientScope,
        format!(
            "missing scope(s): {}; {holder} has: {}",
            missing.join(", "),
            if held.is_empty() { "none".to_string() } else { held.join(", ") }
        ),
    ))
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
            superseded: None,
            refill: None,
            last_used_at: None,
            allowed_ips: Vec::new(),
            ratelimits: Vec::new(),
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
    fn refills_restore_uses_at_the_period_boundary() {
        let mut k = key();
        k.remaining_uses = Some(0);
        k.refill = Some(Refill { interval: 100, amount: 5, last_at: 1_200 });
        assert_eq!(reason(&k, 1_299, &[]), Reason::UsageExceeded);
        assert_eq!(reason(&k, 1_300, &[]), Reason::Valid);
        assert_eq!(k.remaining_uses_at(1_300), Some(5));
    }

    #[test]
    fn rotated_keys_work_until_the_overlap_ends() {
        let mut k = key();
        k.superseded = Some(Supersession { at: 1_500, by: "new".into() });
        assert_eq!(reason(&k, 1_499, &[]), Reason::Valid);
        assert_eq!(reason(&k, 1_501, &[]), Reason::Superseded);
    }

    #[test]
    fn revoke_reasons_round_trip() {
        for r in RevokeReason::ALL {
            assert_eq!(RevokeReason::from_code(r.as_str()), Some(*r));
        }
    }
}
