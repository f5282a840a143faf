/* fuzz_table.h — the io_table contract (io/table.h), checked on whatever a reader returns:
 * a success is a well-formed table, a failure an empty table with a reason. */
#ifndef OPENSEAT_FUZZ_TABLE_H
#define OPENSEAT_FUZZ_TABLE_H
#include <string.h>

#include "core/json_write.h"
#include "io/table.h"

#include "fuzz_check.h"

static void check_table(os_err e, const io_table *t, int max_rows, const char *err) {
    if (e != OS_OK) {
        CHECK(t->nrows == 0 && t->rows == NULL);
        CHECK(err[0] != 0);
        return;
    }
    CHECK(t->nrows >= 1 && t->nrows <= max_rows);
    for (int r = 0; r < t->nrows; r++) {
        int n = t->ncells[r];
        CHECK(n >= 1 && n <= IO_MAX_COLS);
        CHECK(t->rownum[r] >= 1);
        if (r) CHECK(t->rownum[r] > t->rownum[r - 1]);
        CHECK(t->rows[r][n - 1][0] != 0);   /* trailing empty cells are dropped */
        for (int c = 0; c < n; c++) {
            const char *s = t->rows[r][c];
            CHECK(s != NULL);
            size_t len = strlen(s);
            CHECK(len <= IO_MAX_CELL);
            CHECK(utf8_valid_prefix(s, len) == len);
        }
    }
}

#endif
