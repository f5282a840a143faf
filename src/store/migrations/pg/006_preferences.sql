-- PostgreSQL form of migration 006 (agreement preferences).
-- Agreement preferences, set by super admins. One row per agreement, created on first save;
-- absent means the defaults below. The key is the agreement's id, always given: no identity.
CREATE TABLE agreement_prefs (
    agreement_id          BIGINT PRIMARY KEY REFERENCES agreements(id) ON DELETE CASCADE,
    contact_email         TEXT,                 -- where subscribers' questions go
    default_level         TEXT,                 -- level code
    default_country       TEXT,
    default_language      TEXT,
    default_downloads     BIGINT NOT NULL DEFAULT 1,
    allow_outside_domains BIGINT NOT NULL DEFAULT 1,  -- addresses outside the customer's domains
    alert_threshold       BIGINT NOT NULL DEFAULT 90, -- percent of a pool that triggers an alert
    updated_at            BIGINT NOT NULL,
    updated_by            BIGINT REFERENCES users(id)
);
