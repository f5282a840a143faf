/* csv.h — reading CSV files into an io_table (libcsv underneath).
 *
 * Accepts what real spreadsheets write: UTF-8 with or without a BOM, ',' or ';' as the
 * separator (detected from the header line), quoted fields with separators, quotes
 * and line breaks, CRLF or LF. Spaces are kept as typed. Quoting is strict: a quote
 * inside an unquoted field, text after a closing quote, or a quote left open is an
 * error naming the row, rather than a guess that could shift cells into the wrong
 * columns. Bounds and row rules are io_table's (table.h); the row numbers count
 * records as a spreadsheet shows them (blank lines included, a line break inside a
 * quoted field not). Invalid UTF-8 and NUL bytes are reported with their row.
 */
#ifndef OPENSEAT_CSV_H
#define OPENSEAT_CSV_H
#include <stddef.h>
#include "core/arena.h"
#include "core/error.h"
#include "io/table.h"

/* On failure returns OS_ERR_INVALID, or OS_ERR_TOO_LARGE for more than max_rows rows or
 * an exhausted arena, with a short English reason in err (naming the row when there is
 * one). */
os_err csv_read(arena *a, const char *data, size_t len, int max_rows, io_table *out, char *err, size_t errlen);

#endif
