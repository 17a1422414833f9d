-- Lifecycle: key rotation and refill, sessions, one-time tokens, tombstones.
ALTER TABLE api_keys ADD COLUMN superseded_at INTEGER;
ALTER TABLE api_keys ADD COLUMN superseded_by TEXT;
ALTER TABLE api_keys ADD COLUMN refill_interval INTEGER;
ALTER TABLE api_keys ADD COLUMN refill_amount INTEGER;
ALTER TABLE api_keys ADD COLUMN refilled_at INTEGER;
ALTER TABLE api_keys ADD COLUMN last_used_at INTEGER;
CREATE INDEX api_keys_expires ON api_keys (expires_at);

CREATE TABLE sessions (
    id              TEXT PRIMARY KEY NOT NULL,
    env             TEXT NOT NULL,
    subject         TEXT NOT NULL,
    claims          TEXT NOT NULL,          -- JSON value
    secret_hash     BLOB NOT NULL,
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,       -- the absolute deadline
    idle_timeout    INTEGER NOT NULL,       -- seconds
    last_seen_at    INTEGER NOT NULL,       -- written behind, in batches
    superseded_at   INTEGER,
    superseded_by   TEXT,
    revoked_at      INTEGER,
    revoked_reason  TEXT,
    revoked_note    TEXT,
    revoked_by      TEXT
) STRICT;
CREATE INDEX sessions_subject ON sessions (subject, created_at);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE one_time_tokens (
    id              TEXT PRIMARY KEY NOT NULL,
    env             TEXT NOT NULL,
    subject         TEXT NOT NULL,
    purpose         TEXT NOT NULL,
    data            TEXT NOT NULL,          -- JSON value
    secret_hash     BLOB NOT NULL,
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    used_at         INTEGER,
    superseded_at   INTEGER,
    superseded_by   TEXT,
    revoked_at      INTEGER,
    revoked_reason  TEXT,
    revoked_note    TEXT,
    revoked_by      TEXT
) STRICT;
CREATE INDEX one_time_subject ON one_time_tokens (subject, purpose);
CREATE INDEX one_time_expires ON one_time_tokens (expires_at);

-- What a purged record leaves behind, so a late verify can still say what happened.
CREATE TABLE tombstones (
    id              TEXT PRIMARY KEY NOT NULL,
    kind            TEXT NOT NULL,          -- token kind code: ak, ss, ot
    subject         TEXT NOT NULL,
    reason          TEXT NOT NULL,          -- revoked, superseded, already_used, expired
    at              INTEGER NOT NULL,
    revoked_reason  TEXT,
    revoked_note    TEXT,
    revoked_by      TEXT,
    replaced_by     TEXT,
    purge_after     INTEGER NOT NULL
) STRICT;
CREATE INDEX tombstones_purge ON tombstones (purge_after);
