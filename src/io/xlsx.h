/* xlsx.h — reading the first worksheet of an Excel workbook (.xlsx) into an io_table.
 *
 * The workbook is held in memory (an upload); libzip opens it, expat streams each XML
 * part as it is inflated, so no part is ever held whole. The first worksheet is found
 * as Excel orders the tabs: the first <sheet> of xl/workbook.xml that is a worksheet,
 * through xl/_rels/workbook.xml.rels (only a package without xl/workbook.xml falls back
 * to xl/worksheets/sheet1.xml). Other sheets are never read.
 *
 * Cells become text as the user sees it typed: strings (shared, inline, rich text runs
 * joined, phonetic runs left out, Excel's _xHHHH_ escapes decoded), numbers as written
 * except that an integer written as "42.0" or "4.2E1" becomes "42", booleans TRUE and
 * FALSE, formula results, error values such as #N/A. Date cells are numbers (their
 * serial day) as in the file. Row numbers are the sheet's own; the shape rules and the
 * cell bounds are io_table's (table.h).
 *
 * Untrusted input, so everything is bounded before it costs memory or time: the sizes
 * below (declared and counted while inflating), the shared-string count, the rows
 * (max_rows, header included), 64 columns, 4096 bytes a cell; XML with a DTD is refused
 * outright (entity expansion is the classic way to turn a small part into gigabytes).
 * Heap memory of libzip and expat is released before returning; results and the shared
 * strings live in the arena, whose exhaustion is reported, not fatal.
 */
#ifndef OPENSEAT_XLSX_H
#define OPENSEAT_XLSX_H
#include <stddef.h>
#include "core/arena.h"
#include "core/error.h"
#include "io/table.h"

#define XLSX_MAX_PART_BYTES     (64u * 1024 * 1024)   /* one zip entry, uncompressed */
#define XLSX_MAX_TOTAL_BYTES    (128u * 1024 * 1024)  /* all entries, uncompressed */
#define XLSX_MAX_RATIO          100                   /* uncompressed:compressed ... */
#define XLSX_RATIO_FROM_BYTES   (1024u * 1024)        /* ... for entries larger than this */
#define XLSX_MAX_SHARED_STRINGS 1000000

/* Reads the first worksheet of the .xlsx in data[0..len). On failure returns
 * OS_ERR_INVALID (not a workbook, damaged, a row over the bounds) or OS_ERR_TOO_LARGE
 * (too large once unpacked, too many rows or shared strings, arena exhausted), with a
 * short English reason in err, e.g. "not an Excel file (.xlsx)", "the file is damaged:
 * …", "row 12: too many columns (at most 64)". */
os_err xlsx_read(arena *a, const char *data, size_t len, int max_rows, io_table *out, char *err, size_t errlen);

#endif
