/* bulk.c — adding many subscribers from an uploaded table. Contract in bulk.h. */
#include "bulk.h"
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "core/buf.h"
#include "core/countries.h"
#include "core/json_write.h"
#include "core/limits.h"
#include "core/search.h"
#include "io/columns.h"
#include "core/text.h"
#include "domain/events.h"
#include "domain/subscribers.h"
#include "mail/outbox.h"

#define VALUE_SHOWN 200   /* characters of a cell repeated in the report */
#define BULK_ROW_HEADROOM (4 * 1024 * 1024)   /* request memory kept free while reading rows */
/* The set-based add checks, then writes, this many rows together: a few statements each. */
#define BULK_CHUNK 256
/* A chunk's memory at most. Measured: 1.7 KB a row, 17 KB (4.2 MB a chunk) when the name,
 * address and reference are as long, and cut into as many words, as allowed. */
#define BULK_CHUNK_MEMORY (16 * 1024 * 1024)

typedef struct bulk {
    op_ctx *x;
    const io_table *t;
    bulk_report *r;
    int col[SUBCOL_COUNT];      /* column index in the file, -1: absent */
    int cap;
    const bulk_hooks *h;        /* never NULL (a static empty one stands in) */
} bulk;

static const bulk_hooks no_hooks;

/* Progress every this many rows. */
#define PROGRESS_EVERY 256

/* The caller's word at a checkpoint: an error stops the run (its transaction rolled back). */
static os_err progress(const bulk *b, const char *phase, int checked, int written) {
    return b->h->progress ? b->h->progress(b->h->arg, phase, b->r->rows, checked, written) : OS_OK;
}

/* Tells the caller of subscriptions just written (bulk_hooks.changed). */
static os_err changed(const bulk *b, op_ctx *x, const char *const *ids, const char *const *changes, int n) {
    return b->h->changed && n ? b->h->changed(b->h->arg, x, ids, changes, n) : OS_OK;
}

/* Commits the transaction when asked and nothing failed — after the hook's last word — else
 * rolls it back. The report's `applied` says which; it is set before the hook, which
 * reports it, and cleared again when the hook or the commit fails (the error is returned). */
static os_err finish(const bulk *b, os_err e, bool apply) {
    op_ctx *x = b->x;
    b->r->applied = !e && apply;
    if (!b->r->applied) {
        /* A rollback: it returns the error it was given. */
        os_ignore(store_tx_end(x->c, e ? e : OS_ERR_INVALID));
        return e;
    }
    if (b->h->before_commit && (e = b->h->before_commit(b->h->arg, x))) {
        os_ignore(store_tx_end(x->c, e));   /* a rollback: e is what the caller hears */
    } else {
        e = store_tx_end(x->c, OS_OK);
    }
    if (e) b->r->applied = false;
    return e;
}

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

/* Only ASCII letters and digits: folded, such a text is itself in lower case. */
static bool plain_word(const char *s) {
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9'))) return false;
    return *s != 0;
}

static bool folded_equal(const char *a, const char *b) {
    /* The common cells ("fr", "Yes") need no tokenizer: it was most of reading a row. */
    if (plain_word(a) && plain_word(b)) return !strcasecmp(a, b);
    char fa[256], fb[256];
    const char *ta[] = {a}, *tb[] = {b};
    if (!search_terms(ta, 1, fa, sizeof fa) || !search_terms(tb, 1, fb, sizeof fb)) return false;
    return fa[0] && !strcmp(fa, fb);
}

/* A column read and ignored: a warning, not a problem. */
static void warn_ignored(bulk *b, int colidx) {
    bulk_report *r = b->r;
    if (!r->warnings) r->warnings = arena_alloc(b->x->a, sizeof *r->warnings * IO_MAX_COLS);
    if (r->nwarnings >= IO_MAX_COLS) return;
    const char *h = b->t->rows[0][colidx];
    r->warnings[r->nwarnings++] = (bulk_error){
        .row = b->t->rownum[0], .column = h, .code = "ignored_column",
        .message = arena_printf(b->x->a, "The column \"%s\" is not one of the template's: it was ignored", h)};
}

/* Row 1 names the columns: each is matched to the template's (or a usual synonym); a near
 * miss of one, and a repeated one, is reported; any other is ignored with a warning. */
static void read_columns(bulk *b) {
    for (int c = 0; c < SUBCOL_COUNT; c++) b->col[c] = -1;
    const io_table *t = b->t;
    for (int i = 0; i < t->ncells[0]; i++) {
        const char *h = t->rows[0][i];
        int found = columns_match(h);
        const char *meant = NULL;
        if (found < 0) {
            if (!*text_trim(b->x->a, h)) continue;   /* an unnamed, unused column */
            if (columns_suggest(h, &meant) < 0) {
                warn_ignored(b, i);
                continue;
            }
            jw_params pp;   /* the suggestion is one of the template's headers */
            jw_kstr(jw_params_begin(&pp, b->x->a), "suggestion", meant);
            report(b, 0, 0, i, "unknown_column",
                   arena_printf(b->x->a, "Unknown column \"%s\": did you mean \"%s\"?", h, meant), jw_params_end(&pp));
        } else if (b->col[found] >= 0) {
            report(b, 0, 0, i, "duplicate_column", arena_printf(b->x->a, "Column \"%s\" appears twice", h), NULL);
        } else {
            b->col[found] = i;   /* Assigned and Expires (from an export) are read and ignored */
        }
    }
}

/* The columns a file must have, each one missing reported. False when one is missing. */
static bool require_columns(bulk *b, const sub_column *required, size_t n) {
    bool all = true;
    for (size_t k = 0; k < n; k++)
        if (b->col[required[k]] < 0) {
            report(b, 0, 0, -1, "missing_column",
                   arena_printf(b->x->a, "The column \"%s\" is missing", sub_columns[required[k]].en), NULL);
            all = false;
        }
    return all;
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

/* The problems a per-subscription write found, on row i; their texts are in the row's
 * scratch memory, so copied. */
static void report_fields(bulk *b, int i, const field_errors *fe) {
    arena *a = b->x->a;
    for (const field_error *f = fe->head; f; f = f->next)
        report(b, i, 0, column_of_field(b, f->field), f->code, arena_strdup(a, f->message),
               f->params ? arena_strdup(a, f->params) : NULL);
}

/* A text cell: trimmed, at most max characters, no control characters but a tab (and, when
 * lines: CR and LF, the line breaks Alt+Enter types in a cell); NULL when empty.
 * An apostrophe before = + - @ is the one exports add so spreadsheets do not run the cell as
 * a formula (io/export.h): it is taken off, so an exported file reads back as it was.
 * A column the file lacks is never reported as required: the header's problem says it. */
static const char *text_cell_lines(bulk *b, int i, int c, size_t max, bool required, bool lines) {
    const char *v = cell(b, i, c);
    size_t n = strlen(v);
    if (n && (v[0] == ' ' || v[0] == '\t' || v[n - 1] == ' ' || v[n - 1] == '\t'))
        v = text_trim(b->x->a, v);   /* copied only when there is something to cut (most cells: not) */
    if (v[0] == '\'' && v[1] && strchr("=+-@", v[1])) v++;
    if (!*v) {
        if (required && b->col[c] >= 0) report(b, i, 0, b->col[c], "required", "This field is required", NULL);
        return NULL;
    }
    if (utf8_chars(v) > max) {
        report(b, i, 0, b->col[c], "too_long", arena_printf(b->x->a, "At most %zu characters", max), NULL);
        return NULL;
    }
    for (const char *p = v; *p; p++)
        if ((unsigned char)*p < 0x20 && *p != '\t' && !(lines && (*p == '\r' || *p == '\n'))) {
            report(b, i, 0, b->col[c], "invalid_value", "This field contains control characters", NULL);
            return NULL;
        }
    return v;
}

static const char *text_cell(bulk *b, int i, int c, size_t max, bool required) {
    return text_cell_lines(b, i, c, max, required, false);
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

/* An invalid_value problem in a cell whose allowed values can be named: params as a single
 * add's (subscriber_choice_params). */
static void report_choice(bulk *b, int i, sub_column c, const char *field, const char *message, const char *allowed) {
    report(b, i, 0, b->col[c], "invalid_value", message, subscriber_choice_params(b->x->a, field, allowed));
}

/* The level by code, English or French name. */
static const char *level_cell(bulk *b, int i, const sub_target *tg) {
    const char *v = text_cell(b, i, SUBCOL_LEVEL, LIMIT_LEVEL_CODE_CHARS, false);
    if (!v) return NULL;
    for (int k = 0; k < tg->npools; k++) {
        const pool_rec *p = &tg->pools[k];
        if (!strcasecmp(v, p->level_code) || folded_equal(v, p->name_en) || folded_equal(v, p->name_fr))
            return p->level_code;
    }
    const char *allowed = subscriber_level_list(b->x->a, tg->pools, tg->npools);
    report_choice(b, i, SUBCOL_LEVEL, "level", arena_printf(b->x->a, "Choose one of the agreement's levels: %s", allowed),
                  allowed);
    return NULL;
}

/* Yes or No in either language: 1 or 0; -1 when empty or wrong (reported). */
static int downloads_cell(bulk *b, int i) {
    const char *d = text_cell(b, i, SUBCOL_DOWNLOADS, 16, false);
    int v = d ? columns_parse_yes_no(d) : -1;
    if (d && v < 0) report_choice(b, i, SUBCOL_DOWNLOADS, "downloads", "Write Yes or No", NULL);
    return v;
}

/* An ISO 3166-1 alpha-2 code, in capitals; NULL when empty or wrong (reported). */
static const char *country_cell(bulk *b, int i) {
    const char *c = text_cell(b, i, SUBCOL_COUNTRY, 2, false);
    if (!c) return NULL;
    if (strlen(c) != 2 || !((c[0] | 32) >= 'a' && (c[0] | 32) <= 'z' && (c[1] | 32) >= 'a' && (c[1] | 32) <= 'z')) {
        report_choice(b, i, SUBCOL_COUNTRY, "country", "Use a two-letter country code, e.g. FR", NULL);
        return NULL;
    }
    char *u = arena_strdup(b->x->a, c);
    u[0] = (char)(u[0] & ~32);
    u[1] = (char)(u[1] & ~32);
    if (country_code_known(u)) return u;
    report_choice(b, i, SUBCOL_COUNTRY, "country", arena_printf(b->x->a, "%s is not an ISO 3166-1 country code", u),
                  NULL);
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
    report_choice(b, i, SUBCOL_LANGUAGE, "language", SUB_LANGUAGE_MESSAGE, subscriber_language_list(b->x->a));
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
    in->reference = text_cell_lines(b, i, SUBCOL_REFERENCE, SUB_REFERENCE_MAX, false, true);
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

/* Rows with the cells and file's checks passed are added row by row, the single add's code
 * (subscribers_add_in_tx), inside the caller's transaction; *added counts those without a
 * problem. */
static os_err add_row_by_row(bulk *b, sub_target *tg, const sub_input *ins, const bool *ok, int n, int *added) {
    /* Each row's own allocations (its record, audit and e-mail texts) go to a scratch arena
     * emptied after the row: a file's memory is its table and report, not rows × writes. */
    arena *scratch = arena_child(b->x->a, BULK_ROW_HEADROOM);
    op_ctx rx = *b->x;
    rx.a = scratch;
    os_err e = OS_OK;
    for (int i = 0; !e && i < n; i++) {
        if (i % PROGRESS_EVERY == 0 && (e = progress(b, "checking", (n + i) / 2, *added))) break;
        if (!ok[i]) continue;
        field_errors fe;
        fe_init(&fe, scratch);
        sub_rec rec;
        e = subscribers_add_in_tx(&rx, tg, &ins[i], &fe, &rec);
        if (e == OS_ERR_INVALID) {
            report_fields(b, i + 1, &fe);
            e = OS_OK;
        } else if (!e) {
            (*added)++;
            e = changed(b, &rx, &rec.uuid, NULL, 1);
        }
        arena_free(scratch);
    }
    arena_free(scratch);
    return e;
}

/* The index of the pool of a row's level (its own or the preferences' default); -1: none. */
static int pool_index(const sub_target *tg, const sub_input *in) {
    const char *lv = in->level ? in->level : tg->pr.default_level;
    for (int k = 0; lv && k < tg->npools; k++)
        if (!strcmp(tg->pools[k].level_code, lv)) return k;
    return -1;
}

/* The next rows that passed the file's checks, from index *next on: at most BULK_CHUNK, their
 * inputs copied into a and their indexes in idx. Their count; 0 at the end. */
static int next_chunk(const sub_input *ins, const bool *ok, int n, int *next, arena *a, sub_input **in, int **idx) {
    *in = arena_alloc(a, sizeof **in * BULK_CHUNK);
    *idx = arena_alloc(a, sizeof **idx * BULK_CHUNK);
    int m = 0;
    for (; *next < n && m < BULK_CHUNK; (*next)++)
        if (ok[*next]) {
            (*in)[m] = ins[*next];
            (*idx)[m++] = *next;
        }
    return m;
}

/* Every row checked like a single add (subscribers_check_many), a chunk at a time; each
 * problem reported on its row. */
static os_err check_chunks(bulk *b, const sub_target *tg, const sub_input *ins, const bool *ok, int n, op_ctx *rx) {
    os_err e = OS_OK;
    sub_input *in;
    int *idx, m, next = 0;
    while (!e && (m = next_chunk(ins, ok, n, &next, rx->a, &in, &idx))) {
        field_errors *fe = arena_alloc(rx->a, sizeof *fe * (size_t)m);
        e = subscribers_check_many(rx, tg, in, m, fe);
        for (int k = 0; !e && k < m; k++) report_fields(b, idx[k] + 1, &fe[k]);
        arena_free(rx->a);
        if (!e) e = progress(b, "checking", (n + next) / 2, 0);
    }
    return e;
}

/* The rows written a chunk at a time (subscribers_add_many_in_tx). */
static os_err write_chunks(bulk *b, sub_target *tg, const sub_input *ins, const bool *ok, int n, op_ctx *rx,
                           int *added) {
    os_err e = OS_OK;
    sub_input *in;
    int *idx, m, next = 0;
    while (!e && (m = next_chunk(ins, ok, n, &next, rx->a, &in, &idx))) {
        const char **ids;
        e = subscribers_add_many_in_tx(rx, tg, in, m, &ids);
        if (!e) e = changed(b, rx, ids, NULL, m);
        if (!e) *added += m;
        arena_free(rx->a);
        if (!e) e = progress(b, "writing", n, *added);
    }
    return e;
}

/* The set-based add, inside the caller's transaction: every row checked (problems
 * reported), then, when none was found, one seat update per level and the rows written a
 * few statements per chunk. Only when each level's rows fit in seats never assigned: then
 * no row can meet the reassignment rule, whose answer depends on the rows before it.
 * Otherwise *used is false and nothing was written: the caller adds row by row. */
static os_err add_set_based(bulk *b, sub_target *tg, const sub_input *ins, const bool *ok, int n, bool *used,
                            int *added) {
    op_ctx *x = b->x;
    *used = false;
    int64_t *need = arena_alloc(x->a, sizeof *need * (size_t)(tg->npools ? tg->npools : 1));
    for (int i = 0; i < n; i++) {
        int k = ok[i] ? pool_index(tg, &ins[i]) : -1;
        if (k >= 0) need[k]++;
    }
    os_err e = subscribers_target_refresh(x, tg);
    for (int k = 0; !e && k < tg->npools; k++)
        if (need[k] > subscribers_unassigned(tg, k)) return OS_OK;
    if (e) return e;
    /* A chunk's records, texts and statements, emptied after each chunk. */
    arena *scratch = arena_child(x->a, BULK_CHUNK_MEMORY);
    op_ctx rx = *x;
    rx.a = scratch;
    e = check_chunks(b, tg, ins, ok, n, &rx);
    *used = true;
    if (!e && b->r->nerrors == 0) e = subscribers_take_seats(&rx, tg, need, used);
    if (!e && *used && b->r->nerrors == 0) e = write_chunks(b, tg, ins, ok, n, &rx, added);
    arena_free(scratch);
    return e;
}

os_err bulk_add(op_ctx *x, int64_t agreement_id, const io_table *t, bool check_only, bool notify,
                const bulk_hooks *h, bulk_report *out) {
    memset(out, 0, sizeof *out);
    bulk b = {.x = x, .t = t, .r = out, .h = h ? h : &no_hooks};
    if (t->nrows == 0) {
        report(&b, -1, 1, -1, "empty_file", "The file is empty: the first row names the columns", NULL);
        return OS_OK;
    }
    /* Header problems are reported with the rows' own: the rows are checked all the same,
     * with the columns recognised, and only go on to the agreement's rules when the columns
     * they need are there. */
    bool readable = read_header(&b);
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
        if (b.col[defaulted[k].c] < 0 && !defaulted[k].fallback) {
            report(&b, 0, 0, -1, "missing_column",
                   arena_printf(x->a, "The column \"%s\" is missing and the agreement's preferences give no default",
                                sub_columns[defaulted[k].c].en),
                   NULL);
            readable = false;
        }

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
        /* Checked twice over (cells here, then the agreement's rules): each pass is half. */
        if (i % PROGRESS_EVERY == 0 && (e = progress(&b, "checking", i / 2, 0))) return e;
        ok[i] = read_row(&b, i + 1, &tg, &ins[i]);
        ins[i].notify = notify;
        const char *lv = ins[i].level ? ins[i].level : tg.pr.default_level;
        if (!ok[i] || !lv || !ins[i].name || !ins[i].sign_in_email) {   /* the last two: columns missing */
            ok[i] = false;
            continue;
        }
        int first = seen_put(&s, x->a, arena_printf(x->a, "%s\x1f%s", ins[i].sign_in_email, lv), t->rownum[i + 1]);
        if (first) {
            report(&b, i + 1, 0, b.col[SUBCOL_SIGN_IN_EMAIL], "duplicate_in_file",
                   arena_printf(x->a, "This address already has this level on row %d of the file", first),
                   arena_printf(x->a, "{\"row\":%d}", first));
            ok[i] = false;
        }
    }
    if (!readable) return OS_OK;
    /* Then the agreement's own rules, in one transaction: set-based when it can be. The
     * agreement, its pools and preferences are read again in it: what decides the writes is
     * what is stored when they are made (the file's own checks above only used the levels'
     * names and the defaults, which a change meanwhile cannot make wrong: rows are checked
     * again against these). */
    if ((e = store_tx_begin_agreement(x->c, agreement_id))) return e;
    int added = 0;
    bool set_based = false;
    e = store_tx_bulk(x->c);
    if (!e) e = subscribers_target(x, agreement_id, &tg);
    if (!e) add_levels(&b, &tg, ins, ok, n);
    if (!e) e = add_set_based(&b, &tg, ins, ok, n, &set_based, &added);
    if (!e && !set_based) e = add_row_by_row(&b, &tg, ins, ok, n, &added);
    bool keep = !e && out->nerrors == 0 && !check_only;
    out->added = keep ? added : 0;   /* before the commit: the hook reports it */
    if ((e = finish(&b, e, keep))) return e;
    if (out->applied && notify) outbox_wake(x->app->mail);
    return OS_OK;
}

/* ---- changing and removing existing subscriptions ---- */

/* Text keys → the first row that used them, in the request arena; grows as it fills (the
 * keys of a removal are not known in number beforehand: an address may hold every level). */
typedef struct keymap {
    arena *a;
    const char **keys;
    int *rows;
    size_t cap, n;
} keymap;

static void keymap_init(keymap *m, arena *a) {
    *m = (keymap){.a = a, .cap = 64};
    m->keys = arena_alloc(a, sizeof *m->keys * m->cap);
    m->rows = arena_alloc(a, sizeof *m->rows * m->cap);
}

static size_t keymap_slot(const keymap *m, const char *key) {
    size_t h = 1469598103934665603u;
    for (const char *p = key; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211u;
    size_t i = h & (m->cap - 1);
    while (m->keys[i] && strcmp(m->keys[i], key)) i = (i + 1) & (m->cap - 1);
    return i;
}

/* The row that used key first; 0 when none has. */
static int keymap_find(const keymap *m, const char *key) {
    size_t i = keymap_slot(m, key);
    return m->keys[i] ? m->rows[i] : 0;
}

/* Like keymap_find, and when no row has used key, records it for `row`. */
static int keymap_put(keymap *m, const char *key, int row) {
    size_t i = keymap_slot(m, key);
    if (m->keys[i]) return m->rows[i];
    if ((m->n + 1) * 2 > m->cap) {   /* at most half full, so probes stay short */
        keymap old = *m;
        m->cap *= 2;
        m->keys = arena_alloc(m->a, sizeof *m->keys * m->cap);
        m->rows = arena_alloc(m->a, sizeof *m->rows * m->cap);
        for (size_t k = 0; k < old.cap; k++)
            if (old.keys[k]) {
                size_t j = keymap_slot(m, old.keys[k]);
                m->keys[j] = old.keys[k];
                m->rows[j] = old.rows[k];
            }
        i = keymap_slot(m, key);
    }
    m->keys[i] = arena_strdup(m->a, key);
    m->rows[i] = row;
    m->n++;
    return 0;
}

/* Before row i: false (and a problem reported) when the request's memory is nearly used
 * up, since running out would abort the request instead of answering. */
static bool room_for_row(bulk *b, int i) {
    arena *a = b->x->a;
    if (a->limit - a->used_total >= BULK_ROW_HEADROOM) return true;
    report(b, i, 0, -1, "too_large", "This file is too large to check at once: split it into smaller files", NULL);
    return false;
}

/* 8-4-4-4-12 hexadecimal digits, the form of a subscription id; lower-cased into out. */
static bool uuid_value(const char *v, char out[37]) {
    if (strlen(v) != 36) return false;
    for (int k = 0; k < 36; k++) {
        char c = v[k];
        if (k == 8 || k == 13 || k == 18 || k == 23) {
            if (c != '-') return false;
        } else if (!((c >= '0' && c <= '9') || ((c | 32) >= 'a' && (c | 32) <= 'f'))) {
            return false;
        }
        out[k] = (char)(c >= 'A' && c <= 'F' ? c | 32 : c);
    }
    out[36] = 0;
    return true;
}

static bool same_text(const char *a, const char *b) { return !strcmp(a ? a : "", b ? b : ""); }

/* Row i of a bulk edit: its cells compared with the subscription it names and, when they
 * differ and nothing is wrong, the change written (in the caller's transaction). Problems
 * are reported; only a failing database is returned. */
static os_err edit_row(bulk *b, int i, sub_target *tg, keymap *ids, keymap *emails, op_ctx *rx,
                       bulk_edit_report *out) {
    op_ctx *x = b->x;
    int before = b->r->nerrors, row = b->t->rownum[i];
    const char *raw = text_trim(rx->a, cell(b, i, SUBCOL_ID));
    char id[37];
    sub_rec cur;
    bool found = false;
    if (uuid_value(raw, id)) {
        os_err e = st_sub_get(x->c, rx->a, tg->g.id, id, &cur);
        if (e && e != OS_ERR_NOT_FOUND) return e;
        found = !e;
    }
    /* The columns the file has, with the add's rules, in the template's order. */
    bool has[SUBCOL_COUNT];
    for (int c = 0; c < SUBCOL_COUNT; c++) has[c] = b->col[c] >= 0;
    const char *name = has[SUBCOL_NAME] ? text_cell(b, i, SUBCOL_NAME, SUB_NAME_MAX, true) : NULL;
    const char *email = has[SUBCOL_SIGN_IN_EMAIL] ? email_cell(b, i, SUBCOL_SIGN_IN_EMAIL, true) : NULL;
    const char *notification = has[SUBCOL_NOTIFICATION_EMAIL] ? email_cell(b, i, SUBCOL_NOTIFICATION_EMAIL, false) : NULL;
    const char *level = has[SUBCOL_LEVEL] ? level_cell(b, i, tg) : NULL;
    if (level && found && strcmp(level, cur.level_code))
        report(b, i, 0, b->col[SUBCOL_LEVEL], "invalid_value",
               "The level of a subscription cannot change; remove it and add another", NULL);
    const char *reference = has[SUBCOL_REFERENCE] ? text_cell_lines(b, i, SUBCOL_REFERENCE, SUB_REFERENCE_MAX, false, true) : NULL;
    int downloads = has[SUBCOL_DOWNLOADS] ? downloads_cell(b, i) : -1;
    const char *country = has[SUBCOL_COUNTRY] ? country_cell(b, i) : NULL;
    const char *language = has[SUBCOL_LANGUAGE] ? language_cell(b, i) : NULL;
    if (!*raw) {
        report(b, i, 0, b->col[SUBCOL_ID], "required", "This field is required", NULL);
    } else if (!found) {
        /* Another agreement's id is unknown here too: this agreement's admins see only its own. */
        report(b, i, 0, b->col[SUBCOL_ID], "unknown_id", "No subscription of this agreement has this id", NULL);
    } else {
        int first = keymap_put(ids, cur.uuid, row);
        if (first)
            report(b, i, 0, b->col[SUBCOL_ID], "duplicate_in_file",
                   arena_printf(x->a, "This subscription is already on row %d of the file", first),
                   arena_printf(x->a, "{\"row\":%d}", first));
    }
    if (b->r->nerrors != before) return OS_OK;

    /* What differs; an empty cell of a column that must have a value keeps the stored one. */
    sub_rec next = cur;
    bulk_field_change f[7];
    int nf = 0;
    if (name && strcmp(name, cur.name)) {
        f[nf++] = (bulk_field_change){"name", cur.name, name, false};
        next.name = name;
    }
    if (email && strcmp(email, cur.sign_in_email)) {
        f[nf++] = (bulk_field_change){"sign_in_email", cur.sign_in_email, email, false};
        next.sign_in_email = email;
    }
    if (has[SUBCOL_NOTIFICATION_EMAIL] && !same_text(notification, cur.notification_email)) {
        f[nf++] = (bulk_field_change){"notification_email", cur.notification_email, notification, false};
        next.notification_email = notification;
    }
    if (has[SUBCOL_REFERENCE] && !same_text(reference, cur.reference)) {
        f[nf++] = (bulk_field_change){"reference", cur.reference ? cur.reference : "", reference ? reference : "", false};
        next.reference = reference ? reference : "";
    }
    if (downloads >= 0 && downloads != (cur.downloads != 0)) {
        f[nf++] = (bulk_field_change){"downloads", cur.downloads ? "true" : "false", downloads ? "true" : "false", true};
        next.downloads = downloads;
    }
    if (country && strcmp(country, cur.country)) {
        f[nf++] = (bulk_field_change){"country", cur.country, country, false};
        next.country = country;
    }
    if (language && strcmp(language, cur.language)) {
        f[nf++] = (bulk_field_change){"language", cur.language, language, false};
        next.language = language;
    }
    if (!nf) {
        out->unchanged++;
        return OS_OK;
    }
    if (next.sign_in_email != cur.sign_in_email) {
        /* Checked before writing, so the problem names the other row rather than the
         * database's refusal of whichever came second. */
        int first = keymap_put(emails, arena_printf(rx->a, "%s\x1f%s", email, cur.level_code), row);
        if (first) {
            report(b, i, 0, b->col[SUBCOL_SIGN_IN_EMAIL], "duplicate_in_file",
                   arena_printf(x->a, "Row %d of the file gives this address to another subscription of this level",
                                first),
                   arena_printf(x->a, "{\"row\":%d}", first));
            return OS_OK;
        }
    }
    field_errors fe;
    fe_init(&fe, rx->a);
    os_err e = subscribers_update_in_tx(rx, &tg->g, &tg->pr, &cur, &next, cur.version, &fe);
    if (e == OS_ERR_INVALID) {
        report_fields(b, i, &fe);
        return OS_OK;
    }
    if (!e) {
        const char *diff = subscription_changes(rx->a, &cur, &next);
        e = changed(b, rx, &cur.uuid, &diff, 1);
    }
    if (e) return e;
    out->changed++;
    if (out->nchanges >= BULK_LISTED_MAX) return OS_OK;
    if (!out->changes) out->changes = arena_alloc(x->a, sizeof *out->changes * BULK_LISTED_MAX);
    bulk_change *c = &out->changes[out->nchanges++];
    *c = (bulk_change){.row = row, .id = arena_strdup(x->a, cur.uuid), .name = arena_strdup(x->a, cur.name),
                       .fields = arena_alloc(x->a, sizeof *c->fields * (size_t)nf), .nfields = nf};
    for (int k = 0; k < nf; k++)
        c->fields[k] = (bulk_field_change){f[k].field, f[k].from ? arena_strdup(x->a, f[k].from) : NULL,
                                           f[k].to ? arena_strdup(x->a, f[k].to) : NULL, f[k].boolean};
    return OS_OK;
}

os_err bulk_edit(op_ctx *x, int64_t agreement_id, const io_table *t, bool check_only, const bulk_hooks *h,
                 bulk_edit_report *out) {
    memset(out, 0, sizeof *out);
    bulk b = {.x = x, .t = t, .r = &out->base, .h = h ? h : &no_hooks};
    if (t->nrows == 0) {
        report(&b, -1, 1, -1, "empty_file", "The file is empty: the first row names the columns", NULL);
        return OS_OK;
    }
    read_columns(&b);
    static const sub_column required[] = {SUBCOL_ID};
    if (!require_columns(&b, required, 1)) return OS_OK;
    int n = t->nrows - 1;
    out->base.rows = n;
    if (n == 0) {
        report(&b, -1, t->rownum[0] + 1, -1, "no_rows", "The file has column names but no subscribers", NULL);
        return OS_OK;
    }
    sub_target tg;
    keymap ids, emails;
    keymap_init(&ids, x->a);
    keymap_init(&emails, x->a);
    /* Each row's reads and writes (its record, audit and e-mail texts) use a scratch arena
     * emptied after the row: a file's memory is its table and report. */
    arena *scratch = arena_child(x->a, BULK_ROW_HEADROOM);
    op_ctx rx = *x;
    rx.a = scratch;
    /* Read and written in one transaction: each row is compared with the subscription as
     * stored now, and its version is the one the update expects. */
    os_err e = store_tx_begin_agreement(x->c, agreement_id);
    if (e) return e;
    e = store_tx_bulk(x->c);
    if (!e) e = subscribers_target(x, agreement_id, &tg);
    for (int i = 1; !e && i <= n; i++) {
        if (!room_for_row(&b, i)) break;
        e = edit_row(&b, i, &tg, &ids, &emails, &rx, out);
        arena_free(scratch);
        if (!e && i % PROGRESS_EVERY == 0) e = progress(&b, "checking", i, 0);
    }
    arena_free(scratch);
    if ((e = finish(&b, e, out->base.nerrors == 0 && !check_only))) return e;
    if (out->base.applied) outbox_wake(x->app->mail);
    return OS_OK;
}

/* Removes subscription s for row i (in the caller's transaction) and lists it. */
static os_err remove_one(bulk *b, int i, const sub_rec *s, keymap *done, op_ctx *rx, bulk_remove_report *out) {
    op_ctx *x = b->x;
    int row = b->t->rownum[i];
    os_err e = subscribers_remove_in_tx(rx, s);
    if (!e) e = changed(b, rx, &s->uuid, NULL, 1);
    if (e) return e;
    /* Later rows naming it again, by id or by its address, are told which row removed it. */
    keymap_put(done, arena_printf(rx->a, "s\x1f%s", s->uuid), row);
    keymap_put(done, arena_printf(rx->a, "e\x1f%s", s->sign_in_email), row);
    out->count++;
    if (out->nsubs >= BULK_LISTED_MAX) return OS_OK;
    if (!out->subs) out->subs = arena_alloc(x->a, sizeof *out->subs * BULK_LISTED_MAX);
    out->subs[out->nsubs++] = (bulk_removal){row, arena_strdup(x->a, s->uuid), arena_strdup(x->a, s->name),
                                             arena_strdup(x->a, s->sign_in_email), arena_strdup(x->a, s->level_code)};
    return OS_OK;
}

/* Row i names again what row `first` did; message says so. */
static void repeated(bulk *b, int i, int col, int first, const char *message) {
    report(b, i, 0, col, "duplicate_in_file", message, arena_printf(b->x->a, "{\"row\":%d}", first));
}

/* Row i of a bulk removal: its value (column col) found and its subscriptions removed.
 * Problems are reported; only a failing database is returned. */
static os_err remove_row(bulk *b, int i, int col, int64_t agreement_id, keymap *values, keymap *done, op_ctx *rx,
                         bulk_remove_report *out) {
    op_ctx *x = b->x;
    const io_table *t = b->t;
    int row = t->rownum[i], first;
    const char *v = text_trim(rx->a, col < t->ncells[i] ? t->rows[i][col] : "");
    if (v[0] == '\'' && v[1] && strchr("=+-@", v[1])) v++;   /* an export's defused cell, as in text_cell */
    char id[37];
    const char *email = NULL;
    if (!*v) {
        report(b, i, 0, col, "required", "Write a sign-in e-mail or a subscription id", NULL);
        return OS_OK;
    }
    bool by_id = uuid_value(v, id);
    if (!by_id && !(email = email_normalize(rx->a, v))) {
        report(b, i, 0, col, "unknown_value", "This is neither a sign-in e-mail nor a subscription id", NULL);
        return OS_OK;
    }
    if ((first = keymap_put(values, by_id ? id : email, row))) {
        repeated(b, i, col, first, arena_printf(x->a, "This value is already on row %d of the file", first));
        return OS_OK;
    }
    os_err e;
    if (by_id) {
        if ((first = keymap_find(done, arena_printf(rx->a, "s\x1f%s", id)))) {
            repeated(b, i, col, first, arena_printf(x->a, "Row %d of the file already removes this subscription", first));
            return OS_OK;
        }
        sub_rec s;
        e = st_sub_get(x->c, rx->a, agreement_id, id, &s);
        if (e == OS_ERR_NOT_FOUND) {
            report(b, i, 0, col, "unknown_value", "No subscription of this agreement has this id", NULL);
            return OS_OK;
        }
        return e ? e : remove_one(b, i, &s, done, rx, out);
    }
    sub_rec *subs;
    int n;
    if ((e = st_sub_by_email(x->c, rx->a, agreement_id, email, &subs, &n))) return e;
    if (n == 0) {
        /* Its subscriptions may be gone already, named by id on an earlier row. */
        if ((first = keymap_find(done, arena_printf(rx->a, "e\x1f%s", email))))
            repeated(b, i, col, first,
                     arena_printf(x->a, "Row %d of the file already removes this address's subscriptions", first));
        else
            report(b, i, 0, col, "unknown_value", "No subscription of this agreement has this sign-in e-mail", NULL);
        return OS_OK;
    }
    for (int k = 0; !e && k < n; k++) e = remove_one(b, i, &subs[k], done, rx, out);
    return e;
}

os_err bulk_remove(op_ctx *x, int64_t agreement_id, const io_table *file, bool check_only, const bulk_hooks *h,
                   bulk_remove_report *out) {
    memset(out, 0, sizeof *out);
    bulk b = {.x = x, .t = file, .r = &out->base, .h = h ? h : &no_hooks};
    if (file->nrows == 0) {
        report(&b, -1, 1, -1, "empty_file", "The file is empty: write one sign-in e-mail or subscription id a row", NULL);
        return OS_OK;
    }
    /* Row 1 names the columns when one of its cells is a column's header (an export, or a
     * list headed "Sign-in Email"); the values are then that file's ids, else its addresses. */
    int idcol = -1, emailcol = -1;
    bool headed = false;
    for (int k = 0; k < file->ncells[0]; k++) {
        int c = columns_match(file->rows[0][k]);
        headed |= c >= 0;
        if (c == SUBCOL_ID && idcol < 0) idcol = k;
        if (c == SUBCOL_SIGN_IN_EMAIL && emailcol < 0) emailcol = k;
    }
    int col = idcol >= 0 ? idcol : emailcol >= 0 ? emailcol : 0;
    io_table view;
    if (headed && idcol < 0 && emailcol < 0) {
        report(&b, 0, 0, -1, "missing_column",
               "The column \"Sign-in Email\" or \"Subscription Id\" is missing", NULL);
        return OS_OK;
    }
    if (!headed && file->nrows > BULK_ROWS_MAX) {
        /* The reader's bound counts a header row, which this file does not have. */
        report(&b, -1, file->rownum[BULK_ROWS_MAX], -1, "too_large",
               arena_printf(x->a, "At most %d values in one file: split it into smaller files", BULK_ROWS_MAX), NULL);
        return OS_OK;
    }
    if (!headed) {
        /* Every row is a value: the rows are seen below an empty header (a row of no cells),
         * so problems are numbered as in the file and name no column. */
        int n = file->nrows + 1;
        view = (io_table){.rows = arena_alloc(x->a, sizeof *view.rows * (size_t)n),
                          .ncells = arena_alloc(x->a, sizeof *view.ncells * (size_t)n),
                          .rownum = arena_alloc(x->a, sizeof *view.rownum * (size_t)n), .nrows = n};
        memcpy(view.rows + 1, file->rows, sizeof *view.rows * (size_t)file->nrows);
        memcpy(view.ncells + 1, file->ncells, sizeof *view.ncells * (size_t)file->nrows);
        memcpy(view.rownum + 1, file->rownum, sizeof *view.rownum * (size_t)file->nrows);
        b.t = &view;
    }
    const io_table *t = b.t;
    int n = t->nrows - 1;
    out->base.rows = n;
    if (n == 0) {
        report(&b, -1, t->rownum[0] + 1, -1, "no_rows", "The file has column names but no values", NULL);
        return OS_OK;
    }
    keymap values, done;
    keymap_init(&values, x->a);
    keymap_init(&done, x->a);
    arena *scratch = arena_child(x->a, BULK_ROW_HEADROOM);
    op_ctx rx = *x;
    rx.a = scratch;
    /* Removed as they are found, in one transaction: a later row sees what earlier ones
     * removed (so a subscription named twice is reported once), and a preview is the same
     * work rolled back. */
    os_err e = store_tx_begin_agreement(x->c, agreement_id);
    if (e) return e;
    e = store_tx_bulk(x->c);
    for (int i = 1; !e && i <= n; i++) {
        if (!room_for_row(&b, i)) break;
        e = remove_row(&b, i, col, agreement_id, &values, &done, &rx, out);
        arena_free(scratch);
        if (!e && i % PROGRESS_EVERY == 0) e = progress(&b, "checking", i, 0);
    }
    arena_free(scratch);
    return finish(&b, e, out->base.nerrors == 0 && !check_only);
}

os_err bulk_emit_applied(op_ctx *x, int64_t agreement_id, const char *license, const char *job_id, const char *kind,
                         int64_t added, int64_t updated, int64_t removed) {
    jw_params p;
    jw *w = jw_params_begin(&p, x->a);
    jw_kstr(w, "id", job_id);
    jw_kstr(w, "kind", kind);
    jw_kint(w, "added", added);
    jw_kint(w, "updated", updated);
    jw_kint(w, "removed", removed);
    jw_kstr(w, "changes", job_id ? arena_printf(x->a, "/api/v1/agreements/%s/jobs/%s/changes", license, job_id) : NULL);
    const char *job = jw_params_end(&p);
    const char *data = job ? event_data(x->a, license, "job", job, NULL) : NULL;
    return data ? event_emit(x, agreement_id, "bulk.applied", data) : OS_ERR_INTERNAL;
}
