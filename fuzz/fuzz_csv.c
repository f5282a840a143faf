/* fuzz_csv.c — arbitrary bytes through csv_read.
 *
 * Properties checked (abort() on violation, so libFuzzer records the input):
 *  - the io_table contract (fuzz_table.h): bounded, valid UTF-8 cells, no NUL cut short,
 *    increasing row numbers, or an empty table and a reason;
 *  - what was read, written back as CSV (every cell quoted, quotes doubled, CRLF), reads
 *    back as the same cells, numbered 1, 2, 3…: the reader and a plain writer agree on
 *    separators, quotes and line breaks inside cells;
 *  - the same bytes as an upload (io_table_read_upload), read as UTF-8 and as Windows-1252,
 *    said to be Excel or not: the same table contract, whatever the reason given.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/limits.h"
#include "io/csv.h"
#include "io/table.h"

#include "fuzz_table.h"

#define MAX_ROWS 50

static char *write_back(arena *a, const io_table *t, size_t *len) {
    size_t n = 0;
    for (int r = 0; r < t->nrows; r++)
        for (int c = 0; c < t->ncells[r]; c++) n += 2 * strlen(t->rows[r][c]) + 3;
    n += 2 * (size_t)t->nrows + 1;
    char *out = arena_alloc(a, n), *o = out;
    for (int r = 0; r < t->nrows; r++) {
        for (int c = 0; c < t->ncells[r]; c++) {
            if (c) *o++ = ',';
            *o++ = '"';
            for (const char *s = t->rows[r][c]; *s; s++) {
                if (*s == '"') *o++ = '"';
                *o++ = *s;
            }
            *o++ = '"';
        }
        *o++ = '\r';
        *o++ = '\n';
    }
    *len = (size_t)(o - out);
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    arena a;
    arena_init(&a, LIMIT_ARENA_BYTES);
    io_table t;
    char err[256] = "";
    os_err e = csv_read(&a, (const char *)data, size, MAX_ROWS, &t, err, sizeof err);
    check_table(e, &t, MAX_ROWS, err);
    if (e == OS_OK) {
        size_t n;
        char *csv = write_back(&a, &t, &n);
        io_table u;
        char err2[256] = "";
        os_err e2 = csv_read(&a, csv, n, MAX_ROWS, &u, err2, sizeof err2);
        if (e2) fprintf(stderr, "written back, refused: %s\n", err2);
        CHECK(e2 == OS_OK);
        check_table(e2, &u, MAX_ROWS, err2);
        CHECK(u.nrows == t.nrows);
        for (int r = 0; r < t.nrows; r++) {
            CHECK(u.rownum[r] == r + 1);
            CHECK(u.ncells[r] == t.ncells[r]);
            for (int c = 0; c < t.ncells[r]; c++) CHECK(strcmp(u.rows[r][c], t.rows[r][c]) == 0);
        }
    }
    for (int k = 0; k < 4; k++) {
        io_table v;
        char err3[256] = "";
        os_err e3 = io_table_read_upload(&a, (const char *)data, size, MAX_ROWS, k & 1 ? IO_WINDOWS_1252 : IO_UTF8,
                                         k & 2, &v, err3, sizeof err3);
        check_table(e3, &v, MAX_ROWS, err3);
    }
    arena_free(&a);
    return 0;
}
