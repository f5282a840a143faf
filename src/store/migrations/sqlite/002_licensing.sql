-- Licensing service center: organizations, partner membership, subscription levels,
-- agreements (Open License), orders and their lines, subscription pools, the licensing
-- center's partner relations, portal admin roles, idempotency keys and hand-off nonces.
-- Dates of agreements are ISO 'YYYY-MM-DD' text; event times are Unix seconds.

CREATE TABLE organizations (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('customer', 'partner')),
    name        TEXT NOT NULL,
    country     TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL
);
-- Customers are told apart by name and country (two "Contoso" in two countries are two
-- customers); a partner organization is found by its name.
CREATE UNIQUE INDEX organizations_identity ON organizations(kind, name, country);

-- Who acts for a partner organization, by verified e-mail (the person may sign up later).
CREATE TABLE partner_members (
    id          INTEGER PRIMARY KEY,
    org_id      INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    email       TEXT NOT NULL,
    role        TEXT NOT NULL DEFAULT 'member' CHECK (role IN ('admin', 'member')),
    created_at  INTEGER NOT NULL,
    UNIQUE (org_id, email)
);
CREATE INDEX partner_members_email ON partner_members(email);

CREATE TABLE levels (
    id       INTEGER PRIMARY KEY,
    code     TEXT NOT NULL UNIQUE,
    name_en  TEXT NOT NULL,
    name_fr  TEXT NOT NULL,
    sort     INTEGER NOT NULL
);
INSERT INTO levels (code, name_en, name_fr, sort) VALUES
    ('enterprise', 'Enterprise', 'Enterprise', 1),
    ('professional', 'Professional', 'Professional', 2),
    ('test_professional', 'Test Professional', 'Test Professional', 3),
    ('platforms', 'Platforms', 'Platforms', 4);

CREATE TABLE agreements (
    id               INTEGER PRIMARY KEY,
    license_number   TEXT NOT NULL UNIQUE,
    auth_hash        TEXT NOT NULL UNIQUE,     -- keyed hash (HMAC-SHA256) of the normalised number
    auth_sealed      TEXT NOT NULL,            -- the number sealed with the server key, for display
    customer_org_id  INTEGER NOT NULL REFERENCES organizations(id),
    customer_email   TEXT NOT NULL,            -- as written on the order, normalised
    partner_org_id   INTEGER NOT NULL REFERENCES organizations(id),
    program          TEXT NOT NULL DEFAULT 'Open License',
    start_date       TEXT NOT NULL,
    end_date         TEXT NOT NULL,
    disabled         INTEGER NOT NULL DEFAULT 0,
    created_at       INTEGER NOT NULL
);
CREATE INDEX agreements_customer_email ON agreements(customer_email);
CREATE INDEX agreements_partner ON agreements(partner_org_id);

CREATE TABLE orders (
    id               INTEGER PRIMARY KEY,
    agreement_id     INTEGER NOT NULL REFERENCES agreements(id),
    partner_org_id   INTEGER NOT NULL REFERENCES organizations(id),
    placed_by        INTEGER REFERENCES users(id),
    customer_email   TEXT NOT NULL,
    po_reference     TEXT,
    language         TEXT NOT NULL,
    created_at       INTEGER NOT NULL
);
CREATE INDEX orders_agreement ON orders(agreement_id);

CREATE TABLE order_lines (
    order_id   INTEGER NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
    level_id   INTEGER NOT NULL REFERENCES levels(id),
    quantity   INTEGER NOT NULL CHECK (quantity BETWEEN 1 AND 100000),
    PRIMARY KEY (order_id, level_id)
);

CREATE TABLE pools (
    agreement_id  INTEGER NOT NULL REFERENCES agreements(id) ON DELETE CASCADE,
    level_id      INTEGER NOT NULL REFERENCES levels(id),
    purchased     INTEGER NOT NULL CHECK (purchased >= 0),
    assigned      INTEGER NOT NULL DEFAULT 0 CHECK (assigned >= 0),
    PRIMARY KEY (agreement_id, level_id)
);

-- The licensing center's record of which partner organizations relate to a license.
CREATE TABLE lsc_relations (
    agreement_id    INTEGER NOT NULL REFERENCES agreements(id) ON DELETE CASCADE,
    partner_org_id  INTEGER NOT NULL REFERENCES organizations(id),
    relation        TEXT NOT NULL DEFAULT 'placing',
    created_at      INTEGER NOT NULL,
    PRIMARY KEY (agreement_id, partner_org_id)
);
CREATE INDEX lsc_relations_partner ON lsc_relations(partner_org_id);

CREATE TABLE admin_roles (
    agreement_id  INTEGER NOT NULL REFERENCES agreements(id) ON DELETE CASCADE,
    user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role          TEXT NOT NULL CHECK (role IN ('super_admin', 'admin')),
    granted_at    INTEGER NOT NULL,
    granted_by    INTEGER REFERENCES users(id),
    PRIMARY KEY (agreement_id, user_id)
);
CREATE INDEX admin_roles_user ON admin_roles(user_id);

-- A retried order with the same key returns the first result instead of creating another.
CREATE TABLE idempotency_keys (
    user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    key           TEXT NOT NULL,
    request_hash  TEXT NOT NULL,
    order_id      INTEGER REFERENCES orders(id),
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (user_id, key)
);

-- Hand-off links to the portal are single use: a nonce is recorded when consumed.
CREATE TABLE handoff_nonces (
    nonce       TEXT PRIMARY KEY,
    used_at     INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);
