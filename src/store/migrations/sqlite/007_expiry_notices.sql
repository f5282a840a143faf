-- Agreement expiry reminders already sent (120, 60, 30 and 7 days before the end date).
-- Inserting the row is the claim: two instances cannot both send the same reminder.
CREATE TABLE expiry_notices (
    agreement_id  INTEGER NOT NULL REFERENCES agreements(id) ON DELETE CASCADE,
    days          INTEGER NOT NULL,
    sent_at       INTEGER NOT NULL,
    PRIMARY KEY (agreement_id, days)
);
