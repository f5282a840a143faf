-- Throttles that an attacker elsewhere cannot turn against someone: every counted attempt
-- records the client address it came from, so a limit can apply per (account, address) and
-- per (license, address) first, with a much higher ceiling over all addresses. The same table
-- counts the e-mails sent to addresses nobody proved to own, per recipient ('mail_to') and per
-- requesting client address ('mail_from').
-- SQLite cannot change a CHECK constraint in place: the table is rebuilt (same ids).
CREATE TABLE auth_failures_new (
    id      INTEGER PRIMARY KEY,
    scope   TEXT NOT NULL CHECK (scope IN ('account', 'address', 'reg_user', 'reg_license', 'mail_to', 'mail_from')),
    key     TEXT NOT NULL,
    at      INTEGER NOT NULL,
    address TEXT NOT NULL DEFAULT ''                -- the client address of the attempt ('' before 013)
);
INSERT INTO auth_failures_new (id, scope, key, at) SELECT id, scope, key, at FROM auth_failures;
DROP TABLE auth_failures;
ALTER TABLE auth_failures_new RENAME TO auth_failures;
CREATE INDEX auth_failures_key ON auth_failures(scope, key, at);
CREATE INDEX auth_failures_pair ON auth_failures(scope, key, address, at);
