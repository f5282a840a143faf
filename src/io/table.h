/* table.h — the rows of an uploaded spreadsheet, whatever its format.
 *
 * csv_read (csv.h) and xlsx_read (xlsx.h) both produce an io_table, so the code that
 * turns rows into records (header matching, validation) is written once. Both readers
 * apply the same bounds and the same shape rules:
 *
 *  - every cell is NUL-terminated, valid UTF-8 of at most IO_MAX_CELL bytes, kept as
 *    typed (no trimming); a missing cell in the middle of a row is "";
 *  - a row has 1..IO_MAX_COLS cells and its last cell is not empty: trailing empty cells
 *    are dropped, so only a non-empty cell past column IO_MAX_COLS (past BL) is an error;
 *  - rows whose cells are all empty are skipped, like blank lines;
 *  - rownum[r] is the number the user sees for that row in a spreadsheet (1-based,
 *    header included, skipped rows still counted), for error messages;
 *  - at most the caller's max_rows rows, header included; a successful read has at
 *    least one row (rows[0] is the header when the caller expects one).
 *
 * Everything is owned by the arena given to the reader. Cells are read-only: one string
 * may back several cells (an Excel shared string, the empty cell). A reader that fails
 * leaves the table empty (nrows 0).
 */
#ifndef OPENSEAT_IO_TABLE_H
#define OPENSEAT_IO_TABLE_H
#include <stdbool.h>
#include <stddef.h>
#include "core/arena.h"
#include "core/error.h"

#define IO_MAX_COLS 64      /* columns A..BL */
#define IO_MAX_CELL 4096    /* bytes of UTF-8 in one cell */

typedef struct io_table {
    char ***rows;        /* rows[r][c] */
    int *ncells;         /* cells in each row (1..IO_MAX_COLS) */
    int *rownum;         /* spreadsheet row number of each row, increasing */
    int nrows;
} io_table;

/* Index of the header (row 0) column whose name equals `name` ignoring ASCII case and
 * surrounding spaces, or -1. */
int io_column(const io_table *t, const char *name);

/* For the readers: appends a row of n cells (NULL for a gap, read as ""), after dropping
 * trailing empty cells; a row with no non-empty cell is skipped. `cells` is copied (not
 * the strings); *cap is the reader's capacity counter, 0 at the start. Returns
 * OS_ERR_TOO_LARGE when the table already has max_rows rows, OS_ERR_NOMEM when the arena
 * is exhausted. */
os_err io_table_add(arena *a, io_table *t, int *cap, int max_rows, char *const *cells, int n, int rownum);

/* An uploaded file of either kind: Excel when it starts with a zip signature (xlsx_read),
 * else CSV (csv_read). Same contract as those readers. */
os_err io_table_read(arena *a, const char *data, size_t len, int max_rows, io_table *out, char *err, size_t errlen);
bool io_is_xlsx(const char *data, size_t len);

/* The text encodings an uploaded CSV may be read in. */
typedef enum io_encoding { IO_UTF8, IO_WINDOWS_1252 } io_encoding;

/* The encoding a query parameter names ("utf-8" or "windows-1252", any case; "utf8",
 * "cp1252" too), or -1. */
int io_encoding_parse(const char *s);

/* data (Windows-1252) as UTF-8 text in the arena, NUL-terminated, its length in *outlen;
 * NULL when a byte is not Windows-1252 (or NUL), or *too_large when the arena cannot hold
 * it (3 bytes a character at most). A UTF-8 BOM is left as it is (0xEF 0xBB 0xBF are
 * Windows-1252 characters too: callers check for it first). */
char *io_windows_1252_to_utf8(arena *a, const char *data, size_t len, size_t *outlen, bool *too_large);

/* An uploaded file, as io_table_read, with what the client said about it and clearer words
 * for the files people send by mistake:
 *  - enc IO_WINDOWS_1252: a CSV is converted to UTF-8 first (iconv; bounded by the arena);
 *  - excel (the client named it .xlsx or sent it as one) and not a zip: "not an Excel file";
 *  - neither UTF-8 text nor a zip (NUL or undecodable bytes): "not a CSV or Excel file";
 *  - not UTF-8 but readable as Windows-1252 (Excel's "CSV" on Windows): says so, and how many
 *    rows have characters outside ASCII (those the encoding changes).
 * err is the reason in English, as for io_table_read. */
os_err io_table_read_upload(arena *a, const char *data, size_t len, int max_rows, io_encoding enc, bool excel,
                            io_table *out, char *err, size_t errlen);

#endif
