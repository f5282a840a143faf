/* csv.h — reading CSV files into rows of fields (libcsv underneath).
 *
 * Accepts what real spreadsheets write: UTF-8 with or without a BOM, ',' or ';' as the
 * separator (detected from the header line), quoted fields with separators, quotes
 * and line breaks, CRLF or LF. Spaces are kept as typed. Bounded: at most max_rows
 * rows, CSV_MAX_FIELDS fields a row, CSV_MAX_CELL bytes a field. Everything is
 * arena-owned. Invalid UTF-8 is reported with its row.
 */
#ifndef OPENSEAT_CSV_H
#define OPENSEAT_CSV_H
#include <stddef.h>
#include "core/arena.h"
#include "core/error.h"

#define CSV_MAX_FIELDS 64
#define CSV_MAX_CELL 4096

typedef struct csv_table {
    char ***rows;        /* rows[r][f] */
    int *nfields;        /* fields in each row */
    int nrows;
    char sep;
} csv_table;

/* On failure returns OS_ERR_INVALID (or TOO_LARGE) with a reason naming the row. */
os_err csv_read(arena *a, const char *data, size_t len, int max_rows, csv_table *out, char *err, size_t errlen);

/* Index of the header (row 0) column whose name equals `name` ignoring case and
 * surrounding spaces, or -1. */
int csv_column(const csv_table *t, const char *name);

#endif
