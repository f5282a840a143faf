/* files.c — the subscribers list exported as a file, and the bulk-add template, CSV or
 * XLSX (io/export.h), in the signed-in user's language. A file is built in an unlinked
 * temporary file and sent from there (reply_file), so its size never weighs on the request
 * arena. Any role on the agreement may download them, read-only agreements included. */
#include <string.h>
#include <unistd.h>
#include "api.h"
#include "core/limits.h"
#include "domain/subscribers.h"
#include "io/columns.h"
#include "io/export.h"

/* ?format=csv|xlsx, required (sent empty, it was not chosen). */
static void read_format(req *r, export_format *f) {
    static const char *const names[] = {"", "csv", "xlsx", NULL};
    int i = query_enum(r, "format", names, 0, "Use csv or xlsx");
    if (i == 0) fe_add(&r->fe, "format", "required", "Choose csv or xlsx");
    else if (i > 0) export_format_parse(names[i], f);
}

typedef struct sub_out {
    export_file *file;
    const char *lang;
} sub_out;

/* One subscription as a row of the export, in io/columns.h's order. */
static os_err write_sub(void *ud, const sub_rec *s) {
    const sub_out *o = ud;
    char assigned[11];
    text_day(s->assigned_at, assigned);
    const char *cells[SUBCOL_COUNT] = {
        [SUBCOL_NAME] = s->name,
        [SUBCOL_SIGN_IN_EMAIL] = s->sign_in_email,
        [SUBCOL_NOTIFICATION_EMAIL] = s->notification_email,
        [SUBCOL_LEVEL] = s->level_code,
        [SUBCOL_REFERENCE] = s->reference,
        [SUBCOL_DOWNLOADS] = columns_yes_no(s->downloads != 0, o->lang),
        [SUBCOL_COUNTRY] = s->country,
        [SUBCOL_LANGUAGE] = s->language,
        [SUBCOL_ASSIGNED] = assigned,
        [SUBCOL_EXPIRES] = s->expires_on,
        [SUBCOL_ID] = s->uuid,
    };
    return export_row(o->file, cells);
}

os_err h_subs_export(req *r) {
    export_format f = EXPORT_CSV;
    read_format(r, &f);
    sub_query q;
    subs_query_from(r, &q);
    if (fe_any(&r->fe)) return OS_ERR_INVALID;
    op_ctx *x = r->x;
    sub_out o = {.lang = r->user_language};
    export_column *cols = arena_alloc(&r->a, sizeof *cols * SUBCOL_COUNT);
    for (int i = 0; i < SUBCOL_COUNT; i++)
        cols[i] = (export_column){columns_header((sub_column)i, o.lang), sub_columns[i].width};
    os_err e = export_begin(&r->a, f, o.lang, columns_sheet_subscribers(o.lang), cols, SUBCOL_COUNT, &o.file);
    if (e) return e;
    int64_t rows;
    e = subscribers_each(x, &q, LIMIT_EXPORT_ROWS, write_sub, &o, &rows, &r->fe);
    if (e) {
        export_discard(o.file);
        if (e == OS_ERR_TOO_LARGE)
            r->problem_detail = arena_printf(&r->a, "More than %d subscribers match; narrow the filters to export them",
                                             LIMIT_EXPORT_ROWS);
        return e;
    }
    int fd;
    uint64_t size;
    if ((e = export_end(o.file, &fd, &size))) return e;
    /* HEAD builds the file too (for its length) but hands nothing out: not an export. */
    bool head = !strcmp(r->method, "HEAD");
    if (!head && (e = subscribers_exported(x, r->agreement_id, export_format_name(f), rows))) {
        close(fd);
        return e;
    }
    char day[11];
    text_day(r->now, day);
    reply_file(r, 200, export_content_type(f), fd, size,
               arena_printf(&r->a, "subscribers-%s-%s.%s", r->agreement_license, day, export_format_name(f)));
    return OS_OK;
}

os_err h_subs_template(req *r) {
    export_format f = EXPORT_CSV;
    read_format(r, &f);
    if (fe_any(&r->fe)) return OS_ERR_INVALID;
    op_ctx *x = r->x;
    const char **levels;
    int nlevels, nlanguages = 0;
    os_err e = subscribers_level_codes(x, r->agreement_id, &levels, &nlevels);
    if (e) return e;
    while (subscriber_languages[nlanguages]) nlanguages++;
    int fd;
    uint64_t size;
    if ((e = export_template(&r->a, f, r->user_language, levels, nlevels, subscriber_languages, nlanguages, &fd,
                             &size)))
        return e;
    reply_file(r, 200, export_content_type(f), fd, size,
               arena_printf(&r->a, "subscribers-template-%s.%s", r->agreement_license, export_format_name(f)));
    return OS_OK;
}
