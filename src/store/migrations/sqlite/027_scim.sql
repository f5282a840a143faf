-- SCIM 2.0 provisioning (RFC 7643/7644) per agreement: the users and groups a customer's
-- identity provider (Entra ID, Okta) keeps here, group membership (a member is a user or a
-- group: groups within groups), which groups give a seat of which level, and which
-- subscription each provisioned user holds through that rule.
CREATE TABLE scim_users (
    id            INTEGER PRIMARY KEY,
    agreement_id  INTEGER NOT NULL REFERENCES agreements(id) ON DELETE CASCADE,
    uuid          TEXT NOT NULL UNIQUE,
    user_name     TEXT NOT NULL,
    user_name_key TEXT NOT NULL,            -- userName folded to lower case: it is not case-exact
    external_id   TEXT,
    email         TEXT,                      -- the work (else primary, else first) address, lower case
    display_name  TEXT,
    active        INTEGER NOT NULL DEFAULT 1,
    resource      TEXT NOT NULL,             -- the resource as last written (JSON), for reads and PATCH
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    version       INTEGER NOT NULL DEFAULT 1,
    UNIQUE (agreement_id, user_name_key)
);
CREATE INDEX scim_users_external ON scim_users(agreement_id, external_id);
CREATE INDEX scim_users_email ON scim_users(agreement_id, email);

CREATE TABLE scim_groups (
    id            INTEGER PRIMARY KEY,
    agreement_id  INTEGER NOT NULL REFERENCES agreements(id) ON DELETE CASCADE,
    uuid          TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    display_key   TEXT NOT NULL,
    external_id   TEXT,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    version       INTEGER NOT NULL DEFAULT 1,
    UNIQUE (agreement_id, display_key)
);
CREATE INDEX scim_groups_external ON scim_groups(agreement_id, external_id);

-- kind 'u': member_id is a scim_users id; 'g': a scim_groups id.
CREATE TABLE scim_members (
    group_id   INTEGER NOT NULL REFERENCES scim_groups(id) ON DELETE CASCADE,
    kind       TEXT NOT NULL CHECK (kind IN ('u', 'g')),
    member_id  INTEGER NOT NULL,
    PRIMARY KEY (group_id, kind, member_id)
);
CREATE INDEX scim_members_member ON scim_members(kind, member_id);

-- A group mapped to a seat: its members (directly or through nested groups) hold one
-- subscription of the level, with this language, country and downloads.
CREATE TABLE scim_mappings (
    id            INTEGER PRIMARY KEY,
    agreement_id  INTEGER NOT NULL REFERENCES agreements(id) ON DELETE CASCADE,
    group_id      INTEGER NOT NULL UNIQUE REFERENCES scim_groups(id) ON DELETE CASCADE,
    level_code    TEXT NOT NULL,
    language      TEXT NOT NULL,
    country       TEXT NOT NULL,
    downloads     INTEGER NOT NULL,
    created_at    INTEGER NOT NULL
);
CREATE INDEX scim_mappings_agreement ON scim_mappings(agreement_id, id);

-- The subscription a provisioned user holds for a level through the rule; removed with it.
CREATE TABLE scim_seats (
    scim_user_id  INTEGER NOT NULL REFERENCES scim_users(id) ON DELETE CASCADE,
    level_code    TEXT NOT NULL,
    sub_uuid      TEXT NOT NULL,
    PRIMARY KEY (scim_user_id, level_code)
);
