//! Revocation of signed tokens. A signed token verifies offline, so revoking one means remembering
//! it until it could no longer be live anyway: a `jti`, a refresh family, or everything a subject
//! held up to a moment. Every node keeps these in a [`DenySet`] loaded from the store.

use std::collections::HashMap;

use crate::clock::UnixTime;
use crate::lifecycle::{Revocation, RevokeReason};
use crate::reason::Verdict;

/// What a signed-token revocation covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DenyKind {
    /// One token, by `jti`.
    Jti,
    /// Every access token minted from one refresh family.
    Family,
    /// Every token a subject held that was issued at or before the revocation.
    Subject,
}

impl DenyKind {
    /// The stable name.
    pub const fn as_str(self) -> &'static str {
        match self {
            DenyKind::Jti => "jti",
            DenyKind::Family => "family",
            DenyKind::Subject => "subject",
        }
    }

    /// Looks a kind up by name.
    pub fn from_code(s: &str) -> Option<Self> {
        [DenyKind::Jti, DenyKind::Family, DenyKind::Subject].into_iter().find(|k| k.as_str() == s)
    }
}

/// One stored revocation of signed tokens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DenyEntry {
    /// What it covers.
    pub kind: DenyKind,
    /// The `jti`, family id or subject.
    pub value: String,
    /// After this no token it covers can still be live, so the entry can go.
    pub until: UnixTime,
    /// Who, when, why.
    pub revocation: Revocation,
}

/// The facts of a signed token that revocations can match.
#[derive(Clone, Copy, Debug)]
pub struct SignedFacts<'a> {
    /// Its `jti`.
    pub jti: &'a str,
    /// Its refresh family, if minted by a refresh.
    pub family: Option<&'a str>,
    /// Its `sub`.
    pub subject: &'a str,
    /// Its `iat`.
    pub issued_at: UnixTime,
}

/// The in-memory deny set: lookups by `&str`, no allocation.
#[derive(Clone, Debug, Default)]
pub struct DenySet {
    jti: HashMap<String, Held>,
    family: HashMap<String, Held>,
    subject: HashMap<String, Held>,
}

/// A revocation as the set holds it: what to say, and until when it matters.
#[derive(Clone, Debug)]
struct Held {
    revocation: Revocation,
    until: UnixTime,
}

impl DenySet {
    /// Adds (or keeps the earliest of) an entry.
    pub fn insert(&mut self, e: DenyEntry) {
        let map = match e.kind {
            DenyKind::Jti => &mut self.jti,
            DenyKind::Family => &mut self.family,
            DenyKind::Subject => &mut self.subject,
        };
        match map.get(&e.value) {
            // A later subject revocation covers more tokens; keep the latest for subjects.
            Some(old) if e.kind != DenyKind::Subject || old.revocation.at >= e.revocation.at => {}
            _ => {
                map.insert(e.value, Held { revocation: e.revocation, until: e.until });
            }
        }
    }

    /// Drops the entries whose `until` has passed: no token they cover can still be live.
    pub fn prune(&mut self, now: UnixTime) -> usize {
        let before = self.len();
        for map in [&mut self.jti, &mut self.family, &mut self.subject] {
            map.retain(|_, h| h.until > now);
        }
        before - self.len()
    }

    /// How many entries.
    pub fn len(&self) -> usize {
        self.jti.len() + self.family.len() + self.subject.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `revoked` verdict for a token the set covers, if any.
    pub fn check(&self, t: &SignedFacts<'_>, now: UnixTime) -> Option<Verdict> {
        if self.is_empty() {
            return None;
        }
        if let Some(h) = self.jti.get(t.jti) {
            return Some(h.revocation.verdict(now));
        }
        if let Some(h) = t.family.and_then(|f| self.family.get(f)) {
            return Some(h.revocation.verdict(now));
        }
        match self.subject.get(t.subject) {
            Some(h) if t.issued_at <= h.revocation.at => Some(h.revocation.verdict(now)),
            _ => None,
        }
    }
}

/// A convenience for tests and callers: an entry revoked by `actor` for `reason` at `at`.
pub fn entry(
    kind: DenyKind,
    value: &str,
    at: UnixTime,
    until: UnixTime,
    reason: RevokeReason,
    actor: &str,
) -> DenyEntry {
    DenyEntry {
        kind,
        value: value.to_string(),
        until,
        revocation: Revocation { at, reason, note: None, actor: actor.to_string() },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reason::Reason;

    #[test]
    fn jti_family_and_subject_revocations_match() {
        let mut set = DenySet::default();
        set.insert(entry(DenyKind::Jti, "j1", 100, 1_000, RevokeReason::Compromised, "a"));
        set.insert(entry(DenyKind::Family, "f1", 100, 1_000, RevokeReason::Logout, "a"));
        set.insert(entry(DenyKind::Subject, "alice", 100, 1_000, RevokeReason::Offboarded, "a"));
        let facts = |jti, family, subject, issued_at| SignedFacts { jti, family, subject, issued_at };
        assert_eq!(set.check(&facts("j1", None, "bob", 0), 200).map(|v| v.reason), Some(Reason::Revoked));
        assert!(set.check(&facts("j2", Some("f1"), "bob", 0), 200).is_some());
        assert!(set.check(&facts("j2", Some("f2"), "alice", 100), 200).is_some());
        assert!(
            set.check(&facts("j2", Some("f2"), "alice", 101), 200).is_none(),
            "issued after the revocation"
        );
        assert!(set.check(&facts("j2", None, "bob", 0), 200).is_none());
        assert_eq!(set.prune(999), 0);
        assert_eq!(set.prune(1_000), 3, "entries go once no token they cover can be live");
        assert!(set.is_empty());
    }
}
