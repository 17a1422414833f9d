-- Signed access tokens: the key ring, OAuth clients, rotating refresh tokens, and the revocations
-- every node loads into its in-memory deny set.
CREATE TABLE signing_keys (
    kid             TEXT PRIMARY KEY NOT NULL,
    alg             TEXT NOT NULL,
    purpose         TEXT NOT NULL,
    private_enc     BLOB NOT NULL,          -- AES-256-GCM under a key derived from the master key
    nonce           BLOB NOT NULL,
    public_jwk      TEXT NOT NULL,          -- JSON; null for symmetric keys (never published)
    created_at      INTEGER NOT NULL,
    activates_at    INTEGER NOT NULL,
    retiring_at     INTEGER,
    retired_at      INTEGER
) STRICT;

CREATE TABLE clients (
    id              TEXT PRIMARY KEY NOT NULL,
    env             TEXT NOT NULL,
    name            TEXT NOT NULL,
    secret_hash     BLOB NOT NULL,
    scopes          TEXT NOT NULL,          -- JSON array
    audiences       TEXT NOT NULL,          -- JSON array
    created_at      INTEGER NOT NULL,
    revoked_at      INTEGER,
    revoked_reason  TEXT,
    revoked_note    TEXT,
    revoked_by      TEXT
) STRICT;

CREATE TABLE refresh_tokens (
    id              TEXT PRIMARY KEY NOT NULL,
    env             TEXT NOT NULL,
    family          TEXT NOT NULL,
    subject         TEXT NOT NULL,
    client_id       TEXT,
    audience        TEXT NOT NULL,          -- JSON array
    scopes          TEXT NOT NULL,          -- JSON array
    format          TEXT NOT NULL,
    secret_hash     BLOB NOT NULL,
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    rotated_at      INTEGER,
    rotated_to      TEXT,
    retry_blob      BLOB,                   -- the successor pair, encrypted under the old token
    revoked_at      INTEGER,
    revoked_reason  TEXT,
    revoked_note    TEXT,
    revoked_by      TEXT
) STRICT;
CREATE INDEX refresh_tokens_family ON refresh_tokens (family);
CREATE INDEX refresh_tokens_subject ON refresh_tokens (subject);
CREATE INDEX refresh_tokens_expires ON refresh_tokens (expires_at);

CREATE TABLE signed_revocations (
    kind            TEXT NOT NULL,          -- jti, family or subject
    value           TEXT NOT NULL,
    revoked_at      INTEGER NOT NULL,
    until_at        INTEGER NOT NULL,       -- after this no token it covers can still be live
    reason          TEXT NOT NULL,
    note            TEXT,
    actor           TEXT NOT NULL,
    PRIMARY KEY (kind, value)
) STRICT;
CREATE INDEX signed_revocations_at ON signed_revocations (revoked_at);
