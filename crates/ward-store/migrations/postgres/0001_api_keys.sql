-- API keys. Only a keyed hash of each secret is stored; times are Unix seconds (UTC).
CREATE TABLE api_keys (
    id              TEXT PRIMARY KEY,
    env             TEXT NOT NULL,
    subject         TEXT NOT NULL,
    name            TEXT,
    scopes          TEXT NOT NULL,          -- JSON array of strings
    meta            TEXT NOT NULL,          -- JSON value
    secret_hash     BYTEA NOT NULL,
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT,
    not_before      BIGINT,
    remaining_uses  BIGINT,
    disabled_at     BIGINT,
    revoked_at      BIGINT,
    revoked_reason  TEXT,
    revoked_note    TEXT,
    revoked_by      TEXT
);

CREATE INDEX api_keys_subject ON api_keys (subject, created_at);
