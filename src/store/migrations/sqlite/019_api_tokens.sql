-- Personal API tokens: a person's secret for scripts and integrations, acting as that person
-- narrowed to one agreement (or every agreement they may act on: agreement_id NULL) and to
-- some capabilities (bits: read 1, assign 2, bulk 4, usage 8, activity 16, manage 32). The
-- secret is shown once; only its SHA-256 is kept, found by its public prefix. Tokens are
-- revoked, never deleted, so the audit trail can name the one that made a change.
CREATE TABLE api_tokens (
    id                INTEGER PRIMARY KEY,
    user_id           INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name              TEXT NOT NULL,
    agreement_id      INTEGER REFERENCES agreements(id) ON DELETE CASCADE,
    capabilities      INTEGER NOT NULL,
    prefix            TEXT NOT NULL UNIQUE,     -- "ost_" and the secret's public part
    secret_hash       TEXT NOT NULL,            -- SHA-256 of the whole secret, hex
    created_at        INTEGER NOT NULL,
    expires_at        INTEGER NOT NULL,
    revoked_at        INTEGER,
    revoked_by        INTEGER REFERENCES users(id),
    last_used_at      INTEGER,
    last_used_address TEXT
);
CREATE INDEX api_tokens_user ON api_tokens(user_id, id);
CREATE INDEX api_tokens_agreement ON api_tokens(agreement_id, id);

-- Which token made a change (NULL: a browser session, a job, the system).
ALTER TABLE audit_events ADD COLUMN token_id INTEGER REFERENCES api_tokens(id);
