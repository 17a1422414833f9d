//! The store through its trait: every test runs on SQLite and on PostgreSQL (`sqlite::name`,
//! `postgres::name`), each on a fresh, migrated database.

// Tests fail loudly: unwrapping and indexing are the point of an assertion here.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::sync::Arc;

use ward_core::client::Client;
use ward_core::deny::{DenyEntry, DenyKind};
use ward_core::keyring::SigningKeyRecord;
use ward_core::{ApiKey, Revocation, RevokeReason, SecretHash, Session};
use ward_store::{ChangeKind, Store};

mod changes;
mod listen;
mod pg;
mod records;

/// Expands each test `name(TestStore)` into `sqlite::name` and `postgres::name`.
macro_rules! store_tests {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::TestStore::sqlite().await).await;
                }
            )+
        }

        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    match super::TestStore::postgres().await {
                        Some(s) => super::$name(s).await,
                        None => super::pg::note_skipped(stringify!($name)),
                    }
                }
            )+
        }
    };
}

use changes::*;
use listen::*;
use records::*;

store_tests!(
    each_write_records_its_change,
    writes_that_change_nothing_record_nothing,
    revoking_a_successor_ends_its_predecessors_grace,
    a_predecessor_past_its_overlap_is_left_alone,
    the_feed_pages_in_order,
    sweep_prunes_day_old_changes,
    an_unknown_change_kind_is_corrupt,
    a_deployment_is_created_once,
    signed_revocations_are_read_back,
    a_listener_hears_changes_committed_elsewhere,
    a_listener_reports_a_lost_connection,
    closing_the_store_ends_a_waiting_listener,
);

/// A fixed "now" for every record.
pub(crate) const T: i64 = 1_700_000_000;

/// Which database a test store is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Backend {
    Sqlite,
    Postgres,
}

/// A freshly migrated store and what is needed to reach its database again.
pub(crate) struct TestStore {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) backend: Backend,
    pub(crate) url: String,
    _dir: Option<tempfile::TempDir>,
}

impl TestStore {
    async fn sqlite() -> TestStore {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("ward.db").display());
        let store = ward_store::open(&url).await.unwrap();
        TestStore { store, backend: Backend::Sqlite, url, _dir: Some(dir) }
    }

    async fn postgres() -> Option<TestStore> {
        let url = pg::fresh_database().await?;
        let store = ward_store::open(&url).await.unwrap();
        Some(TestStore { store, backend: Backend::Postgres, url, _dir: None })
    }

    /// Another store on the same database: another node, with its own connections.
    pub(crate) async fn another_node(&self) -> Arc<dyn Store> {
        ward_store::open(&self.url).await.unwrap()
    }

    /// Runs raw SQL on the database, behind the store's back.
    pub(crate) async fn raw(&self, sql: &str) {
        use sqlx::{Connection as _, Executor as _};
        match self.backend {
            Backend::Sqlite => {
                let mut c = sqlx::SqliteConnection::connect(&self.url).await.unwrap();
                c.execute(sql).await.unwrap();
            }
            Backend::Postgres => {
                let mut c = sqlx::PgConnection::connect(&self.url).await.unwrap();
                c.execute(sql).await.unwrap();
            }
        }
    }

    /// Every change after `cursor`, as (kind, target), moving the cursor past them.
    pub(crate) async fn new_changes(&self, cursor: &mut i64) -> Vec<(ChangeKind, String)> {
        let changes = self.store.changes_after(*cursor, 1000).await.unwrap();
        for c in &changes {
            assert!(c.seq > *cursor, "seqs grow: {changes:?}");
            *cursor = c.seq;
        }
        changes.into_iter().map(|c| (c.kind, c.target)).collect()
    }
}

pub(crate) fn key(id: &str, subject: &str) -> ApiKey {
    ApiKey {
        id: id.into(),
        env: "test".into(),
        subject: subject.into(),
        name: None,
        scopes: vec!["read".into()],
        meta: serde_json::json!({}),
        secret_hash: SecretHash([7; 32]),
        created_at: T,
        expires_at: None,
        not_before: None,
        remaining_uses: None,
        disabled_at: None,
        revoked: None,
        superseded: None,
        refill: None,
        last_used_at: None,
        allowed_ips: Vec::new(),
        ratelimits: Vec::new(),
    }
}

pub(crate) fn session(id: &str, subject: &str) -> Session {
    Session {
        id: id.into(),
        env: "test".into(),
        subject: subject.into(),
        claims: serde_json::json!({}),
        secret_hash: SecretHash([8; 32]),
        created_at: T,
        expires_at: T + 86_400,
        idle_timeout: 3_600,
        last_seen_at: T,
        superseded: None,
        revoked: None,
    }
}

pub(crate) fn client(id: &str) -> Client {
    Client {
        id: id.into(),
        env: "test".into(),
        name: "a client".into(),
        secret_hash: SecretHash([9; 32]),
        scopes: vec!["read".into()],
        audiences: vec!["api".into()],
        created_at: T,
        revoked: None,
    }
}

pub(crate) fn signing_key(kid: &str, created_at: i64) -> SigningKeyRecord {
    SigningKeyRecord {
        kid: kid.into(),
        alg: "EdDSA".into(),
        purpose: "access_token".into(),
        private_enc: vec![1, 2, 3],
        nonce: vec![0; 12],
        public_jwk: serde_json::json!({"kty": "OKP"}),
        created_at,
        activates_at: created_at,
        retiring_at: None,
        retired_at: None,
    }
}

pub(crate) fn rev(at: i64) -> Revocation {
    Revocation { at, reason: RevokeReason::Compromised, note: Some("leaked".into()), actor: "tester".into() }
}

pub(crate) fn deny(kind: DenyKind, value: &str, at: i64) -> DenyEntry {
    DenyEntry { kind, value: value.into(), until: at + 3_600, revocation: rev(at) }
}

/// `(kind, target)` pairs, for comparing with [`TestStore::new_changes`].
pub(crate) fn changed(list: &[(ChangeKind, &str)]) -> Vec<(ChangeKind, String)> {
    list.iter().map(|(k, t)| (*k, (*t).to_string())).collect()
}
