/* bulk.c — uploads of subscriber files: bulk add (check or apply). The file is the raw
 * request body, CSV or Excel (.xlsx, recognised by its zip signature); the report lists
 * every problem by row and column (domain/bulk.h). */
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
        /* Refused as a whole: the problem carries the report, so the UI can list every row. */
        jw *w = problem_open(r, 422, "bulk_rejected",
                             arena_printf(&r->a, "%d problem%s in the file; nothing was added", rep.nerrors,
                                          rep.nerrors == 1 ? "" : "s"));
        jw_key(w, "report");
        bulk_write_report(w, &rep);
        jw_obj_end(w);
        return OS_OK;
    }
    bulk_write_report(reply_json(r, rep.applied ? 201 : 200), &rep);
    return OS_OK;
}
