-- Webhooks: endpoints that receive an agreement's integration events (events, migration 018)
-- over HTTPS, signed per Standard Webhooks. An endpoint belongs to an agreement (its super
-- admins manage it) or to a partner organization (its admins; it receives the events of the
-- agreements its relationships let it act on). One delivery per endpoint and event, written
-- in the event's transaction, claimed by a worker as outbox rows are; each try is logged.
CREATE TABLE webhook_endpoints (
    id              INTEGER PRIMARY KEY,
    agreement_id    INTEGER REFERENCES agreements(id) ON DELETE CASCADE,
    partner_org_id  INTEGER REFERENCES organizations(id) ON DELETE CASCADE,
    url             TEXT NOT NULL,
    description     TEXT NOT NULL DEFAULT '',
    event_types     TEXT NOT NULL DEFAULT '',          -- ',a,b,' ; '': every type
    enabled         INTEGER NOT NULL DEFAULT 1,
    disabled_reason TEXT CHECK (disabled_reason IN ('owner', 'failing')),
    secret          TEXT NOT NULL,                     -- sealed with a subkey of the master key
    previous_secret TEXT,                              -- sealed; signs too until previous_until
    previous_until  INTEGER,
    failing_since   INTEGER,                           -- first failed try since the last success
    created_at      INTEGER NOT NULL,
    created_by      INTEGER REFERENCES users(id),
    updated_at      INTEGER NOT NULL,
    CHECK ((agreement_id IS NULL) <> (partner_org_id IS NULL))
);
CREATE INDEX webhook_endpoints_agreement ON webhook_endpoints(agreement_id) WHERE agreement_id IS NOT NULL;
CREATE INDEX webhook_endpoints_org ON webhook_endpoints(partner_org_id) WHERE partner_org_id IS NOT NULL;

CREATE TABLE webhook_deliveries (
    id              INTEGER PRIMARY KEY,
    endpoint_id     INTEGER NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
    event_id        INTEGER REFERENCES events(id) ON DELETE CASCADE,   -- NULL: a ping
    type            TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'delivered', 'failed', 'dropped')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    claimed_until   INTEGER,                           -- a worker's lease
    claimed_by      TEXT,
    created_at      INTEGER NOT NULL,
    finished_at     INTEGER                            -- delivered, failed or dropped: when
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries(endpoint_id, id);
CREATE INDEX webhook_deliveries_event ON webhook_deliveries(event_id);

CREATE TABLE webhook_attempts (
    id              INTEGER PRIMARY KEY,
    delivery_id     INTEGER NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
    at              INTEGER NOT NULL,
    http_status     INTEGER,                           -- NULL: no answer (error says why)
    error           TEXT,
    response        TEXT,                              -- the answer's first KiB
    duration_ms     INTEGER NOT NULL
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts(delivery_id, id);
CREATE INDEX events_at ON events(at);
