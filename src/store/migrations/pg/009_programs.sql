-- PostgreSQL form of migration 009 (programs).
-- Licensing programs and their rules. An agreement names its program in agreements.program
-- (text, not a foreign key: existing agreements keep whatever program they name, and one
-- with no row here gets the default rule, 90 days; see st_agreement_reassign_days).
-- reassign_days: a freed seat goes to a different person only this many days after its last
-- assignment; 0 turns the rule off.
CREATE TABLE programs (
    name           TEXT PRIMARY KEY,
    reassign_days  BIGINT NOT NULL CHECK (reassign_days BETWEEN 0 AND 3650),
    updated_at     BIGINT NOT NULL
);

-- Unix seconds, truncated as SQLite's strftime('%s', 'now') gives them.
INSERT INTO programs (name, reassign_days, updated_at)
VALUES ('Open License', 90, CAST(floor(extract(epoch FROM now())) AS BIGINT));
