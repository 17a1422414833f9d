//! The embedded default: SQLite in WAL mode.
//!
//! Durability: WAL with `synchronous=NORMAL` makes every committed transaction survive a crash of
//! the Ward process (`kill -9`); a power loss may roll back the last commits before a checkpoint.
//! Set up a PostgreSQL store where that matters.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
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
use crate::{ChangeListener, KeyFilter, StoreError, SubjectRevocation, SweepPolicy, SweepStats};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// A SQLite-backed store.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if missing) and migrates the database file at `path`. The file, its
    /// `-wal` and its `-shm` are readable by their owner only (0600): they hold every record's
    /// keyed hash and metadata.
    pub async fn open(path: &str) -> Result<Self, StoreError> {
        private_files(path)?;
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

    /// SQLite cannot notify: its one node knows its own writes, and others poll the feed.
    async fn listen_changes(&self) -> Result<Option<Box<dyn ChangeListener>>, StoreError> {
        Ok(None)
    }
}

/// Creates the database file as 0600 before SQLite opens it, and narrows an existing file (and
/// its `-wal` and `-shm`) that others may read to 0600, whatever the umask (issue 9). SQLite
/// creates `-wal` and `-shm` with the database file's mode. A `:memory:` database, or a path
/// with URI parameters, is left to SQLite.
fn private_files(path: &str) -> Result<(), StoreError> {
    if path.is_empty() || path.starts_with(':') || path.contains('?') {
        return Ok(());
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        let failed = |e: std::io::Error| StoreError::Unavailable(format!("{path}: {e}"));
        match std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            // A directory that does not exist yet, say: SQLite reports it better.
            Err(_) => return Ok(()),
        }
        for file in [path.to_string(), format!("{path}-wal"), format!("{path}-shm")] {
            match std::fs::metadata(&file) {
                Ok(m) if m.permissions().mode() & 0o777 != 0o600 => {
                    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))
                        .map_err(failed)?;
                }
                _ => {}
            }
        }
    }
    Ok(())
}

type Db = sqlx::Sqlite;

store_impl!(SqliteStore);
