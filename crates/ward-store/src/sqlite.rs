//! The embedded default: SQLite in WAL mode.
//!
//! Durability: WAL with `synchronous=NORMAL` makes every committed transaction survive a crash of
//! the Ward process (`kill -9`); a power loss may roll back the last commits before a checkpoint.
//! Set up a PostgreSQL store where that matters.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use ward_core::{ApiKey, Revocation};

use crate::row::{encode_json, key_opt, KeyRow, COLUMNS};
use crate::{KeyFilter, Store, StoreError};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// A SQLite-backed store.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if missing) and migrates the database file at `path`.
    pub async fn open(path: &str) -> Result<Self, StoreError> {
        let opts = SqliteConnectOptions::from_str(&format!("sqlite://{path}"))
            .map_err(|e| StoreError::BadUrl(e.to_string()))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(3))
            .connect_with(opts)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(SqliteStore { pool })
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn insert_api_key(&self, k: &ApiKey) -> Result<(), StoreError> {
        let (scopes, meta) = encode_json(k)?;
        sqlx::query(
            "INSERT INTO api_keys (id, env, subject, name, scopes, meta, secret_hash, created_at, \
             expires_at, not_before, remaining_uses, disabled_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&k.id)
        .bind(&k.env)
        .bind(&k.subject)
        .bind(&k.name)
        .bind(scopes)
        .bind(meta)
        .bind(&k.secret_hash.0[..])
        .bind(k.created_at)
        .bind(k.expires_at)
        .bind(k.not_before)
        .bind(k.remaining_uses)
        .bind(k.disabled_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn get_api_key(&self, id: &str) -> Result<Option<ApiKey>, StoreError> {
        let row: Option<KeyRow> = sqlx::query_as(&format!("SELECT {COLUMNS} FROM api_keys WHERE id = ?"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        key_opt(row)
    }

    async fn list_api_keys(&self, f: &KeyFilter) -> Result<Vec<ApiKey>, StoreError> {
        let rows: Vec<KeyRow> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM api_keys WHERE (?1 IS NULL OR subject = ?1) \
             ORDER BY created_at DESC, id LIMIT ?2"
        ))
        .bind(&f.subject)
        .bind(i64::from(f.limit))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(ApiKey::try_from).collect()
    }

    async fn count_api_keys(&self) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM api_keys").fetch_one(&self.pool).await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn revoke_api_key(&self, id: &str, rev: &Revocation) -> Result<Option<ApiKey>, StoreError> {
        sqlx::query(
            "UPDATE api_keys SET revoked_at = ?, revoked_reason = ?, revoked_note = ?, revoked_by = ? \
             WHERE id = ? AND revoked_at IS NULL",
        )
        .bind(rev.at)
        .bind(rev.reason.as_str())
        .bind(&rev.note)
        .bind(&rev.actor)
        .bind(id)
        .execute(&self.pool)
        .await?;
        self.get_api_key(id).await
    }

    async fn set_api_key_disabled(&self, id: &str, at: Option<i64>) -> Result<Option<ApiKey>, StoreError> {
        let row: Option<KeyRow> =
            sqlx::query_as(&format!("UPDATE api_keys SET disabled_at = ? WHERE id = ? RETURNING {COLUMNS}"))
                .bind(at)
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        key_opt(row)
    }

    async fn consume_api_key_use(&self, id: &str) -> Result<Option<i64>, StoreError> {
        let left: Option<i64> = sqlx::query_scalar(
            "UPDATE api_keys SET remaining_uses = remaining_uses - 1 \
             WHERE id = ? AND remaining_uses > 0 RETURNING remaining_uses",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(left)
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}
