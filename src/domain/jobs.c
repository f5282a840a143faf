/* jobs.c — the background worker and its keeper. Contract in jobs.h. */
#include "jobs.h"
#include <pthread.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "core/json_write.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/secret.h"
#include "core/worker.h"
#include "domain/access.h"
#include "domain/audit.h"
#include "domain/bulk.h"
#include "domain/events.h"
#include "domain/tokens.h"
#include "domain/webhooks.h"

/* How often a running job's progress is written to its row, at most: readers on another
 * instance see it move without the row being rewritten for every chunk. */
#define PROGRESS_WRITE_MS 250
/* How often a running job reads whether it may go on (its owner's access, a cancel written
 * by another instance), at most: a few cheap lookups a second, whatever the file's size. */
#define CHECK_MS 250

const char *const jobs_interrupted_result =
    "{\"type\":\"urn:openseat:problem:job_interrupted\",\"title\":\"Internal error\",\"status\":500,"
    "\"detail\":\"The server stopped while this file was being processed; nothing was applied: upload it again\","
    "\"code\":\"job_interrupted\"}";

const char *const jobs_cancelled_result =
    "{\"type\":\"urn:openseat:problem:job_cancelled\",\"title\":\"Conflict\",\"status\":409,"
    "\"detail\":\"This job was cancelled before anything was applied\",\"code\":\"job_cancelled\"}";

static const char *const access_removed_result =
    "{\"type\":\"urn:openseat:problem:access_removed\",\"title\":\"Not allowed\",\"status\":403,"
    "\"detail\":\"Whoever sent this file no longer has access to this agreement; nothing was applied\","
    "\"code\":\"access_removed\"}";

static const char *const no_capability_result =
    "{\"type\":\"urn:openseat:problem:capability_bulk_missing\",\"title\":\"Not allowed\",\"status\":403,"
    "\"detail\":\"Whoever sent this file no longer holds the \\\"bulk\\\" capability on this agreement; nothing was"
    " applied\",\"code\":\"capability_bulk_missing\",\"capability\":\"bulk\"}";

static const char *const strong_auth_result =
    "{\"type\":\"urn:openseat:problem:strong_auth_required\",\"title\":\"Not allowed\",\"status\":403,"
    "\"detail\":\"This agreement requires a second factor or the company's sign-in, and this file was sent from a"
    " session proven by a password alone; nothing was applied\",\"code\":\"strong_auth_required\"}";

static const char *const read_only_result =
    "{\"type\":\"urn:openseat:problem:read_only\",\"title\":\"Not allowed\",\"status\":403,"
    "\"detail\":\"This agreement has expired or is disabled: it can be read and exported, not changed; nothing was"
    " applied\",\"code\":\"read_only\"}";

static const char *const too_costly_result =
    "{\"type\":\"urn:openseat:problem:request_too_costly\",\"title\":\"Service unavailable\",\"status\":503,"
    "\"detail\":\"This file needs more memory than the server gives one job; nothing was applied: split it into"
    " smaller files\",\"code\":\"request_too_costly\"}";

static const char *const internal_result =
    "{\"type\":\"urn:openseat:problem:internal\",\"title\":\"Internal error\",\"status\":500,"
    "\"detail\":\"Something went wrong on our side while processing this file; nothing was applied\","
    "\"code\":\"internal\"}";

/* Why a job stopped before its end. */
typedef enum job_stop {
    STOP_NONE, STOP_CANCELLED, STOP_NO_ROLE, STOP_NO_CAPABILITY, STOP_READ_ONLY, STOP_STRONG_AUTH
} job_stop;

struct job_run {
    jobs_worker *w;
    const char *id;
    store_conn *c;
    const job_rec *job;
    int64_t written_ms;     /* when progress last reached the row */
    int64_t checked_ms;     /* when the database was last asked whether the job may go on */
    bool finished;          /* jobs_finish_in_tx was called */
    bool applied;           /* jobs_applied_in_tx was called */
    int64_t added, updated, removed;   /* what it applied */
    int64_t nchanges;       /* subscriptions recorded in job_changes so far */
    job_stop stop;
    int64_t cancel_by;      /* STOP_CANCELLED: who asked */
    bool password_only;     /* the row says its starter's proof is a password alone now */
};

struct jobs_worker {
    const app *app;
    job_exec_fn exec;
    pthread_t th, keeper;
    pthread_mutex_t mu;
    pthread_cond_t cv;          /* wakes the worker: a job queued, or stop */
    pthread_cond_t keeper_cv;   /* wakes the keeper: stop */
    bool stop, woken, keeper_started;
    char name[WORKER_NAME_MAX];
    /* The job in hand and its progress, under mu. */
    char live_id[33];
    job_progress live;
    bool progress_due;          /* the keeper is to write live to the row */
};

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

os_err jobs_submit(op_ctx *x, job_rec *j) {
    char *id = arena_alloc(x->a, 33);
    secret_random_hex(id, 16);
    j->id = id;
    j->auth_method = x->auth_method;
    os_err e = st_job_create(x->c, j, x->now);
    if (e) return e;
    /* The record now says what the row does. */
    j->state = j->phase = "queued";
    j->created_at = x->now;
    jobs_worker *w = x->app->jobs;
    if (w) {
        pthread_mutex_lock(&w->mu);
        w->woken = true;
        pthread_cond_broadcast(&w->cv);
        pthread_mutex_unlock(&w->mu);
    }
    return OS_OK;
}

void jobs_progress(job_run *run, const char *phase, int64_t rows, int64_t checked, int64_t written) {
    jobs_worker *w = run->w;
    pthread_mutex_lock(&w->mu);
    w->live = (job_progress){phase, rows, checked, written, w->live.cancel_by};
    pthread_mutex_unlock(&w->mu);
    int64_t t = now_ms();
    if (t - run->written_ms < PROGRESS_WRITE_MS) return;
    if (run->c->tx_depth == 0) {
        run->written_ms = t;
        os_ignore(st_job_progress(run->c, run->id, phase, rows, checked, written));   /* progress is advisory */
    } else if (store_writes_beside_tx(w->app->st)) {
        /* Inside a transaction the row's change would only show at its end: the keeper
         * writes it on its own connection. (Where other connections cannot write meanwhile
         * — SQLite — this process's memory is the only witness.) */
        run->written_ms = t;
        pthread_mutex_lock(&w->mu);
        w->progress_due = true;
        pthread_cond_broadcast(&w->keeper_cv);
        pthread_mutex_unlock(&w->mu);
    }
}

/* job.finished for job j ending in `state` with the answer's status, inside the caller's
 * transaction: what it applied (run's counts when it applied a change; else nothing). */
static os_err emit_finished(op_ctx *x, const job_rec *j, const char *state, int64_t status, const job_run *run) {
    bool applied = run && run->applied;
    jw_params p;
    jw *w = jw_params_begin(&p, x->a);
    jw_kstr(w, "id", j->id);
    jw_kstr(w, "kind", j->kind);
    jw_kstr(w, "state", state);
    jw_kint(w, "status", status);
    jw_kbool(w, "check_only", j->check_only);
    jw_kbool(w, "applied", applied);
    jw_kint(w, "added", applied ? run->added : 0);
    jw_kint(w, "updated", applied ? run->updated : 0);
    jw_kint(w, "removed", applied ? run->removed : 0);
    const char *job = jw_params_end(&p);
    const char *data = job ? event_data(x->a, j->license_number, "job", job, NULL) : NULL;
    return data ? event_emit(x, j->agreement_id, "job.finished", data) : OS_ERR_INTERNAL;
}

os_err jobs_changed(job_run *run, op_ctx *x, const char *const *ids, const char *const *changes, int n) {
    os_err e = st_job_changes_add(x->c, x->a, run->id, run->nchanges + 1, ids, changes, n);
    if (!e) run->nchanges += n;
    return e;
}

os_err jobs_applied_in_tx(job_run *run, op_ctx *x, int64_t added, int64_t updated, int64_t removed) {
    const job_rec *j = run->job;
    os_err e = bulk_emit_applied(x, j->agreement_id, j->license_number, j->id, j->kind, added, updated, removed);
    if (e) return e;
    run->applied = true;
    run->added = added;
    run->updated = updated;
    run->removed = removed;
    return OS_OK;
}

os_err jobs_finish_in_tx(job_run *run, op_ctx *x, int status, const char *result) {
    jobs_worker *w = run->w;
    pthread_mutex_lock(&w->mu);
    job_progress p = w->live;
    pthread_mutex_unlock(&w->mu);
    os_err e = st_job_finish(x->c, run->id, "done", status, result, p.rows, p.checked, p.written, 0, x->now);
    if (!e) e = emit_finished(x, run->job, "done", status, run);
    if (!e) run->finished = true;
    return e;
}

bool jobs_live(jobs_worker *w, const char *id, job_progress *out) {
    if (!w) return false;
    pthread_mutex_lock(&w->mu);
    bool mine = w->live_id[0] && !strcmp(w->live_id, id);
    if (mine) *out = w->live;
    pthread_mutex_unlock(&w->mu);
    return mine;
}

static void set_live(jobs_worker *w, const char *id) {
    pthread_mutex_lock(&w->mu);
    snprintf(w->live_id, sizeof w->live_id, "%s", id ? id : "");
    w->live = (job_progress){"reading", 0, 0, 0, 0};
    pthread_mutex_unlock(&w->mu);
}

os_err jobs_checkpoint(job_run *run, op_ctx *x, bool now) {
    if (run->stop) return OS_ERR_FORBIDDEN;
    jobs_worker *w = run->w;
    pthread_mutex_lock(&w->mu);
    int64_t by = w->live.cancel_by;
    pthread_mutex_unlock(&w->mu);
    int64_t t = now_ms();
    if (!by && !now && t - run->checked_ms < CHECK_MS) return OS_OK;
    run->checked_ms = t;
    os_err e = by ? OS_OK : st_job_cancel_by(x->c, run->id, &by, &run->password_only);
    if (!e && by) {
        run->stop = STOP_CANCELLED;
        run->cancel_by = by;
        return OS_ERR_FORBIDDEN;
    }
    if (e) return e;
    /* The owner's access, by the request's own rule: a bulk upload is a change on an
     * ACCESS_AGREEMENT route that needs the bulk capability (any role holding it; the
     * agreement writable). Its few strings go to an arena of their own: checkpoints come
     * every few hundred rows of a long job. */
    arena tmp;
    arena_init(&tmp, 64 * 1024);
    op_ctx cx = *x;
    cx.a = &tmp;
    cx.now = time(NULL);
    agreement_access g = {.verdict = AGR_NO_ROLE};
    const access_need need = {WHO_ANY_ROLE, CAP_BULK, true};
    /* A job started with an API token acts as that request did: the owner narrowed by the
     * token, which must still be live (a revoked or expired token ends it as a lost role). */
    bool live = true;
    /* As strongly proven as the request that started it (a token's own method below), and no
     * more once the starter turned their second factor off (the row read above says so). */
    cx.auth_method = run->password_only && run->job->auth_method ? "password" : run->job->auth_method;
    if (run->job->token_id) e = tokens_narrow(&cx, run->job->user_id, run->job->token_id, &live);
    if (!e && live) e = access_agreement(&cx, run->job->license_number, run->job->user_id, &need, &g);
    arena_free(&tmp);
    if (e) return e;
    /* What the job writes is recorded under the relationship its owner acts under now, and
     * the token it was started with. */
    x->relationship_id = g.relationship_id;
    x->token_id = cx.token_id;
    if (g.verdict == AGR_ALLOWED) return OS_OK;
    run->stop = g.verdict == AGR_READ_ONLY       ? STOP_READ_ONLY
                : g.verdict == AGR_NO_CAPABILITY ? STOP_NO_CAPABILITY
                : g.verdict == AGR_STRONG_AUTH   ? STOP_STRONG_AUTH
                                                 : STOP_NO_ROLE;
    return OS_ERR_FORBIDDEN;
}

/* Ends a stopped job — nothing of it was applied — with the answer and audit entry saying
 * why, in one transaction. */
static os_err record_stop(job_run *run, op_ctx *x, const job_progress *p) {
    const job_rec *j = run->job;
    bool cancelled = run->stop == STOP_CANCELLED;
    op_ctx ax = *x;
    ax.now = time(NULL);
    ax.actor_id = 0;            /* the system ends a job whose owner lost access */
    ax.actor_email = ax.actor_name = NULL;
    ax.address = NULL;
    user_rec u;
    if (cancelled && !st_user_by_id(x->c, x->a, run->cancel_by, &u)) {
        ax.actor_id = u.id;     /* the trail names who cancelled it */
        ax.actor_email = u.email;
        ax.actor_name = u.name;
    }
    const char *details = json_pairs(x->a, "kind", j->kind, "user", j->user_email, "phase", p->phase, "reason",
                                     cancelled                          ? "cancelled"
                                     : run->stop == STOP_READ_ONLY      ? "read_only"
                                     : run->stop == STOP_NO_CAPABILITY ? "capability_bulk_missing"
                                     : run->stop == STOP_STRONG_AUTH   ? "strong_auth_required"
                                                                        : "no_role",
                                     "file_name", j->file_name, NULL);
    os_err e = store_tx_begin_agreement(x->c, j->agreement_id);
    if (e) return e;
    e = st_job_finish(x->c, j->id, cancelled ? "cancelled" : "failed", cancelled ? 409 : 403,
                      cancelled                          ? jobs_cancelled_result
                      : run->stop == STOP_READ_ONLY      ? read_only_result
                      : run->stop == STOP_NO_CAPABILITY ? no_capability_result
                      : run->stop == STOP_STRONG_AUTH   ? strong_auth_result
                                                         : access_removed_result,
                      p->rows, p->checked, 0, cancelled ? run->cancel_by : 0, ax.now);
    if (!e) e = audit(&ax, cancelled ? "job.cancelled" : "job.access_removed", "job", j->id, j->agreement_id, details);
    if (!e) e = emit_finished(&ax, j, cancelled ? "cancelled" : "failed", cancelled ? 409 : 403, NULL);
    return store_tx_end(x->c, e);
}

os_err jobs_cancel(op_ctx *x, const job_rec *j, job_cancel_outcome *out) {
    *out = JOB_ALREADY_FINISHED;
    os_err e = OS_OK;
    if (!strcmp(j->state, "queued")) {
        bool done = false;
        if ((e = store_tx_begin_agreement(x->c, j->agreement_id))) return e;
        e = st_job_cancel_queued(x->c, j->id, x->actor_id, 409, jobs_cancelled_result, x->now, &done);
        if (!e && done)
            e = audit(x, "job.cancelled", "job", j->id, j->agreement_id,
                      json_pairs(x->a, "kind", j->kind, "user", j->user_email, "phase", "queued", "reason", "cancelled",
                                 "file_name", j->file_name, NULL));
        if (!e && done) e = emit_finished(x, j, "cancelled", 409, NULL);
        if ((e = store_tx_end(x->c, e))) return e;
        if (done) {
            *out = JOB_CANCELLED;
            return OS_OK;
        }
        /* Claimed meanwhile: it is running now. */
    } else if (strcmp(j->state, "running")) {
        return OS_OK;
    }
    /* Running here: told at once, in memory (its next checkpoint stops it). */
    jobs_worker *w = x->app->jobs;
    bool here = false;
    if (w) {
        pthread_mutex_lock(&w->mu);
        here = w->live_id[0] && !strcmp(w->live_id, j->id);
        if (here && !w->live.cancel_by) w->live.cancel_by = x->actor_id;
        pthread_mutex_unlock(&w->mu);
    }
    /* The row, for every instance to see — unless other connections cannot write while the
     * job's transaction is open (SQLite), where this process is the one running it. */
    bool asked = here;
    if (!here || store_writes_beside_tx(x->app->st)) {
        bool done = false;
        if ((e = st_job_cancel_request(x->c, j->id, x->actor_id, x->now, &done))) return e;
        asked = asked || done;
    }
    if (asked) *out = JOB_CANCEL_ASKED;
    return OS_OK;
}

/* The job's checks and its executor, with the job's arena armed: a job that runs out of its
 * memory stops there, its transaction rolled back (*too_costly), instead of stopping the
 * process with every request in flight. What runs after a jump uses only the parameters,
 * which nothing changes between setjmp and longjmp. */
static os_err exec_armed(jobs_worker *w, job_run *run, op_ctx *x, const job_rec *j, int *status, const char **result,
                         bool *too_costly) {
    jmp_buf escape;
    if (setjmp(escape)) {
        arena_arm(x->a, NULL);
        store_conn_abandon(x->c);
        *too_costly = true;
        return OS_ERR_NOMEM;
    }
    arena_arm(x->a, &escape);
    os_err e = jobs_checkpoint(run, x, true);
    if (!e) e = w->exec(run, x, j, status, result);
    if (!e && !run->finished) e = jobs_checkpoint(run, x, true);
    arena_arm(x->a, NULL);
    return e;
}

/* Claims and runs one queued job; false when none waits (or the database is unreachable). */
static bool run_one(jobs_worker *w, store_conn *c) {
    const app *a = w->app;
    arena ar;
    /* The file, its table and the report, as much as an upload request may use. */
    arena_init(&ar, (size_t)a->cfg->request_memory + (size_t)(LIMIT_UPLOAD_ARENA_FACTOR + 1) * (size_t)a->cfg->max_upload);
    job_rec j;
    int64_t now = time(NULL);
    os_err e = st_job_claim(c, &ar, w->name, now + a->cfg->job_lease_s, &j);
    if (e) {
        if (e != OS_ERR_NOT_FOUND) log_event(LOG_WARN, "job claim failed", "error", os_err_name(e), NULL);
        arena_free(&ar);
        return false;
    }
    set_live(w, j.id);
    log_event(LOG_INFO, "job started", "job", j.id, "kind", j.kind, "request_id", j.request_id, NULL);
    user_rec u = {0};
    op_ctx x = {.app = a, .c = c, .a = &ar, .now = now, .actor_id = j.user_id, .address = j.address,
                .request_id = j.request_id};
    if (!st_user_by_id(c, &ar, j.user_id, &u)) {
        x.actor_email = u.email;
        x.actor_name = u.name;
    }
    job_run run = {.w = w, .id = j.id, .c = c, .job = &j, .written_ms = now_ms()};
    int status = 500;
    const char *result = NULL;
    /* Nothing is done for an owner who may no longer do it, nor once cancelled; and an
     * answer not applied with a change is checked again before it is recorded. */
    bool too_costly = false;
    e = exec_armed(w, &run, &x, &j, &status, &result, &too_costly);
    if (too_costly) {
        /* The arena is full: a little room for recording the end, as for a request. */
        char limit[24];
        snprintf(limit, sizeof limit, "%zu", ar.limit);
        ar.limit = ar.used_total + LIMIT_TOO_COSTLY_RESERVE;
        log_event(LOG_WARN, "job too costly", "job", j.id, "limit", limit, NULL);
    }
    if (!run.finished && run.stop) {
        pthread_mutex_lock(&w->mu);
        job_progress p = w->live;
        pthread_mutex_unlock(&w->mu);
        log_event(LOG_INFO, run.stop == STOP_CANCELLED ? "job cancelled" : "job stopped: access removed", "job", j.id,
                  NULL);
        if ((e = record_stop(&run, &x, &p)))
            log_event(LOG_ERROR, "job result not recorded", "job", j.id, "error", os_err_name(e), NULL);
    } else if (!run.finished) {
        pthread_mutex_lock(&w->mu);
        job_progress p = w->live;
        pthread_mutex_unlock(&w->mu);
        bool ok = !e && result;
        if (!ok && !too_costly) log_event(LOG_ERROR, "job failed", "job", j.id, "error", os_err_name(e), NULL);
        const char *failure = too_costly ? too_costly_result : internal_result;
        const char *state = ok ? "done" : "failed";
        int64_t st = ok ? status : too_costly ? 503 : 500;
        /* Its end, and the event saying so, together. */
        x.now = time(NULL);
        e = store_tx_begin_agreement(c, j.agreement_id);
        if (!e) {
            e = st_job_finish(c, j.id, state, st, ok ? result : failure, p.rows, p.checked, p.written, 0, x.now);
            if (!e) e = emit_finished(&x, &j, state, st, NULL);
            e = store_tx_end(c, e);
        }
        if (e) log_event(LOG_ERROR, "job result not recorded", "job", j.id, "error", os_err_name(e), NULL);
    }
    webhooks_wake(&x);
    log_event(LOG_INFO, "job finished", "job", j.id, NULL);
    set_live(w, NULL);
    arena_free(&ar);
    return true;
}

static void *worker_main(void *p) {
    jobs_worker *w = p;
    store_conn *c = store_conn_get(w->app->st);
    pthread_mutex_lock(&w->mu);
    while (!w->stop) {
        pthread_mutex_unlock(&w->mu);
        bool ran = c && run_one(w, c);
        pthread_mutex_lock(&w->mu);
        if (w->stop) break;
        /* Another instance's jobs are found by looking again; this one's wake us at once. */
        if (!ran && !w->woken) worker_wait(&w->cv, &w->mu, w->app->cfg->mail_poll_ms);
        w->woken = false;
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

/* Jobs whose worker stopped (their lease ran out) end failed, each with its job.finished
 * event in one transaction; *failed counts them. */
static os_err fail_stale(const app *a, store_conn *c, int64_t now, int64_t *failed) {
    arena ar;
    arena_init(&ar, 1u << 20);
    job_rec *rows;
    int n;
    os_err e = st_jobs_stale(c, &ar, now, 100, &rows, &n);
    op_ctx x = {.app = a, .c = c, .a = &ar, .now = now};
    for (int i = 0; !e && i < n; i++) {
        bool done = false;
        if ((e = store_tx_begin_agreement(c, rows[i].agreement_id))) break;
        e = st_job_fail_stale(c, rows[i].id, now, 500, jobs_interrupted_result, &done);
        if (!e && done) e = emit_finished(&x, &rows[i], "failed", 500, NULL);
        e = store_tx_end(c, e);
        if (!e && done) (*failed)++;
    }
    arena_free(&ar);
    return e;
}

/* Renews this process's lease a few times a lease, marks jobs whose worker stopped as
 * failed, and forgets old jobs: on its own connection, so a long job's transaction on the
 * worker's never delays it by more than the database's busy wait. Where the database lets
 * it, it also writes the progress of a job whose rows are inside a transaction. */
static void *keeper_main(void *p) {
    jobs_worker *w = p;
    store_conn *c = store_conn_get(w->app->st);
    long lease = w->app->cfg->job_lease_s;
    int64_t next_rounds = 0;
    pthread_mutex_lock(&w->mu);
    while (!w->stop) {
        bool due = w->progress_due;
        w->progress_due = false;
        char id[sizeof w->live_id];
        memcpy(id, w->live_id, sizeof id);
        job_progress live = w->live;
        pthread_mutex_unlock(&w->mu);
        if (c && due && id[0]) os_ignore(st_job_progress(c, id, live.phase, live.rows, live.checked, live.written));
        int64_t t = now_ms();
        if (c && t >= next_rounds) {
            int64_t now = time(NULL), failed = 0;
            os_err e = st_job_extend(c, w->name, now + lease);
            if (!e) e = fail_stale(w->app, c, now, &failed);
            if (!e) e = st_jobs_purge(c, now - JOBS_KEEP_S);
            if (e) log_event(LOG_WARN, "job keeper failed", "error", os_err_name(e), NULL);
            if (failed) log_event(LOG_WARN, "interrupted jobs marked failed", NULL);
            next_rounds = t + lease * 1000 / 3;
        }
        pthread_mutex_lock(&w->mu);
        if (w->stop) break;
        long wait = (long)(next_rounds - now_ms());
        if (!w->progress_due && wait > 0) worker_wait(&w->keeper_cv, &w->mu, wait);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

jobs_worker *jobs_start(const app *a, job_exec_fn exec) {
    jobs_worker *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    w->app = a;
    w->exec = exec;
    worker_name(w->name);
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    pthread_cond_init(&w->keeper_cv, NULL);
    if (pthread_create(&w->th, NULL, worker_main, w)) {
        free(w);
        return NULL;
    }
    w->keeper_started = !pthread_create(&w->keeper, NULL, keeper_main, w);
    if (!w->keeper_started) {
        jobs_stop(w);
        return NULL;
    }
    return w;
}

void jobs_stop(jobs_worker *w) {
    if (!w) return;
    pthread_mutex_lock(&w->mu);
    w->stop = true;
    pthread_cond_broadcast(&w->cv);
    pthread_cond_broadcast(&w->keeper_cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->th, NULL);
    if (w->keeper_started) pthread_join(w->keeper, NULL);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    pthread_cond_destroy(&w->keeper_cv);
    free(w);
}
