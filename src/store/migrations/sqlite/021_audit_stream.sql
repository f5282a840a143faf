-- The audit trail read as a stream (an agreement's activity as NDJSON, the operator's audit
-- log sink). SQLite has one writer at a time, so ids commit in order and a reader's position
-- is the id alone: `tx` stays 0 here. The column exists so that both databases hold the same
-- rows (`openseat copy` moves them to PostgreSQL, where 0 means "settled before the copy"),
-- and a position handed out here still means the same there. The (agreement_id, id) index
-- of migration 014 serves the stream.
ALTER TABLE audit_events ADD COLUMN tx INTEGER NOT NULL DEFAULT 0;
