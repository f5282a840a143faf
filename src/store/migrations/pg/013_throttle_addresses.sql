-- Throttles that an attacker elsewhere cannot turn against someone: every counted attempt
-- records the client address it came from, so a limit can apply per (account, address) and
-- per (license, address) first, with a much higher ceiling over all addresses. The same table
-- counts the e-mails sent to addresses nobody proved to own, per recipient ('mail_to') and per
-- requesting client address ('mail_from').
ALTER TABLE auth_failures DROP CONSTRAINT auth_failures_scope_check;
ALTER TABLE auth_failures ADD CONSTRAINT auth_failures_scope_check
    CHECK (scope IN ('account', 'address', 'reg_user', 'reg_license', 'mail_to', 'mail_from'));
ALTER TABLE auth_failures ADD COLUMN address TEXT NOT NULL DEFAULT '';   -- '' before 013
CREATE INDEX auth_failures_pair ON auth_failures(scope, key, address, at);
