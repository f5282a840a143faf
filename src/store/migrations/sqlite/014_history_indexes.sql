-- The activity log is read newest first a page at a time, each page below the last one's
-- id: (agreement_id) alone hands the rows over in id order (SQLite adds the row id to an
-- index), so page 400 of a 400,000-event log is a range like page 1 instead of a walk
-- past every newer event. The usage history already has its order in usage_changes_pool
-- (agreement, level, time, row id).
CREATE INDEX audit_events_agreement_id ON audit_events(agreement_id);
