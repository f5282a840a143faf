-- Foundation: accounts, sessions, one-time e-mail tokens, sign-in throttle, mail outbox,
-- audit trail and server settings. Times are Unix seconds (INTEGER), set by the application.

CREATE TABLE users (
    id              INTEGER PRIMARY KEY,
    email           TEXT NOT NULL UNIQUE,          -- normalised: trimmed, lower-case
    name            TEXT NOT NULL,
    password_hash   TEXT NOT NULL,                 -- argon2id, libsodium string format
    language        TEXT NOT NULL DEFAULT 'en',
    email_verified_at INTEGER,                     -- NULL until the owner followed the link
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);

CREATE TABLE email_tokens (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    purpose     TEXT NOT NULL CHECK (purpose IN ('verify', 'reset')),
    token_hash  TEXT NOT NULL UNIQUE,              -- SHA-256 hex of the token in the link
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER,
    created_at  INTEGER NOT NULL
);
CREATE INDEX email_tokens_user ON email_tokens(user_id, purpose);

CREATE TABLE sessions (
    id           INTEGER PRIMARY KEY,
    token_hash   TEXT NOT NULL UNIQUE,             -- SHA-256 hex of the cookie value
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token   TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,                 -- absolute limit
    address      TEXT,
    user_agent   TEXT
);
CREATE INDEX sessions_user ON sessions(user_id);

-- Failed attempts that count towards throttles: sign-in per account and per client
-- address, partner registration per user and per license.
CREATE TABLE auth_failures (
    id      INTEGER PRIMARY KEY,
    scope   TEXT NOT NULL CHECK (scope IN ('account', 'address', 'reg_user', 'reg_license')),
    key     TEXT NOT NULL,
    at      INTEGER NOT NULL
);
CREATE INDEX auth_failures_key ON auth_failures(scope, key, at);

CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    recipient       TEXT NOT NULL,
    template        TEXT NOT NULL,
    language        TEXT NOT NULL,
    data            TEXT NOT NULL,                 -- JSON object of template values
    message_id      TEXT NOT NULL UNIQUE,          -- kept across retries
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    claimed_until   INTEGER,                       -- a worker's lease
    claimed_by      TEXT,
    sent_at         INTEGER,
    last_error      TEXT,
    created_at      INTEGER NOT NULL
);
CREATE INDEX outbox_due ON outbox(next_attempt_at) WHERE sent_at IS NULL;

CREATE TABLE audit_events (
    id           INTEGER PRIMARY KEY,
    at           INTEGER NOT NULL,
    actor_user_id INTEGER,
    actor_email  TEXT,
    action       TEXT NOT NULL,
    target_type  TEXT,
    target_id    TEXT,
    agreement_id INTEGER,
    address      TEXT,
    request_id   TEXT,
    details      TEXT                               -- JSON object
);
CREATE INDEX audit_events_agreement ON audit_events(agreement_id, at);
CREATE INDEX audit_events_actor ON audit_events(actor_user_id, at);

-- The audit trail is append-only: the database itself refuses edits and deletions.
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
