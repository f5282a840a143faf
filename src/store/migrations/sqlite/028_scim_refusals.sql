-- SCIM provisioning in the field: a seat held by hand that the rule takes over is found by
-- its subscription, and the people the pool refused a seat are kept (one row per person and
-- level, the latest refusal) for the super admins' daily summary.
CREATE INDEX scim_seats_sub ON scim_seats(sub_uuid);

-- A provisioned user the pool refused a seat of a level (no seat left, or the reassignment
-- rule). The provider retries the same change every cycle: the row is updated, not added
-- (last_at, times), and goes when the person gets the seat, leaves, or is deleted.
CREATE TABLE scim_refusals (
    id            INTEGER PRIMARY KEY,
    agreement_id  INTEGER NOT NULL REFERENCES agreements(id) ON DELETE CASCADE,
    scim_user_id  INTEGER NOT NULL REFERENCES scim_users(id) ON DELETE CASCADE,
    level_code    TEXT NOT NULL,
    group_name    TEXT NOT NULL,
    reason        TEXT NOT NULL CHECK (reason IN ('no_seats_left', 'reassignment_too_soon')),
    first_at      INTEGER NOT NULL,
    last_at       INTEGER NOT NULL,
    times         INTEGER NOT NULL DEFAULT 1,
    UNIQUE (scim_user_id, level_code)
);
CREATE INDEX scim_refusals_agreement ON scim_refusals(agreement_id, last_at);

-- The last daily summary of an agreement's refusals: at most one per agreement and UTC day.
CREATE TABLE scim_refusal_summaries (
    agreement_id  INTEGER PRIMARY KEY REFERENCES agreements(id) ON DELETE CASCADE,
    day           TEXT NOT NULL,             -- 'YYYY-MM-DD' (UTC) of the last summary
    sent_at       INTEGER NOT NULL           -- when it was sent: refusals after it are the next one's
);
