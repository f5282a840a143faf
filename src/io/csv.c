/* csv.c — see csv.h. */
#include "csv.h"
#include <csv.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "core/json_write.h"

typedef struct reader {
    arena *a;
    io_table *t;
    int cap, max_rows;
    char *cells[IO_MAX_COLS];
    int nf;               /* fields seen in the current record (empty ones past the limit too) */
    int row;              /* row number of the current record */
    bool after_cr;        /* the last record ended with '\r': a '\n' right after it ends nothing */
    os_err error_code;    /* first problem; parsing goes on but records nothing more */
    const char *error;    /* its reason, NULL for too many rows */
    int error_row;
} reader;

static int never_space(unsigned char c) { (void)c; return 0; }

static void fail(reader *r, os_err code, const char *why) {
    if (r->error_code) return;
    r->error = why;
    r->error_row = r->row;
    r->error_code = code;
}

static void on_field(void *s, size_t len, void *ud) {
    reader *r = ud;
    if (r->error_code) return;
    const char *f = s ? s : "";
    int i = r->nf < INT_MAX ? r->nf++ : r->nf;
    if (i >= IO_MAX_COLS) {
        /* Empty fields past the last column are what spreadsheets export for formatted
         * but empty cells; they would be dropped as trailing anyway. */
        if (len) fail(r, OS_ERR_INVALID, "too many columns (at most 64)");
        return;
    }
    if (len > IO_MAX_CELL) { fail(r, OS_ERR_INVALID, "a cell is too long (at most 4096 bytes)"); return; }
    if (memchr(f, 0, len)) { fail(r, OS_ERR_INVALID, "a NUL byte: this is not a text file"); return; }
    if (utf8_valid_prefix(f, len) != len) { fail(r, OS_ERR_INVALID, "invalid UTF-8 (save the file as CSV UTF-8)"); return; }
    char *c = arena_try_alloc(r->a, len + 1);
    if (!c) { fail(r, OS_ERR_TOO_LARGE, "too large to read"); return; }
    memcpy(c, f, len);
    r->cells[i] = c;
}

static void on_row(int c, void *ud) {
    reader *r = ud;
    if (c == '\n' && r->after_cr && r->nf == 0) {   /* the second half of a CRLF */
        r->after_cr = false;
        return;
    }
    r->after_cr = c == '\r';
    if (!r->error_code) {
        int n = r->nf < IO_MAX_COLS ? r->nf : IO_MAX_COLS;
        os_err e = io_table_add(r->a, r->t, &r->cap, r->max_rows, r->cells, n, r->row);
        if (e == OS_ERR_TOO_LARGE) fail(r, e, NULL);   /* worded by csv_read: no row */
        else if (e) fail(r, OS_ERR_TOO_LARGE, "too large to read");
    }
    memset(r->cells, 0, sizeof r->cells);
    r->nf = 0;
    if (r->row < INT_MAX) r->row++;
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

os_err csv_read(arena *a, const char *data, size_t len, int max_rows, io_table *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    if (len >= 3 && !memcmp(data, "\xEF\xBB\xBF", 3)) { data += 3; len -= 3; }
    else if (len >= 2 && (!memcmp(data, "\xFF\xFE", 2) || !memcmp(data, "\xFE\xFF", 2))) {
        /* What Excel's "Unicode text" writes. */
        snprintf(err, errlen, "the file is UTF-16 text: save it as CSV UTF-8");
        return OS_ERR_INVALID;
    }
    if (len == 0) { snprintf(err, errlen, "the file is empty"); return OS_ERR_INVALID; }
    struct csv_parser p;
    if (csv_init(&p, CSV_APPEND_NULL | CSV_REPALL_NL | CSV_STRICT | CSV_STRICT_FINI) != 0) return OS_ERR_NOMEM;
    csv_set_delim(&p, (unsigned char)detect_sep(data, len));
    csv_set_space_func(&p, never_space);   /* keep spaces as typed */
    reader r = {.a = a, .t = out, .max_rows = max_rows, .row = 1};
    os_err e = OS_OK;
    if (csv_parse(&p, data, len, on_field, on_row, &r) != len) {
        if (csv_error(&p) == CSV_EPARSE)
            fail(&r, OS_ERR_INVALID, "a quote is misplaced (a quoted cell must be quoted whole, "
                                     "with its quotes doubled)");
        else
            fail(&r, OS_ERR_TOO_LARGE, "too large to read");
    } else if (csv_fini(&p, on_field, on_row, &r) != 0) {
        fail(&r, OS_ERR_INVALID, "a quoted cell is not closed");
    }
    csv_free(&p);
    if (r.error_code) {
        e = r.error_code;
        if (r.error) snprintf(err, errlen, "row %d: %s", r.error_row, r.error);
        else snprintf(err, errlen, "too many rows (at most %d)", max_rows);
    } else if (out->nrows == 0) {
        snprintf(err, errlen, "the file has no rows");
        e = OS_ERR_INVALID;
    }
    if (e) memset(out, 0, sizeof *out);   /* no half-read table */
    return e;
}
