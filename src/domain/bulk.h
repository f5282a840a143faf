/* bulk.h — adding many subscribers from an uploaded table (CSV or Excel, read by src/io).
 *
 * Every row is checked with the rules of adding one (domain/subscribers.h) plus the file's
 * own: known columns (English or French headers, any case or accents, any order), no
 * address twice for one level in the file, enough seats in each pool. Every problem is
 * reported — row, column as the user headed it, value, code, English message — never just
 * the first. Then all or nothing: the rows are added in one transaction, committed only
 * when no row has a problem and the caller did not ask for a check only.
 *
 * Columns the file has besides the template's are ignored, each with a warning
 * (`ignored_column`), unless the header is a near miss of a known one (io/columns.h
 * columns_suggest): that is an `unknown_column` problem naming the column meant. Header
 * problems do not stop the rows from being checked with the columns that were recognised,
 * so one upload shows both.
 *
 * Memory: everything in the op_ctx arena. The report lists at most BULK_ERRORS_MAX problems
 * (and says how many there were).
 */
#ifndef OPENSEAT_BULK_H
#define OPENSEAT_BULK_H
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
    bulk_error *warnings;   /* columns ignored (row 1, column, code, message); at most IO_MAX_COLS */
    int nwarnings;
} bulk_report;

/* What a caller running an upload in the background is told (all optional; NULL: none). */
typedef struct bulk_hooks {
    void *arg;
    /* Every few hundred rows: the file's data rows, how many were checked and written so far,
     * and the phase ("checking", then "writing" when the rows are written apart from their
     * checks). Monotonic. A checkpoint too: an error stops the run where it is, its
     * transaction rolled back (nothing applied), and is returned. */
    os_err (*progress)(void *arg, const char *phase, int rows, int checked, int written);
    /* Inside the transaction, the report complete and marked applied, just before the commit:
     * whatever it writes is kept with the change or not at all. An error rolls back both. */
    os_err (*before_commit)(void *arg, op_ctx *x);
    /* Inside the transaction, as rows are written: the subscriptions just added, changed or
     * removed, in order — their ids and, for an edit, what changed in each (a JSON object,
     * as subscription_changes writes it; NULL for adds and removals). Written with them or
     * not at all (a run not applied rolls both back); an error stops the run. */
    os_err (*changed)(void *arg, op_ctx *x, const char *const *ids, const char *const *changes, int n);
} bulk_hooks;

/* check_only: everything is checked (inside a transaction that is then rolled back) and
 * nothing kept. notify: queue the assignment e-mail for each new subscriber. */
os_err bulk_add(op_ctx *x, int64_t agreement_id, const io_table *t, bool check_only, bool notify,
                const bulk_hooks *h, bulk_report *out);


/* ---- changing and removing existing subscriptions from a file ----
 *
 * Both read the file the same way as an add (bounds, every problem by row and column) and
 * are all or nothing: every row is checked and applied in one transaction, committed only
 * when no row has a problem and the caller did not ask for a check only (the preview). The
 * subscriptions are read inside that transaction, so what is applied is compared with what
 * is stored then, whatever a preview showed earlier. */

#define BULK_LISTED_MAX 1000   /* changes or removals listed in a report (all are counted) */

typedef struct bulk_field_change {
    const char *field;          /* the API's name: "sign_in_email" */
    const char *from, *to;      /* NULL: none (a cleared notification e-mail) */
    bool boolean;               /* from and to are "true" / "false" (downloads) */
} bulk_field_change;

typedef struct bulk_change {
    int row;
    const char *id, *name;      /* the name as stored before the change */
    bulk_field_change *fields;
    int nfields;
} bulk_change;

typedef struct bulk_edit_report {
    bulk_report base;           /* applied, rows, errors (added and levels unused) */
    int changed, unchanged;     /* rows without a problem, with and without a change */
    bulk_change *changes;       /* the first BULK_LISTED_MAX changed rows */
    int nchanges;
} bulk_edit_report;

/* Bulk edit: rows matched by the Subscription Id column (required; a subscription of this
 * agreement, once per file). The cells of the columns the file has are compared with the
 * stored subscription, with the rules of the add's cells: name and sign-in e-mail required;
 * an empty notification e-mail or reference clears it; an empty Downloads, Country or
 * Language keeps the stored value; the level cannot change (remove and add instead);
 * Assigned and Expires are ignored. A changed sign-in e-mail must not already hold that
 * level on the agreement, nor be another row's new address for that level. Each change is
 * written like a single edit (subscribers_update_in_tx: version bumped, audited, a changed
 * sign-in address told to both addresses). */
os_err bulk_edit(op_ctx *x, int64_t agreement_id, const io_table *t, bool check_only, const bulk_hooks *h,
                 bulk_edit_report *out);

typedef struct bulk_removal {
    int row;
    const char *id, *name, *sign_in_email, *level;
} bulk_removal;

typedef struct bulk_remove_report {
    bulk_report base;           /* applied, rows, errors (added and levels unused) */
    int count;                  /* subscriptions removed (or to remove) */
    bulk_removal *subs;         /* the first BULK_LISTED_MAX of them */
    int nsubs;
} bulk_remove_report;

/* Bulk removal: one value a row, a sign-in e-mail (every subscription of that address on the
 * agreement, all levels) or a subscription id. Row 1 may name the columns (English or French
 * headers, as in an export): the values are then read from its Subscription Id column, else
 * its Sign-in Email column; without such a header, from the first column. Each subscription
 * is removed like a single removal (subscribers_remove_in_tx). */
os_err bulk_remove(op_ctx *x, int64_t agreement_id, const io_table *t, bool check_only, const bulk_hooks *h,
                   bulk_remove_report *out);

/* The one bulk.applied event (domain/events.h) of an upload that applied its change, inside
 * its transaction: {agreement, job: {id, kind ("add", "edit", "remove"), added, updated,
 * removed, changes}}. job_id NULL: an upload answered within its request, which has neither
 * id nor list of changes (both null); else `changes` is the path that pages through them. */
os_err bulk_emit_applied(op_ctx *x, int64_t agreement_id, const char *license, const char *job_id, const char *kind,
                         int64_t added, int64_t updated, int64_t removed);

#endif
