-- Partner access to agreements in the administration portal, and the customer's blocks
-- on removed partners.

CREATE TABLE partner_access (
    id              INTEGER PRIMARY KEY,
    agreement_id    INTEGER NOT NULL REFERENCES agreements(id) ON DELETE CASCADE,
    user_id         INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    partner_org_id  INTEGER NOT NULL REFERENCES organizations(id),
    route           TEXT NOT NULL CHECK (route IN ('order', 'new_license', 'handoff', 'registration')),
    granted_at      INTEGER NOT NULL,
    attested_at     INTEGER,                      -- when the partner ticked the attestation box
    removed_at      INTEGER,
    removed_by      INTEGER REFERENCES users(id)
);
-- One live grant per person and agreement; removed grants stay as history.
CREATE UNIQUE INDEX partner_access_live ON partner_access(agreement_id, user_id) WHERE removed_at IS NULL;
CREATE INDEX partner_access_user ON partner_access(user_id) WHERE removed_at IS NULL;

-- A removal sticks: the partner organization cannot register again on that agreement,
-- by any route, until a super admin lifts the block.
CREATE TABLE partner_blocks (
    id              INTEGER PRIMARY KEY,
    agreement_id    INTEGER NOT NULL REFERENCES agreements(id) ON DELETE CASCADE,
    partner_org_id  INTEGER NOT NULL REFERENCES organizations(id),
    blocked_at      INTEGER NOT NULL,
    blocked_by      INTEGER REFERENCES users(id),
    lifted_at       INTEGER,
    lifted_by       INTEGER REFERENCES users(id)
);
CREATE UNIQUE INDEX partner_blocks_live ON partner_blocks(agreement_id, partner_org_id) WHERE lifted_at IS NULL;
