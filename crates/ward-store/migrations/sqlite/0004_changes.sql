-- The change feed every node follows to keep its caches and deny set in step, and the deployment
-- record that ties a store to one master key and issuer.
CREATE TABLE changes (
    -- AUTOINCREMENT: a seq is never reused, even after the newest rows are pruned, so a node's
    -- position in the feed stays meaningful.
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    kind            TEXT NOT NULL,          -- api_key, session, client, subject, deny, keyring
    target          TEXT NOT NULL,
    at              INTEGER NOT NULL        -- the write's time; only for pruning
) STRICT;
CREATE INDEX changes_at ON changes (at);

-- Revoking a successor also revokes the predecessor still inside its overlap or grace.
CREATE INDEX api_keys_superseded_by ON api_keys (superseded_by);
CREATE INDEX sessions_superseded_by ON sessions (superseded_by);

CREATE TABLE deployment (
    singleton       INTEGER PRIMARY KEY NOT NULL CHECK (singleton = 1),
    id              TEXT NOT NULL,
    issuer          TEXT NOT NULL,
    master_check    BLOB NOT NULL,
    created_at      INTEGER NOT NULL
) STRICT;
