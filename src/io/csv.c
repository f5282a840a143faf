/* csv.c — see csv.h. */
#include "csv.h"
#include <csv.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "core/json_write.h"
#include "core/text.h"

typedef struct reader {
    arena *a;
    csv_table *t;
    int cap, max_rows;
    char **fields;
    int nf;
    const char *error;
    int error_row;
} reader;

static int never_space(unsigned char c) { (void)c; return 0; }

static void on_field(void *s, size_t len, void *ud) {
    reader *r = ud;
    if (r->error) return;
    int row = r->t->nrows + 1;
    if (r->nf >= CSV_MAX_FIELDS) { r->error = "too many columns"; r->error_row = row; return; }
    if (len > CSV_MAX_CELL) { r->error = "a field is too long"; r->error_row = row; return; }
    if (utf8_valid_prefix(s ? s : "", len) != len) { r->error = "invalid UTF-8"; r->error_row = row; return; }
    if (!r->fields) r->fields = arena_alloc(r->a, sizeof(char *) * CSV_MAX_FIELDS);
    r->fields[r->nf++] = arena_strndup(r->a, s ? s : "", len);
}

static void on_row(int c, void *ud) {
    reader *r = ud;
    (void)c;
    if (r->error) return;
    bool blank = r->nf == 0 || (r->nf == 1 && !r->fields[0][0]);
    if (blank) { r->nf = 0; r->fields = NULL; return; }   /* skip empty lines */
    if (r->t->nrows >= r->max_rows) { r->error = "too many rows"; r->error_row = r->t->nrows + 1; return; }
    if (r->t->nrows == r->cap) {
        int cap = r->cap ? r->cap * 2 : 64;
        char ***rows = arena_alloc(r->a, sizeof(char **) * (size_t)cap);
        int *nf = arena_alloc(r->a, sizeof(int) * (size_t)cap);
        if (r->t->nrows) {
            memcpy(rows, r->t->rows, sizeof(char **) * (size_t)r->t->nrows);
            memcpy(nf, r->t->nfields, sizeof(int) * (size_t)r->t->nrows);
        }
        r->t->rows = rows;
        r->t->nfields = nf;
        r->cap = cap;
    }
    r->t->rows[r->t->nrows] = r->fields;
    r->t->nfields[r->t->nrows] = r->nf;
    r->t->nrows++;
    r->fields = NULL;
    r->nf = 0;
}

/* The separator is whichever of ';' and ',' appears more often outside quotes on the first line. */
static char detect_sep(const char *d, size_t n) {
    int commas = 0, semis = 0;
    bool q = false;
    for (size_t i = 0; i < n && (q || (d[i] != '\n' && d[i] != '\r')); i++) {
        if (d[i] == '"') q = !q;
        else if (!q && d[i] == ',') commas++;
        else if (!q && d[i] == ';') semis++;
    }
    return semis > commas ? ';' : ',';
}

os_err csv_read(arena *a, const char *data, size_t len, int max_rows, csv_table *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    if (len >= 3 && !memcmp(data, "\xEF\xBB\xBF", 3)) { data += 3; len -= 3; }
    if (len == 0) { snprintf(err, errlen, "the file is empty"); return OS_ERR_INVALID; }
    struct csv_parser p;
    if (csv_init(&p, CSV_APPEND_NULL) != 0) return OS_ERR_NOMEM;
    out->sep = detect_sep(data, len);
    csv_set_delim(&p, (unsigned char)out->sep);
    csv_set_space_func(&p, never_space);   /* keep spaces as typed */
    reader r = {.a = a, .t = out, .max_rows = max_rows};
    os_err e = OS_OK;
    if (csv_parse(&p, data, len, on_field, on_row, &r) != len) {
        snprintf(err, errlen, "row %d: %s", out->nrows + 1, csv_strerror(csv_error(&p)));
        e = OS_ERR_INVALID;
    } else if (csv_fini(&p, on_field, on_row, &r) != 0) {
        snprintf(err, errlen, "row %d: unterminated quoted field", out->nrows + 1);
        e = OS_ERR_INVALID;
    }
    csv_free(&p);
    if (!e && r.error) {
        snprintf(err, errlen, "row %d: %s", r.error_row, r.error);
        e = strcmp(r.error, "too many rows") ? OS_ERR_INVALID : OS_ERR_TOO_LARGE;
    }
    if (!e && out->nrows == 0) { snprintf(err, errlen, "the file has no rows"); e = OS_ERR_INVALID; }
    return e;
}

int csv_column(const csv_table *t, const char *name) {
    if (t->nrows == 0) return -1;
    for (int i = 0; i < t->nfields[0]; i++) {
        const char *h = t->rows[0][i];
        while (*h == ' ') h++;
        size_t n = strlen(h);
        while (n && h[n - 1] == ' ') n--;
        if (n == strlen(name) && !strncasecmp(h, name, n)) return i;
    }
    return -1;
}
