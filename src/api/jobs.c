/* jobs.c — background jobs on an agreement (uploaded files processed by the job worker,
 * domain/jobs.h): listing, following, cancelling, dismissing, and the uploaded file given
 * back with its problems marked. A job is visible to the user who started it and to the
 * agreement's super admins, and only under its own agreement: anyone else gets 404. Only
 * its owner dismisses it; its owner or a super admin cancels it. */
#include <jansson.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>
#include "api.h"
#include "core/embed.h"
#include "core/text.h"
#include "domain/bulk.h"
#include "io/export.h"
#include "io/table.h"

#define JOB_ID_LEN 32

const char *api_job_url(req *r, const char *id) {
    return arena_printf(&r->a, "/api/v1/agreements/%s/jobs/%s", r->agreement_license, id);
}

void api_write_job(jw *w, req *r, const job_rec *j) {
    job_progress live = {j->phase, j->rows, j->rows_checked, j->rows_written, 0};
    /* While this process runs it, memory is ahead of the row (see jobs.h). */
    if (!strcmp(j->state, "running")) jobs_live(r->app->jobs, j->id, &live);
    jw_obj(w);
    jw_kstr(w, "id", j->id);
    jw_key(w, "user");
    jw_obj(w);
    jw_kint(w, "id", j->user_id);
    jw_kstr(w, "name", j->user_name);
    jw_kstr(w, "email", j->user_email);
    jw_obj_end(w);
    jw_kstr(w, "kind", j->kind);
    jw_kbool(w, "check_only", j->check_only);
    jw_kbool(w, "send_email", j->send_email);
    jw_kstr(w, "file_name", j->file_name);
    jw_kstr(w, "state", j->state);
    jw_kstr(w, "phase", live.phase);
    jw_kint(w, "rows", live.rows);
    jw_kint(w, "rows_checked", live.checked);
    jw_kint(w, "rows_written", live.written);
    jw_kstr(w, "created_at", text_iso_time(&r->a, j->created_at));
    jw_kstr(w, "finished_at", j->finished_at ? text_iso_time(&r->a, j->finished_at) : NULL);
    if (j->status) jw_kint(w, "status", j->status);
    else jw_knull(w, "status");
    jw_key(w, "result");
    if (j->result) jw_raw(w, j->result);
    else jw_null(w);
    jw_kbool(w, "cancel_requested", j->cancel_by || live.cancel_by);
    jw_key(w, "cancelled_by");
    if (j->cancel_by) {
        jw_obj(w);
        jw_kint(w, "id", j->cancel_by);
        jw_kstr(w, "name", j->cancel_name);
        jw_kstr(w, "email", j->cancel_email);
        jw_obj_end(w);
    } else {
        jw_null(w);
    }
    jw_obj_end(w);
}

/* Path parameter 1 when it has a job id's shape; else the answer is 404 (as for an unknown
 * one: nothing tells a guessed id from a wrong one). */
static const char *job_param(req *r) {
    const char *id = req_param(r, 1);
    if (!id || strlen(id) != JOB_ID_LEN) return NULL;
    for (const char *p = id; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))) return NULL;
    return id;
}

/* Whose jobs the caller sees: a super admin every job of the agreement (0), anyone else
 * their own. */
static int64_t visible_owner(const req *r) {
    return !strcmp(r->agreement_role, "super_admin") ? 0 : r->user_id;
}

/* The job named by the path, when the caller may see it (without its file). */
static os_err load_job(req *r, job_rec *j) {
    const char *id = job_param(r);
    if (!id) return OS_ERR_NOT_FOUND;
    return st_job_get(r->x->c, r->x->a, r->agreement_id, visible_owner(r), id, j);
}

os_err h_jobs_list(req *r) {
    op_ctx *x = r->x;
    job_rec *rows;
    int n;
    int64_t owner = visible_owner(r);
    os_err e = st_job_list(x->c, x->a, r->agreement_id, owner, owner ? JOBS_LISTED : JOBS_LISTED_ALL, &rows, &n);
    if (e) return e;
    jw *w = reply_json(r, 200);
    jw_obj(w);
    jw_key(w, "jobs");
    jw_arr(w);
    for (int i = 0; i < n; i++) api_write_job(w, r, &rows[i]);
    jw_arr_end(w);
    jw_obj_end(w);
    return OS_OK;
}

os_err h_job_get(req *r) {
    job_rec j;
    os_err e = load_job(r, &j);
    if (e) return e;
    api_write_job(reply_json(r, 200), r, &j);
    return OS_OK;
}

/* {"job": id, "kind", "items": [{"id": subscription, "changes"?}], "next_after": n|null}:
 * the subscriptions an applied job changed, in order, a page at a time (what its bulk.applied
 * event links to). Any job of the agreement, for whoever holds the bulk capability there
 * (the event's audience): the list names only what the subscription list shows. */
os_err h_job_changes(req *r) {
    const char *id = job_param(r);
    if (!id) return OS_ERR_NOT_FOUND;
    int64_t after = query_id(r, "after", "Use the next_after value of the previous page");
    int limit = (int)query_int(r, "limit", 1, LIMIT_PAGE_SIZE_MAX, LIMIT_PAGE_SIZE_DEFAULT);
    if (fe_any(&r->fe)) return OS_ERR_INVALID;
    op_ctx *x = r->x;
    job_rec j;
    os_err e = st_job_get(x->c, x->a, r->agreement_id, 0, id, &j);
    job_change_rec *rows;
    int n;
    if (!e) e = st_job_changes_page(x->c, x->a, id, after, limit + 1, &rows, &n);
    if (e) return e;
    jw *w = reply_json(r, 200);
    jw_obj(w);
    jw_kstr(w, "job", j.id);
    jw_kstr(w, "kind", j.kind);
    jw_key(w, "items");
    jw_arr(w);
    for (int i = 0; i < n && i < limit; i++) {
        jw_obj(w);
        jw_kstr(w, "id", rows[i].subscription);
        jw_kraw_opt(w, "changes", rows[i].changes);
        jw_obj_end(w);
    }
    jw_arr_end(w);
    jw_key(w, "next_after");
    if (n > limit) jw_int(w, rows[limit - 1].n);
    else jw_null(w);
    jw_obj_end(w);
    return OS_OK;
}

static os_err job_running(req *r) {
    problem_reply_status(r, 409, "job_running", "This file is still being processed; wait until it is finished");
    return OS_OK;
}

os_err h_job_delete(req *r) {
    const char *id = job_param(r);
    if (!id) return OS_ERR_NOT_FOUND;
    op_ctx *x = r->x;
    os_err e = st_job_delete(x->c, r->agreement_id, r->user_id, id);
    if (e == OS_ERR_CONFLICT) return job_running(r);
    if (e) return e;
    reply_empty(r, 204);
    return OS_OK;
}

/* A queued job is cancelled at once (200); a running one is asked to stop at its next
 * checkpoint (202: poll it; it ends cancelled, or done when it was already committing). */
os_err h_job_cancel(req *r) {
    op_ctx *x = r->x;
    job_rec j;
    os_err e = load_job(r, &j);
    if (e) return e;
    job_cancel_outcome out;
    if ((e = jobs_cancel(x, &j, &out))) return e;
    if (out == JOB_ALREADY_FINISHED) {
        problem_reply_status(r, 409, "job_finished", "This job has already finished: there is nothing to cancel");
        return OS_OK;
    }
    if ((e = st_job_get(x->c, x->a, r->agreement_id, 0, j.id, &j))) return e;
    api_write_job(reply_json(r, out == JOB_CANCELLED ? 200 : 202), r, &j);
    return OS_OK;
}

/* ---- the annotated copy ---- */

/* The French wording of the bulk report's problem codes is the web UI's own (its message
 * catalogue is embedded): one text for both. Loaded once; NULL when unavailable. */
static json_t *french;
static pthread_once_t french_once = PTHREAD_ONCE_INIT;

static void load_french(void) {
    const embed_file *f = embed_find("web/i18n/fr.json");
    if (f) french = json_loadb((const char *)f->data, f->len, 0, NULL);
}

static const char *problem_text(arena *a, const char *lang, json_t *err) {
    const char *code = json_string_value(json_object_get(err, "code"));
    const char *message = json_string_value(json_object_get(err, "message"));
    const char *column = json_string_value(json_object_get(err, "column"));
    if (lang && !strncmp(lang, "fr", 2) && code) {
        pthread_once(&french_once, load_french);
        const char *fr = json_string_value(json_object_get(french, arena_printf(a, "field.%s", code)));
        if (fr) message = fr;
    }
    if (!message) message = code ? code : "";
    return column ? arena_printf(a, "%s: %s", column, message) : message;
}

/* Index of the table row the user numbers `row`; -1 when none (rownum increases). */
static int row_index(const io_table *t, int row) {
    int lo = 0, hi = t->nrows - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        if (t->rownum[mid] == row) return mid;
        if (t->rownum[mid] < row) lo = mid + 1;
        else hi = mid - 1;
    }
    return -1;
}

/* Each row's problems joined, from the job's answer (a report, or a problem carrying one);
 * those on no data row (the file, its header) in *whole. */
static void decref_json(void *doc) { json_decref(doc); }   /* json_decref(NULL) does nothing */

static const char **row_problems(req *r, const job_rec *j, const io_table *t, const char **whole) {
    const char **notes = arena_alloc(&r->a, sizeof *notes * (size_t)t->nrows);
    *whole = NULL;
    /* The document lives while the notes are written into the arena: if that runs out, the
     * arena's cleanup releases it. Registered first (registering may run out too). */
    arena_cleanup *release = arena_defer(&r->a, decref_json, NULL);
    json_t *doc = j->result ? json_loads(j->result, 0, NULL) : NULL;
    arena_cleanup_set(release, doc);
    json_t *report = json_object_get(doc, "report");
    json_t *errors = json_object_get(report ? report : doc, "errors");
    size_t k;
    json_t *err;
    json_array_foreach(errors, k, err) {
        const char *text = problem_text(&r->a, r->user_language, err);
        int i = row_index(t, (int)json_integer_value(json_object_get(err, "row")));
        const char **slot = i > 0 ? &notes[i] : whole;
        *slot = *slot ? arena_printf(&r->a, "%s · %s", *slot, text) : text;
    }
    arena_undefer(release);
    json_decref(doc);
    return notes;
}

os_err h_job_annotated(req *r) {
    op_ctx *x = r->x;
    job_rec j;
    os_err e = load_job(r, &j);
    if (e) return e;
    if (!strcmp(j.state, "queued") || !strcmp(j.state, "running")) return job_running(r);
    if ((e = st_job_file(x->c, x->a, &j))) return e;
    io_table t;
    char why[256] = "";
    if (io_table_read(&r->a, j.file, j.file_len, BULK_ROWS_MAX + 1, &t, why, sizeof why)) {
        problem_reply_status(r, 422, "unreadable_file", arena_printf(&r->a, "This file cannot be read: %s", why));
        return OS_OK;
    }
    const char *whole;
    const char **notes = row_problems(r, &j, &t, &whole);
    int ncols = 1;
    for (int i = 0; i < t.nrows; i++)
        if (t.ncells[i] + 1 > ncols) ncols = t.ncells[i] + 1;
    bool fr = r->user_language && !strncmp(r->user_language, "fr", 2);
    export_column *cols = arena_alloc(&r->a, sizeof *cols * (size_t)ncols);
    cols[0] = (export_column){fr ? "Problèmes" : "Problems", 60};
    for (int c = 1; c < ncols; c++) cols[c] = (export_column){c - 1 < t.ncells[0] ? t.rows[0][c - 1] : "", 20};
    export_format f = io_is_xlsx(j.file, j.file_len) ? EXPORT_XLSX : EXPORT_CSV;
    export_file *out;
    if ((e = export_begin(&r->a, f, r->user_language, fr ? "Problèmes" : "Problems", cols, ncols, &out))) return e;
    const char **cells = arena_alloc(&r->a, sizeof *cells * (size_t)ncols);
    for (int i = whole ? 0 : 1; !e && i < t.nrows; i++) {
        memset(cells, 0, sizeof *cells * (size_t)ncols);
        if (i == 0) {
            cells[0] = whole;   /* the file's own problems, on a row of their own */
        } else {
            cells[0] = notes[i];
            for (int c = 0; c < t.ncells[i]; c++) cells[c + 1] = t.rows[i][c];
        }
        e = export_row(out, cells);
    }
    if (e) {
        export_discard(out);
        return e;
    }
    int fd;
    uint64_t size;
    if ((e = export_end(out, &fd, &size))) return e;
    const char *stem = "subscribers";
    if (j.file_name) {
        const char *dot = strrchr(j.file_name, '.');
        stem = dot && dot != j.file_name ? arena_strndup(&r->a, j.file_name, (size_t)(dot - j.file_name)) : j.file_name;
    }
    reply_file(r, 200, export_content_type(f), fd, size,
               arena_printf(&r->a, "%s-%s.%s", stem, fr ? "problemes" : "problems", export_format_name(f)));
    return OS_OK;
}
