/* bulk.c — adding many subscribers from an uploaded table. Contract in bulk.h. */
#include "bulk.h"
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "core/buf.h"
#include "core/countries.h"
#include "core/limits.h"
#include "core/search.h"
#include "io/columns.h"
#include "core/text.h"
#include "domain/subscribers.h"
#include "mail/outbox.h"

#define VALUE_SHOWN 200   /* characters of a cell repeated in the report */
#define BULK_ROW_HEADROOM (4 * 1024 * 1024)   /* request memory kept free while reading rows */

typedef struct bulk {
    op_ctx *x;
    const io_table *t;
    bulk_report *r;
    int col[SUBCOL_COUNT];      /* column index in the file, -1: absent */
    int cap;
} bulk;

/* A problem on table row ti (its cell in column colidx shown as the value), or on no row
 * (ti < 0: then `row` is the number reported). colidx -1: no particular column; -2 - id:
 * the column `id` of the template, which the file lacks. */
static void report(bulk *b, int ti, int row, int colidx, const char *code, const char *message, const char *params) {
    bulk_report *r = b->r;
    r->nerrors++;
    if (r->nshown >= BULK_ERRORS_MAX) return;
    if (r->nshown == b->cap) {
        int cap = b->cap ? b->cap * 2 : 64;
        bulk_error *e = arena_alloc(b->x->a, sizeof *e * (size_t)cap);
        if (r->nshown) memcpy(e, r->errors, sizeof *e * (size_t)r->nshown);
        r->errors = e;
        b->cap = cap;
    }
    const io_table *t = b->t;
    bulk_error *e = &r->errors[r->nshown++];
    *e = (bulk_error){.row = ti >= 0 ? t->rownum[ti] : row, .code = code, .message = message, .params = params};
    if (colidx >= 0 && t->nrows && colidx < t->ncells[0]) e->column = t->rows[0][colidx];
    else if (colidx <= -2) e->column = sub_columns[-colidx - 2].en;   /* a column the file lacks */
    if (colidx >= 0 && ti > 0) {
        /* The value as the user typed it, shortened to whole characters. */
        const char *v = colidx < t->ncells[ti] ? t->rows[ti][colidx] : "";
        size_t n = 0, chars = 0;
        while (v[n] && chars < VALUE_SHOWN) {
            n++;
            while (((unsigned char)v[n] & 0xC0) == 0x80) n++;
            chars++;
        }
        e->value = arena_strndup(b->x->a, v, n);
    }
}

static bool folded_equal(const char *a, const char *b) {
    char fa[256], fb[256];
    const char *ta[] = {a}, *tb[] = {b};
    if (!search_terms(ta, 1, fa, sizeof fa) || !search_terms(tb, 1, fb, sizeof fb)) return false;
    return fa[0] && !strcmp(fa, fb);
}

/* Row 1 names the columns: each is matched to the template's (unknown and repeated ones
 * reported). */
static void read_columns(bulk *b) {
    for (int c = 0; c < SUBCOL_COUNT; c++) b->col[c] = -1;
    const io_table *t = b->t;
    for (int i = 0; i < t->ncells[0]; i++) {
        const char *h = t->rows[0][i];
        int found = columns_match(h);
        if (found < 0) {
            if (!*text_trim(b->x->a, h)) continue;   /* an unnamed, unused column */
            report(b, 0, 0, i, "unknown_column",
                   arena_printf(b->x->a, "Unknown column \"%s\": use the template's column names", h), NULL);
        } else if (b->col[found] >= 0) {
            report(b, 0, 0, i, "duplicate_column", arena_printf(b->x->a, "Column \"%s\" appears twice", h), NULL);
        } else {
            b->col[found] = i;   /* Assigned and Expires (from an export) are read and ignored */
        }
    }
}

/* The columns a file must have. False when the rows cannot be read (a problem is reported). */
static bool require_columns(bulk *b, const sub_column *required, size_t n) {
    for (size_t k = 0; k < n; k++)
        if (b->col[required[k]] < 0)
            report(b, 0, 0, -1, "missing_column",
                   arena_printf(b->x->a, "The column \"%s\" is missing", sub_columns[required[k]].en), NULL);
    return b->r->nerrors == 0;
}

/* The header of a file of new subscribers. False when the rows cannot be read. */
static bool read_header(bulk *b) {
    read_columns(b);
    static const sub_column required[] = {SUBCOL_NAME, SUBCOL_SIGN_IN_EMAIL};
    return require_columns(b, required, sizeof required / sizeof required[0]);
}

static const char *cell(const bulk *b, int i, int c) {
    int k = b->col[c];
    if (k < 0 || k >= b->t->ncells[i]) return "";
    return b->t->rows[i][k];
}

/* The file's column for an API field name; when the file has none, -2 - the column's id
 * (report() then names the template's header). -1: not a column at all. */
static int column_of_field(const bulk *b, const char *field) {
    for (int c = 0; c < SUBCOL_COUNT; c++)
        if (!strcmp(sub_columns[c].field, field)) return b->col[c] >= 0 ? b->col[c] : -2 - c;
    return -1;
}

/* A text cell: trimmed, at most max characters, no control characters; NULL when empty.
 * An apostrophe before = + - @ is the one exports add so spreadsheets do not run the cell as
 * a formula (io/export.h): it is taken off, so an exported file reads back as it was. */
static const char *text_cell(bulk *b, int i, int c, size_t max, bool required) {
    char *v = text_trim(b->x->a, cell(b, i, c));
    if (v[0] == '\'' && v[1] && strchr("=+-@", v[1])) v++;
    if (!*v) {
        if (required) report(b, i, 0, b->col[c], "required", "This field is required", NULL);
        return NULL;
    }
    if (utf8_chars(v) > max) {
        report(b, i, 0, b->col[c], "too_long", arena_printf(b->x->a, "At most %zu characters", max), NULL);
        return NULL;
    }
    for (const char *p = v; *p; p++)
        if ((unsigned char)*p < 0x20 && *p != '\t') {
            report(b, i, 0, b->col[c], "invalid_value", "This field contains control characters", NULL);
            return NULL;
        }
    return v;
}

static const char *email_cell(bulk *b, int i, int c, bool required) {
    const char *v = text_cell(b, i, c, LIMIT_EMAIL_BYTES, required);
    if (!v) return NULL;
    const char *n = email_normalize(b->x->a, v);
    if (!n) report(b, i, 0, b->col[c], "invalid_email", "This is not a valid e-mail address", NULL);
    return n;
}

/* One of the words, compared folded (case and accents ignored); its index or -1. */
static int word_of(const char *v, const char *const *words) {
    for (int k = 0; words[k]; k++)
        if (folded_equal(v, words[k])) return k;
    return -1;
}

/* The level by code, English or French name. */
static const char *level_cell(bulk *b, int i, const sub_target *tg) {
    const char *v = text_cell(b, i, SUBCOL_LEVEL, 64, false);
    if (!v) return NULL;
    for (int k = 0; k < tg->npools; k++) {
        const pool_rec *p = &tg->pools[k];
        if (!strcasecmp(v, p->level_code) || folded_equal(v, p->name_en) || folded_equal(v, p->name_fr))
            return p->level_code;
    }
    buf list;
    buf_init(&list, b->x->a, 1024);
    for (int k = 0; k < tg->npools; k++) buf_printf(&list, "%s%s", k ? ", " : "", tg->pools[k].level_code);
    report(b, i, 0, b->col[SUBCOL_LEVEL], "invalid_value",
           arena_printf(b->x->a, "Choose one of the agreement's levels: %s", list.data ? list.data : ""), NULL);
    return NULL;
}

/* Yes or No in either language: 1 or 0; -1 when empty or wrong (reported). */
static int downloads_cell(bulk *b, int i) {
    const char *d = text_cell(b, i, SUBCOL_DOWNLOADS, 16, false);
    int v = d ? columns_parse_yes_no(d) : -1;
    if (d && v < 0) report(b, i, 0, b->col[SUBCOL_DOWNLOADS], "invalid_value", "Write Yes or No", NULL);
    return v;
}

/* An ISO 3166-1 alpha-2 code, in capitals; NULL when empty or wrong (reported). */
static const char *country_cell(bulk *b, int i) {
    const char *c = text_cell(b, i, SUBCOL_COUNTRY, 2, false);
    if (!c) return NULL;
    if (strlen(c) != 2 || !((c[0] | 32) >= 'a' && (c[0] | 32) <= 'z' && (c[1] | 32) >= 'a' && (c[1] | 32) <= 'z')) {
        report(b, i, 0, b->col[SUBCOL_COUNTRY], "invalid_value", "Use a two-letter country code, e.g. FR", NULL);
        return NULL;
    }
    char *u = arena_strdup(b->x->a, c);
    u[0] = (char)(u[0] & ~32);
    u[1] = (char)(u[1] & ~32);
    if (country_code_known(u)) return u;
    report(b, i, 0, b->col[SUBCOL_COUNTRY], "invalid_value",
           arena_printf(b->x->a, "%s is not an ISO 3166-1 country code", u), NULL);
    return NULL;
}

/* One of subscriber_languages; NULL when empty or wrong (reported). */
static const char *language_cell(bulk *b, int i) {
    const char *l = text_cell(b, i, SUBCOL_LANGUAGE, 32, false);
    if (!l) return NULL;
    /* A code (any case), or English and French by name as people often write them. */
    static const char *const names[] = {"english", "anglais", "french", "francais", NULL};
    int k = word_of(l, subscriber_languages), named = word_of(l, names);
    if (k >= 0) return subscriber_languages[k];
    if (named >= 0) return named < 2 ? "en" : "fr";
    report(b, i, 0, b->col[SUBCOL_LANGUAGE], "invalid_value", "Use a language code: en, fr, de, es, it, nl, pt, ja or zh", NULL);
    return NULL;
}

/* Fills `in` from row i; false when a cell has a problem (reported). */
static bool read_row(bulk *b, int i, const sub_target *tg, sub_input *in) {
    int before = b->r->nerrors;
    memset(in, 0, sizeof *in);
    in->name = text_cell(b, i, SUBCOL_NAME, SUB_NAME_MAX, true);
    in->sign_in_email = email_cell(b, i, SUBCOL_SIGN_IN_EMAIL, true);
    in->notification_email = email_cell(b, i, SUBCOL_NOTIFICATION_EMAIL, false);
    in->level = level_cell(b, i, tg);
    in->reference = text_cell(b, i, SUBCOL_REFERENCE, SUB_REFERENCE_MAX, false);
    in->downloads = downloads_cell(b, i);
    in->country = country_cell(b, i);
    in->language = language_cell(b, i);
    if (*text_trim(b->x->a, cell(b, i, SUBCOL_ID)))
        report(b, i, 0, b->col[SUBCOL_ID], "not_allowed",
               "Leave Subscription Id empty to add subscribers; ids are for changing existing ones", NULL);
    return b->r->nerrors == before;
}

/* Arena hash set of "address\x1flevel" → first row, for duplicates inside the file. */
typedef struct seen {
    const char **keys;
    int *rows;
    size_t cap;
} seen;

static int seen_put(seen *s, arena *a, const char *key, int row) {
    size_t h = 1469598103934665603u;
    for (const char *p = key; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211u;
    for (size_t i = h & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
        if (!s->keys[i]) {
            s->keys[i] = arena_strdup(a, key);
            s->rows[i] = row;
            return 0;
        }
        if (!strcmp(s->keys[i], key)) return s->rows[i];
    }
}

static void add_levels(bulk *b, const sub_target *tg, const sub_input *ins, const bool *ok, int n) {
    bulk_report *r = b->r;
    r->levels = arena_alloc(b->x->a, sizeof *r->levels * (size_t)(tg->npools ? tg->npools : 1));
    for (int k = 0; k < tg->npools; k++) {
        int rows = 0;
        const char *code = tg->pools[k].level_code;
        for (int i = 0; i < n; i++) {
            const char *lv = ins[i].level ? ins[i].level : tg->pr.default_level;
            if (ok[i] && lv && !strcmp(lv, code)) rows++;
        }
        if (!rows) continue;
        r->levels[r->nlevels++] =
            (bulk_level){code, rows, tg->pools[k].purchased - tg->pools[k].assigned};
    }
}

os_err bulk_add(op_ctx *x, int64_t agreement_id, const io_table *t, bool check_only, bool notify, bulk_report *out) {
    memset(out, 0, sizeof *out);
    bulk b = {.x = x, .t = t, .r = out};
    if (t->nrows == 0) {
        report(&b, -1, 1, -1, "empty_file", "The file is empty: the first row names the columns", NULL);
        return OS_OK;
    }
    if (!read_header(&b)) return OS_OK;
    int n = t->nrows - 1;
    out->rows = n;
    if (n == 0) {
        report(&b, -1, t->rownum[0] + 1, -1, "no_rows", "The file has column names but no subscribers", NULL);
        return OS_OK;
    }
    sub_target tg;
    os_err e = subscribers_target(x, agreement_id, &tg);
    if (e) return e;
    /* A column may be left out when the agreement's preferences give its value. */
    const struct {
        sub_column c;
        const char *fallback;
    } defaulted[] = {{SUBCOL_LEVEL, tg.pr.default_level},
                     {SUBCOL_COUNTRY, tg.pr.default_country},
                     {SUBCOL_LANGUAGE, tg.pr.default_language}};
    for (size_t k = 0; k < sizeof defaulted / sizeof defaulted[0]; k++)
        if (b.col[defaulted[k].c] < 0 && !defaulted[k].fallback)
            report(&b, 0, 0, -1, "missing_column",
                   arena_printf(x->a, "The column \"%s\" is missing and the agreement's preferences give no default",
                                sub_columns[defaulted[k].c].en),
                   NULL);
    if (out->nerrors) return OS_OK;

    /* First the cells and the file itself, for every row. */
    sub_input *ins = arena_alloc(x->a, sizeof *ins * (size_t)n);
    bool *ok = arena_alloc(x->a, sizeof *ok * (size_t)n);
    seen s = {.cap = 16};
    while (s.cap < (size_t)n * 2) s.cap *= 2;
    s.keys = arena_alloc(x->a, sizeof *s.keys * s.cap);
    s.rows = arena_alloc(x->a, sizeof *s.rows * s.cap);
    for (int i = 0; i < n; i++) {
        if (x->a->limit - x->a->used_total < BULK_ROW_HEADROOM) {
            /* Running out of the request's memory aborts the request; say so before. */
            report(&b, i + 1, 0, -1, "too_large", "This file is too large to check at once: split it into smaller files",
                   NULL);
            return OS_OK;
        }
        ok[i] = read_row(&b, i + 1, &tg, &ins[i]);
        ins[i].notify = notify;
        const char *lv = ins[i].level ? ins[i].level : tg.pr.default_level;
        if (!ok[i] || !lv) continue;
        int first = seen_put(&s, x->a, arena_printf(x->a, "%s\x1f%s", ins[i].sign_in_email, lv), t->rownum[i + 1]);
        if (first) {
            report(&b, i + 1, 0, b.col[SUBCOL_SIGN_IN_EMAIL], "duplicate_in_file",
                   arena_printf(x->a, "This address already has this level on row %d of the file", first),
                   arena_printf(x->a, "{\"row\":%d}", first));
            ok[i] = false;
        }
    }
    add_levels(&b, &tg, ins, ok, n);

    /* Then the agreement's own rules, row by row, in one transaction. */
    if ((e = store_tx_begin(x->c))) return e;
    int added = 0;
    /* Each row's own allocations (its record, audit and e-mail texts) go to a scratch arena
     * emptied after the row: a file's memory is its table and report, not rows × writes. */
    arena scratch;
    arena_init(&scratch, BULK_ROW_HEADROOM);
    op_ctx rx = *x;
    rx.a = &scratch;
    for (int i = 0; !e && i < n; i++) {
        if (!ok[i]) continue;
        field_errors fe;
        fe_init(&fe, &scratch);
        sub_rec rec;
        e = subscribers_add_in_tx(&rx, &tg, &ins[i], &fe, &rec);
        if (e == OS_ERR_INVALID) {
            for (const field_error *f = fe.head; f; f = f->next)
                report(&b, i + 1, 0, column_of_field(&b, f->field), f->code, arena_strdup(x->a, f->message),
                       f->params ? arena_strdup(x->a, f->params) : NULL);
            e = OS_OK;
        } else if (!e) {
            added++;
        }
        arena_free(&scratch);
    }
    arena_free(&scratch);
    bool keep = !e && out->nerrors == 0 && !check_only;
    if (keep) {
        e = store_tx_end(x->c, OS_OK);
    } else {
        os_err undo = store_tx_end(x->c, e ? e : OS_ERR_INVALID);   /* roll back */
        (void)undo;
    }
    if (e) return e;
    out->applied = keep;
    out->added = keep ? added : 0;
    if (keep && notify) outbox_wake(x->app->mail);
    return OS_OK;
}

/* "error_count" and "errors": the part every report shares. */
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
}

void bulk_write_report(jw *w, const bulk_report *r) {
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
