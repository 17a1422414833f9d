//! PostgreSQL, for when one machine is not enough: many Ward nodes share one database.

use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::{PgPool, PgPoolOptions};
use ward_core::{ApiKey, Revocation};

use crate::row::{encode_json, key_opt, KeyRow, COLUMNS};
use crate::{KeyFilter, Store, StoreError};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

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
}

#[async_trait]
impl Store for PostgresStore {
    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn insert_api_key(&self, k: &ApiKey) -> Result<(), StoreError> {
        let (scopes, meta) = encode_json(k)?;
        sqlx::query(
            "INSERT INTO api_keys (id, env, subject, name, scopes, meta, secret_hash, created_at, \
             expires_at, not_before, remaining_uses, disabled_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
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
        let row: Option<KeyRow> = sqlx::query_as(&format!("SELECT {COLUMNS} FROM api_keys WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        key_opt(row)
    }

    async fn list_api_keys(&self, f: &KeyFilter) -> Result<Vec<ApiKey>, StoreError> {
        let rows: Vec<KeyRow> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM api_keys WHERE ($1::text IS NULL OR subject = $1) \
             ORDER BY created_at DESC, id LIMIT $2"
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
            "UPDATE api_keys SET revoked_at = $1, revoked_reason = $2, revoked_note = $3, revoked_by = $4 \
             WHERE id = $5 AND revoked_at IS NULL",
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
        let row: Option<KeyRow> = sqlx::query_as(&format!(
            "UPDATE api_keys SET disabled_at = $1 WHERE id = $2 RETURNING {COLUMNS}"
        ))
        .bind(at)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        key_opt(row)
    }

    async fn consume_api_key_use(&self, id: &str) -> Result<Option<i64>, StoreError> {
        let left: Option<i64> = sqlx::query_scalar(
            "UPDATE api_keys SET remaining_uses = remaining_uses - 1 \
             WHERE id = $1 AND remaining_uses > 0 RETURNING remaining_uses",
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
