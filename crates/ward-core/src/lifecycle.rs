//! How a once-good token stops working, shared by every kind: revocation (who, when, why),
//! supersession (replaced by a newer token), and the tombstone a dead record leaves behind.

use crate::clock::{human_span, rfc3339, UnixTime};
use crate::reason::{Reason, Verdict};
use crate::token::TokenKind;

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

impl Revocation {
    /// The `revoked` verdict, naming when, by whom and why.
    pub fn verdict(&self, now: UnixTime) -> Verdict {
        let mut d = format!(
            "revoked at {} ({} ago) by {}, reason `{}`",
            rfc3339(self.at),
            human_span(now - self.at),
            self.actor,
            self.reason.as_str()
        );
        if let Some(note) = &self.note {
            d.push_str(&format!(": {note}"));
        }
        Verdict::with(Reason::Revoked, d)
    }
}

/// A token replaced by a newer one: it keeps working until `at`, then answers `superseded`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Supersession {
    /// When the old token stops working (the renewal time plus the grace or overlap).
    pub at: UnixTime,
    /// The id of the token that replaced it.
    pub by: String,
}

impl Supersession {
    /// Whether the old token still works at `now` (inside the grace or overlap).
    pub fn in_grace(&self, now: UnixTime) -> bool {
        now < self.at
    }

    /// The `superseded` verdict.
    pub fn verdict(&self, now: UnixTime) -> Verdict {
        Verdict::with(
            Reason::Superseded,
            format!(
                "replaced by `{}`; stopped working at {} ({} ago)",
                self.by,
                rfc3339(self.at),
                human_span(now - self.at)
            ),
        )
    }
}

/// What a purged record leaves behind, so a verify years later still says what happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tombstone {
    /// The dead token's id.
    pub id: String,
    /// Its kind.
    pub kind: TokenKind,
    /// Its subject.
    pub subject: String,
    /// How it ended: `revoked`, `superseded`, `already_used` or `expired`.
    pub reason: Reason,
    /// When it ended.
    pub at: UnixTime,
    /// The revocation reason code, actor and note, for revocations.
    pub revocation: Option<Revocation>,
    /// The token that replaced it, for supersessions.
    pub replaced_by: Option<String>,
}

impl Tombstone {
    /// The verdict for a token whose record is gone but whose tombstone remains.
    pub fn verdict(&self, now: UnixTime) -> Verdict {
        let mut v = match (&self.revocation, &self.replaced_by) {
            (Some(r), _) if self.reason == Reason::Revoked => r.verdict(now),
            (_, Some(by)) if self.reason == Reason::Superseded => {
                Supersession { at: self.at, by: by.clone() }.verdict(now)
            }
            _ => Verdict::with(
                self.reason,
                format!(
                    "{} at {} ({} ago)",
                    self.reason.as_str().replace('_', " "),
                    rfc3339(self.at),
                    human_span(now - self.at)
                ),
            ),
        };
        if let Some(d) = v.detail.as_mut() {
            d.push_str(&format!(
                "; the {}'s record has been purged, so its secret can no longer be checked",
                self.kind.noun()
            ));
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn supersession_grace_boundary() {
        let s = Supersession { at: 100, by: "new".into() };
        assert!(s.in_grace(99));
        assert!(!s.in_grace(100));
        let v = s.verdict(101);
        assert_eq!(v.reason, Reason::Superseded);
        assert!(v.detail.unwrap_or_default().contains("`new`"));
    }

    #[test]
    fn tombstones_keep_the_story() {
        let t = Tombstone {
            id: "x".into(),
            kind: TokenKind::OneTime,
            subject: "s".into(),
            reason: Reason::AlreadyUsed,
            at: 0,
            revocation: None,
            replaced_by: None,
        };
        let v = t.verdict(86_400 * 400);
        assert_eq!(v.reason, Reason::AlreadyUsed);
        let d = v.detail.unwrap_or_default();
        assert!(d.contains("1970-01-01") && d.contains("purged"), "{d}");
    }
}
