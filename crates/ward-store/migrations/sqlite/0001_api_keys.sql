-- API keys. Only a keyed hash of each secret is stored; times are Unix seconds (UTC).
CREATE TABLE api_keys (
    id              TEXT PRIMARY KEY NOT NULL,
    env             TEXT NOT NULL,
    subject         TEXT NOT NULL,
    name            TEXT,
    scopes          TEXT NOT NULL,          -- JSON array of strings
    meta            TEXT NOT NULL,          -- JSON value
    secret_hash     BLOB NOT NULL,
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER,
    not_before      INTEGER,
    remaining_uses  INTEGER,
    disabled_at     INTEGER,
    revoked_at      INTEGER,
    revoked_reason  TEXT,
    revoked_note    TEXT,
    revoked_by      TEXT
) STRICT;

CREATE INDEX api_keys_subject ON api_keys (subject, created_at);
