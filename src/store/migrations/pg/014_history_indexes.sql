-- PostgreSQL form of migration 014 (history indexes).
-- The activity log is read newest first a page at a time, each page below the last one's
-- id: (agreement_id, id) hands the rows over in that order, so page 400 of a 400,000-event
-- log is a range like page 1 instead of a walk past every newer event. The usage history
-- is read per level in time order, ties by id: the id completes usage_changes_pool's order
-- (SQLite has it there already).
CREATE INDEX audit_events_agreement_id ON audit_events(agreement_id, id);
CREATE INDEX usage_changes_order ON usage_changes(agreement_id, level_id, at, id);
DROP INDEX usage_changes_pool;
