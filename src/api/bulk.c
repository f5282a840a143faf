/* bulk.c — uploads of subscriber files: bulk add, bulk edit and bulk removal, each checked
 * only (the preview) or applied. The file is the raw request body, CSV or Excel (.xlsx,
 * recognised by its zip signature; a plain-text list reads as a one-column CSV); the report
 * lists every problem by row and column (domain/bulk.h).
 *
 * An upload is answered within its request, or — with background=true — kept as a job
 * (domain/jobs.h) that api_job_exec runs on the worker: the same steps, the same answer,
 * recorded with the job instead of sent. */
#include <string.h>
#include <strings.h>
#include "api.h"
#include "core/text.h"
#include "domain/bulk.h"
#include "io/table.h"

typedef enum { BULK_ADD, BULK_EDIT, BULK_REMOVE } bulk_kind;

static const char *const kind_names[] = {"add", "edit", "remove"};

/* One upload, from a request or from a job, and what running it produced. */
typedef struct upload {
    op_ctx *x;
    int64_t agreement_id;
    bulk_kind kind;
    bool check, notify;
    bool excel;                           /* the client named or typed it .xlsx */
    const char *data;
    size_t len;
    const char *instance, *request_id;    /* for problems */
    const bulk_hooks *h;
    union {
        bulk_report add;
        bulk_edit_report edit;
        bulk_remove_report remove;
    } rep;
} upload;

static const bulk_report *base_report(const upload *u) {
    switch (u->kind) {
    case BULK_ADD: return &u->rep.add;
    case BULK_EDIT: return &u->rep.edit.base;
    default: return &u->rep.remove.base;
    }
}

/* A whole problem (no extension members) into w; its status. */
static int problem(const upload *u, jw *w, int status, const char *code, const char *detail) {
    problem_members(w, u->x->a, status, code, NULL, detail, u->instance, u->request_id);
    jw_obj_end(w);
    return status;
}

/* ---- the reports' views ---- */

/* "error_count" and "errors": the part every report shares. */
/* "warnings": [{column, code, message}]: columns the file has that were ignored. */
static void write_warnings(jw *w, const bulk_report *r) {
    jw_key(w, "warnings");
    jw_arr(w);
    for (int i = 0; i < r->nwarnings; i++) {
        jw_obj(w);
        jw_kstr(w, "column", r->warnings[i].column);
        jw_kstr(w, "code", r->warnings[i].code);
        jw_kstr(w, "message", r->warnings[i].message);
        jw_obj_end(w);
    }
    jw_arr_end(w);
}

static void write_errors(jw *w, const bulk_report *r) {
    jw_kint(w, "error_count", r->nerrors);
    jw_key(w, "errors");
    jw_arr(w);
    for (int i = 0; i < r->nshown; i++) {
        const bulk_error *e = &r->errors[i];
        jw_obj(w);
        jw_kint(w, "row", e->row);
        jw_kstr(w, "column", e->column);
        jw_kstr(w, "value", e->value);
        jw_kstr(w, "code", e->code);
        jw_kstr(w, "message", e->message);
        jw_kraw_opt(w, "params", e->params);
        jw_obj_end(w);
    }
    jw_arr_end(w);
    write_warnings(w, r);
}

/* {"applied", "rows", "added", "error_count", "errors": [{row, column, value, code,
 * message, params?}], "levels": [{level, rows, available}]} */
static void write_add_report(jw *w, const bulk_report *r) {
    jw_obj(w);
    jw_kbool(w, "applied", r->applied);
    jw_kint(w, "rows", r->rows);
    jw_kint(w, "added", r->added);
    write_errors(w, r);
    jw_key(w, "levels");
    jw_arr(w);
    for (int i = 0; i < r->nlevels; i++) {
        jw_obj(w);
        jw_kstr(w, "level", r->levels[i].level);
        jw_kint(w, "rows", r->levels[i].rows);
        jw_kint(w, "available", r->levels[i].available);
        jw_obj_end(w);
    }
    jw_arr_end(w);
    jw_obj_end(w);
}

/* {"applied", "rows", "changed", "unchanged", "error_count", "errors": […],
 *  "changes": [{row, id, name, fields: {field: {from, to}}}]} */
static void write_edit_report(jw *w, const bulk_edit_report *r) {
    jw_obj(w);
    jw_kbool(w, "applied", r->base.applied);
    jw_kint(w, "rows", r->base.rows);
    jw_kint(w, "changed", r->changed);
    jw_kint(w, "unchanged", r->unchanged);
    write_errors(w, &r->base);
    jw_key(w, "changes");
    jw_arr(w);
    for (int i = 0; i < r->nchanges; i++) {
        const bulk_change *c = &r->changes[i];
        jw_obj(w);
        jw_kint(w, "row", c->row);
        jw_kstr(w, "id", c->id);
        jw_kstr(w, "name", c->name);
        jw_key(w, "fields");
        jw_obj(w);
        for (int k = 0; k < c->nfields; k++) {
            const bulk_field_change *f = &c->fields[k];
            jw_key(w, f->field);
            jw_obj(w);
            if (f->boolean) {
                jw_kbool(w, "from", !strcmp(f->from, "true"));
                jw_kbool(w, "to", !strcmp(f->to, "true"));
            } else {
                jw_kstr(w, "from", f->from);
                jw_kstr(w, "to", f->to);
            }
            jw_obj_end(w);
        }
        jw_obj_end(w);
        jw_obj_end(w);
    }
    jw_arr_end(w);
    jw_obj_end(w);
}

/* {"applied", "rows", "count", "error_count", "errors": […],
 *  "subscriptions": [{row, id, name, sign_in_email, level}]} */
static void write_remove_report(jw *w, const bulk_remove_report *r) {
    jw_obj(w);
    jw_kbool(w, "applied", r->base.applied);
    jw_kint(w, "rows", r->base.rows);
    jw_kint(w, "count", r->count);
    write_errors(w, &r->base);
    jw_key(w, "subscriptions");
    jw_arr(w);
    for (int i = 0; i < r->nsubs; i++) {
        const bulk_removal *s = &r->subs[i];
        jw_obj(w);
        jw_kint(w, "row", s->row);
        jw_kstr(w, "id", s->id);
        jw_kstr(w, "name", s->name);
        jw_kstr(w, "sign_in_email", s->sign_in_email);
        jw_kstr(w, "level", s->level);
        jw_obj_end(w);
    }
    jw_arr_end(w);
    jw_obj_end(w);
}

/* The report of a run into w: the 2xx body, or the 422 `bulk_rejected` problem carrying it
 * (nothing was applied, and the UI lists every row). Its status. */
static int write_outcome(const upload *u, jw *w) {
    static const char *const done[] = {"added", "changed", "removed"};
    const bulk_report *base = base_report(u);
    bool refused = base->nerrors && !u->check;
    int status = u->kind == BULK_ADD && base->applied ? 201 : 200;
    if (refused) {
        status = 422;
        problem_members(w, u->x->a, status, "bulk_rejected", NULL,
                        arena_printf(u->x->a, "%d problem%s in the file; nothing was %s", base->nerrors,
                                     base->nerrors == 1 ? "" : "s", done[u->kind]),
                        u->instance, u->request_id);
        jw_key(w, "report");
    }
    switch (u->kind) {
    case BULK_ADD: write_add_report(w, &u->rep.add); break;
    case BULK_EDIT: write_edit_report(w, &u->rep.edit); break;
    default: write_remove_report(w, &u->rep.remove); break;
    }
    if (refused) jw_obj_end(w);
    return status;
}

/* Reads the file and runs the upload, its answer into w. The answer's status, or 0 when the
 * run failed (*err says why; nothing was applied). */
static int run_upload(upload *u, jw *w, os_err *err) {
    if (u->len == 0) return problem(u, w, 422, "empty_file", "The file is empty: the first row names the columns");
    io_table t;
    char why[256] = "";
    /* A Windows-1252 file asked to be read as such was converted before it got here. */
    os_err e = io_table_read_upload(u->x->a, u->data, u->len, BULK_ROWS_MAX + 1, IO_UTF8, u->excel, &t, why,
                                    sizeof why);
    if (e) {
        problem_members(w, u->x->a, 422, "unreadable_file", NULL,
                        arena_printf(u->x->a, "This file cannot be read: %s", *why ? why : "unknown format"),
                        u->instance, u->request_id);
        /* For the UI's offer to read it again as Windows-1252 (the detail is English). */
        if (strstr(why, "looks like Windows-1252")) jw_kstr(w, "encoding", "windows-1252");
        jw_obj_end(w);
        return 422;
    }
    if (u->h && u->h->progress && (e = u->h->progress(u->h->arg, "checking", t.nrows > 1 ? t.nrows - 1 : 0, 0, 0))) {
        *err = e;
        return 0;
    }
    switch (u->kind) {
    case BULK_ADD: e = bulk_add(u->x, u->agreement_id, &t, u->check, u->notify, u->h, &u->rep.add); break;
    case BULK_EDIT: e = bulk_edit(u->x, u->agreement_id, &t, u->check, u->h, &u->rep.edit); break;
    default: e = bulk_remove(u->x, u->agreement_id, &t, u->check, u->h, &u->rep.remove); break;
    }
    if (e) {
        *err = e;
        return 0;
    }
    return write_outcome(u, w);
}

/* The name the user's file had (optional): shown back, and naming the annotated copy. */
static const char *file_name(req *r) {
    const char *v = query_str(r, "file_name", LIMIT_FILE_NAME_CHARS);
    for (const char *p = v; p && *p; p++)
        if ((unsigned char)*p < 0x20) {
            fe_add(&r->fe, "file_name", "invalid_value", "A file name has no control characters");
            break;
        }
    return v;
}

/* The upload's `encoding`: utf-8 (the default) or windows-1252 (what Excel's "CSV" writes on
 * Windows); invalid names are a field error. */
static io_encoding encoding(req *r) {
    const char *v = query_str(r, "encoding", 32);   /* names and aliases: io_encoding_parse */
    if (!v || fe_has(&r->fe, "encoding")) return IO_UTF8;
    int e = io_encoding_parse(v);
    if (e < 0) fe_add(&r->fe, "encoding", "invalid_value", "Use utf-8 or windows-1252");
    return e < 0 ? IO_UTF8 : (io_encoding)e;
}

static bool says_excel_name(const char *name) {
    size_t n = name ? strlen(name) : 0;
    return n >= 5 && !strcasecmp(name + n - 5, ".xlsx");
}

/* Whether the client says the file is Excel: its content type, or its name. */
static bool says_excel(req *r, const char *name) {
    const char *ct = req_header(r, "Content-Type");
    if (ct && !strncasecmp(ct, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", 65)) return true;
    return says_excel_name(name);
}

/* The body as UTF-8 when it was sent as Windows-1252: converted once, here, so the run (in
 * the request or as a job) and the annotated copy see UTF-8. A zip is left alone (an .xlsx
 * is UTF-8 inside), and so is a body with a UTF-8 BOM. False (answered) when it is not
 * Windows-1252 text. */
static bool decode_body(req *r, io_encoding enc) {
    const char *d = r->body.data;
    size_t len = r->body.len;
    if (enc != IO_WINDOWS_1252 || !d || io_is_xlsx(d, len) || (len >= 3 && !memcmp(d, "\xEF\xBB\xBF", 3)))
        return true;
    bool too_large = false;
    size_t n = 0;
    char *text = io_windows_1252_to_utf8(&r->a, d, len, &n, &too_large);
    if (!text) {
        if (too_large) problem_reply_status(r, 413, "too_large", "The file is too large once read as Windows-1252");
        else problem_reply_status(r, 422, "unreadable_file",
                                  "This file cannot be read: this is not Windows-1252 text");
        return false;
    }
    r->body.data = text;
    r->body.len = n;
    return true;
}

/* Keeps the file with a new job and answers 202 with it. */
static os_err submit(req *r, op_ctx *x, bulk_kind kind, bool check, bool notify, const char *name) {
    if (r->body.len == 0) {
        problem_reply_status(r, 422, "empty_file", "The file is empty: the first row names the columns");
        return OS_OK;
    }
    job_rec j = {.agreement_id = r->agreement_id, .user_id = r->user_id, .token_id = x->token_id,
                 .kind = kind_names[kind],
                 .check_only = check, .send_email = notify, .file_name = name, .file = r->body.data,
                 .file_len = r->body.len, .address = r->client_addr, .request_id = r->request_id,
                 .license_number = r->agreement_license, .user_name = r->user_name, .user_email = r->user_email};
    os_err e = jobs_submit(x, &j);
    if (e) return e;
    reply_header(r, "Location", api_job_url(r, j.id));
    api_write_job(reply_json(r, 202), r, &j);
    return OS_OK;
}

/* An upload answered within its request announces its change like a job's, without an id
 * or a list of changes to page through (it has neither). */
typedef struct sync_hook {
    upload *u;
    const char *license;
} sync_hook;

static int applied_count(const upload *u) {
    return u->kind == BULK_ADD ? u->rep.add.added : u->kind == BULK_EDIT ? u->rep.edit.changed : u->rep.remove.count;
}

static os_err sync_commit(void *arg, op_ctx *x) {
    sync_hook *sh = arg;
    const upload *u = sh->u;
    int n = applied_count(u);
    if (!n) return OS_OK;   /* a file that changed nothing has nothing to announce */
    return bulk_emit_applied(x, u->agreement_id, sh->license, NULL, kind_names[u->kind], u->kind == BULK_ADD ? n : 0,
                             u->kind == BULK_EDIT ? n : 0, u->kind == BULK_REMOVE ? n : 0);
}

/* The three uploads share their steps: flags, then the job or the run and its answer. */
static os_err run_bulk(req *r, bulk_kind kind) {
    bool check = query_bool(r, "check_only", false);
    bool notify = kind == BULK_ADD && query_bool(r, "send_email", true);
    bool background = query_bool(r, "background", false);
    const char *name = file_name(r);
    io_encoding enc = encoding(r);
    if (fe_any(&r->fe)) return OS_ERR_INVALID;
    if (!decode_body(r, enc)) return OS_OK;
    op_ctx *x = r->x;
    if (background) return submit(r, x, kind, check, notify, name);
    upload u = {.x = x, .agreement_id = r->agreement_id, .kind = kind, .check = check, .notify = notify,
                .excel = says_excel(r, name), .data = r->body.data ? r->body.data : "", .len = r->body.len,
                .instance = r->path,
                .request_id = r->request_id};
    sync_hook sh = {&u, r->agreement_license};
    bulk_hooks h = {.arg = &sh, .before_commit = sync_commit};
    u.h = &h;
    jw *w = reply_json(r, 200);
    os_err e = OS_OK;
    int status = run_upload(&u, w, &e);
    if (!status) return e;
    r->status = status;
    if (status >= 400) r->content_type = "application/problem+json";
    return OS_OK;
}

os_err h_subs_bulk_add(req *r) { return run_bulk(r, BULK_ADD); }
os_err h_subs_bulk_edit(req *r) { return run_bulk(r, BULK_EDIT); }
os_err h_subs_bulk_remove(req *r) { return run_bulk(r, BULK_REMOVE); }

/* ---- the same uploads on the job worker ---- */

typedef struct job_hook {
    upload *u;
    job_run *run;
} job_hook;

/* Each progress point is a checkpoint: the job stops there (nothing applied) once its owner
 * may no longer do this or someone cancelled it. */
static os_err on_progress(void *arg, const char *phase, int rows, int checked, int written) {
    job_hook *jh = arg;
    jobs_progress(jh->run, phase, rows, checked, written);
    return jobs_checkpoint(jh->run, jh->u->x, false);
}

/* A job's answer is JSON text kept in the arena: a writer over a bounded buffer, and its
 * text once written (NULL when it did not fit or is not valid). */
static jw *text_writer(arena *a, buf *b, jw *w) {
    buf_init(b, a, LIMIT_JOB_RESULT);
    jw_init(w, b);
    return w;
}

static const char *written_text(const buf *b, const jw *w) { return jw_ok(w) && !b->overflow ? b->data : NULL; }

/* An applied change's answer is the job's result, kept in the change's own transaction —
 * after a last look, inside it, at whether the job may still act: a removal that committed
 * while the rows were being checked is seen here, and the change rolled back. */
static os_err job_commit(void *arg, op_ctx *x) {
    job_hook *jh = arg;
    os_err e = jobs_checkpoint(jh->run, x, true);
    if (e) return e;
    const bulk_report *base = base_report(jh->u);
    int count = applied_count(jh->u);
    jobs_progress(jh->run, "writing", base->rows, base->rows, count);
    buf b;
    jw w;
    int status = write_outcome(jh->u, text_writer(x->a, &b, &w));
    const char *result = written_text(&b, &w);
    if (!result) return OS_ERR_TOO_LARGE;
    /* A file that changed nothing has nothing to announce but its end. */
    if (count)
        e = jobs_applied_in_tx(jh->run, x, jh->u->kind == BULK_ADD ? count : 0, jh->u->kind == BULK_EDIT ? count : 0,
                               jh->u->kind == BULK_REMOVE ? count : 0);
    return e ? e : jobs_finish_in_tx(jh->run, x, status, result);
}

/* The subscriptions a job changes, kept with its change for paging through (jobs_changed). */
static os_err job_changed(void *arg, op_ctx *x, const char *const *ids, const char *const *changes, int n) {
    job_hook *jh = arg;
    return jobs_changed(jh->run, x, ids, changes, n);
}

os_err api_job_exec(job_run *run, op_ctx *x, const job_rec *j, int *status, const char **result) {
    bulk_kind kind = BULK_ADD;
    while (kind < BULK_REMOVE && strcmp(kind_names[kind], j->kind)) kind++;
    upload u = {.x = x, .agreement_id = j->agreement_id, .kind = kind, .check = j->check_only,
                .notify = kind == BULK_ADD && j->send_email, .excel = says_excel_name(j->file_name), .data = j->file, .len = j->file_len,
                .instance = arena_printf(x->a, "urn:openseat:job:%s", j->id), .request_id = j->request_id};
    job_hook jh = {&u, run};
    bulk_hooks h = {.arg = &jh, .progress = on_progress, .before_commit = job_commit, .changed = job_changed};
    u.h = &h;
    buf b;
    jw w;
    os_err e = OS_OK;
    int st = run_upload(&u, text_writer(x->a, &b, &w), &e);
    if (!st) return e;
    if (!(*result = written_text(&b, &w))) return OS_ERR_TOO_LARGE;
    *status = st;
    return OS_OK;
}
