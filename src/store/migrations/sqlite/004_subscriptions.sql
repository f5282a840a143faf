-- Subscriber assignments, the seats they free (for the reassignment rule) and the per-day
-- usage series that maximum usage is computed from.

CREATE TABLE subscriptions (
    id                  INTEGER PRIMARY KEY,
    uuid                TEXT NOT NULL UNIQUE,
    agreement_id        INTEGER NOT NULL REFERENCES agreements(id) ON DELETE CASCADE,
    level_id            INTEGER NOT NULL REFERENCES levels(id),
    name                TEXT NOT NULL,
    sign_in_email       TEXT NOT NULL,
    notification_email  TEXT,
    country             TEXT NOT NULL,
    language            TEXT NOT NULL,
    downloads           INTEGER NOT NULL DEFAULT 1,
    reference           TEXT NOT NULL DEFAULT '',
    assigned_at         INTEGER NOT NULL,
    expires_on          TEXT NOT NULL,          -- 'YYYY-MM-DD', the agreement's end by default
    version             INTEGER NOT NULL DEFAULT 1,
    updated_at          INTEGER NOT NULL,
    UNIQUE (agreement_id, level_id, sign_in_email)
);
-- Keyset pagination over the default order (name, id) and lookups by address.
CREATE INDEX subscriptions_by_name ON subscriptions(agreement_id, name, id);
CREATE INDEX subscriptions_by_email ON subscriptions(agreement_id, sign_in_email, id);
CREATE INDEX subscriptions_user ON subscriptions(sign_in_email);

-- A removed subscription frees a seat that keeps its last assignment date: it can go to a
-- different person only 90 days after that date (the product's reassignment rule).
CREATE TABLE seat_releases (
    id            INTEGER PRIMARY KEY,
    agreement_id  INTEGER NOT NULL REFERENCES agreements(id) ON DELETE CASCADE,
    level_id      INTEGER NOT NULL REFERENCES levels(id),
    sign_in_email TEXT NOT NULL,
    assigned_at   INTEGER NOT NULL,
    released_at   INTEGER NOT NULL,
    reused_at     INTEGER
);
CREATE INDEX seat_releases_free ON seat_releases(agreement_id, level_id) WHERE reused_at IS NULL;

-- Every change of a pool's assigned count, so maximum usage is computed exactly.
CREATE TABLE usage_changes (
    id              INTEGER PRIMARY KEY,
    agreement_id    INTEGER NOT NULL REFERENCES agreements(id) ON DELETE CASCADE,
    level_id        INTEGER NOT NULL REFERENCES levels(id),
    at              INTEGER NOT NULL,
    assigned_after  INTEGER NOT NULL,
    purchased       INTEGER NOT NULL
);
CREATE INDEX usage_changes_pool ON usage_changes(agreement_id, level_id, at);
