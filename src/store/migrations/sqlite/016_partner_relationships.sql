-- Partner access becomes a relationship per partner organization and agreement: a set of
-- capabilities, an end, the people of the organization who act under it, and the requests
-- (a new relationship waiting for approval, or an amendment of a live one) that the customer
-- answers. The per-person grants of partner_access are migrated and kept as history.

CREATE TABLE partner_relationships (
    id              INTEGER PRIMARY KEY,
    agreement_id    INTEGER NOT NULL REFERENCES agreements(id) ON DELETE CASCADE,
    partner_org_id  INTEGER NOT NULL REFERENCES organizations(id),
    status          TEXT NOT NULL CHECK (status IN ('pending', 'active', 'ended', 'removed', 'denied', 'lapsed')),
    capabilities    INTEGER NOT NULL,               -- bits: read 1, assign 2, bulk 4, usage 8, activity 16
    people          TEXT NOT NULL DEFAULT 'all' CHECK (people IN ('all', 'named')),
    starts_at       INTEGER,                        -- when access began; NULL while pending
    ends_at         INTEGER NOT NULL,               -- access stops at this instant
    period_days     INTEGER,                        -- what a renewal adds; NULL: up to the agreement's end
    auto_renew      INTEGER NOT NULL DEFAULT 0,
    route           TEXT NOT NULL CHECK (route IN ('order', 'new_license', 'handoff', 'registration', 'migrated')),
    requested_by    INTEGER REFERENCES users(id),
    created_at      INTEGER NOT NULL,
    ended_at        INTEGER,                        -- removed, ended, denied or lapsed: when
    ended_by        INTEGER REFERENCES users(id),   -- and by whom (NULL: the system)
    reminded_30_at  INTEGER,                        -- end reminders sent; setting one is the claim
    reminded_7_at   INTEGER
);
-- One live relationship (waiting or active) per organization and agreement.
CREATE UNIQUE INDEX partner_relationships_live ON partner_relationships(agreement_id, partner_org_id)
    WHERE status IN ('pending', 'active');
CREATE INDEX partner_relationships_org ON partner_relationships(partner_org_id) WHERE status IN ('pending', 'active');
CREATE INDEX partner_relationships_due ON partner_relationships(status, ends_at);

-- The people a relationship names, when it does not cover the whole organization.
CREATE TABLE partner_relationship_people (
    relationship_id INTEGER NOT NULL REFERENCES partner_relationships(id) ON DELETE CASCADE,
    member_id       INTEGER NOT NULL REFERENCES partner_members(id) ON DELETE CASCADE,
    PRIMARY KEY (relationship_id, member_id)
);
CREATE INDEX partner_relationship_people_member ON partner_relationship_people(member_id);

CREATE TABLE partner_requests (
    id              INTEGER PRIMARY KEY,
    relationship_id INTEGER NOT NULL REFERENCES partner_relationships(id) ON DELETE CASCADE,
    kind            TEXT NOT NULL CHECK (kind IN ('access', 'amendment')),
    capabilities    INTEGER NOT NULL,
    ends_at         INTEGER NOT NULL,
    period_days     INTEGER,
    requested_by    INTEGER REFERENCES users(id),
    created_at      INTEGER NOT NULL,
    lapses_at       INTEGER NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'approved', 'narrowed', 'denied', 'lapsed')),
    decided_at      INTEGER,
    decided_by      INTEGER REFERENCES users(id),
    reason          TEXT
);
-- One open request per relationship.
CREATE UNIQUE INDEX partner_requests_open ON partner_requests(relationship_id) WHERE status = 'pending';
CREATE INDEX partner_requests_due ON partner_requests(status, lapses_at);

ALTER TABLE agreement_prefs ADD COLUMN partner_approval INTEGER NOT NULL DEFAULT 0;
ALTER TABLE agreement_prefs ADD COLUMN partner_capabilities INTEGER NOT NULL DEFAULT 31;
ALTER TABLE agreement_prefs ADD COLUMN partner_period_days INTEGER DEFAULT 365;

-- The partner manager: a customer-side role that answers partners and nothing else.
CREATE TABLE admin_roles_new (
    agreement_id  INTEGER NOT NULL REFERENCES agreements(id) ON DELETE CASCADE,
    user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role          TEXT NOT NULL CHECK (role IN ('super_admin', 'admin', 'partner_manager')),
    granted_at    INTEGER NOT NULL,
    granted_by    INTEGER REFERENCES users(id),
    PRIMARY KEY (agreement_id, user_id)
);
INSERT INTO admin_roles_new SELECT agreement_id, user_id, role, granted_at, granted_by FROM admin_roles;
DROP TABLE admin_roles;
ALTER TABLE admin_roles_new RENAME TO admin_roles;
CREATE INDEX admin_roles_user ON admin_roles(user_id);

CREATE TABLE admin_invites_new (
    id            INTEGER PRIMARY KEY,
    agreement_id  INTEGER NOT NULL REFERENCES agreements(id) ON DELETE CASCADE,
    email         TEXT NOT NULL,
    name          TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('super_admin', 'admin', 'partner_manager')),
    language      TEXT NOT NULL,
    invited_by    INTEGER REFERENCES users(id),
    invited_at    INTEGER NOT NULL,
    UNIQUE (agreement_id, email)
);
INSERT INTO admin_invites_new SELECT id, agreement_id, email, name, role, language, invited_by, invited_at
    FROM admin_invites;
DROP TABLE admin_invites;
ALTER TABLE admin_invites_new RENAME TO admin_invites;
CREATE INDEX admin_invites_email ON admin_invites(email);

-- The relationship a partner acted under, for the agreement's trail and its filter.
ALTER TABLE audit_events ADD COLUMN relationship_id INTEGER;
CREATE INDEX audit_events_relationship ON audit_events(agreement_id, relationship_id, id)
    WHERE relationship_id IS NOT NULL;

-- Live grants: one active relationship per organization, with every capability, naming the
-- people who had a grant (nobody gains access by the migration), for a year from now.
INSERT INTO partner_relationships (agreement_id, partner_org_id, status, capabilities, people, starts_at, ends_at,
                                   period_days, route, requested_by, created_at)
SELECT agreement_id, partner_org_id, 'active', 31, 'named', MIN(granted_at),
       CAST(strftime('%s', 'now') AS INTEGER) + 365 * 86400, 365, 'migrated', MIN(user_id), MIN(granted_at)
FROM partner_access WHERE removed_at IS NULL GROUP BY agreement_id, partner_org_id;

INSERT INTO partner_relationship_people (relationship_id, member_id)
SELECT DISTINCT r.id, m.id FROM partner_access pa
JOIN partner_relationships r ON r.agreement_id = pa.agreement_id AND r.partner_org_id = pa.partner_org_id
    AND r.status = 'active'
JOIN users u ON u.id = pa.user_id
JOIN partner_members m ON m.org_id = pa.partner_org_id AND m.email = u.email
WHERE pa.removed_at IS NULL;

-- Removals: one removed relationship per organization and removal, as history.
INSERT INTO partner_relationships (agreement_id, partner_org_id, status, capabilities, people, starts_at, ends_at,
                                   period_days, route, requested_by, created_at, ended_at, ended_by)
SELECT agreement_id, partner_org_id, 'removed', 31, 'named', MIN(granted_at), removed_at, 365, 'migrated',
       MIN(user_id), MIN(granted_at), removed_at, MIN(removed_by)
FROM partner_access WHERE removed_at IS NOT NULL GROUP BY agreement_id, partner_org_id, removed_at;
