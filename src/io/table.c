/* table.c — see table.h. */
#include "table.h"
#include "csv.h"
#include "xlsx.h"
#include <string.h>
#include <strings.h>

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
