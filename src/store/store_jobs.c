/* store_jobs.c — background jobs: uploaded files waiting, being processed, and their answers.
 * Contract in store.h. */
#include "store_util.h"

/* A job with its agreement's license number, its owner, whoever asked to cancel it and the API
 * token it was started with. */
#define JOB_SELECT "SELECT j.id, j.agreement_id, j.user_id, j.kind, j.check_only, j.send_email, j.file_name," \
                   " j.address, j.request_id, j.state, j.phase, j.rows, j.rows_checked, j.rows_written, j.status," \
                   " j.result, j.created_at, j.finished_at, g.license_number, u.name, u.email, j.cancel_by," \
                   " j.cancel_at, cu.name, cu.email, COALESCE(j.token_id, 0), j.auth_method FROM jobs j"        \
                   " JOIN agreements g ON g.id = j.agreement_id"                                                  \
                   " JOIN users u ON u.id = j.user_id LEFT JOIN users cu ON cu.id = j.cancel_by"

typedef struct job_ud {
    arena *a;
    job_rec *out;
    bool found;
} job_ud;

static void fill_job(arena *a, db_row *r, job_rec *j) {
    *j = (job_rec){.id = st_dup(a, r, 0), .agreement_id = db_int(r, 1), .user_id = db_int(r, 2),
                   .kind = st_dup(a, r, 3), .check_only = db_int(r, 4) != 0, .send_email = db_int(r, 5) != 0,
                   .file_name = st_dup(a, r, 6), .address = st_dup(a, r, 7), .request_id = st_dup(a, r, 8),
                   .state = st_dup(a, r, 9), .phase = st_dup(a, r, 10), .rows = db_int(r, 11),
                   .rows_checked = db_int(r, 12), .rows_written = db_int(r, 13),
                   .status = db_is_null(r, 14) ? 0 : db_int(r, 14), .result = st_dup(a, r, 15),
                   .created_at = db_int(r, 16), .finished_at = db_is_null(r, 17) ? 0 : db_int(r, 17),
                   .license_number = st_dup(a, r, 18), .user_name = st_dup(a, r, 19), .user_email = st_dup(a, r, 20),
                   .cancel_by = db_is_null(r, 21) ? 0 : db_int(r, 21), .cancel_at = db_is_null(r, 22) ? 0 : db_int(r, 22),
                   .cancel_name = st_dup(a, r, 23), .cancel_email = st_dup(a, r, 24), .token_id = db_int(r, 25),
                   .auth_method = st_dup(a, r, 26)};
}

static int job_row(void *ud, db_row *r) {
    job_ud *u = ud;
    fill_job(u->a, r, u->out);
    u->found = true;
    return 1;
}

static void job_fill(arena *a, db_row *r, void *dst) { fill_job(a, r, dst); }

static int file_row(void *ud, db_row *r) {
    job_ud *u = ud;
    size_t n;
    const void *p = db_blob(r, 0, &n);
    char *copy = arena_alloc(u->a, n + 1);   /* NUL-terminated too: the CSV reader's input */
    if (n) memcpy(copy, p, n);
    copy[n] = 0;
    u->out->file = copy;
    u->out->file_len = n;
    u->found = true;
    return 1;
}

os_err st_job_file(store_conn *c, arena *a, job_rec *out) {
    job_ud u = {a, out, false};
    os_err e = db_exec(c, "SELECT data FROM job_files WHERE job_id = ?1", DB_ARGS(DV_TEXT(out->id)), file_row, &u);
    return !e && !u.found ? OS_ERR_NOT_FOUND : e;
}

os_err st_job_create(store_conn *c, const job_rec *j, int64_t now) {
    /* Scoped to its agreement: a job queued for one customer does not wait for another
     * customer's bulk write to end. */
    os_err e = store_tx_begin_agreement(c, j->agreement_id);
    if (e) return e;
    e = db_exec(c,
                "INSERT INTO jobs (id, agreement_id, user_id, kind, check_only, send_email, file_name, address,"
                " request_id, created_at, token_id, auth_method) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                DB_ARGS(DV_TEXT(j->id), DV_INT(j->agreement_id), DV_INT(j->user_id), DV_TEXT(j->kind),
                        DV_INT(j->check_only), DV_INT(j->send_email), DV_TEXT(j->file_name), DV_TEXT(j->address),
                        DV_TEXT(j->request_id), DV_INT(now), j->token_id ? DV_INT(j->token_id) : DV_NULL,
                        DV_TEXT(j->auth_method)),
                NULL, NULL);
    if (!e) e = db_exec(c, "INSERT INTO job_files (job_id, data) VALUES (?1, ?2)",
                        DB_ARGS(DV_TEXT(j->id), DV_BLOB(j->file, j->file_len)), NULL, NULL);
    return store_tx_end(c, e);
}

os_err st_job_claim(store_conn *c, arena *a, const char *worker, int64_t lease_until, job_rec *out) {
    job_ud u = {a, out, false};
    /* As the outbox's claim: SQLite serialises writers; PostgreSQL skips rows another
     * instance is claiming. Only a queued job is taken: a cancelled one stays where it is. */
    const char *sql = c->drv->dialect == DIALECT_PG
        ? "UPDATE jobs SET state = 'running', phase = 'reading', claimed_by = ?1, claimed_until = ?2"
          " WHERE id = (SELECT id FROM jobs WHERE state = 'queued' ORDER BY seq LIMIT 1"
          " FOR UPDATE SKIP LOCKED) AND state = 'queued' RETURNING id"
        : "UPDATE jobs SET state = 'running', phase = 'reading', claimed_by = ?1, claimed_until = ?2"
          " WHERE id = (SELECT id FROM jobs WHERE state = 'queued' ORDER BY seq LIMIT 1)"
          " RETURNING id";
    const char **ids;
    int n;
    os_err e = st_list(c, a, sql, DB_ARGS(DV_TEXT(worker), DV_INT(lease_until)), sizeof(const char *), st_fill_text,
                       (void **)&ids, &n);
    if (!e && !n) e = OS_ERR_NOT_FOUND;
    if (!e) e = db_exec(c, JOB_SELECT " WHERE j.id = ?1", DB_ARGS(DV_TEXT(ids[0])), job_row, &u);
    if (!e && !u.found) e = OS_ERR_NOT_FOUND;
    return e ? e : st_job_file(c, a, out);
}

os_err st_job_extend(store_conn *c, const char *worker, int64_t lease_until) {
    return db_exec(c, "UPDATE jobs SET claimed_until = ?2 WHERE state = 'running' AND claimed_by = ?1",
                   DB_ARGS(DV_TEXT(worker), DV_INT(lease_until)), NULL, NULL);
}

os_err st_job_progress(store_conn *c, const char *id, const char *phase, int64_t rows, int64_t checked,
                       int64_t written) {
    return db_exec(c,
                   "UPDATE jobs SET phase = ?2, rows = ?3, rows_checked = ?4, rows_written = ?5"
                   " WHERE id = ?1 AND state = 'running'",
                   DB_ARGS(DV_TEXT(id), DV_TEXT(phase), DV_INT(rows), DV_INT(checked), DV_INT(written)), NULL, NULL);
}

os_err st_job_finish(store_conn *c, const char *id, const char *state, int64_t status, const char *result,
                     int64_t rows, int64_t checked, int64_t written, int64_t cancel_by, int64_t now) {
    return db_exec(c,
                   "UPDATE jobs SET state = ?2, phase = 'finished', status = ?3, result = ?4, rows = ?5,"
                   " rows_checked = ?6, rows_written = ?7, finished_at = ?8, claimed_by = NULL, claimed_until = NULL,"
                   " cancel_by = COALESCE(cancel_by, ?9), cancel_at = COALESCE(cancel_at, CASE WHEN ?9 IS NULL"
                   " THEN NULL ELSE ?8 END)"
                   " WHERE id = ?1 AND state = 'running'",
                   DB_ARGS(DV_TEXT(id), DV_TEXT(state), DV_INT(status), DV_TEXT(result), DV_INT(rows),
                           DV_INT(checked), DV_INT(written), DV_INT(now), cancel_by ? DV_INT(cancel_by) : DV_NULL),
                   NULL, NULL);
}

os_err st_jobs_stale(store_conn *c, arena *a, int64_t now, int limit, job_rec **rows, int *n) {
    return st_list(c, a, JOB_SELECT " WHERE j.state = 'running' AND j.claimed_until < ?1 ORDER BY j.seq LIMIT ?2",
                   DB_ARGS(DV_INT(now), DV_INT(limit)), sizeof(job_rec), job_fill, (void **)rows, n);
}

os_err st_job_fail_stale(store_conn *c, const char *id, int64_t now, int64_t status, const char *result, bool *failed) {
    int64_t n = 0;
    os_err e = db_exec_changes(c,
                               "UPDATE jobs SET state = 'failed', phase = 'finished', status = ?3, result = ?4,"
                               " finished_at = ?2, claimed_by = NULL, claimed_until = NULL"
                               " WHERE id = ?1 AND state = 'running' AND claimed_until < ?2",
                               DB_ARGS(DV_TEXT(id), DV_INT(now), DV_INT(status), DV_TEXT(result)), &n);
    *failed = n > 0;
    return e;
}

os_err st_job_get(store_conn *c, arena *a, int64_t agreement_id, int64_t user_id, const char *id, job_rec *out) {
    job_ud u = {a, out, false};
    os_err e = user_id
        ? db_exec(c, JOB_SELECT " WHERE j.id = ?1 AND j.agreement_id = ?2 AND j.user_id = ?3",
                  DB_ARGS(DV_TEXT(id), DV_INT(agreement_id), DV_INT(user_id)), job_row, &u)
        : db_exec(c, JOB_SELECT " WHERE j.id = ?1 AND j.agreement_id = ?2", DB_ARGS(DV_TEXT(id), DV_INT(agreement_id)),
                  job_row, &u);
    if (!e && !u.found) e = OS_ERR_NOT_FOUND;
    return e;
}

os_err st_job_list(store_conn *c, arena *a, int64_t agreement_id, int64_t user_id, int limit, job_rec **rows,
                   int *n) {
    if (!user_id)
        return st_list(c, a, JOB_SELECT " WHERE j.agreement_id = ?1 ORDER BY j.seq DESC LIMIT ?2",
                       DB_ARGS(DV_INT(agreement_id), DV_INT(limit)), sizeof(job_rec), job_fill, (void **)rows, n);
    return st_list(c, a, JOB_SELECT " WHERE j.agreement_id = ?1 AND j.user_id = ?2 ORDER BY j.seq DESC LIMIT ?3",
                   DB_ARGS(DV_INT(agreement_id), DV_INT(user_id), DV_INT(limit)), sizeof(job_rec), job_fill,
                   (void **)rows, n);
}

os_err st_job_delete(store_conn *c, int64_t agreement_id, int64_t user_id, const char *id) {
    int64_t n = 0;
    os_err e = db_exec_changes(c,
                               "DELETE FROM jobs WHERE id = ?1 AND agreement_id = ?2 AND user_id = ?3"
                               " AND state IN ('done', 'failed', 'cancelled')",
                               DB_ARGS(DV_TEXT(id), DV_INT(agreement_id), DV_INT(user_id)), &n);
    if (e || n) return e;
    int64_t exists;
    e = db_scalar_int(c, "SELECT 1 FROM jobs WHERE id = ?1 AND agreement_id = ?2 AND user_id = ?3",
                      DB_ARGS(DV_TEXT(id), DV_INT(agreement_id), DV_INT(user_id)), &exists);
    return e ? e : OS_ERR_CONFLICT;
}

os_err st_job_cancel_queued(store_conn *c, const char *id, int64_t by, int64_t status, const char *result,
                            int64_t now, bool *done) {
    int64_t n = 0;
    os_err e = db_exec_changes(c,
                               "UPDATE jobs SET state = 'cancelled', phase = 'finished', status = ?3, result = ?4,"
                               " finished_at = ?5, cancel_by = ?2, cancel_at = ?5 WHERE id = ?1 AND state = 'queued'",
                               DB_ARGS(DV_TEXT(id), DV_INT(by), DV_INT(status), DV_TEXT(result), DV_INT(now)), &n);
    *done = n > 0;
    return e;
}

os_err st_job_cancel_request(store_conn *c, const char *id, int64_t by, int64_t now, bool *done) {
    int64_t n = 0;
    os_err e = db_exec_changes(c,
                               "UPDATE jobs SET cancel_by = COALESCE(cancel_by, ?2), cancel_at = COALESCE(cancel_at, ?3)"
                               " WHERE id = ?1 AND state = 'running'",
                               DB_ARGS(DV_TEXT(id), DV_INT(by), DV_INT(now)), &n);
    *done = n > 0;
    return e;
}

typedef struct cancel_by_ud {
    int64_t *by;
    bool *password_only;
} cancel_by_ud;

static int cancel_by_row(void *ud, db_row *r) {
    cancel_by_ud *u = ud;
    *u->by = db_int(r, 0);
    *u->password_only = db_int(r, 1) != 0;
    return 1;
}

os_err st_job_cancel_by(store_conn *c, const char *id, int64_t *by, bool *password_only) {
    *by = 0;
    *password_only = false;
    cancel_by_ud u = {by, password_only};
    return db_exec(c,
                   "SELECT COALESCE(cancel_by, 0), CASE WHEN auth_method = 'password' THEN 1 ELSE 0 END"
                   " FROM jobs WHERE id = ?1",
                   DB_ARGS(DV_TEXT(id)), cancel_by_row, &u);
}

os_err st_jobs_purge(store_conn *c, int64_t before) {
    return db_exec(c, "DELETE FROM jobs WHERE created_at < ?1 AND state <> 'running'", DB_ARGS(DV_INT(before)), NULL,
                   NULL);
}

os_err st_job_changes_add(store_conn *c, arena *a, const char *job_id, int64_t first, const char *const *ids,
                          const char *const *changes, int n) {
    st_multi m;
    st_multi_init(&m, a, 1 + 3 * ST_VALUES_PER_QUERY);
    os_err e = OS_OK;
    for (int done = 0; !e && done < n;) {
        int k = st_batch(n - done, ST_VALUES_PER_QUERY);
        const char *sql = st_multi_sql(&m, "INSERT INTO job_changes (job_id, n, subscription, changes) VALUES ",
                                       "(?1, #, #, #)", 2, k, "");
        if (!sql) return OS_ERR_INTERNAL;
        int j = 0;
        m.args[j++] = DV_TEXT(job_id);
        for (int i = 0; i < k; i++) {
            m.args[j++] = DV_INT(first + done + i);
            m.args[j++] = DV_TEXT(ids[done + i]);
            m.args[j++] = changes && changes[done + i] ? DV_TEXT(changes[done + i]) : DV_NULL;
        }
        e = db_exec(c, sql, m.args, j, NULL, NULL);
        done += k;
    }
    return e;
}

static void fill_change(arena *a, db_row *r, void *dst) {
    job_change_rec *x = dst;
    x->n = db_int(r, 0);
    x->subscription = st_dup(a, r, 1);
    x->changes = st_dup(a, r, 2);
}

os_err st_job_changes_page(store_conn *c, arena *a, const char *job_id, int64_t after, int limit,
                           job_change_rec **rows, int *n) {
    return st_list(c, a,
                   "SELECT n, subscription, changes FROM job_changes WHERE job_id = ?1 AND n > ?2 ORDER BY n LIMIT ?3",
                   DB_ARGS(DV_TEXT(job_id), DV_INT(after), DV_INT(limit)), sizeof(job_change_rec), fill_change,
                   (void **)rows, n);
}
