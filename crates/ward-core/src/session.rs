//! Sessions: an absolute deadline, an idle timeout that slides with use, renewal with a grace.

use crate::clock::{human_span, rfc3339, UnixTime};
use crate::lifecycle::{Revocation, Supersession};
use crate::reason::{Reason, Verdict};
use crate::secret::SecretHash;

/// Everything Ward stores about one session.
#[derive(Clone, Debug, PartialEq)]
pub struct Session {
    /// The id embedded in the token.
    pub id: String,
    /// The environment it was issued for.
    pub env: String,
    /// The signed-in user.
    pub subject: String,
    /// Caller-supplied claims, returned on verify.
    pub claims: serde_json::Value,
    /// The keyed hash of the token.
    pub secret_hash: SecretHash,
    /// When it was created.
    pub created_at: UnixTime,
    /// The absolute deadline: no activity keeps it open past this.
    pub expires_at: UnixTime,
    /// Seconds of inactivity after which it closes.
    pub idle_timeout: i64,
    /// The last valid use, as of the last write-behind flush.
    pub last_seen_at: UnixTime,
    /// Replaced by a renewal, if it was.
    pub superseded: Option<Supersession>,
    /// Its revocation (logout, offboarding, ...), if revoked.
    pub revoked: Option<Revocation>,
}

impl Session {
    /// When it closes for inactivity, given its latest use.
    pub fn idle_expires_at(&self, last_seen: UnixTime) -> UnixTime {
        last_seen.saturating_add(self.idle_timeout).min(self.expires_at)
    }

    /// Judges the session at `now`, given its latest use (which may be newer than the stored
    /// `last_seen_at`, from this node's unflushed activity).
    pub fn check(&self, now: UnixTime, last_seen: UnixTime) -> Result<(), Verdict> {
        if let Some(rev) = &self.revoked {
            return Err(rev.verdict(now));
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
                    "the session reached its absolute deadline at {} ({} ago)",
                    rfc3339(self.expires_at),
                    human_span(now - self.expires_at)
                ),
            ));
        }
        let last_seen = last_seen.max(self.last_seen_at);
        let idle_at = last_seen.saturating_add(self.idle_timeout);
        if now >= idle_at {
            return Err(Verdict::with(
                Reason::IdleTimeout,
                format!(
                    "last used at {} and idle for {}; the idle timeout is {}",
                    rfc3339(last_seen),
                    human_span(now - last_seen),
                    human_span(self.idle_timeout)
                ),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lifecycle::RevokeReason;

    fn session() -> Session {
        Session {
            id: "s".into(),
            env: "live".into(),
            subject: "u".into(),
            claims: serde_json::Value::Null,
            secret_hash: SecretHash([0; 32]),
            created_at: 1_000,
            expires_at: 1_000 + 3_600,
            idle_timeout: 600,
            last_seen_at: 1_000,
            superseded: None,
            revoked: None,
        }
    }

    fn reason(s: &Session, now: i64, last_seen: i64) -> Reason {
        s.check(now, last_seen).err().map_or(Reason::Valid, |v| v.reason)
    }

    #[test]
    fn idle_and_absolute_boundaries() {
        let s = session();
        assert_eq!(reason(&s, 1_599, 1_000), Reason::Valid);
        assert_eq!(reason(&s, 1_601, 1_000), Reason::IdleTimeout);
        // Activity slides the idle deadline, never the absolute one.
        assert_eq!(reason(&s, 2_000, 1_500), Reason::Valid);
        assert_eq!(reason(&s, 4_599, 4_500), Reason::Valid);
        assert_eq!(reason(&s, 4_601, 4_600), Reason::Expired);
        assert_eq!(s.idle_expires_at(4_500), 4_600);
    }

    #[test]
    fn supersession_and_revocation() {
        let mut s = session();
        s.superseded = Some(Supersession { at: 1_030, by: "new".into() });
        assert_eq!(reason(&s, 1_029, 1_000), Reason::Valid);
        assert_eq!(reason(&s, 1_031, 1_000), Reason::Superseded);
        s.revoked =
            Some(Revocation { at: 1_010, reason: RevokeReason::Logout, note: None, actor: "a".into() });
        assert_eq!(reason(&s, 1_011, 1_000), Reason::Revoked);
    }
}
