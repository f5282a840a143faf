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

os_err h_subs_bulk_add(req *r) {
    bool check = flag(r, "check_only", false), notify = flag(r, "send_email", true);
    if (fe_any(&r->fe)) return OS_ERR_INVALID;
    io_table t;
    if (read_upload(r, &t)) return OS_OK;   /* the problem is written */
    op_ctx x;
    os_err e = api_ctx(r, &x);
    if (e) return e;
    bulk_report rep;
    if ((e = bulk_add(&x, r->agreement_id, &t, check, notify, &rep))) return e;
    if (rep.nerrors && !check) {
        jw *w = rejected(r, rep.nerrors, "added");
        bulk_write_report(w, &rep);
        jw_obj_end(w);
        return OS_OK;
    }
    bulk_write_report(reply_json(r, rep.applied ? 201 : 200), &rep);
    return OS_OK;
}

os_err h_subs_bulk_edit(req *r) {
    bool check = flag(r, "check_only", false);
    if (fe_any(&r->fe)) return OS_ERR_INVALID;
    io_table t;
    if (read_upload(r, &t)) return OS_OK;   /* the problem is written */
    op_ctx x;
    os_err e = api_ctx(r, &x);
    if (e) return e;
    bulk_edit_report rep;
    if ((e = bulk_edit(&x, r->agreement_id, &t, check, &rep))) return e;
    if (rep.base.nerrors && !check) {
        jw *w = rejected(r, rep.base.nerrors, "changed");
        bulk_write_edit_report(w, &rep);
        jw_obj_end(w);
        return OS_OK;
    }
    bulk_write_edit_report(reply_json(r, 200), &rep);
    return OS_OK;
}

os_err h_subs_bulk_remove(req *r) {
    bool check = flag(r, "check_only", false);
    if (fe_any(&r->fe)) return OS_ERR_INVALID;
    io_table t;
    if (read_upload(r, &t)) return OS_OK;
    op_ctx x;
    os_err e = api_ctx(r, &x);
    if (e) return e;
    bulk_remove_report rep;
    if ((e = bulk_remove(&x, r->agreement_id, &t, check, &rep))) return e;
    if (rep.base.nerrors && !check) {
        jw *w = rejected(r, rep.base.nerrors, "removed");
        bulk_write_remove_report(w, &rep);
        jw_obj_end(w);
        return OS_OK;
    }
    bulk_write_remove_report(reply_json(r, 200), &rep);
    return OS_OK;
}
