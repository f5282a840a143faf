-- PostgreSQL form of migration 012 (job control).
-- Jobs a super admin can cancel, and jobs ended because their owner lost the right to do what
-- they do. A cancel is a row change (cancel_by, cancel_at) that the worker running the job —
-- on any instance — sees at its next checkpoint; a queued job is cancelled at once. The state
-- gains 'cancelled'; a job whose owner was removed (or whose agreement became read-only) ends
-- 'failed' with its answer saying why (`access_removed`, `read_only`).
ALTER TABLE jobs DROP CONSTRAINT jobs_state_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_state_check
    CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled'));
ALTER TABLE jobs ADD COLUMN cancel_by BIGINT REFERENCES users(id);   -- who asked to cancel it (set once)
ALTER TABLE jobs ADD COLUMN cancel_at BIGINT;
CREATE INDEX jobs_by_agreement ON jobs (agreement_id, seq);
