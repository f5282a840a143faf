-- Mail that invites an answer names who should get it: the subscriber who asked a question,
-- or the agreement's contact address for an assignment notice. NULL: no Reply-To header.
ALTER TABLE outbox ADD COLUMN reply_to TEXT;
