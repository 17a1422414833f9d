-- Lifecycle: key rotation and refill, sessions, one-time tokens, tombstones.
ALTER TABLE api_keys ADD COLUMN superseded_at BIGINT;
ALTER TABLE api_keys ADD COLUMN superseded_by TEXT;
ALTER TABLE api_keys ADD COLUMN refill_interval BIGINT;
ALTER TABLE api_keys ADD COLUMN refill_amount BIGINT;
ALTER TABLE api_keys ADD COLUMN refilled_at BIGINT;
ALTER TABLE api_keys ADD COLUMN last_used_at BIGINT;
CREATE INDEX api_keys_expires ON api_keys (expires_at);

CREATE TABLE sessions (
    id              TEXT PRIMARY KEY,
    env             TEXT NOT NULL,
    subject         TEXT NOT NULL,
    claims          TEXT NOT NULL,          -- JSON value
    secret_hash     BYTEA NOT NULL,
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,       -- the absolute deadline
    idle_timeout    BIGINT NOT NULL,       -- seconds
    last_seen_at    BIGINT NOT NULL,       -- written behind, in batches
    superseded_at   BIGINT,
    superseded_by   TEXT,
    revoked_at      BIGINT,
    revoked_reason  TEXT,
    revoked_note    TEXT,
    revoked_by      TEXT
);
CREATE INDEX sessions_subject ON sessions (subject, created_at);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE one_time_tokens (
    id              TEXT PRIMARY KEY,
    env             TEXT NOT NULL,
    subject         TEXT NOT NULL,
    purpose         TEXT NOT NULL,
    data            TEXT NOT NULL,          -- JSON value
    secret_hash     BYTEA NOT NULL,
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    used_at         BIGINT,
    superseded_at   BIGINT,
    superseded_by   TEXT,
    revoked_at      BIGINT,
    revoked_reason  TEXT,
    revoked_note    TEXT,
    revoked_by      TEXT
);
CREATE INDEX one_time_subject ON one_time_tokens (subject, purpose);
CREATE INDEX one_time_expires ON one_time_tokens (expires_at);

-- What a purged record leaves behind, so a late verify can still say what happened.
CREATE TABLE tombstones (
    id              TEXT PRIMARY KEY,
    kind            TEXT NOT NULL,          -- token kind code: ak, ss, ot
    subject         TEXT NOT NULL,
    reason          TEXT NOT NULL,          -- revoked, superseded, already_used, expired
    at              BIGINT NOT NULL,
    revoked_reason  TEXT,
    revoked_note    TEXT,
    revoked_by      TEXT,
    replaced_by     TEXT,
    purge_after     BIGINT NOT NULL
);
CREATE INDEX tombstones_purge ON tombstones (purge_after);
