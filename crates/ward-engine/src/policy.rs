//! The token policy an engine runs with: lifetimes, limits, caches and schedules. Socket limits
//! (body sizes, timeouts) are not here: they belong to whoever serves the engine.

use std::time::Duration;

use ward_signed::Algorithm;

use crate::EngineError;

/// Seconds a rotated API key keeps working beside its successor when the rotation names no
/// overlap: long enough to roll a deployment, short enough that a leaked old key dies the same day.
pub const DEFAULT_ROTATION_OVERLAP: i64 = 3600;
/// The longest rotation overlap.
pub const MAX_ROTATION_OVERLAP: i64 = 30 * 86_400;

/// Every setting that decides what a token is worth. Build one with `Policy::default()` and
/// change fields; [`Policy::validate`] runs when the engine is built.
#[derive(Clone, Debug)]
pub struct Policy {
    /// The environment this deployment issues and accepts tokens for (`live`, `test`, ...).
    pub env: String,
    /// How long a record may be served from memory before it is read again: the last safety net
    /// behind the change feed that normally evicts it everywhere within milliseconds.
    pub cache_ttl: Duration,
    /// How many records of each kind the cache holds.
    pub cache_capacity: usize,
    /// Default seconds of inactivity after which a session closes.
    pub session_idle_timeout: i64,
    /// Default seconds after which a session closes whatever its activity.
    pub session_absolute_timeout: i64,
    /// The longest idle or absolute timeout a session may ask for.
    pub session_max_lifetime: i64,
    /// Seconds a renewed session's old token keeps working, so requests in flight don't fail.
    pub renewal_grace: i64,
    /// Default lifetime of one-time tokens, in seconds.
    pub one_time_ttl: i64,
    /// The longest lifetime a one-time token may ask for.
    pub one_time_max_ttl: i64,
    /// Seconds a rotated API key keeps working when the rotation names no overlap.
    pub rotation_overlap: i64,
    /// How often buffered last-use times are written to the store: the most activity a crash loses.
    pub activity_flush_interval: Duration,
    /// How often the sweeper runs.
    pub sweep_interval: Duration,
    /// Seconds a dead record is kept whole before it becomes a tombstone.
    pub dead_record_grace: i64,
    /// Seconds a tombstone is kept.
    pub tombstone_retention: i64,
    /// Most records per table one sweep handles.
    pub sweep_batch: u32,
    /// How often the change feed is read even when notifications arrive (the catch-up that makes
    /// a lost notification harmless); on SQLite, the only way other engines learn of changes.
    pub sync_interval: Duration,
    /// The `iss` of signed tokens when set; otherwise the deployment's stored issuer.
    pub issuer: Option<String>,
    /// Default lifetime of access tokens, in seconds.
    pub access_token_ttl: i64,
    /// The longest lifetime an access token may have: also how long revocations of signed tokens
    /// are remembered.
    pub access_token_max_ttl: i64,
    /// Lifetime of refresh tokens, in seconds.
    pub refresh_token_ttl: i64,
    /// Seconds after a refresh during which presenting the old refresh token again is a retry.
    pub refresh_grace: i64,
    /// Clock-skew leeway for `exp`, `nbf` and `iat` of signed tokens, in seconds.
    pub leeway: i64,
    /// The algorithm new JWT signing keys use.
    pub signing_alg: Algorithm,
    /// Seconds between scheduled signing-key rotations.
    pub key_rotation_interval: i64,
    /// Seconds a new signing key is published before it signs, so JWKS caches pick it up.
    pub key_publish_lead: i64,
    /// How many events each subscriber's queue holds before further events are dropped (and
    /// counted).
    pub event_queue: usize,
    /// Replay defense, DPoP and the failure throttle.
    pub guard: crate::guard::GuardPolicy,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            env: "live".into(),
            cache_ttl: Duration::from_secs(5),
            cache_capacity: 100_000,
            session_idle_timeout: 30 * 60,
            session_absolute_timeout: 12 * 3600,
            session_max_lifetime: 90 * 86_400,
            renewal_grace: 30,
            one_time_ttl: 15 * 60,
            one_time_max_ttl: 7 * 86_400,
            rotation_overlap: DEFAULT_ROTATION_OVERLAP,
            activity_flush_interval: Duration::from_secs(5),
            sweep_interval: Duration::from_secs(60),
            dead_record_grace: 7 * 86_400,
            tombstone_retention: 400 * 86_400,
            sweep_batch: 500,
            sync_interval: Duration::from_secs(1),
            issuer: None,
            access_token_ttl: 15 * 60,
            access_token_max_ttl: 24 * 3600,
            refresh_token_ttl: 30 * 86_400,
            refresh_grace: 10,
            leeway: 60,
            signing_alg: Algorithm::EdDSA,
            key_rotation_interval: 30 * 86_400,
            key_publish_lead: 3600,
            event_queue: 10_000,
            guard: crate::guard::GuardPolicy::default(),
        }
    }
}

impl Policy {
    /// Checks that the settings make sense together.
    pub fn validate(&self) -> Result<(), EngineError> {
        let bad = |m: String| Err(EngineError::Invalid(m));
        if let Err(m) = self.guard.validate() {
            return bad(m);
        }
        if !ward_core::token::valid_env(&self.env) {
            return bad(format!("env {:?} must be 1 to 16 lowercase letters or digits", self.env));
        }
        if !matches!(
            self.signing_alg,
            Algorithm::EdDSA | Algorithm::ES256 | Algorithm::RS256 | Algorithm::HS256
        ) {
            return bad(format!(
                "signing_alg must be EdDSA, ES256, RS256 or HS256, not {}",
                self.signing_alg.as_str()
            ));
        }
        for (name, v) in [
            ("session_idle_timeout", self.session_idle_timeout),
            ("session_absolute_timeout", self.session_absolute_timeout),
            ("one_time_ttl", self.one_time_ttl),
            ("access_token_ttl", self.access_token_ttl),
            ("refresh_token_ttl", self.refresh_token_ttl),
            ("key_rotation_interval", self.key_rotation_interval),
        ] {
            if v < 1 {
                return bad(format!("{name} must be at least 1 second"));
            }
        }
        for (name, v) in [
            ("renewal_grace", self.renewal_grace),
            ("refresh_grace", self.refresh_grace),
            ("leeway", self.leeway),
            ("key_publish_lead", self.key_publish_lead),
            ("dead_record_grace", self.dead_record_grace),
        ] {
            if v < 0 {
                return bad(format!("{name} must not be negative"));
            }
        }
        if !(0..=MAX_ROTATION_OVERLAP).contains(&self.rotation_overlap) {
            return bad(format!("rotation_overlap must be between 0 and {MAX_ROTATION_OVERLAP} seconds"));
        }
        if self.one_time_ttl > self.one_time_max_ttl {
            return bad("one_time_ttl must not exceed one_time_max_ttl".into());
        }
        if self.access_token_ttl > self.access_token_max_ttl {
            return bad("access_token_ttl must not exceed access_token_max_ttl".into());
        }
        if self.session_idle_timeout > self.session_max_lifetime
            || self.session_absolute_timeout > self.session_max_lifetime
        {
            return bad("session timeouts must not exceed session_max_lifetime".into());
        }
        if let Some(iss) = &self.issuer {
            crate::builder::check_issuer(iss)?;
        }
        Ok(())
    }

    /// How long a signed-token revocation made at `at` must be remembered: until every token it
    /// can cover has expired, leeway included. The one rule for `jti`, family and subject.
    pub fn deny_until(&self, at: i64) -> i64 {
        at.saturating_add(self.access_token_max_ttl).saturating_add(self.leeway)
    }
}
