/* jobs.h — work done in the background for a user: uploaded files (bulk add, edit, removal)
 * too large to answer within a request.
 *
 * A job is a row (store.h, st_job_*): the file, who asked and how, its progress and, once
 * finished, the answer the same request would have given synchronously (HTTP status and JSON
 * body). Nothing a reader needs lives only in one process: any instance's worker may run a
 * queued job, and any instance can answer for it.
 *
 * jobs_start() starts this process's worker thread; it claims queued jobs one at a time and
 * hands each to the executor given there (the API layer's: it knows how to answer). The
 * executor reports progress with jobs_progress(): kept in memory for this process's readers
 * (jobs_live), and in the row whenever the executor is outside a transaction. An executor
 * whose change is applied finishes the job with jobs_finish_in_tx() inside that change's
 * transaction, so a job can never say "nothing applied" about rows that were; otherwise the
 * worker records the answer the executor returns.
 *
 * A worker holds a lease on its job (--job-lease seconds), renewed by a keeper thread a few
 * times a lease on its own connection. A job whose lease ran out was interrupted with its
 * process — its transaction rolled back — and any instance's keeper marks it failed
 * (`job_interrupted`); it is not run again on its own: the user decides. The keeper also
 * forgets jobs older than JOBS_KEEP_S.
 *
 * A job acts for its owner only while the owner may still do what it does — the very rule of
 * the request it stands for (domain/access.h: a role on the agreement, the agreement
 * writable) — and until someone cancels it. The worker checks both before it hands the job
 * to the executor and before it records an answer that was not applied with a change; the
 * executor checks them at every progress point and inside its write transaction just before
 * the commit (jobs_checkpoint). When a check fails the job stops there with nothing applied
 * and ends `cancelled` (problem `job_cancelled`, audited `job.cancelled` as whoever
 * cancelled it) or `failed` (problem `access_removed`, or `read_only` for a lapsed agreement;
 * audited `job.access_removed` by the system).
 *
 * A cancel (jobs_cancel) ends a queued job at once: it is never claimed. A running job is
 * asked to stop: the request is a row change (cancel_by) that the worker running it — on
 * any instance — reads at its next checkpoint; where other connections cannot write during
 * the job's transaction (SQLite), the process running it is told in memory instead.
 */
#ifndef OPENSEAT_JOBS_H
#define OPENSEAT_JOBS_H
#include <stdbool.h>
#include <stdint.h>
#include "domain/ctx.h"

#define JOBS_KEEP_S (7 * 24 * 3600)       /* finished jobs are forgotten after a week */
#define JOBS_LISTED 20                    /* a user's jobs listed at most */
#define JOBS_LISTED_ALL 100               /* an agreement's jobs listed at most (super admins) */

typedef struct jobs_worker jobs_worker;
typedef struct job_run job_run;           /* a job being executed, for its progress */

typedef struct job_progress {
    const char *phase;                    /* "reading", "checking", "writing" */
    int64_t rows, checked, written;
    int64_t cancel_by;                    /* who asked this process to stop it; 0: nobody */
} job_progress;

/* Runs job j (its file included) as its user with x; sets *status and *result (JSON, in
 * x->a) to the answer, unless it called jobs_finish_in_tx. Returning an error marks the job
 * failed (`internal`). */
typedef os_err (*job_exec_fn)(job_run *run, op_ctx *x, const job_rec *j, int *status, const char **result);

/* Queues a job from j and wakes this process's worker; j then describes the stored row (its
 * new id — 32 hex characters in x->a —, state, phase, creation time). */
os_err jobs_submit(op_ctx *x, job_rec *j);

jobs_worker *jobs_start(const app *a, job_exec_fn exec);
void jobs_stop(jobs_worker *w);          /* finishes the job in hand, then joins; NULL-safe */

/* Progress of the running job (cheap: call it as often as every chunk of rows). */
void jobs_progress(job_run *run, const char *phase, int64_t rows, int64_t checked, int64_t written);
/* Finishes the job on x's connection, inside the caller's open transaction, with its
 * job.finished event (domain/events.h). */
os_err jobs_finish_in_tx(job_run *run, op_ctx *x, int status, const char *result);
/* Inside the change's transaction, before jobs_finish_in_tx: the job applied its change —
 * one bulk.applied event with the counts and where to page through the subscriptions
 * changed (those recorded with jobs_changed). */
os_err jobs_applied_in_tx(job_run *run, op_ctx *x, int64_t added, int64_t updated, int64_t removed);
/* Records, inside the change's transaction, subscriptions the job just changed: ids[i] and,
 * for an edit, changes[i] (JSON object; NULL: none); numbered on from those before. */
os_err jobs_changed(job_run *run, op_ctx *x, const char *const *ids, const char *const *changes, int n);

/* The live progress of job `id` when this process is running it. */
bool jobs_live(jobs_worker *w, const char *id, job_progress *out);

/* Whether the running job may go on. Reads the database at most every few hundred
 * milliseconds unless `now` (the last check inside the change's transaction, right before
 * its commit). OS_OK: go on. OS_ERR_FORBIDDEN: stop here, roll back and return the error —
 * the worker then ends the job as cancelled or with access removed. Any other error is the
 * database's. */
os_err jobs_checkpoint(job_run *run, op_ctx *x, bool now);

typedef enum job_cancel_outcome {
    JOB_CANCELLED,        /* it was queued: it is cancelled and will never start */
    JOB_CANCEL_ASKED,     /* it is running: it stops at its next checkpoint, nothing applied */
    JOB_ALREADY_FINISHED, /* nothing to cancel (it finished meanwhile, or long ago) */
} job_cancel_outcome;

/* Cancels job j (as read by the caller) for x's actor; a queued job's cancel is audited
 * here, a running job's by the worker when it stops. */
os_err jobs_cancel(op_ctx *x, const job_rec *j, job_cancel_outcome *out);

/* The problem a job interrupted by a stopped server ends with (status 500). */
extern const char *const jobs_interrupted_result;
/* The problem a cancelled job ends with (status 409). */
extern const char *const jobs_cancelled_result;

#endif
