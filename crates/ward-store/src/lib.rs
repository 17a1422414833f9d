//! Ward's storage: one [`Store`] trait, implemented for SQLite (the embedded default) and
//! PostgreSQL (for many Ward nodes sharing one database). Nothing outside this crate knows which
//! backend it talks to.
//!
//! ```no_run
//! # async fn demo() -> Result<(), ward_store::StoreError> {
//! let store = ward_store::open("sqlite://./ward-data/ward.db").await?;
//! store.ping().await?;
//! # Ok(()) }
//! ```

use std::sync::Arc;

use async_trait::async_trait;
use ward_core::client::Client;
use ward_core::deny::{DenyEntry, DenyKind};
use ward_core::guard::NamedLimit;
use ward_core::keyring::SigningKeyRecord;
use ward_core::refresh::RefreshToken;
use ward_core::{ApiKey, OneTimeToken, Revocation, Session, Tombstone};

mod postgres;
mod row;
mod shared;
mod sqlite;

pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

/// What went wrong talking to the store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The store could not be reached or failed to answer: says nothing about any token.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// A record with this id already exists.
    #[error("a record with this id already exists")]
    Conflict,
    /// A stored record could not be read back.
    #[error("stored record is corrupt: {0}")]
    Corrupt(String),
    /// The store URL is not one Ward understands.
    #[error("unsupported store URL: {0}")]
    BadUrl(String),
    /// A value in the request cannot be stored or looked up at all (PostgreSQL refuses the NUL
    /// character in text): a fault of the input, not of the store.
    #[error("the store cannot hold a value given: {0}")]
    Unrepresentable(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict,
            // PostgreSQL's character_not_in_repertoire and untranslatable_character.
            sqlx::Error::Database(db) if matches!(db.code().as_deref(), Some("22021" | "22P05")) => {
                StoreError::Unrepresentable(db.message().to_string())
            }
            sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) | sqlx::Error::ColumnNotFound(_) => {
                StoreError::Corrupt(e.to_string())
            }
            _ => StoreError::Unavailable(e.to_string()),
        }
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        StoreError::Unavailable(format!("migration failed: {e}"))
    }
}

/// Which API keys to list.
#[derive(Clone, Debug, Default)]
pub struct KeyFilter {
    /// Only this subject's keys.
    pub subject: Option<String>,
    /// Only live keys expiring after `now` and at or before this time.
    pub expiring_before: Option<i64>,
    /// The current time, for `expiring_before`.
    pub now: i64,
    /// At most this many, newest first.
    pub limit: u32,
}

/// How many tokens a subject revocation reached, per kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SubjectRevocation {
    /// API keys revoked.
    pub api_keys: u64,
    /// Sessions revoked.
    pub sessions: u64,
    /// One-time tokens revoked.
    pub one_time: u64,
    /// Refresh tokens revoked.
    pub refresh_tokens: u64,
}

/// A signing key to retire when its successor is added.
#[derive(Clone, Debug)]
pub struct Retire<'a> {
    /// The key to retire.
    pub kid: &'a str,
    /// When it stops signing.
    pub retiring_at: i64,
    /// When it stops verifying.
    pub retired_at: i64,
}

/// What one sweep should do.
#[derive(Clone, Copy, Debug)]
pub struct SweepPolicy {
    /// The current time.
    pub now: i64,
    /// Records dead (revoked, superseded, used, expired) for longer than this many seconds become
    /// tombstones.
    pub dead_after: i64,
    /// Seconds a tombstone is kept.
    pub tombstone_retention: i64,
    /// At most this many records per table per sweep.
    pub batch: u32,
}

/// What one sweep did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SweepStats {
    /// Dead records replaced by tombstones.
    pub tombstoned: u64,
    /// Old tombstones deleted.
    pub purged: u64,
}

/// What a [`Change`] is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ChangeKind {
    /// An API key changed (revoked, disabled, enabled, rotated): `target` is its id.
    ApiKey,
    /// A session changed (revoked, renewed): `target` is its id.
    Session,
    /// An OAuth client changed (revoked): `target` is its id.
    Client,
    /// Everything a subject holds was revoked: `target` is the subject; its signed-token deny
    /// entry is `(DenyKind::Subject, subject)`.
    Subject,
    /// A signed-token revocation was recorded: `target` is `<jti|family|subject>:<value>`.
    Deny,
    /// The key ring changed (a key added or scheduled to retire): `target` is the new kid.
    KeyRing,
    /// A subject's named rate limits changed: `target` is the subject.
    Limits,
}

impl ChangeKind {
    /// Every kind.
    pub const ALL: [ChangeKind; 7] = [
        ChangeKind::ApiKey,
        ChangeKind::Session,
        ChangeKind::Client,
        ChangeKind::Subject,
        ChangeKind::Deny,
        ChangeKind::KeyRing,
        ChangeKind::Limits,
    ];

    /// The stored name.
    pub const fn as_str(self) -> &'static str {
        match self {
            ChangeKind::ApiKey => "api_key",
            ChangeKind::Session => "session",
            ChangeKind::Client => "client",
            ChangeKind::Subject => "subject",
            ChangeKind::Deny => "deny",
            ChangeKind::KeyRing => "keyring",
            ChangeKind::Limits => "limits",
        }
    }

    /// Reads a stored name.
    pub fn from_code(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One row of the change feed: a write that every node must apply to its caches and deny set.
/// It is written in the same transaction as the write it describes, so a committed revocation
/// always has its change row; `seq` grows with every change (PostgreSQL may commit them out of
/// order, and a rolled-back transaction leaves a gap).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// Position in the feed.
    pub seq: i64,
    /// What changed.
    pub kind: ChangeKind,
    /// Which record (see [`ChangeKind`]).
    pub target: String,
}

/// The deployment a store belongs to, written once by the first node that starts on it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deployment {
    /// A random id, also remembered by each node's data directory.
    pub id: String,
    /// The `iss` of every signed token of the deployment.
    pub issuer: String,
    /// A keyed hash proving the master key: a node whose master key gives another value refuses
    /// to start.
    pub master_check: Vec<u8>,
    /// When it was created.
    pub created_at: i64,
}

/// Notifications of new [`Change`]s as they commit (PostgreSQL `LISTEN`).
#[async_trait]
pub trait ChangeListener: Send + std::fmt::Debug {
    /// The next change. `Ok(None)` means the connection was lost: notifications sent meanwhile are
    /// gone, so the caller must catch up with [`Store::changes_after`]; the next call reconnects.
    async fn next(&mut self) -> Result<Option<Change>, StoreError>;
}

/// Ward's persistent state. Every method is one atomic step.
#[async_trait]
pub trait Store: Send + Sync + std::fmt::Debug + 'static {
    /// Whether the store answers.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Stores a new API key; fails with [`StoreError::Conflict`] if the id exists.
    async fn insert_api_key(&self, key: &ApiKey) -> Result<(), StoreError>;

    /// Reads one API key.
    async fn get_api_key(&self, id: &str) -> Result<Option<ApiKey>, StoreError>;

    /// Lists API keys, newest first.
    async fn list_api_keys(&self, filter: &KeyFilter) -> Result<Vec<ApiKey>, StoreError>;

    /// How many API keys exist in all.
    async fn count_api_keys(&self) -> Result<u64, StoreError>;

    /// Revokes a key, durably, unless it is already revoked (the first revocation stands).
    /// Returns the key as it now is, or `None` if there is no such key.
    async fn revoke_api_key(&self, id: &str, rev: &Revocation) -> Result<Option<ApiKey>, StoreError>;

    /// Disables a key (`Some(time)`) or enables it (`None`) at `now`. Returns the key as it now is.
    async fn set_api_key_disabled(
        &self,
        id: &str,
        disabled_at: Option<i64>,
        now: i64,
    ) -> Result<Option<ApiKey>, StoreError>;

    /// Spends one use of a usage-limited key at `now`, atomically, applying a due refill first:
    /// `Some(left)` if a use was available, `None` if none was (or the key has no limit).
    async fn consume_api_key_use(&self, id: &str, now: i64) -> Result<Option<i64>, StoreError>;

    /// Atomically marks `old_id` superseded by `new` from `old_stops_at` and stores `new`.
    /// Returns `false` (and changes nothing) if the old key is already superseded or revoked.
    async fn rotate_api_key(&self, old_id: &str, new: &ApiKey, old_stops_at: i64)
        -> Result<bool, StoreError>;

    /// Records last-use times (write-behind): each id's time only moves forward.
    async fn touch_api_keys(&self, uses: &[(String, i64)]) -> Result<(), StoreError>;

    /// Stores a new session.
    async fn insert_session(&self, session: &Session) -> Result<(), StoreError>;

    /// Reads one session.
    async fn get_session(&self, id: &str) -> Result<Option<Session>, StoreError>;

    /// Lists a subject's sessions, newest first.
    async fn list_sessions(&self, subject: &str, limit: u32) -> Result<Vec<Session>, StoreError>;

    /// Revokes a session unless already revoked; returns it as it now is.
    async fn revoke_session(&self, id: &str, rev: &Revocation) -> Result<Option<Session>, StoreError>;

    /// Atomically marks `old_id` superseded by `new` from `old_stops_at` and stores `new`.
    /// Returns `false` (and changes nothing) if the old session is already superseded or revoked.
    async fn renew_session(&self, old_id: &str, new: &Session, old_stops_at: i64)
        -> Result<bool, StoreError>;

    /// Records sessions' last activity (write-behind): each id's time only moves forward.
    async fn touch_sessions(&self, seen: &[(String, i64)]) -> Result<(), StoreError>;

    /// Stores a one-time token; with `supersede_previous`, atomically supersedes the subject's
    /// unused tokens of the same purpose. Returns how many were superseded.
    async fn insert_one_time(
        &self,
        token: &OneTimeToken,
        supersede_previous: bool,
    ) -> Result<u64, StoreError>;

    /// Reads one one-time token.
    async fn get_one_time(&self, id: &str) -> Result<Option<OneTimeToken>, StoreError>;

    /// Redeems a one-time token at `now`: `true` for exactly one caller, however many race.
    async fn redeem_one_time(&self, id: &str, now: i64) -> Result<bool, StoreError>;

    /// Revokes everything `subject` holds, of every kind, in one transaction; signed tokens issued
    /// to it up to now are denied until `signed_until`.
    async fn revoke_subject(
        &self,
        subject: &str,
        rev: &Revocation,
        signed_until: i64,
    ) -> Result<SubjectRevocation, StoreError>;

    /// Every signing key, newest first.
    async fn list_signing_keys(&self) -> Result<Vec<SigningKeyRecord>, StoreError>;

    /// Adds a signing key and, in the same transaction, schedules the retirement of its
    /// predecessor. Returns `false` (and changes nothing) if the predecessor was already scheduled
    /// (a concurrent rotation won).
    async fn add_signing_key(
        &self,
        key: &SigningKeyRecord,
        retire: Option<Retire<'_>>,
    ) -> Result<bool, StoreError>;

    /// Registers an OAuth client.
    async fn insert_client(&self, client: &Client) -> Result<(), StoreError>;

    /// Reads one OAuth client.
    async fn get_client(&self, id: &str) -> Result<Option<Client>, StoreError>;

    /// Revokes an OAuth client; returns it as it now is.
    async fn revoke_client(&self, id: &str, rev: &Revocation) -> Result<Option<Client>, StoreError>;

    /// Stores a new refresh token (the first of a family, or a rotation's successor via
    /// [`Store::rotate_refresh`]).
    async fn insert_refresh(&self, token: &RefreshToken) -> Result<(), StoreError>;

    /// Reads a refresh token and the encrypted retry answer kept with it after rotation.
    async fn get_refresh(&self, id: &str) -> Result<Option<(RefreshToken, Option<Vec<u8>>)>, StoreError>;

    /// Atomically marks `old_id` rotated to `new` at `now` (keeping `retry_blob` for retries
    /// inside the grace) and stores `new`. `false` if it was already rotated or revoked.
    async fn rotate_refresh(
        &self,
        old_id: &str,
        new: &RefreshToken,
        now: i64,
        retry_blob: &[u8],
    ) -> Result<bool, StoreError>;

    /// Revokes every refresh token of `family` and denies the family's signed tokens until
    /// `entry.until`, in one transaction. Returns how many refresh tokens were revoked.
    async fn revoke_refresh_family(&self, entry: &DenyEntry) -> Result<u64, StoreError>;

    /// Records a revocation of signed tokens (the first one for a key stands).
    async fn add_signed_revocation(&self, entry: &DenyEntry) -> Result<(), StoreError>;

    /// Signed-token revocations made at or after `since` and still in force at `now`.
    async fn signed_revocations_since(&self, since: i64, now: i64) -> Result<Vec<DenyEntry>, StoreError>;

    /// Reads the tombstone a purged record left, if any.
    async fn get_tombstone(&self, id: &str) -> Result<Option<Tombstone>, StoreError>;

    /// Replaces long-dead records by tombstones and deletes old tombstones, in bounded batches.
    async fn sweep(&self, policy: &SweepPolicy) -> Result<SweepStats, StoreError>;

    /// Records that `value` (already hashed by the caller) was seen in `scope`, unless it was
    /// seen before and that record holds until after `now`. `true`: this is the first sight, and
    /// the record is durable before this returns; `false`: a replay. Exactly one of any number
    /// of concurrent calls for the same value gets `true`, on every node.
    async fn remember_once(&self, scope: &str, value: &str, until: i64, now: i64)
        -> Result<bool, StoreError>;

    /// The named rate limits attached to `subject` (empty when none).
    async fn get_subject_limits(&self, subject: &str) -> Result<Vec<NamedLimit>, StoreError>;

    /// Replaces the named rate limits attached to `subject` (an empty list removes them), and
    /// records the change for the other nodes.
    async fn set_subject_limits(
        &self,
        subject: &str,
        limits: &[NamedLimit],
        now: i64,
    ) -> Result<(), StoreError>;

    /// Changes with `seq` greater than `after`, oldest first, at most `limit`.
    async fn changes_after(&self, after: i64, limit: u32) -> Result<Vec<Change>, StoreError>;

    /// The highest `seq` in the change feed (0 when empty).
    async fn latest_change(&self) -> Result<i64, StoreError>;

    /// A listener for changes as they commit, or `None` where the store cannot notify (SQLite:
    /// one node, or nodes that poll [`Store::changes_after`]).
    async fn listen(&self) -> Result<Option<Box<dyn ChangeListener>>, StoreError>;

    /// One signed-token revocation, by what it covers.
    async fn get_signed_revocation(
        &self,
        kind: DenyKind,
        value: &str,
    ) -> Result<Option<DenyEntry>, StoreError>;

    /// The deployment this store belongs to, if one was created.
    async fn deployment(&self) -> Result<Option<Deployment>, StoreError>;

    /// Records the deployment, unless one exists: `false` (and nothing written) if it does.
    async fn create_deployment(&self, d: &Deployment) -> Result<bool, StoreError>;

    /// Closes every connection; later calls fail as unavailable.
    async fn close(&self);
}

/// Opens (creating if needed) and migrates the store at `url`:
/// `sqlite://PATH` or `postgres://…` / `postgresql://…`.
pub async fn open(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    if let Some(path) = url.strip_prefix("sqlite://") {
        Ok(Arc::new(SqliteStore::open(path).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PostgresStore::open(url).await?))
    } else {
        Err(StoreError::BadUrl(redact_url(url)))
    }
}

/// A URL with any password replaced by `***`, fit for logs and error messages.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let Some((userinfo, host)) = rest.rsplit_once('@') else {
        return url.to_string();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(redact_url("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact_url("sqlite://x.db"), "sqlite://x.db");
    }
}
