-- What happened to an agreement, as integrators see it: one row per event (a subscription
-- added, updated with its changed fields, removed; a bulk job applied; partner access and
-- admins changing; the agreement expiring), written in the same transaction as the change,
-- so an event exists exactly when its change committed. Webhook deliveries fan out from here.
CREATE TABLE events (
    id              INTEGER PRIMARY KEY,
    agreement_id    INTEGER NOT NULL REFERENCES agreements(id) ON DELETE CASCADE,
    type            TEXT NOT NULL,
    at              INTEGER NOT NULL,
    actor_user_id   INTEGER REFERENCES users(id),
    relationship_id INTEGER,                 -- partner.* events: the relationship they are about
    data            TEXT NOT NULL            -- the event's JSON object, as delivered
);
CREATE INDEX events_agreement ON events(agreement_id, id);
