-- A second factor: time-based one-time passwords (RFC 6238), with single-use recovery codes.
-- The TOTP secret is sealed with the server's key (as webhook secrets are): a leaked database
-- alone does not give the codes. confirmed_at NULL: enrolment started, not yet proven with a
-- code (the factor is off until then). last_step: the last 30-second step whose code was
-- accepted, so a code is never accepted twice.
CREATE TABLE user_mfa (
    user_id       INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    secret_sealed TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    confirmed_at  INTEGER,
    last_step     INTEGER NOT NULL DEFAULT 0
);

-- Ten per user, shown once; only their SHA-256 is kept. used_at: spent.
CREATE TABLE mfa_recovery_codes (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    code_hash  TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    used_at    INTEGER
);
CREATE INDEX mfa_recovery_codes_user ON mfa_recovery_codes(user_id);

-- Between the right password and the second factor: a short-lived, single-use challenge (not
-- a session: it grants nothing but the right to present a code). Only its SHA-256 is kept.
CREATE TABLE mfa_challenges (
    id          INTEGER PRIMARY KEY,
    token_hash  TEXT NOT NULL UNIQUE,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER
);
CREATE INDEX mfa_challenges_user ON mfa_challenges(user_id);

-- How a session was proven: 'password', 'mfa' (password and a second factor) or 'sso' (the
-- company's identity provider). An API token keeps the method of the session that made it.
ALTER TABLE sessions ADD COLUMN method TEXT NOT NULL DEFAULT 'password';
ALTER TABLE api_tokens ADD COLUMN method TEXT NOT NULL DEFAULT 'password';

-- The agreement refuses password-only sessions (and tokens made from one), every role.
ALTER TABLE agreement_prefs ADD COLUMN require_strong_auth INTEGER NOT NULL DEFAULT 0;

-- A job acts as strongly proven as the request that started it (NULL: not a person's).
ALTER TABLE jobs ADD COLUMN auth_method TEXT;
