//! Subjects: revoking everything one holds, of every kind, in one durable step.

use ward_core::deny::{DenyEntry, DenyKind};
use ward_core::RevokeReason;
use ward_store::SubjectRevocation;

use crate::events::{Call, Event, EventKind};
use crate::validate::check_label;
use crate::{Engine, EngineError};

impl Engine {
    /// Revokes every API key, session, one-time token and refresh token `subject` holds, and
    /// denies every signed token issued to it up to now until any could have expired (leeway
    /// included, like every deny entry).
    pub async fn revoke_subject(
        &self,
        subject: &str,
        reason: RevokeReason,
        note: Option<String>,
        call: &Call,
    ) -> Result<SubjectRevocation, EngineError> {
        check_label("subject", subject)?;
        let rev = self.revocation(reason, note, call)?;
        let until = self.0.policy.deny_until(rev.at);
        let n = self.0.store.revoke_subject(subject, &rev, until).await?;
        self.0.cache.invalidate_all();
        self.0.deny.add([DenyEntry {
            kind: DenyKind::Subject,
            value: subject.to_string(),
            until,
            revocation: rev.clone(),
        }]);
        self.emit(|| {
            Event::new(EventKind::SubjectRevoked, rev.at)
                .subject(subject)
                .detail(format!(
                    "reason `{}`: {} API keys, {} sessions, {} one-time tokens, {} refresh tokens",
                    reason.as_str(),
                    n.api_keys,
                    n.sessions,
                    n.one_time,
                    n.refresh_tokens
                ))
                .call(call)
        });
        Ok(n)
    }
}

impl Engine {
    /// Replaces the named rate limits attached to `subject` (an empty list removes them). Every
    /// node applies the change at once (the change feed evicts its copy).
    pub async fn set_subject_limits(
        &self,
        subject: &str,
        limits: Vec<ward_core::guard::NamedLimit>,
        call: &Call,
    ) -> Result<Vec<ward_core::guard::NamedLimit>, EngineError> {
        check_label("subject", subject)?;
        ward_core::guard::validate_limits(&limits).map_err(EngineError::Invalid)?;
        let now = self.now();
        self.0.store.set_subject_limits(subject, &limits, now).await?;
        self.0.limits.forget_subject(subject);
        self.emit(|| {
            let names: Vec<&str> = limits.iter().map(|l| l.name.as_str()).collect();
            Event::new(EventKind::SubjectLimitsChanged, now).subject(subject.to_string()).call(call).detail(
                format!(
                    "rate limits now: {}",
                    if names.is_empty() { "none".into() } else { names.join(", ") }
                ),
            )
        });
        Ok(limits)
    }

    /// The named rate limits attached to `subject`.
    pub async fn subject_limits_of(
        &self,
        subject: &str,
    ) -> Result<Vec<ward_core::guard::NamedLimit>, EngineError> {
        check_label("subject", subject)?;
        Ok(self.0.store.get_subject_limits(subject).await?)
    }
}
