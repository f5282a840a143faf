-- Each subscription a background upload changed, in the file's order, for paging through
-- what its bulk.applied event announces (GET …/jobs/{job}/changes): written in the job's own
-- transaction, so the list exists exactly when the change committed, and forgotten with its
-- job.
CREATE TABLE job_changes (
    job_id        TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    n             INTEGER NOT NULL,        -- 1, 2, … in the order the rows were applied
    subscription  TEXT NOT NULL,           -- its id
    changes       TEXT,                    -- an edit's {field: {before, after}}; NULL otherwise
    PRIMARY KEY (job_id, n)
);
