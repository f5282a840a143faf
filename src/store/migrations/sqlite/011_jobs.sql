-- Uploaded files processed in the background (bulk add, edit and removal). The row holds
-- everything another instance would need: who asked and how, the progress and, once
-- finished, the answer the synchronous request would have given (status, result); the file
-- itself is in job_files, so that reading or updating a job's small columns (a progress bar
-- polled several times a second) never walks or rewrites megabytes of file.
-- A worker claims a queued job by setting claimed_by/claimed_until (its lease, extended while
-- it works); a running job whose lease ran out was interrupted and is marked failed — never
-- run again, since its transaction was rolled back with the process and the user decides.
CREATE TABLE jobs (
    seq            INTEGER PRIMARY KEY,              -- creation order (PostgreSQL: an identity column)
    id             TEXT NOT NULL UNIQUE,             -- 32 hex characters, unguessable: the public name
    agreement_id   INTEGER NOT NULL REFERENCES agreements(id),
    user_id        INTEGER NOT NULL REFERENCES users(id),
    kind           TEXT NOT NULL CHECK (kind IN ('add', 'edit', 'remove')),
    check_only     INTEGER NOT NULL CHECK (check_only IN (0, 1)),
    send_email     INTEGER NOT NULL CHECK (send_email IN (0, 1)),
    file_name      TEXT,
    address        TEXT,                             -- the uploader's, for the audit trail
    request_id     TEXT,                             -- the upload's, for the logs
    state          TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'done', 'failed')),
    phase          TEXT NOT NULL DEFAULT 'queued',
    rows           INTEGER NOT NULL DEFAULT 0,
    rows_checked   INTEGER NOT NULL DEFAULT 0,
    rows_written   INTEGER NOT NULL DEFAULT 0,
    claimed_by     TEXT,
    claimed_until  INTEGER,
    status         INTEGER,
    result         TEXT,
    created_at     INTEGER NOT NULL,
    finished_at    INTEGER
);
CREATE TABLE job_files (
    job_id  TEXT PRIMARY KEY REFERENCES jobs(id) ON DELETE CASCADE,
    data    BLOB NOT NULL
);
CREATE INDEX jobs_by_owner ON jobs (agreement_id, user_id, seq);
CREATE INDEX jobs_pending ON jobs (state, seq) WHERE state IN ('queued', 'running');
