/* table.c — see table.h. */
#include "table.h"
#include "csv.h"
#include "xlsx.h"
#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "core/json_write.h"

int io_column(const io_table *t, const char *name) {
    if (t->nrows == 0) return -1;
    size_t want = strlen(name);
    for (int i = 0; i < t->ncells[0]; i++) {
        const char *h = t->rows[0][i];
        while (*h == ' ') h++;
        size_t n = strlen(h);
        while (n && h[n - 1] == ' ') n--;
        if (n == want && !strncasecmp(h, name, n)) return i;
    }
    return -1;
}

static char empty_cell[1];

os_err io_table_add(arena *a, io_table *t, int *cap, int max_rows, char *const *cells, int n, int rownum) {
    while (n > 0 && (!cells[n - 1] || !cells[n - 1][0])) n--;
    if (n == 0) return OS_OK;
    if (t->nrows >= max_rows) return OS_ERR_TOO_LARGE;
    if (t->nrows == *cap) {
        /* Doubling: the abandoned arrays cost at most as much as the live ones. */
        int ncap = *cap ? *cap * 2 : 64;
        char ***rows = arena_try_alloc(a, sizeof(char **) * (size_t)ncap);
        int *nc = arena_try_alloc(a, sizeof(int) * (size_t)ncap);
        int *rn = arena_try_alloc(a, sizeof(int) * (size_t)ncap);
        if (!rows || !nc || !rn) return OS_ERR_NOMEM;
        if (t->nrows) {
            memcpy(rows, t->rows, sizeof(char **) * (size_t)t->nrows);
            memcpy(nc, t->ncells, sizeof(int) * (size_t)t->nrows);
            memcpy(rn, t->rownum, sizeof(int) * (size_t)t->nrows);
        }
        t->rows = rows;
        t->ncells = nc;
        t->rownum = rn;
        *cap = ncap;
    }
    char **row = arena_try_alloc(a, sizeof(char *) * (size_t)n);
    if (!row) return OS_ERR_NOMEM;
    for (int i = 0; i < n; i++) row[i] = cells[i] ? cells[i] : empty_cell;
    t->rows[t->nrows] = row;
    t->ncells[t->nrows] = n;
    t->rownum[t->nrows] = rownum;
    t->nrows++;
    return OS_OK;
}

bool io_is_xlsx(const char *data, size_t len) { return len >= 4 && !memcmp(data, "PK\x03\x04", 4); }

os_err io_table_read(arena *a, const char *data, size_t len, int max_rows, io_table *out, char *err, size_t errlen) {
    return io_is_xlsx(data, len) ? xlsx_read(a, data, len, max_rows, out, err, errlen)
                                 : csv_read(a, data, len, max_rows, out, err, errlen);
}

int io_encoding_parse(const char *s) {
    if (!s) return -1;
    static const struct {
        const char *name;
        io_encoding enc;
    } names[] = {{"utf-8", IO_UTF8}, {"utf8", IO_UTF8}, {"windows-1252", IO_WINDOWS_1252}, {"cp1252", IO_WINDOWS_1252}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcasecmp(s, names[i].name)) return (int)names[i].enc;
    return -1;
}

/* Undefined in the code page: 0x81, 0x8D, 0x8F, 0x90, 0x9D (glibc's iconv refuses them). */
char *io_windows_1252_to_utf8(arena *a, const char *data, size_t len, size_t *outlen, bool *too_large) {
    *too_large = false;
    if (memchr(data, 0, len)) return NULL;
    if (len > (SIZE_MAX - 1) / 3) { *too_large = true; return NULL; }
    size_t cap = len * 3 + 1;
    char *out = arena_try_alloc(a, cap);
    if (!out) { *too_large = true; return NULL; }
    iconv_t cd = iconv_open("UTF-8", "WINDOWS-1252");
    if (cd == (iconv_t)-1) return NULL;
    char *in, *o = out;
    memcpy(&in, &data, sizeof in);   /* iconv's input is char ** but only read */
    size_t inleft = len, oleft = cap - 1;
    size_t rc = iconv(cd, &in, &inleft, &o, &oleft);
    iconv_close(cd);
    if (rc == (size_t)-1 || inleft) return NULL;   /* EILSEQ: a byte the code page leaves undefined */
    *o = 0;
    *outlen = (size_t)(o - out);
    return out;
}

static bool has_high_byte(const char *s) {
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80) return true;
    return false;
}

os_err io_table_read_upload(arena *a, const char *data, size_t len, int max_rows, io_encoding enc, bool excel,
                            io_table *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    if (io_is_xlsx(data, len)) return xlsx_read(a, data, len, max_rows, out, err, errlen);
    bool bom = len >= 3 && !memcmp(data, "\xEF\xBB\xBF", 3);
    bool utf8 = !memchr(data, 0, len) && utf8_valid_prefix(data, len) == len;
    if (excel && !utf8) {
        snprintf(err, errlen, "this is not an Excel file (.xlsx): it is damaged, or another kind of file renamed; "
                              "open it and save it as Excel Workbook (.xlsx) or CSV UTF-8");
        return OS_ERR_INVALID;
    }
    bool too_large = false;
    size_t n = 0;
    if (enc == IO_WINDOWS_1252 && !bom) {
        char *text = io_windows_1252_to_utf8(a, data, len, &n, &too_large);
        if (text) return csv_read(a, text, n, max_rows, out, err, errlen);
        snprintf(err, errlen, too_large ? "too large to read" : "this is not Windows-1252 text");
        return too_large ? OS_ERR_TOO_LARGE : OS_ERR_INVALID;
    }
    if (utf8 || (len >= 2 && (!memcmp(data, "\xFF\xFE", 2) || !memcmp(data, "\xFE\xFF", 2))))
        return csv_read(a, data, len, max_rows, out, err, errlen);   /* UTF-16 is worded there */
    char *text = io_windows_1252_to_utf8(a, data, len, &n, &too_large);
    if (!text) {
        if (too_large) {
            snprintf(err, errlen, "too large to read");
            return OS_ERR_TOO_LARGE;
        }
        snprintf(err, errlen, "this is not a CSV file (text) nor an Excel file (.xlsx)");
        return OS_ERR_INVALID;
    }
    /* Read as Windows-1252, the rows it changes are those with a byte past ASCII: counted,
     * for the user to judge (a stray byte in one row is not the same as 16 accented names). */
    io_table t;
    char why[256];
    os_err e = csv_read(a, text, n, max_rows, &t, why, sizeof why);
    if (e) {
        snprintf(err, errlen, "not UTF-8, and not readable as Windows-1252 either (%s): save it as CSV UTF-8", why);
        return e;
    }
    int rows = 0;
    for (int r = 0; r < t.nrows; r++)
        for (int c = 0; c < t.ncells[r]; c++)
            if (has_high_byte(t.rows[r][c])) {
                rows++;
                break;
            }
    snprintf(err, errlen,
             "not UTF-8, looks like Windows-1252 (Excel's \"CSV\" on Windows): %d row%s affected; "
             "read it as Windows-1252, or save it as CSV UTF-8",
             rows, rows == 1 ? "" : "s");
    return OS_ERR_INVALID;
}
