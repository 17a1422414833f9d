//! The SQL both backends share. SQLite and PostgreSQL both read `$N` placeholders, `RETURNING`
//! and `ON CONFLICT`, so the statements are written once and [`store_impl!`] expands the one
//! [`Store`](crate::Store) implementation for each backend's pool type. Backend-specific work
//! (connection options, migrations) stays in `sqlite.rs` and `postgres.rs`.

/// A dead API key: revoked, superseded or expired before the cutoff `$1`.
pub(crate) const KEY_DEAD: &str = "(revoked_at < $1 OR superseded_at < $1 OR expires_at < $1)";
pub(crate) const SESSION_DEAD: &str =
    "(revoked_at < $1 OR superseded_at < $1 OR expires_at < $1 OR last_seen_at + idle_timeout < $1)";
pub(crate) const REFRESH_DEAD: &str = "(revoked_at < $1 OR rotated_at < $1 OR expires_at < $1)";
pub(crate) const ONE_TIME_DEAD: &str =
    "(revoked_at < $1 OR used_at < $1 OR superseded_at < $1 OR expires_at < $1)";

/// Seconds a change row is kept: the feed only serves nodes catching up after a disconnect, and
/// one that was away longer reloads everything instead.
pub(crate) const CHANGE_RETENTION: i64 = 86_400;

/// Tombstone sources: table, kind code, dead condition, reason expression, time expression,
/// successor column.
pub(crate) const SWEEPS: [(&str, &str, &str, &str, &str, &str); 4] = [
    (
        "api_keys",
        "ak",
        KEY_DEAD,
        "CASE WHEN revoked_at IS NOT NULL THEN 'revoked' WHEN superseded_at < $1 THEN 'superseded' \
         ELSE 'expired' END",
        "CASE WHEN revoked_at IS NOT NULL THEN revoked_at WHEN superseded_at < $1 THEN superseded_at \
         ELSE expires_at END",
        "superseded_by",
    ),
    (
        "sessions",
        "ss",
        SESSION_DEAD,
        "CASE WHEN revoked_at IS NOT NULL THEN 'revoked' WHEN superseded_at < $1 THEN 'superseded' \
         WHEN last_seen_at + idle_timeout < expires_at THEN 'idle_timeout' ELSE 'expired' END",
        "CASE WHEN revoked_at IS NOT NULL THEN revoked_at WHEN superseded_at < $1 THEN superseded_at \
         WHEN last_seen_at + idle_timeout < expires_at THEN last_seen_at + idle_timeout ELSE expires_at END",
        "superseded_by",
    ),
    (
        "one_time_tokens",
        "ot",
        ONE_TIME_DEAD,
        "CASE WHEN revoked_at IS NOT NULL THEN 'revoked' WHEN used_at IS NOT NULL THEN 'already_used' \
         WHEN superseded_at < $1 THEN 'superseded' ELSE 'expired' END",
        "CASE WHEN revoked_at IS NOT NULL THEN revoked_at WHEN used_at IS NOT NULL THEN used_at \
         WHEN superseded_at < $1 THEN superseded_at ELSE expires_at END",
        "superseded_by",
    ),
    (
        "refresh_tokens",
        "rt",
        REFRESH_DEAD,
        "CASE WHEN revoked_at IS NOT NULL THEN 'revoked' WHEN rotated_at < $1 THEN 'superseded' ELSE 'expired' END",
        "CASE WHEN revoked_at IS NOT NULL THEN revoked_at WHEN rotated_at < $1 THEN rotated_at ELSE expires_at END",
        "rotated_to",
    ),
];

/// Expands the [`Store`](crate::Store) implementation for a struct with a `pool` field.
macro_rules! store_impl {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl $crate::Store for $store {
            async fn ping(&self) -> Result<(), StoreError> {
                sqlx::query("SELECT 1").execute(&self.pool).await?;
                Ok(())
            }

            async fn insert_api_key(&self, k: &ApiKey) -> Result<(), StoreError> {
                insert_api_key(&self.pool, k).await
            }

            async fn get_api_key(&self, id: &str) -> Result<Option<ApiKey>, StoreError> {
                let row: Option<KeyRow> =
                    sqlx::query_as(&format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE id = $1"))
                        .bind(id)
                        .fetch_optional(&self.pool)
                        .await?;
                opt(row)
            }

            async fn list_api_keys(&self, f: &KeyFilter) -> Result<Vec<ApiKey>, StoreError> {
                let rows: Vec<KeyRow> = sqlx::query_as(&format!(
                    "SELECT {KEY_COLUMNS} FROM api_keys WHERE (CAST($1 AS TEXT) IS NULL OR subject = $1) \
                     AND (CAST($2 AS BIGINT) IS NULL OR (expires_at > $3 AND expires_at <= $2 \
                     AND revoked_at IS NULL AND superseded_at IS NULL)) \
                     ORDER BY created_at DESC, id LIMIT $4"
                ))
                .bind(&f.subject)
                .bind(f.expiring_before)
                .bind(f.now)
                .bind(i64::from(f.limit))
                .fetch_all(&self.pool)
                .await?;
                all(rows)
            }

            async fn count_api_keys(&self) -> Result<u64, StoreError> {
                let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM api_keys").fetch_one(&self.pool).await?;
                Ok(u64::try_from(n).unwrap_or(0))
            }

            async fn revoke_api_key(&self, id: &str, rev: &Revocation) -> Result<Option<ApiKey>, StoreError> {
                let mut tx = self.pool.begin().await?;
                revoke_with_predecessors(&mut *tx, "api_keys", $crate::ChangeKind::ApiKey, id, rev).await?;
                tx.commit().await?;
                self.get_api_key(id).await
            }

            async fn set_api_key_disabled(
                &self,
                id: &str,
                at: Option<i64>,
                now: i64,
            ) -> Result<Option<ApiKey>, StoreError> {
                let mut tx = self.pool.begin().await?;
                let row: Option<KeyRow> = sqlx::query_as(&format!(
                    "UPDATE api_keys SET disabled_at = $1 WHERE id = $2 RETURNING {KEY_COLUMNS}"
                ))
                .bind(at)
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
                let key: Option<ApiKey> = opt(row)?;
                if key.is_some() {
                    record_change(&mut *tx, $crate::ChangeKind::ApiKey, id, now).await?;
                }
                tx.commit().await?;
                Ok(key)
            }

            async fn consume_api_key_use(&self, id: &str, now: i64) -> Result<Option<i64>, StoreError> {
                // A due refill resets the count to `refill_amount` (less this use) and moves the
                // period start forward by whole intervals; all in one conditional statement.
                const DUE: &str = "(refill_interval IS NOT NULL AND $2 >= refilled_at + refill_interval)";
                let left: Option<i64> = sqlx::query_scalar(&format!(
                    "UPDATE api_keys SET \
                       remaining_uses = CASE WHEN {DUE} THEN refill_amount - 1 ELSE remaining_uses - 1 END, \
                       refilled_at = CASE WHEN {DUE} \
                         THEN refilled_at + (($2 - refilled_at) / refill_interval) * refill_interval \
                         ELSE refilled_at END \
                     WHERE id = $1 AND (remaining_uses > 0 OR {DUE}) RETURNING remaining_uses"
                ))
                .bind(id)
                .bind(now)
                .fetch_optional(&self.pool)
                .await?;
                Ok(left)
            }

            async fn rotate_api_key(&self, old_id: &str, new: &ApiKey, stops_at: i64) -> Result<bool, StoreError> {
                let mut tx = self.pool.begin().await?;
                let n = supersede_in(&mut *tx, "api_keys", old_id, &new.id, stops_at).await?;
                if n == 0 {
                    tx.rollback().await?;
                    return Ok(false);
                }
                insert_api_key(&mut *tx, new).await?;
                record_change(&mut *tx, $crate::ChangeKind::ApiKey, old_id, stops_at).await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn touch_api_keys(&self, uses: &[(String, i64)]) -> Result<(), StoreError> {
                let mut tx = self.pool.begin().await?;
                for (id, at) in uses {
                    sqlx::query(
                        "UPDATE api_keys SET last_used_at = $2 WHERE id = $1 \
                         AND (last_used_at IS NULL OR last_used_at < $2)",
                    )
                    .bind(id)
                    .bind(at)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn insert_session(&self, s: &Session) -> Result<(), StoreError> {
                insert_session(&self.pool, s).await
            }

            async fn get_session(&self, id: &str) -> Result<Option<Session>, StoreError> {
                let row: Option<SessionRow> =
                    sqlx::query_as(&format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE id = $1"))
                        .bind(id)
                        .fetch_optional(&self.pool)
                        .await?;
                opt(row)
            }

            async fn list_sessions(&self, subject: &str, limit: u32) -> Result<Vec<Session>, StoreError> {
                let rows: Vec<SessionRow> = sqlx::query_as(&format!(
                    "SELECT {SESSION_COLUMNS} FROM sessions WHERE subject = $1 \
                     ORDER BY created_at DESC, id LIMIT $2"
                ))
                .bind(subject)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
                all(rows)
            }

            async fn revoke_session(&self, id: &str, rev: &Revocation) -> Result<Option<Session>, StoreError> {
                let mut tx = self.pool.begin().await?;
                revoke_with_predecessors(&mut *tx, "sessions", $crate::ChangeKind::Session, id, rev).await?;
                tx.commit().await?;
                self.get_session(id).await
            }

            async fn renew_session(&self, old_id: &str, new: &Session, stops_at: i64) -> Result<bool, StoreError> {
                let mut tx = self.pool.begin().await?;
                let n = supersede_in(&mut *tx, "sessions", old_id, &new.id, stops_at).await?;
                if n == 0 {
                    tx.rollback().await?;
                    return Ok(false);
                }
                insert_session(&mut *tx, new).await?;
                record_change(&mut *tx, $crate::ChangeKind::Session, old_id, stops_at).await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn touch_sessions(&self, seen: &[(String, i64)]) -> Result<(), StoreError> {
                let mut tx = self.pool.begin().await?;
                for (id, at) in seen {
                    sqlx::query("UPDATE sessions SET last_seen_at = $2 WHERE id = $1 AND last_seen_at < $2")
                        .bind(id)
                        .bind(at)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn insert_one_time(&self, t: &OneTimeToken, supersede: bool) -> Result<u64, StoreError> {
                let mut tx = self.pool.begin().await?;
                let mut superseded = 0;
                if supersede {
                    superseded = sqlx::query(
                        "UPDATE one_time_tokens SET superseded_at = $3, superseded_by = $4 \
                         WHERE subject = $1 AND purpose = $2 AND used_at IS NULL AND revoked_at IS NULL \
                         AND superseded_at IS NULL",
                    )
                    .bind(&t.subject)
                    .bind(&t.purpose)
                    .bind(t.created_at)
                    .bind(&t.id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                }
                sqlx::query(
                    "INSERT INTO one_time_tokens (id, env, subject, purpose, data, secret_hash, created_at, \
                     expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(&t.id)
                .bind(&t.env)
                .bind(&t.subject)
                .bind(&t.purpose)
                .bind(json_text(&t.data)?)
                .bind(&t.secret_hash.0[..])
                .bind(t.created_at)
                .bind(t.expires_at)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(superseded)
            }

            async fn get_one_time(&self, id: &str) -> Result<Option<OneTimeToken>, StoreError> {
                let row: Option<OneTimeRow> =
                    sqlx::query_as(&format!("SELECT {ONE_TIME_COLUMNS} FROM one_time_tokens WHERE id = $1"))
                        .bind(id)
                        .fetch_optional(&self.pool)
                        .await?;
                opt(row)
            }

            async fn redeem_one_time(&self, id: &str, now: i64) -> Result<bool, StoreError> {
                let n = sqlx::query(
                    "UPDATE one_time_tokens SET used_at = $2 WHERE id = $1 AND used_at IS NULL \
                     AND revoked_at IS NULL AND (superseded_at IS NULL OR superseded_at > $2) AND expires_at > $2",
                )
                .bind(id)
                .bind(now)
                .execute(&self.pool)
                .await?
                .rows_affected();
                Ok(n == 1)
            }

            async fn revoke_subject(
                &self,
                subject: &str,
                rev: &Revocation,
                signed_until: i64,
            ) -> Result<SubjectRevocation, StoreError> {
                let mut tx = self.pool.begin().await?;
                let api_keys = revoke_in(&mut *tx, "api_keys", "subject", subject, rev).await?;
                let sessions = revoke_in(&mut *tx, "sessions", "subject", subject, rev).await?;
                let one_time = revoke_in(&mut *tx, "one_time_tokens", "subject", subject, rev).await?;
                let refresh_tokens = revoke_in(&mut *tx, "refresh_tokens", "subject", subject, rev).await?;
                let entry = ward_core::deny::DenyEntry {
                    kind: ward_core::deny::DenyKind::Subject,
                    value: subject.to_string(),
                    until: signed_until,
                    revocation: rev.clone(),
                };
                upsert_deny(&mut *tx, &entry).await?;
                record_change(&mut *tx, $crate::ChangeKind::Subject, subject, rev.at).await?;
                tx.commit().await?;
                Ok(SubjectRevocation { api_keys, sessions, one_time, refresh_tokens })
            }

            async fn list_signing_keys(&self) -> Result<Vec<SigningKeyRecord>, StoreError> {
                let rows: Vec<SigningKeyRow> = sqlx::query_as(&format!(
                    "SELECT {SIGNING_KEY_COLUMNS} FROM signing_keys \
                     ORDER BY activates_at DESC, (CASE WHEN retiring_at IS NULL THEN 0 ELSE 1 END), kid"
                ))
                .fetch_all(&self.pool)
                .await?;
                all(rows)
            }

            async fn add_signing_key(
                &self,
                k: &SigningKeyRecord,
                retire: Option<$crate::Retire<'_>>,
            ) -> Result<bool, StoreError> {
                let mut tx = self.pool.begin().await?;
                if let Some(r) = retire {
                    let n = sqlx::query(
                        "UPDATE signing_keys SET retiring_at = $2, retired_at = $3 \
                         WHERE kid = $1 AND retiring_at IS NULL",
                    )
                    .bind(r.kid)
                    .bind(r.retiring_at)
                    .bind(r.retired_at)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    if n == 0 {
                        tx.rollback().await?;
                        return Ok(false);
                    }
                }
                sqlx::query(
                    "INSERT INTO signing_keys (kid, alg, purpose, private_enc, nonce, public_jwk, created_at, \
                     activates_at, retiring_at, retired_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                )
                .bind(&k.kid)
                .bind(&k.alg)
                .bind(&k.purpose)
                .bind(&k.private_enc[..])
                .bind(&k.nonce[..])
                .bind(json_text(&k.public_jwk)?)
                .bind(k.created_at)
                .bind(k.activates_at)
                .bind(k.retiring_at)
                .bind(k.retired_at)
                .execute(&mut *tx)
                .await?;
                record_change(&mut *tx, $crate::ChangeKind::KeyRing, &k.kid, k.created_at).await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn insert_client(&self, c: &Client) -> Result<(), StoreError> {
                sqlx::query(
                    "INSERT INTO clients (id, env, name, secret_hash, scopes, audiences, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(&c.id)
                .bind(&c.env)
                .bind(&c.name)
                .bind(&c.secret_hash.0[..])
                .bind(json_text(&c.scopes)?)
                .bind(json_text(&c.audiences)?)
                .bind(c.created_at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn get_client(&self, id: &str) -> Result<Option<Client>, StoreError> {
                let row: Option<ClientRow> =
                    sqlx::query_as(&format!("SELECT {CLIENT_COLUMNS} FROM clients WHERE id = $1"))
                        .bind(id)
                        .fetch_optional(&self.pool)
                        .await?;
                opt(row)
            }

            async fn revoke_client(&self, id: &str, rev: &Revocation) -> Result<Option<Client>, StoreError> {
                let mut tx = self.pool.begin().await?;
                if revoke_in(&mut *tx, "clients", "id", id, rev).await? > 0 {
                    record_change(&mut *tx, $crate::ChangeKind::Client, id, rev.at).await?;
                }
                tx.commit().await?;
                self.get_client(id).await
            }

            async fn insert_refresh(&self, t: &RefreshToken) -> Result<(), StoreError> {
                insert_refresh(&self.pool, t).await
            }

            async fn get_refresh(&self, id: &str) -> Result<Option<(RefreshToken, Option<Vec<u8>>)>, StoreError> {
                let row: Option<RefreshRow> =
                    sqlx::query_as(&format!("SELECT {REFRESH_COLUMNS} FROM refresh_tokens WHERE id = $1"))
                        .bind(id)
                        .fetch_optional(&self.pool)
                        .await?;
                opt(row)
            }

            async fn rotate_refresh(
                &self,
                old_id: &str,
                new: &RefreshToken,
                now: i64,
                retry_blob: &[u8],
            ) -> Result<bool, StoreError> {
                let mut tx = self.pool.begin().await?;
                let n = sqlx::query(
                    "UPDATE refresh_tokens SET rotated_at = $2, rotated_to = $3, retry_blob = $4 \
                     WHERE id = $1 AND rotated_at IS NULL AND revoked_at IS NULL",
                )
                .bind(old_id)
                .bind(now)
                .bind(&new.id)
                .bind(retry_blob)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if n == 0 {
                    tx.rollback().await?;
                    return Ok(false);
                }
                insert_refresh(&mut *tx, new).await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn revoke_refresh_family(&self, e: &ward_core::deny::DenyEntry) -> Result<u64, StoreError> {
                let mut tx = self.pool.begin().await?;
                let n = revoke_in(&mut *tx, "refresh_tokens", "family", &e.value, &e.revocation).await?;
                upsert_deny(&mut *tx, e).await?;
                record_deny_change(&mut *tx, e).await?;
                tx.commit().await?;
                Ok(n)
            }

            async fn add_signed_revocation(&self, e: &ward_core::deny::DenyEntry) -> Result<(), StoreError> {
                let mut tx = self.pool.begin().await?;
                upsert_deny(&mut *tx, e).await?;
                record_deny_change(&mut *tx, e).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn signed_revocations_since(
                &self,
                since: i64,
                now: i64,
            ) -> Result<Vec<ward_core::deny::DenyEntry>, StoreError> {
                let rows: Vec<DenyRow> = sqlx::query_as(&format!(
                    "SELECT {DENY_COLUMNS} FROM signed_revocations \
                     WHERE revoked_at >= $1 AND until_at > $2 ORDER BY revoked_at"
                ))
                .bind(since)
                .bind(now)
                .fetch_all(&self.pool)
                .await?;
                all(rows)
            }

            async fn get_tombstone(&self, id: &str) -> Result<Option<Tombstone>, StoreError> {
                let row: Option<TombstoneRow> =
                    sqlx::query_as(&format!("SELECT {TOMBSTONE_COLUMNS} FROM tombstones WHERE id = $1"))
                        .bind(id)
                        .fetch_optional(&self.pool)
                        .await?;
                opt(row)
            }

            async fn sweep(&self, p: &SweepPolicy) -> Result<SweepStats, StoreError> {
                let cutoff = p.now.saturating_sub(p.dead_after);
                let purge_after = p.now.saturating_add(p.tombstone_retention);
                let mut stats = SweepStats::default();
                for (table, kind, dead, reason, at, successor) in $crate::shared::SWEEPS {
                    let mut tx = self.pool.begin().await?;
                    let n = sqlx::query(&format!(
                        "INSERT INTO tombstones (id, kind, subject, reason, at, revoked_reason, revoked_note, \
                         revoked_by, replaced_by, purge_after) \
                         SELECT id, '{kind}', subject, {reason}, {at}, revoked_reason, revoked_note, revoked_by, \
                         {successor}, $2 FROM {table} \
                         WHERE id IN (SELECT id FROM {table} WHERE {dead} LIMIT $3) \
                         ON CONFLICT (id) DO NOTHING"
                    ))
                    .bind(cutoff)
                    .bind(purge_after)
                    .bind(i64::from(p.batch))
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    sqlx::query(&format!(
                        "DELETE FROM {table} WHERE {dead} \
                         AND EXISTS (SELECT 1 FROM tombstones t WHERE t.id = {table}.id)"
                    ))
                    .bind(cutoff)
                    .execute(&mut *tx)
                    .await?;
                    tx.commit().await?;
                    stats.tombstoned += n;
                }
                sqlx::query("DELETE FROM replay_seen WHERE until < $1")
                    .bind(p.now)
                    .execute(&self.pool)
                    .await?;
                sqlx::query("DELETE FROM signed_revocations WHERE until_at < $1")
                    .bind(p.now)
                    .execute(&self.pool)
                    .await?;
                sqlx::query("DELETE FROM changes WHERE at < $1")
                    .bind(p.now.saturating_sub($crate::shared::CHANGE_RETENTION))
                    .execute(&self.pool)
                    .await?;
                stats.purged = sqlx::query(
                    "DELETE FROM tombstones WHERE id IN \
                     (SELECT id FROM tombstones WHERE purge_after < $1 LIMIT $2)",
                )
                .bind(p.now)
                .bind(i64::from(p.batch))
                .execute(&self.pool)
                .await?
                .rows_affected();
                Ok(stats)
            }

            async fn remember_once(&self, scope: &str, value: &str, until: i64, now: i64) -> Result<bool, StoreError> {
                // A record whose time has passed may be taken over (the sweeper may not have
                // deleted it yet); a live one makes this a replay. On PostgreSQL a concurrent
                // insert of the same value waits for the first to commit, then sees its row.
                let n = sqlx::query(
                    "INSERT INTO replay_seen (scope, value, until) VALUES ($1, $2, $3) \
                     ON CONFLICT (scope, value) DO UPDATE SET until = excluded.until \
                     WHERE replay_seen.until <= $4",
                )
                .bind(scope)
                .bind(value)
                .bind(until)
                .bind(now)
                .execute(&self.pool)
                .await?
                .rows_affected();
                Ok(n == 1)
            }

            async fn get_subject_limits(&self, subject: &str) -> Result<Vec<NamedLimit>, StoreError> {
                let row: Option<String> =
                    sqlx::query_scalar("SELECT ratelimits FROM subject_limits WHERE subject = $1")
                        .bind(subject)
                        .fetch_optional(&self.pool)
                        .await?;
                match row {
                    Some(j) => serde_json::from_str(&j)
                        .map_err(|_| StoreError::Corrupt(format!("subject_limits.ratelimits of {subject:?}"))),
                    None => Ok(Vec::new()),
                }
            }

            async fn set_subject_limits(&self, subject: &str, limits: &[NamedLimit], now: i64) -> Result<(), StoreError> {
                let mut tx = self.pool.begin().await?;
                if limits.is_empty() {
                    sqlx::query("DELETE FROM subject_limits WHERE subject = $1")
                        .bind(subject)
                        .execute(&mut *tx)
                        .await?;
                } else {
                    sqlx::query(
                        "INSERT INTO subject_limits (subject, ratelimits, updated_at) VALUES ($1, $2, $3) \
                         ON CONFLICT (subject) DO UPDATE SET ratelimits = excluded.ratelimits, \
                         updated_at = excluded.updated_at",
                    )
                    .bind(subject)
                    .bind(json_text(&limits)?)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                }
                record_change(&mut *tx, $crate::ChangeKind::Limits, subject, now).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn changes_after(&self, after: i64, limit: u32) -> Result<Vec<$crate::Change>, StoreError> {
                let rows: Vec<ChangeRow> = sqlx::query_as(&format!(
                    "SELECT {CHANGE_COLUMNS} FROM changes WHERE seq > $1 ORDER BY seq LIMIT $2"
                ))
                .bind(after)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
                all(rows)
            }

            async fn latest_change(&self) -> Result<i64, StoreError> {
                let seq: i64 =
                    sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM changes").fetch_one(&self.pool).await?;
                Ok(seq)
            }

            async fn listen(&self) -> Result<Option<Box<dyn $crate::ChangeListener>>, StoreError> {
                self.listen_changes().await
            }

            async fn get_signed_revocation(
                &self,
                kind: ward_core::deny::DenyKind,
                value: &str,
            ) -> Result<Option<ward_core::deny::DenyEntry>, StoreError> {
                let row: Option<DenyRow> = sqlx::query_as(&format!(
                    "SELECT {DENY_COLUMNS} FROM signed_revocations WHERE kind = $1 AND value = $2"
                ))
                .bind(kind.as_str())
                .bind(value)
                .fetch_optional(&self.pool)
                .await?;
                opt(row)
            }

            async fn deployment(&self) -> Result<Option<$crate::Deployment>, StoreError> {
                let row: Option<DeploymentRow> =
                    sqlx::query_as(&format!("SELECT {DEPLOYMENT_COLUMNS} FROM deployment WHERE singleton = 1"))
                        .fetch_optional(&self.pool)
                        .await?;
                opt(row)
            }

            async fn create_deployment(&self, d: &$crate::Deployment) -> Result<bool, StoreError> {
                let n = sqlx::query(
                    "INSERT INTO deployment (singleton, id, issuer, master_check, created_at) \
                     VALUES (1, $1, $2, $3, $4) ON CONFLICT (singleton) DO NOTHING",
                )
                .bind(&d.id)
                .bind(&d.issuer)
                .bind(&d.master_check[..])
                .bind(d.created_at)
                .execute(&self.pool)
                .await?
                .rows_affected();
                Ok(n == 1)
            }

            async fn close(&self) {
                self.pool.close().await;
            }
        }

        async fn insert_api_key<'e, E: sqlx::Executor<'e, Database = Db>>(e: E, k: &ApiKey) -> Result<(), StoreError> {
            let refill = k.refill.as_ref();
            sqlx::query(
                "INSERT INTO api_keys (id, env, subject, name, scopes, meta, secret_hash, created_at, \
                 expires_at, not_before, remaining_uses, disabled_at, refill_interval, refill_amount, refilled_at, \
                 allowed_ips, ratelimits) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
            )
            .bind(&k.id)
            .bind(&k.env)
            .bind(&k.subject)
            .bind(&k.name)
            .bind(json_text(&k.scopes)?)
            .bind(json_text(&k.meta)?)
            .bind(&k.secret_hash.0[..])
            .bind(k.created_at)
            .bind(k.expires_at)
            .bind(k.not_before)
            .bind(k.remaining_uses)
            .bind(k.disabled_at)
            .bind(refill.map(|r| r.interval))
            .bind(refill.map(|r| r.amount))
            .bind(refill.map(|r| r.last_at))
            .bind(json_list(&k.allowed_ips)?)
            .bind(json_list(&k.ratelimits)?)
            .execute(e)
            .await?;
            Ok(())
        }

        async fn insert_session<'e, E: sqlx::Executor<'e, Database = Db>>(e: E, s: &Session) -> Result<(), StoreError> {
            sqlx::query(
                "INSERT INTO sessions (id, env, subject, claims, secret_hash, created_at, expires_at, \
                 idle_timeout, last_seen_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(&s.id)
            .bind(&s.env)
            .bind(&s.subject)
            .bind(json_text(&s.claims)?)
            .bind(&s.secret_hash.0[..])
            .bind(s.created_at)
            .bind(s.expires_at)
            .bind(s.idle_timeout)
            .bind(s.last_seen_at)
            .execute(e)
            .await?;
            Ok(())
        }

        async fn insert_refresh<'e, E: sqlx::Executor<'e, Database = Db>>(
            e: E,
            t: &RefreshToken,
        ) -> Result<(), StoreError> {
            sqlx::query(
                "INSERT INTO refresh_tokens (id, env, family, subject, client_id, audience, scopes, format, \
                 secret_hash, created_at, expires_at, jkt) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            )
            .bind(&t.id)
            .bind(&t.env)
            .bind(&t.family)
            .bind(&t.subject)
            .bind(&t.client_id)
            .bind(json_text(&t.audience)?)
            .bind(json_text(&t.scopes)?)
            .bind(&t.format)
            .bind(&t.secret_hash.0[..])
            .bind(t.created_at)
            .bind(t.expires_at)
            .bind(&t.jkt)
            .execute(e)
            .await?;
            Ok(())
        }

        /// Records a signed-token revocation; the first one for a (kind, value) stands, except that
        /// a later subject revocation moves the subject's cut-off forward.
        async fn upsert_deny<'e, E: sqlx::Executor<'e, Database = Db>>(
            e: E,
            d: &ward_core::deny::DenyEntry,
        ) -> Result<(), StoreError> {
            sqlx::query(
                "INSERT INTO signed_revocations (kind, value, revoked_at, until_at, reason, note, actor) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (kind, value) DO UPDATE SET \
                 revoked_at = excluded.revoked_at, until_at = excluded.until_at, reason = excluded.reason, \
                 note = excluded.note, actor = excluded.actor \
                 WHERE signed_revocations.kind = 'subject' AND excluded.revoked_at > signed_revocations.revoked_at",
            )
            .bind(d.kind.as_str())
            .bind(&d.value)
            .bind(d.revocation.at)
            .bind(d.until)
            .bind(d.revocation.reason.as_str())
            .bind(&d.revocation.note)
            .bind(&d.revocation.actor)
            .execute(e)
            .await?;
            Ok(())
        }

        /// Revokes the rows of `table` where `column = value` that are not revoked yet.
        async fn revoke_in<'e, E: sqlx::Executor<'e, Database = Db>>(
            e: E,
            table: &str,
            column: &str,
            value: &str,
            rev: &Revocation,
        ) -> Result<u64, StoreError> {
            let n = sqlx::query(&format!(
                "UPDATE {table} SET revoked_at = $1, revoked_reason = $2, revoked_note = $3, revoked_by = $4 \
                 WHERE {column} = $5 AND revoked_at IS NULL"
            ))
            .bind(rev.at)
            .bind(rev.reason.as_str())
            .bind(&rev.note)
            .bind(&rev.actor)
            .bind(value)
            .execute(e)
            .await?
            .rows_affected();
            Ok(n)
        }

        /// Appends a row to the change feed. Called inside the transaction of the write it
        /// describes, so the two commit (and, on PostgreSQL, notify) together or not at all.
        async fn record_change<'e, E: sqlx::Executor<'e, Database = Db>>(
            e: E,
            kind: $crate::ChangeKind,
            target: &str,
            at: i64,
        ) -> Result<(), StoreError> {
            sqlx::query("INSERT INTO changes (kind, target, at) VALUES ($1, $2, $3)")
                .bind(kind.as_str())
                .bind(target)
                .bind(at)
                .execute(e)
                .await?;
            Ok(())
        }

        /// Records that the signed-token deny entry `<kind>:<value>` was written. Always, even when
        /// an earlier entry stood: a node that missed that one learns of it here.
        async fn record_deny_change<'e, E: sqlx::Executor<'e, Database = Db>>(
            e: E,
            d: &ward_core::deny::DenyEntry,
        ) -> Result<(), StoreError> {
            let target = format!("{}:{}", d.kind.as_str(), d.value);
            record_change(e, $crate::ChangeKind::Deny, &target, d.revocation.at).await
        }

        /// Revokes the row `id` of `table` (`api_keys` or `sessions`) unless already revoked, and
        /// also its predecessors still inside their overlap or grace: once the successor is
        /// revoked, an old secret must not keep working until its grace ends. The chain is followed
        /// back as far as it reaches (two rotations inside one overlap leave two live
        /// predecessors), and even when `id` was already revoked, so that repeating a revocation
        /// closes a grace left open. Records a change for each row revoked.
        async fn revoke_with_predecessors(
            conn: &mut <Db as sqlx::Database>::Connection,
            table: &str,
            kind: $crate::ChangeKind,
            id: &str,
            rev: &Revocation,
        ) -> Result<(), StoreError> {
            if revoke_in(&mut *conn, table, "id", id, rev).await? > 0 {
                record_change(&mut *conn, kind, id, rev.at).await?;
            }
            // Each row is revoked at most once (`revoked_at IS NULL`), so this ends.
            let mut successors = vec![id.to_string()];
            while let Some(successor) = successors.pop() {
                let ended: Vec<String> = sqlx::query_scalar(&format!(
                    "UPDATE {table} SET revoked_at = $1, revoked_reason = $2, revoked_note = $3, \
                     revoked_by = $4 WHERE superseded_by = $5 AND superseded_at > $1 AND revoked_at IS NULL \
                     RETURNING id"
                ))
                .bind(rev.at)
                .bind(rev.reason.as_str())
                .bind(&rev.note)
                .bind(&rev.actor)
                .bind(&successor)
                .fetch_all(&mut *conn)
                .await?;
                for predecessor in ended {
                    record_change(&mut *conn, kind, &predecessor, rev.at).await?;
                    successors.push(predecessor);
                }
            }
            Ok(())
        }

        /// Marks a live row of `table` superseded by `by` from `at`; returns rows changed (0 or 1).
        async fn supersede_in<'e, E: sqlx::Executor<'e, Database = Db>>(
            e: E,
            table: &str,
            id: &str,
            by: &str,
            at: i64,
        ) -> Result<u64, StoreError> {
            let n = sqlx::query(&format!(
                "UPDATE {table} SET superseded_at = $1, superseded_by = $2 \
                 WHERE id = $3 AND superseded_at IS NULL AND revoked_at IS NULL"
            ))
            .bind(at)
            .bind(by)
            .bind(id)
            .execute(e)
            .await?
            .rows_affected();
            Ok(n)
        }
    };
}

pub(crate) use store_impl;
