-- Sender binding and named rate limits on API keys; named limits on subjects; and the one table
-- that makes nonces, client nonces and DPoP proof ids single-use.
ALTER TABLE api_keys ADD COLUMN allowed_ips TEXT;   -- JSON array of CIDR networks; NULL: anywhere
ALTER TABLE api_keys ADD COLUMN ratelimits TEXT;    -- JSON array of {name, limit, period}; NULL: none

CREATE TABLE subject_limits (
    subject         TEXT PRIMARY KEY NOT NULL,
    ratelimits      TEXT NOT NULL,          -- JSON array of {name, limit, period}
    updated_at      BIGINT NOT NULL
);

-- A value seen once (hashed): the first insert wins, a second is a replay until `until` passes.
CREATE TABLE replay_seen (
    scope           TEXT NOT NULL,          -- nonce, client:<scope>, dpop
    value           TEXT NOT NULL,          -- hex SHA-256 of the value
    until           BIGINT NOT NULL,
    PRIMARY KEY (scope, value)
);
CREATE INDEX replay_seen_until ON replay_seen (until);

-- A refresh token issued with a DPoP proof is bound to the proof's key (RFC 9449 §5).
ALTER TABLE refresh_tokens ADD COLUMN jkt TEXT;   -- RFC 7638 thumbprint; NULL: not bound
