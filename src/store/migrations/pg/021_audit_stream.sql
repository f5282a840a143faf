-- The audit trail read as a stream (an agreement's activity as NDJSON, the operator's audit
-- log sink) must never skip or repeat an event while writes continue. Transactions commit
-- out of id order here (an id is taken at the insert, the row shows at the commit), so each
-- row also keeps the id of the transaction that wrote it (`tx`, pg_current_xact_id() as a
-- number, set by the column's default: no statement of the writers changes). Readers order
-- by (tx, id) and take only rows whose transaction is older than the oldest one still
-- running (pg_snapshot_xmin): whatever commits later has a larger tx, so it comes after.
-- Rows written before this migration are settled: tx 0 puts them first, in id order. The
-- constant default is stored in the catalogue (no table rewrite); the second statement
-- changes the default for new rows only.
ALTER TABLE audit_events ADD COLUMN tx BIGINT NOT NULL DEFAULT 0;
ALTER TABLE audit_events ALTER COLUMN tx SET DEFAULT (pg_current_xact_id()::text::bigint);
CREATE INDEX audit_events_stream ON audit_events(agreement_id, tx, id);
CREATE INDEX audit_events_stream_all ON audit_events(tx, id);
