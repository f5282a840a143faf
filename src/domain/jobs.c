/* jobs.c — the background worker and its keeper. Contract in jobs.h. */
#include "jobs.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "core/limits.h"
#include "core/log.h"
#include "core/secret.h"
#include "core/worker.h"

/* How often a running job's progress is written to its row, at most: readers on another
 * instance see it move without the row being rewritten for every chunk. */
#define PROGRESS_WRITE_MS 250

const char *const jobs_interrupted_result =
    "{\"type\":\"urn:openseat:problem:job_interrupted\",\"title\":\"Internal error\",\"status\":500,"
    "\"detail\":\"The server stopped while this file was being processed; nothing was applied: upload it again\","
    "\"code\":\"job_interrupted\"}";

static const char *const internal_result =
    "{\"type\":\"urn:openseat:problem:internal\",\"title\":\"Internal error\",\"status\":500,"
    "\"detail\":\"Something went wrong on our side while processing this file; nothing was applied\","
    "\"code\":\"internal\"}";

struct job_run {
    jobs_worker *w;
    const char *id;
    store_conn *c;
    int64_t written_ms;     /* when progress last reached the row */
    bool finished;          /* jobs_finish_in_tx was called */
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
    w->live = (job_progress){phase, rows, checked, written};
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

os_err jobs_finish_in_tx(job_run *run, op_ctx *x, int status, const char *result) {
    jobs_worker *w = run->w;
    pthread_mutex_lock(&w->mu);
    job_progress p = w->live;
    pthread_mutex_unlock(&w->mu);
    os_err e = st_job_finish(x->c, run->id, "done", status, result, p.rows, p.checked, p.written, x->now);
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
    w->live = (job_progress){"reading", 0, 0, 0};
    pthread_mutex_unlock(&w->mu);
}

/* Claims and runs one queued job; false when none waits (or the database is unreachable). */
static bool run_one(jobs_worker *w, store_conn *c) {
    const app *a = w->app;
    arena ar;
    /* The file, its table and the report, as much as an upload request may use. */
    arena_init(&ar, LIMIT_ARENA_BYTES + (size_t)(LIMIT_UPLOAD_ARENA_FACTOR + 1) * (size_t)a->cfg->max_upload);
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
    job_run run = {.w = w, .id = j.id, .c = c, .written_ms = now_ms()};
    int status = 500;
    const char *result = NULL;
    e = w->exec(&run, &x, &j, &status, &result);
    if (!run.finished) {
        pthread_mutex_lock(&w->mu);
        job_progress p = w->live;
        pthread_mutex_unlock(&w->mu);
        bool ok = !e && result;
        if (!ok) log_event(LOG_ERROR, "job failed", "job", j.id, "error", os_err_name(e), NULL);
        e = st_job_finish(c, j.id, ok ? "done" : "failed", ok ? status : 500, ok ? result : internal_result, p.rows,
                          p.checked, p.written, (int64_t)time(NULL));
        if (e) log_event(LOG_ERROR, "job result not recorded", "job", j.id, "error", os_err_name(e), NULL);
    }
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
            if (!e) e = st_jobs_fail_stale(c, now, 500, jobs_interrupted_result, &failed);
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
