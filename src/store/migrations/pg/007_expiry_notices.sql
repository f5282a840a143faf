-- PostgreSQL form of migration 007 (expiry notices).
-- Agreement expiry reminders already sent (120, 60, 30 and 7 days before the end date).
-- Inserting the row is the claim: two instances cannot both send the same reminder.
CREATE TABLE expiry_notices (
    agreement_id  BIGINT NOT NULL REFERENCES agreements(id) ON DELETE CASCADE,
    days          BIGINT NOT NULL,
    sent_at       BIGINT NOT NULL,
    PRIMARY KEY (agreement_id, days)
);
