/* export.h — tables written to files a spreadsheet opens, CSV or XLSX, a row at a time.
 *
 * A file is built in the system's temporary directory ($TMPDIR, else /tmp) and unlinked,
 * so nothing is left behind whatever happens to the process; export_end hands back an open
 * descriptor of it for reply_file. Memory stays that of one row whatever the row count:
 * CSV is written through a stdio buffer, XLSX by libxlsxwriter in constant-memory mode
 * (rows streamed to its own temporary files, strings stored inline).
 *
 * CSV: UTF-8 with a byte-order mark (so spreadsheets do not guess a legacy code page),
 * ';' between fields for French users (their spreadsheets read ',' as the decimal comma)
 * and ',' otherwise, CRLF line ends, RFC 4180 quoting, formula-like cells defused (see
 * export.c). XLSX: every cell a string (a reference "00123" stays as typed, "=1+1" is
 * never a formula), header row bold and frozen, each column its given width. A sheet holds
 * at most 1,048,576 rows; past that the rows continue on "<sheet> 2", "<sheet> 3", each
 * with the header row.
 *
 * Ownership: an export_file lives in the caller's arena; between export_begin and
 * export_end (or export_discard) it also holds a descriptor and, for XLSX, a workbook,
 * which the arena's cleanup (arena_defer) releases if neither is reached — a request
 * that ran out of memory mid-file leaves nothing open.
 * Not thread-safe: one file belongs to one request.
 */
#ifndef OPENSEAT_EXPORT_H
#define OPENSEAT_EXPORT_H
#include <stdbool.h>
#include <stdint.h>
#include "core/arena.h"
#include "core/buf.h"
#include "core/error.h"

typedef enum export_format { EXPORT_CSV, EXPORT_XLSX } export_format;

/* "csv" or "xlsx"; false for anything else. */
bool export_format_parse(const char *s, export_format *out);
const char *export_format_name(export_format f);      /* "csv" | "xlsx": also the file extension */
const char *export_content_type(export_format f);

typedef struct export_column {
    const char *header;
    double width;          /* XLSX column width in characters; CSV has none */
} export_column;

typedef struct export_file export_file;

/* Starts a file with its header row. lang decides the CSV separator ("fr": ';'); sheet
 * names the XLSX worksheet (at most 28 characters, leaving room for a continuation's
 * number). cols must stay valid until export_end. OS_ERR_IO when the temporary file
 * cannot be made. */
os_err export_begin(arena *a, export_format f, const char *lang, const char *sheet, const export_column *cols,
                    int ncols, export_file **out);
/* One row of ncols cells (NULL: empty). OS_ERR_IO on a write failure (disk full). */
os_err export_row(export_file *x, const char *const *cells);
/* Finishes the file. On success *fd is open on it at offset 0 (the caller owns it) and
 * *size is its length; on failure everything is released. Either way x is done. */
os_err export_end(export_file *x, int *fd, uint64_t *size);
/* Abandons a file that will not be finished (after a failed row or a failed walk). Does
 * nothing to a file that export_end already closed. */
void export_discard(export_file *x);

/* Text of the caller's making (a JSON answer, a fixed-column CSV) larger than memory
 * should hold: *text is a buf (core/buf.h, a sink buffer) whose content goes to the same
 * kind of unlinked temporary file 64 KiB at a time; one append is at most 1 MiB. Finish
 * with export_end (OS_ERR_IO when the text overflowed or a write failed), or
 * export_discard. export_row is not for such a file. */
os_err export_text_begin(arena *a, export_file **out, buf **text);

/* The bulk-add template in lang: the header row of the subscriber columns (io/columns.h,
 * without the export-only ones). XLSX adds drop-downs under Subscription Level (levels,
 * the agreement's), Downloads (Yes/No), Country (ISO 3166-1 codes, core/countries.h) and
 * Language (languages), each pointing at a column of a second sheet listing the values.
 * Same ownership of *fd as export_end. */
os_err export_template(arena *a, export_format f, const char *lang, const char *const *levels, int nlevels,
                       const char *const *languages, int nlanguages, int *fd, uint64_t *size);

#endif
