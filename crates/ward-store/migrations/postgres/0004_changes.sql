-- The change feed every node follows to keep its caches and deny set in step, and the deployment
-- record that ties a store to one master key and issuer.
CREATE TABLE changes (
    seq             BIGSERIAL PRIMARY KEY,
    kind            TEXT NOT NULL,          -- api_key, session, client, subject, deny, keyring
    target          TEXT NOT NULL,
    at              BIGINT NOT NULL         -- the write's time; only for pruning
);
CREATE INDEX changes_at ON changes (at);

-- Tells listening nodes of each change as its transaction commits ("seq kind target"). A payload
-- must stay under 8000 bytes or the write itself fails, so an overlong one carries only the seq
-- and the listener reads the row.
CREATE FUNCTION ward_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    payload TEXT := NEW.seq::text || ' ' || NEW.kind || ' ' || NEW.target;
BEGIN
    IF octet_length(payload) > 7900 THEN
        payload := NEW.seq::text;
    END IF;
    PERFORM pg_notify('ward_changes', payload);
    RETURN NULL;
END;
$$;
CREATE TRIGGER changes_notify AFTER INSERT ON changes FOR EACH ROW EXECUTE FUNCTION ward_notify_change();

-- Revoking a successor also revokes the predecessor still inside its overlap or grace.
CREATE INDEX api_keys_superseded_by ON api_keys (superseded_by);
CREATE INDEX sessions_superseded_by ON sessions (superseded_by);

CREATE TABLE deployment (
    singleton       INTEGER PRIMARY KEY CHECK (singleton = 1),
    id              TEXT NOT NULL,
    issuer          TEXT NOT NULL,
    master_check    BYTEA NOT NULL,
    created_at      BIGINT NOT NULL
);
