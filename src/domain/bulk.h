/* bulk.h — adding many subscribers from an uploaded table (CSV or Excel, read by src/io).
 *
 * Every row is checked with the rules of adding one (domain/subscribers.h) plus the file's
 * own: known columns (English or French headers, any case or accents, any order), no
 * address twice for one level in the file, enough seats in each pool. Every problem is
 * reported — row, column as the user headed it, value, code, English message — never just
 * the first. Then all or nothing: the rows are added in one transaction, committed only
 * when no row has a problem and the caller did not ask for a check only.
 *
 * Memory: everything in the op_ctx arena. The report lists at most BULK_ERRORS_MAX problems
 * (and says how many there were).
 */
#ifndef OPENSEAT_BULK_H
#define OPENSEAT_BULK_H
#include "core/json_write.h"
#include "domain/ctx.h"
#include "io/table.h"

#define BULK_ROWS_MAX 100000
#define BULK_ERRORS_MAX 1000

typedef struct bulk_error {
    int row;                /* as the user numbers it: the header is row 1 */
    const char *column;     /* the header as written in the file; NULL: the whole row or file */
    const char *value;      /* the cell (shortened); NULL when none */
    const char *code, *message;
    const char *params;     /* JSON object or NULL (see field_error) */
} bulk_error;

typedef struct bulk_level {
    const char *level;
    int rows;               /* rows of the file for this level */
    int64_t available;      /* seats free before the upload */
} bulk_level;

typedef struct bulk_report {
    bool applied;
    int rows, added, nerrors;   /* nerrors counts all problems, even past BULK_ERRORS_MAX */
    bulk_error *errors;
    int nshown;
    bulk_level *levels;
    int nlevels;
} bulk_report;

/* check_only: everything is checked (inside a transaction that is then rolled back) and
 * nothing kept. notify: queue the assignment e-mail for each new subscriber. */
os_err bulk_add(op_ctx *x, int64_t agreement_id, const io_table *t, bool check_only, bool notify, bulk_report *out);

/* {"applied", "rows", "added", "error_count", "errors": [{row, column, value, code,
 * message, params?}], "levels": [{level, rows, available}]} */
void bulk_write_report(jw *w, const bulk_report *r);

#endif
