-- Sign-in through an OpenID Connect provider.
--
-- One row per sign-in started: the state travels through the browser and comes back on the
-- callback, so only its SHA-256 is kept; the nonce and the PKCE verifier never leave the
-- server except as the nonce claim and the verifier's S256 challenge. A row is used once
-- (used_at set by the one UPDATE that consumes it) and only until expires_at.
CREATE TABLE sso_requests (
    id          INTEGER PRIMARY KEY,
    state_hash  TEXT NOT NULL UNIQUE,
    provider    TEXT NOT NULL,                     -- the provider's name in the operator's file
    nonce       TEXT NOT NULL,
    verifier    TEXT NOT NULL,                     -- PKCE code_verifier
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER
);
CREATE INDEX sso_requests_expiry ON sso_requests(expires_at);

-- Who a provider says someone is: (issuer, sub) is stable for the person at that provider,
-- whatever their e-mail address becomes there. Linked to the account with the same verified
-- address on first use, or to the account created then.
CREATE TABLE sso_identities (
    id          INTEGER PRIMARY KEY,
    issuer      TEXT NOT NULL,
    subject     TEXT NOT NULL,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at  INTEGER NOT NULL,
    last_signin_at INTEGER NOT NULL,
    UNIQUE (issuer, subject)
);
CREATE INDEX sso_identities_user ON sso_identities(user_id);
