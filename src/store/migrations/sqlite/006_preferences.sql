-- Agreement preferences, set by super admins. One row per agreement, created on first save;
-- absent means the defaults below.
CREATE TABLE agreement_prefs (
    agreement_id          INTEGER PRIMARY KEY REFERENCES agreements(id) ON DELETE CASCADE,
    contact_email         TEXT,                 -- where subscribers' questions go
    default_level         TEXT,                 -- level code
    default_country       TEXT,
    default_language      TEXT,
    default_downloads     INTEGER NOT NULL DEFAULT 1,
    allow_outside_domains INTEGER NOT NULL DEFAULT 1,  -- addresses outside the customer's domains
    alert_threshold       INTEGER NOT NULL DEFAULT 90, -- percent of a pool that triggers an alert
    updated_at            INTEGER NOT NULL,
    updated_by            INTEGER REFERENCES users(id)
);
