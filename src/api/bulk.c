/* bulk.c — uploads of subscriber files: bulk add, bulk edit and bulk removal, each checked
 * only (the preview) or applied. The file is the raw request body, CSV or Excel (.xlsx,
 * recognised by its zip signature; a plain-text list reads as a one-column CSV); the report
 * lists every problem by row and column (domain/bulk.h). */
#include <string.h>
#include "api.h"
#include "domain/bulk.h"
#include "io/csv.h"
#include "io/xlsx.h"

/* The uploaded table, or a 422 `unreadable_file` saying why it cannot be read. */
static os_err read_upload(req *r, io_table *t) {
    const char *data = r->body.data ? r->body.data : "";
    size_t len = r->body.len;
    char err[256] = "";
    os_err e;
    if (len == 0) {
        problem_reply_status(r, 422, "empty_file", "The file is empty: the first row names the columns");
        return OS_ERR_INVALID;
    }
    if (len >= 4 && !memcmp(data, "PK\x03\x04", 4)) e = xlsx_read(&r->a, data, len, BULK_ROWS_MAX + 1, t, err, sizeof err);
    else e = csv_read(&r->a, data, len, BULK_ROWS_MAX + 1, t, err, sizeof err);
    if (e) {
        problem_reply_status(r, 422, "unreadable_file",
                             arena_printf(&r->a, "This file cannot be read: %s", *err ? err : "unknown format"));
        return OS_ERR_INVALID;
    }
    return OS_OK;
}

static bool flag(req *r, const char *name, bool absent) {
    const char *v = qs_get(&r->query, name);
    if (!v) return absent;
    if (!strcmp(v, "true")) return true;
    if (!strcmp(v, "false")) return false;
    fe_add(&r->fe, name, "invalid_value", "Use true or false");
    return absent;
}

/* 422 `bulk_rejected` carrying the report: nothing was applied, and the UI lists every row. */
static jw *rejected(req *r, int nerrors, const char *what) {
    jw *w = problem_open(r, 422, "bulk_rejected",
                         arena_printf(&r->a, "%d problem%s in the file; nothing was %s", nerrors,
                                      nerrors == 1 ? "" : "s", what));
    jw_key(w, "report");
    return w;
}

typedef enum { BULK_ADD, BULK_EDIT, BULK_REMOVE } bulk_kind;

/* The three uploads share their steps: flags, the file, the domain's check or apply, then
 * the report — as the answer (200; 201 for rows added), or inside a 422 when refused. */
static os_err run_bulk(req *r, bulk_kind kind) {
    bool check = flag(r, "check_only", false);
    bool notify = kind == BULK_ADD && flag(r, "send_email", true);
    if (fe_any(&r->fe)) return OS_ERR_INVALID;
    io_table t;
    if (read_upload(r, &t)) return OS_OK;   /* the problem is written */
    op_ctx x;
    os_err e = api_ctx(r, &x);
    if (e) return e;
    union {
        bulk_report add;
        bulk_edit_report edit;
        bulk_remove_report remove;
    } rep;
    const bulk_report *base;
    switch (kind) {
    case BULK_ADD: e = bulk_add(&x, r->agreement_id, &t, check, notify, &rep.add), base = &rep.add; break;
    case BULK_EDIT: e = bulk_edit(&x, r->agreement_id, &t, check, &rep.edit), base = &rep.edit.base; break;
    default: e = bulk_remove(&x, r->agreement_id, &t, check, &rep.remove), base = &rep.remove.base; break;
    }
    if (e) return e;
    static const char *const done[] = {"added", "changed", "removed"};
    bool refused = base->nerrors && !check;
    jw *w = refused ? rejected(r, base->nerrors, done[kind])
                    : reply_json(r, kind == BULK_ADD && base->applied ? 201 : 200);
    switch (kind) {
    case BULK_ADD: bulk_write_report(w, &rep.add); break;
    case BULK_EDIT: bulk_write_edit_report(w, &rep.edit); break;
    default: bulk_write_remove_report(w, &rep.remove); break;
    }
    if (refused) jw_obj_end(w);
    return OS_OK;
}

os_err h_subs_bulk_add(req *r) { return run_bulk(r, BULK_ADD); }
os_err h_subs_bulk_edit(req *r) { return run_bulk(r, BULK_EDIT); }
os_err h_subs_bulk_remove(req *r) { return run_bulk(r, BULK_REMOVE); }
