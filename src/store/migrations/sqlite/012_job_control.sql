-- Jobs a super admin can cancel, and jobs ended because their owner lost the right to do what
-- they do. A cancel is a row change (cancel_by, cancel_at) that the worker running the job —
-- on any instance — sees at its next checkpoint; a queued job is cancelled at once. The state
-- gains 'cancelled'; a job whose owner was removed (or whose agreement became read-only) ends
-- 'failed' with its answer saying why (`access_removed`, `read_only`).
-- SQLite cannot change a CHECK constraint in place: the two tables are rebuilt (job_files
-- first out, so dropping jobs cascades into nothing).
CREATE TABLE jobs_new (
    seq            INTEGER PRIMARY KEY,
    id             TEXT NOT NULL UNIQUE,
    agreement_id   INTEGER NOT NULL REFERENCES agreements(id),
    user_id        INTEGER NOT NULL REFERENCES users(id),
    kind           TEXT NOT NULL CHECK (kind IN ('add', 'edit', 'remove')),
    check_only     INTEGER NOT NULL CHECK (check_only IN (0, 1)),
    send_email     INTEGER NOT NULL CHECK (send_email IN (0, 1)),
    file_name      TEXT,
    address        TEXT,
    request_id     TEXT,
    state          TEXT NOT NULL DEFAULT 'queued'
                   CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled')),
    phase          TEXT NOT NULL DEFAULT 'queued',
    rows           INTEGER NOT NULL DEFAULT 0,
    rows_checked   INTEGER NOT NULL DEFAULT 0,
    rows_written   INTEGER NOT NULL DEFAULT 0,
    claimed_by     TEXT,
    claimed_until  INTEGER,
    status         INTEGER,
    result         TEXT,
    created_at     INTEGER NOT NULL,
    finished_at    INTEGER,
    cancel_by      INTEGER REFERENCES users(id),     -- who asked to cancel it (set once)
    cancel_at      INTEGER
);
INSERT INTO jobs_new (seq, id, agreement_id, user_id, kind, check_only, send_email, file_name, address,
                      request_id, state, phase, rows, rows_checked, rows_written, claimed_by, claimed_until,
                      status, result, created_at, finished_at)
    SELECT seq, id, agreement_id, user_id, kind, check_only, send_email, file_name, address, request_id, state,
           phase, rows, rows_checked, rows_written, claimed_by, claimed_until, status, result, created_at,
           finished_at FROM jobs;
CREATE TABLE job_files_new (
    job_id  TEXT PRIMARY KEY REFERENCES jobs_new(id) ON DELETE CASCADE,
    data    BLOB NOT NULL
);
INSERT INTO job_files_new (job_id, data) SELECT job_id, data FROM job_files;
DROP TABLE job_files;
DROP TABLE jobs;
ALTER TABLE jobs_new RENAME TO jobs;
ALTER TABLE job_files_new RENAME TO job_files;
CREATE INDEX jobs_by_owner ON jobs (agreement_id, user_id, seq);
CREATE INDEX jobs_by_agreement ON jobs (agreement_id, seq);
CREATE INDEX jobs_pending ON jobs (state, seq) WHERE state IN ('queued', 'running');
