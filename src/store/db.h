/* db.h — the database driver interface, private to the store layer.
 *
 * The typed store functions (store_*.c) are written once against this interface;
 * each backend (sqlite.c; a PostgreSQL driver beside it) implements it. SQL text uses
 * numbered placeholders ?1, ?2 … which SQLite understands natively and a PostgreSQL
 * driver rewrites to $1, $2 when it prepares the statement.
 *
 * A db_conn belongs to one thread. Row values passed to a db_row_fn are valid only
 * during that call: copy what you keep into an arena.
 */
#ifndef OPENSEAT_DB_H
#define OPENSEAT_DB_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/error.h"
#include "core/limits.h"

typedef struct db_conn db_conn;
typedef struct db_row db_row;
typedef struct db_driver db_driver;

typedef enum { DBV_NULL, DBV_INT, DBV_TEXT, DBV_BLOB } db_vtype;
typedef struct db_val {
    db_vtype t;
    int64_t i;              /* DBV_INT: the value; DBV_BLOB: its length */
    const char *s;
} db_val;

#define DV_INT(x)  ((db_val){.t = DBV_INT, .i = (int64_t)(x)})
#define DV_TEXT(x) ((db_val){.t = (x) ? DBV_TEXT : DBV_NULL, .s = (x)})
#define DV_NULL    ((db_val){.t = DBV_NULL})
#define DV_BLOB(p, n) ((db_val){.t = DBV_BLOB, .i = (int64_t)(n), .s = (p)})   /* bytes, NULs allowed */
#define DB_ARGS(...) (const db_val[]){__VA_ARGS__}, (int)(sizeof((const db_val[]){__VA_ARGS__}) / sizeof(db_val))
#define DB_NOARGS NULL, 0

typedef enum { DIALECT_SQLITE, DIALECT_PG } db_dialect;

/* One result row as a driver hands it to a db_row_fn: the driver's own handle and
 * position; read it only through db_int, db_text, db_is_null and db_blob. */
struct db_row {
    const db_driver *drv;
    void *h;                 /* sqlite3_stmt *, PGresult * */
    int n;                   /* row within h, where the driver needs it */
    void *tmp;               /* a decoded value the driver frees after the callback */
};

/* Return 0 to continue, non-zero to stop reading rows. */
typedef int (*db_row_fn)(void *ud, db_row *r);

/* One statement of a batch (db_batch): its text, parameters, and where its rows go. */
typedef struct db_stmt {
    const char *sql;
    const db_val *args;
    int nargs;
    db_row_fn fn;            /* may be NULL */
    void *ud;
} db_stmt;
#define DB_BATCH_MAX 8   /* statements in one batch at most */

int64_t     db_int(db_row *r, int col);
const char *db_text(db_row *r, int col);     /* NULL for SQL NULL */
bool        db_is_null(db_row *r, int col);
/* NULL (and *len 0) for SQL NULL. Valid until the callback returns or the next db_blob on
 * the same row. */
const void *db_blob(db_row *r, int col, size_t *len);

struct db_driver {
    db_dialect dialect;
    os_err (*exec)(db_conn *c, const char *sql, const db_val *args, int nargs, db_row_fn fn, void *ud,
                   int64_t *changes);
    os_err (*script)(db_conn *c, const char *sql);       /* several statements, no parameters */
    /* write: a write transaction. keys (write only): the agreements' lock keys, ascending
     * and distinct, that the transaction holds alone while sharing the store with other
     * scoped writers; none (nkeys 0): it holds the whole store alone. A driver whose
     * writers are serialized anyway (SQLite) ignores them. */
    os_err (*begin)(db_conn *c, bool write, const int32_t *keys, int nkeys);
    os_err (*commit)(db_conn *c);
    os_err (*rollback)(db_conn *c);
    /* The open write transaction will write many rows: keep its changes in memory until it
     * ends (NULL: nothing to do). */
    os_err (*bulk)(db_conn *c);
    /* Statements sent together and answered in order, each one's rows to its own fn: on
     * PostgreSQL one round trip (a pipeline) for all of them, where db_exec costs one each.
     * Meant for reads with bounded answers (a page, a count): the rows of each arrive whole.
     * The first failure is returned; the statements after it are not run (or their answers
     * dropped). NULL: the statements run one after another. */
    os_err (*batch)(db_conn *c, const db_stmt *stmts, int n);
    void (*close)(db_conn *c);
    /* Leaves the connection as if nothing were in progress, after the code using it was
     * abandoned part-way (a request that ran out of memory inside a row callback): any
     * statement still running is stopped and its rows dropped, an open transaction is rolled
     * back. Usable again afterwards; never fails (a connection it cannot save is closed
     * and made anew by the next statement). */
    void (*abandon)(db_conn *c);
    /* Row accessors behind db_int, db_text, db_is_null, db_blob. */
    int64_t (*col_int)(db_row *r, int col);
    const char *(*col_text)(db_row *r, int col);
    bool (*col_null)(db_row *r, int col);
    const void *(*col_blob)(db_row *r, int col, size_t *len);
};

struct db_conn {
    const db_driver *drv;
    int tx_depth;            /* nesting of store_tx_begin: only the outermost reaches the driver */
    bool tx_failed;          /* an inner failure dooms the outer transaction */
    /* The outermost write transaction's scope: the whole store (tx_nscope 0), or the
     * agreements named (tx_scope, ascending). A nested begin must fit inside it. */
    int tx_nscope;
    int64_t tx_scope[LIMIT_TX_AGREEMENTS];
    /* The search terms' counts the open transaction moved, written before it commits
     * (store_sub_rows.c); NULL when none were held yet. */
    struct term_counts *term_counts;
};

/* Convenience wrappers over c->drv. changes may be NULL. */
OS_MUST_USE os_err db_exec(db_conn *c, const char *sql, const db_val *args, int nargs, db_row_fn fn, void *ud);
OS_MUST_USE os_err db_exec_changes(db_conn *c, const char *sql, const db_val *args, int nargs, int64_t *changes);
/* n (1..DB_BATCH_MAX) statements in one exchange with the database (driver.batch above).
 * The fault injection of the test build counts the batch as one operation. */
OS_MUST_USE os_err db_batch(db_conn *c, const db_stmt *stmts, int n);
/* Single row, single integer column; OS_ERR_NOT_FOUND when there is no row. */
OS_MUST_USE os_err db_scalar_int(db_conn *c, const char *sql, const db_val *args, int nargs, int64_t *out);

/* The SQLite driver (sqlite.c). */
OS_MUST_USE os_err sqlite_conn_open(const char *path, db_conn **out, char *err, size_t errlen);
OS_MUST_USE os_err sqlite_backup(db_conn *c, const char *file, char *err, size_t errlen);

/* The PostgreSQL driver (pg.c). url: a libpq connection URI (postgres://…). */
OS_MUST_USE os_err pg_conn_open(const char *url, db_conn **out, char *err, size_t errlen);
/* A custom-format dump of the database at url into file, by pg_dump. */
OS_MUST_USE os_err pg_backup(const char *url, const char *file, char *err, size_t errlen);
/* Rows into table through COPY, on a connection doing nothing else meanwhile: begin
 * names the columns, each row gives ncols values in that order, end sends the rest and
 * reports the server's verdict (ok false: abandon the copy; nothing of it is kept). */
OS_MUST_USE os_err pg_copy_begin(db_conn *c, const char *table, const char *const *cols, int ncols);
OS_MUST_USE os_err pg_copy_row(db_conn *c, const db_val *vals);
OS_MUST_USE os_err pg_copy_end(db_conn *c, bool ok);

#endif
