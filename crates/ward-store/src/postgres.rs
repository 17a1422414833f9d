//! PostgreSQL, for when one machine is not enough: many Ward nodes share one database.

use std::time::Duration;

use sqlx::postgres::{PgPool, PgPoolOptions};
use ward_core::{ApiKey, OneTimeToken, Revocation, Session, Tombstone};

use ward_core::client::Client;
use ward_core::keyring::SigningKeyRecord;
use ward_core::refresh::RefreshToken;

use crate::row::{
    all, json_text, opt, ClientRow, DenyRow, KeyRow, OneTimeRow, RefreshRow, SessionRow, SigningKeyRow,
    TombstoneRow,
};
use crate::row::{CLIENT_COLUMNS, REFRESH_COLUMNS, SIGNING_KEY_COLUMNS};
use crate::row::{KEY_COLUMNS, ONE_TIME_COLUMNS, SESSION_COLUMNS, TOMBSTONE_COLUMNS};
use crate::shared::store_impl;
use crate::{KeyFilter, StoreError, SubjectRevocation, SweepPolicy, SweepStats};

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

type Db = sqlx::Postgres;

store_impl!(PostgresStore);
