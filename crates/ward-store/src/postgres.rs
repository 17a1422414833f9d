//! PostgreSQL, for when one machine is not enough: many Ward nodes share one database.

use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::{PgListener, PgPool, PgPoolOptions};
use ward_core::{ApiKey, OneTimeToken, Revocation, Session, Tombstone};

use ward_core::client::Client;
use ward_core::guard::NamedLimit;
use ward_core::keyring::SigningKeyRecord;
use ward_core::refresh::RefreshToken;

use crate::row::{
    all, json_list, json_text, opt, ChangeRow, ClientRow, DenyRow, DeploymentRow, KeyRow, OneTimeRow,
    RefreshRow, SessionRow, SigningKeyRow, TombstoneRow,
};
use crate::row::{CHANGE_COLUMNS, DENY_COLUMNS, DEPLOYMENT_COLUMNS};
use crate::row::{CLIENT_COLUMNS, REFRESH_COLUMNS, SIGNING_KEY_COLUMNS};
use crate::row::{KEY_COLUMNS, ONE_TIME_COLUMNS, SESSION_COLUMNS, TOMBSTONE_COLUMNS};
use crate::shared::store_impl;
use crate::{
    Change, ChangeKind, ChangeListener, KeyFilter, StoreError, SubjectRevocation, SweepPolicy, SweepStats,
};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The channel the trigger on `changes` notifies (migration 0004).
const CHANNEL: &str = "ward_changes";

/// A PostgreSQL-backed store.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    /// Connects to `url` and migrates the schema (migrations take an advisory lock, so several
    /// nodes starting at once are safe).
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(3))
            .connect(url)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(PostgresStore { pool })
    }

    async fn listen_changes(&self) -> Result<Option<Box<dyn ChangeListener>>, StoreError> {
        let listener = subscribe(&self.pool).await?;
        Ok(Some(Box::new(PgChangeListener { listener: Some(listener), pool: self.pool.clone() })))
    }
}

/// A listener on [`CHANNEL`], holding one connection of the pool.
async fn subscribe(pool: &PgPool) -> Result<PgListener, StoreError> {
    let mut listener = PgListener::connect_with(pool).await.map_err(unavailable)?;
    listener.listen(CHANNEL).await.map_err(unavailable)?;
    Ok(listener)
}

fn unavailable(e: sqlx::Error) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

/// Changes as PostgreSQL notifies them.
///
/// It holds a connection of the pool, which [`Store::close`](crate::Store::close) waits for: a
/// `next` in progress fails when the pool closes and lets the connection go, but a listener that
/// is not waiting must be dropped before closing.
#[derive(Debug)]
struct PgChangeListener {
    /// `None` after an error: the next call subscribes again and reports the gap as `Ok(None)`,
    /// since notifications sent in between are lost.
    listener: Option<PgListener>,
    /// Reads a change whose notification carried only its seq.
    pool: PgPool,
}

#[async_trait]
impl ChangeListener for PgChangeListener {
    async fn next(&mut self) -> Result<Option<Change>, StoreError> {
        loop {
            let Some(listener) = self.listener.as_mut() else {
                self.listener = Some(subscribe(&self.pool).await?);
                return Ok(None);
            };
            // sqlx resubscribes before answering `Ok(None)` for a lost connection, so a catch-up
            // the caller makes next misses nothing.
            let notification = match listener.try_recv().await {
                Ok(Some(n)) => n,
                Ok(None) => return Ok(None),
                Err(e) => {
                    // Also returns the connection, which a closing pool waits for.
                    self.listener = None;
                    return Err(unavailable(e));
                }
            };
            match parse_notification(notification.payload()) {
                Some(Notified::Change(change)) => return Ok(Some(change)),
                Some(Notified::Seq(seq)) => match self.read(seq).await {
                    Ok(Some(change)) => return Ok(Some(change)),
                    Ok(None) => tracing::warn!(seq, "a notified change is no longer stored; skipped"),
                    Err(e) => {
                        self.listener = None;
                        return Err(e);
                    }
                },
                None => tracing::warn!(
                    payload = notification.payload(),
                    "ignoring a malformed change notification"
                ),
            }
        }
    }
}

impl PgChangeListener {
    async fn read(&self, seq: i64) -> Result<Option<Change>, StoreError> {
        let row: Option<ChangeRow> =
            sqlx::query_as(&format!("SELECT {CHANGE_COLUMNS} FROM changes WHERE seq = $1"))
                .bind(seq)
                .fetch_optional(&self.pool)
                .await?;
        opt(row)
    }
}

/// What one notification says.
#[derive(Debug, PartialEq, Eq)]
enum Notified {
    /// The whole change, from `"seq kind target"`.
    Change(Change),
    /// Only its seq: the trigger drops kind and target when the payload would be too long.
    Seq(i64),
}

/// Reads a payload of the trigger on `changes`; the target may itself contain spaces.
fn parse_notification(payload: &str) -> Option<Notified> {
    let mut parts = payload.splitn(3, ' ');
    let seq = parts.next()?.parse().ok()?;
    match (parts.next(), parts.next()) {
        (None, _) => Some(Notified::Seq(seq)),
        (Some(kind), Some(target)) => Some(Notified::Change(Change {
            seq,
            kind: ChangeKind::from_code(kind)?,
            target: target.to_string(),
        })),
        (Some(_), None) => None,
    }
}

type Db = sqlx::Postgres;

store_impl!(PostgresStore);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notifications_are_parsed() {
        let change =
            |seq, kind, target: &str| Some(Notified::Change(Change { seq, kind, target: target.into() }));
        assert_eq!(parse_notification("7 api_key ak_1"), change(7, ChangeKind::ApiKey, "ak_1"));
        assert_eq!(
            parse_notification("8 subject Ada  Lovelace "),
            change(8, ChangeKind::Subject, "Ada  Lovelace ")
        );
        assert_eq!(parse_notification("9 deny family:f 1"), change(9, ChangeKind::Deny, "family:f 1"));
        assert_eq!(parse_notification("10"), Some(Notified::Seq(10)));
        assert_eq!(parse_notification(""), None);
        assert_eq!(parse_notification("x api_key ak_1"), None);
        assert_eq!(parse_notification("11 nonsense ak_1"), None);
        assert_eq!(parse_notification("12 api_key"), None);
    }
}
