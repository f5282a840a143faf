/* pg.c — the PostgreSQL driver behind db.h (libpq).
 *
 * One connection per thread, like SQLite's driver. Statements are prepared once per
 * connection (server-side, named) and cached by SQL text and parameter types; the
 * shared SQL's ?N placeholders become $N. Integers are sent as int8, bytes as bytea in
 * binary, text with its type left for the server to infer from where it is used (a text
 * value may stand for a number in a key comparison). Results arrive row by row (single-row
 * mode), so a long export never holds its whole result in memory.
 *
 * Write transactions are serialized by transaction-level advisory locks, taken by the
 * transaction's first statements — the guarantee SQLite's BEGIN IMMEDIATE gives the shared
 * store code, which checks and then writes (seats left, the last super admin, a throttle's
 * count, a hand-off nonce) in one transaction — but only as widely as a transaction's
 * scope needs, so that customers' writes do not wait for one another:
 *   - a write scoped to agreements (store_tx_begin_agreements) holds the store key SHARED
 *     and one key per agreement EXCLUSIVE ((namespace, id) two-int keys, ascending): two
 *     of them on different agreements run together, two on one agreement one after the
 *     other;
 *   - any other write (store_tx_begin) holds the store key EXCLUSIVE: it runs alone, as
 *     every write did before scopes existed.
 * Every lock is taken before the transaction's first read or write and in one order
 * (store key, then agreements ascending), so waits for them never form a cycle. Reads
 * never take them.
 *
 * A dropped connection is re-established on the next statement outside a transaction
 * (and that statement retried once); inside one the transaction fails and the next
 * begins on a fresh connection.
 *
 * A batch (db_driver.batch: a page's rows and its total) is sent in pipeline mode too: every
 * statement, then one sync, and the answers read in order — one round trip for all.
 *
 * A bulk transaction (db_driver.bulk) runs in pipeline mode: a statement whose caller
 * wants no rows and no count is sent without waiting for its answer, which is read with
 * the next statement that wants one, or at commit. Rows from another database arrive by
 * COPY (pg_copy_begin/row/end), and backups are pg_dump's.
 */
#include <errno.h>
#include <libpq-fe.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include "core/limits.h"
#include "core/log.h"
#include "db.h"

#define STMT_CACHE 256
#define MAX_PARAMS 1024            /* the bulk paths bind up to 64 rows × 14 columns */
#define OID_INT8 20
#define OID_BYTEA 17
#define OID_TEXT 25

/* The store's advisory lock key, which every write transaction holds (shared or not):
 * "openseat" in ASCII. */
#define WRITE_LOCK_KEY "7958810066034483572"
/* The first half of an agreement's two-int key ("oswa"): the one-bigint key above and the
 * two-int keys are separate spaces in PostgreSQL, and this one leaves room for others. */
#define AGREEMENT_LOCK_NS "1869837153"

typedef struct cached {
    char *key;                 /* SQL text + '\0' + type signature, owned */
    size_t keylen;
    uint64_t hash;
    char name[16];
    unsigned batch;            /* the last batch (pg_conn.batches) that used it */
} cached;

typedef struct pg_conn {
    db_conn base;
    PGconn *pg;
    char *url;
    cached cache[STMT_CACHE];
    unsigned next_id;
    unsigned batches;           /* batches sent on this connection, for cached.batch */
    bool in_tx;                 /* BEGIN sent, COMMIT/ROLLBACK not yet */
    /* Pipeline mode, during a bulk transaction: statements sent whose answers are not read
     * yet, and whether one of them failed (then the statements cache is not to be trusted:
     * a prepare among them may have failed). */
    bool pipeline;
    int pending;
    bool pipeline_failed;
    /* A batch (pg_batch) is being answered: pipeline mode until its sync point is read. */
    bool batch;
    /* A COPY in progress (pg_copy_begin … pg_copy_end): rows not yet sent. */
    struct copy_buf {
        char *p;
        size_t n, cap;
        bool oom;
    } copy;
    int copy_cols;
    bool copy_failed;
    /* The result whose rows a callback is reading, and the row it was handed (deliver). */
    PGresult *delivering;
    db_row row;
} pg_conn;

/* ---- rows ------------------------------------------------------------------------------ */

static int64_t pg_int(db_row *r, int col) {
    if (PQgetisnull(r->h, r->n, col)) return 0;
    const char *v = PQgetvalue(r->h, r->n, col);
    if (v[0] == 't' && !v[1]) return 1;          /* a boolean expression's value */
    if (v[0] == 'f' && !v[1]) return 0;
    return strtoll(v, NULL, 10);                 /* numeric (SUM) keeps its integer part */
}
static const char *pg_text(db_row *r, int col) {
    return PQgetisnull(r->h, r->n, col) ? NULL : PQgetvalue(r->h, r->n, col);
}
static bool pg_null(db_row *r, int col) { return PQgetisnull(r->h, r->n, col); }

/* bytea arrives in text form (\x + hex); decoded into memory the row owns until its
 * callback returns. */
static const void *pg_blob(db_row *r, int col, size_t *len) {
    *len = 0;
    if (PQgetisnull(r->h, r->n, col)) return NULL;
    if (r->tmp) PQfreemem(r->tmp);
    r->tmp = PQunescapeBytea((const unsigned char *)PQgetvalue(r->h, r->n, col), len);
    if (!r->tmp) *len = 0;
    return r->tmp ? r->tmp : (const void *)"";
}

/* ---- errors and the connection --------------------------------------------------------- */

static os_err map_result(pg_conn *c, PGresult *res, const char *sql) {
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_SINGLE_TUPLE || st == PGRES_COPY_IN)
        return OS_OK;
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    if (state && !strncmp(state, "23", 2)) return OS_ERR_CONFLICT;              /* integrity */
    if (state && (!strcmp(state, "40001") || !strcmp(state, "40P01") || !strcmp(state, "55P03") ||
                  !strcmp(state, "57014")))
        return OS_ERR_BUSY;                                                       /* waits, deadlocks */
    const char *msg = res ? PQresultErrorMessage(res) : "";
    if (!msg || !*msg) msg = PQerrorMessage(c->pg);
    log_event(LOG_ERROR, "postgresql error", "error", msg, "sqlstate", state ? state : "?", "sql", sql, NULL);
    return OS_ERR_STORE;
}

static void forget_statements(pg_conn *c) {
    for (int i = 0; i < STMT_CACHE; i++) {
        free(c->cache[i].key);
        c->cache[i].key = NULL;
    }
}

static bool connection_lost(pg_conn *c) { return PQstatus(c->pg) != CONNECTION_OK; }

/* Outside a transaction, a broken connection is made anew; true when usable. */
static bool ensure_connected(pg_conn *c) {
    if (PQstatus(c->pg) == CONNECTION_OK) return true;
    if (c->in_tx) return false;          /* the transaction is lost with it */
    forget_statements(c);
    c->in_tx = false;
    PQreset(c->pg);
    if (PQstatus(c->pg) != CONNECTION_OK) {
        log_event(LOG_ERROR, "postgresql reconnect failed", "error", PQerrorMessage(c->pg), NULL);
        return false;
    }
    log_event(LOG_WARN, "postgresql connection re-established", NULL);
    return true;
}

static os_err pipeline_end(pg_conn *c);

/* A statement without parameters, several allowed (not in pipeline mode: it is left). */
static os_err simple(pg_conn *c, const char *sql) {
    if (c->pipeline) {
        os_err e = pipeline_end(c);
        if (e) return e;
    }
    if (!ensure_connected(c)) return OS_ERR_STORE;
    PGresult *res = PQexec(c->pg, sql);
    os_err e = map_result(c, res, sql);
    PQclear(res);
    return e;
}

/* ---- statements ------------------------------------------------------------------------ */

static uint64_t fnv(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h;
}

/* ?N → $N outside quoted text and identifiers; used[N-1] tells which appear. */
static char *dollar_params(const char *sql, bool *used, int nargs) {
    size_t n = strlen(sql);
    char *out = malloc(n + 1);
    if (!out) return NULL;
    char quote = 0;
    for (size_t i = 0; i <= n; i++) {
        char ch = sql[i];
        if (quote) {
            if (ch == quote) quote = 0;
        } else if (ch == '\'' || ch == '"') {
            quote = ch;
        } else if (ch == '?' && sql[i + 1] >= '0' && sql[i + 1] <= '9') {
            ch = '$';
            long k = strtol(sql + i + 1, NULL, 10);
            if (k >= 1 && k <= nargs) used[k - 1] = true;
        }
        out[i] = ch;
    }
    return out;
}

static char type_code(const db_val *v) {
    return v->t == DBV_INT ? 'i' : v->t == DBV_BLOB ? 'b' : v->t == DBV_TEXT ? 't' : 'n';
}

/* The types a statement's parameters are declared with. Text is left for the server to type
 * from where it is used; a parameter the statement does not use (a shared argument list) has
 * no such place, and is declared text. */
static void param_types(const db_val *args, int nargs, const bool *used, Oid *types) {
    for (int i = 0; i < nargs; i++) {
        char t = type_code(&args[i]);
        types[i] = t == 'i' ? OID_INT8 : t == 'b' ? OID_BYTEA : used[i] ? 0 : OID_TEXT;
    }
}

/* The name of the prepared statement for sql with these argument types, preparing it on
 * first use. NULL on error (*e set). batch: the batch it is for (0: none). A statement of a
 * batch whose slot holds another statement of that same batch must not evict it (that one's
 * name is already taken to run it): NULL with *e OS_OK, and the caller sends it unprepared. */
static const char *prepare(pg_conn *c, const char *sql, const db_val *args, int nargs, unsigned batch,
                           os_err *e) {
    size_t sl = strlen(sql);
    char sig[MAX_PARAMS + 1];
    for (int i = 0; i < nargs; i++) sig[i] = type_code(&args[i]);
    sig[nargs] = 0;
    size_t keylen = sl + 1 + (size_t)nargs;
    uint64_t h = fnv(sql, sl) ^ (fnv(sig, (size_t)nargs) * 31);
    cached *ce = &c->cache[h % STMT_CACHE];
    if (ce->key && ce->hash == h && ce->keylen == keylen && !memcmp(ce->key, sql, sl + 1) &&
        !memcmp(ce->key + sl + 1, sig, (size_t)nargs)) {
        ce->batch = batch;
        return ce->name;
    }
    *e = OS_OK;
    if (ce->key && batch && ce->batch == batch) return NULL;

    char *key = malloc(keylen);
    bool used[MAX_PARAMS] = {0};
    char *text = dollar_params(sql, used, nargs);
    if (!key || !text) {
        free(key);
        free(text);
        *e = OS_ERR_NOMEM;
        return NULL;
    }
    memcpy(key, sql, sl + 1);
    memcpy(key + sl + 1, sig, (size_t)nargs);
    Oid types[MAX_PARAMS];
    param_types(args, nargs, used, types);

    if (ce->key) {                       /* collision: evict */
        char dealloc[48];
        snprintf(dealloc, sizeof dealloc, "DEALLOCATE %s", ce->name);
        if (!c->pipeline) PQclear(PQexec(c->pg, dealloc));
        else if (PQsendQueryParams(c->pg, dealloc, 0, NULL, NULL, NULL, NULL, 0)) c->pending++;
        free(ce->key);
        ce->key = NULL;
    }
    char name[16];
    snprintf(name, sizeof name, "s%u", c->next_id++);
    if (c->pipeline) {
        /* Its answer is read with the statements after it, which fail with it. */
        *e = OS_OK;
        if (PQsendPrepare(c->pg, name, text, nargs, types)) c->pending++;
        else *e = map_result(c, NULL, sql);
    } else {
        PGresult *res = PQprepare(c->pg, name, text, nargs, types);
        *e = map_result(c, res, sql);
        PQclear(res);
    }
    free(text);
    if (*e) {
        free(key);
        return NULL;
    }
    ce->key = key;
    ce->keylen = keylen;
    ce->hash = h;
    ce->batch = batch;
    memcpy(ce->name, name, sizeof name);
    return ce->name;
}

/* Hands each row of res to fn until it asks to stop; false once it has. The result and
 * the row are the connection's while fn runs, so pg_abandon can free them if fn never
 * returns (core/arena.h). Row callbacks never run a statement themselves: in single-row
 * mode the connection is busy until the result is read. */
static bool deliver(pg_conn *c, PGresult *res, db_row_fn fn, void *ud) {
    int rows = PQntuples(res);
    c->delivering = res;
    for (int n = 0; n < rows; n++) {
        c->row = (db_row){c->base.drv, res, n, NULL};
        int stop = fn(ud, &c->row);
        if (c->row.tmp) PQfreemem(c->row.tmp);
        c->row.tmp = NULL;
        if (stop) { c->delivering = NULL; return false; }
    }
    c->delivering = NULL;
    return true;
}

/* The rows a statement inserted, updated or deleted (0 for others). */
static int64_t rows_affected(PGresult *res) {
    const char *t = PQcmdTuples(res);
    return t && *t ? strtoll(t, NULL, 10) : 0;
}

/* Statements a pipeline may hold unanswered before they are read: bounded, so neither
 * side's socket buffer can fill while the other waits. */
#define PIPELINE_DEPTH 64

/* Pipeline mode: reads every answer up to a sync point. The last statement sent is the
 * caller's (rows to fn, count to changes) when want is true. The first failure is
 * returned; the statements after it were skipped by the server. */
static os_err drain(pg_conn *c, bool want, const char *sql, db_row_fn fn, void *ud, int64_t *changes) {
    if (!c->pending) return OS_OK;
    os_err e = OS_OK;
    if (!PQpipelineSync(c->pg)) {
        c->pending = 0;
        c->pipeline_failed = true;
        return map_result(c, NULL, sql);
    }
    int done = 0;                     /* statements whose answers were read in full */
    bool more = true;
    for (;;) {
        PGresult *res = PQgetResult(c->pg);
        if (!res) {                   /* the end of one statement's answers */
            done++;
            if (connection_lost(c)) { if (!e) e = OS_ERR_STORE; break; }
            continue;
        }
        ExecStatusType st = PQresultStatus(res);
        if (st == PGRES_PIPELINE_SYNC) { PQclear(res); break; }
        bool mine = want && done == c->pending - 1;
        if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK || st == PGRES_SINGLE_TUPLE) {
            /* Rows one by one too, should the single-row mode of a statement before the
             * pipeline have carried over to its first (see run()). */
            if (mine && !e) {
                if (fn && more) more = deliver(c, res, fn, ud);
                if (changes && st != PGRES_SINGLE_TUPLE) *changes = rows_affected(res);
            }
        } else if (!e) {
            e = st == PGRES_PIPELINE_ABORTED ? OS_ERR_STORE : map_result(c, res, mine ? sql : "(pipelined statement)");
        }
        PQclear(res);
    }
    c->pending = 0;
    if (e) c->pipeline_failed = true;
    return e;
}

static os_err run(pg_conn *c, const char *sql, const db_val *args, int nargs, db_row_fn fn, void *ud,
                  int64_t *changes) {
    if (nargs > MAX_PARAMS) return OS_ERR_INTERNAL;
    os_err e = OS_OK;
    const char *name = prepare(c, sql, args, nargs, 0, &e);
    if (!name) return e;

    const char *values[MAX_PARAMS];
    int lengths[MAX_PARAMS], formats[MAX_PARAMS];
    char ints[MAX_PARAMS][24];
    for (int i = 0; i < nargs; i++) {
        lengths[i] = 0;
        formats[i] = 0;
        switch (args[i].t) {
        case DBV_INT:
            snprintf(ints[i], sizeof ints[i], "%lld", (long long)args[i].i);
            values[i] = ints[i];
            break;
        case DBV_TEXT: values[i] = args[i].s; break;
        case DBV_BLOB:
            values[i] = args[i].s ? args[i].s : "";
            lengths[i] = (int)args[i].i;
            formats[i] = 1;
            break;
        default: values[i] = NULL; break;
        }
    }
    if (!PQsendQueryPrepared(c->pg, name, nargs, values, lengths, formats, 0))
        return map_result(c, NULL, sql);
    if (c->pipeline) {
        /* A statement whose caller wants no answer waits for the next one that does. */
        c->pending++;
        bool want = fn || changes;
        if (!want && c->pending < PIPELINE_DEPTH) return OS_OK;
        return drain(c, want, sql, fn, ud, changes);
    }
    /* Only for rows wanted: libpq keeps the mode set when the statement returns none (an
     * UPDATE), and it would then apply to the first statement of a pipeline that follows
     * (a bulk transaction begun by an UPDATE), whose rows drain() reads whole. */
    if (fn) PQsetSingleRowMode(c->pg);

    bool more = true;
    PGresult *res;
    while ((res = PQgetResult(c->pg))) {
        ExecStatusType st = PQresultStatus(res);
        if (st == PGRES_SINGLE_TUPLE || st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
            /* After a stop the rest is read and dropped. */
            if (fn && more && !e) more = deliver(c, res, fn, ud);
            if (changes && !e && st != PGRES_SINGLE_TUPLE) *changes = rows_affected(res);
        } else if (!e) {
            e = map_result(c, res, sql);
        }
        PQclear(res);
    }
    return e;
}

static os_err pg_exec(db_conn *base, const char *sql, const db_val *args, int nargs, db_row_fn fn, void *ud,
                      int64_t *changes) {
    pg_conn *c = (pg_conn *)base;
    if (!ensure_connected(c)) return OS_ERR_STORE;
    os_err e = run(c, sql, args, nargs, fn, ud, changes);
    /* Outside a transaction a statement that met a dropped connection is sent again on a
     * new one — unless it had already delivered rows (then the caller has seen part). */
    if (e && connection_lost(c) && !c->in_tx && ensure_connected(c)) e = run(c, sql, args, nargs, fn, ud, changes);
    return e;
}

static os_err pg_script(db_conn *base, const char *sql) { return simple((pg_conn *)base, sql); }

/* Reads a batch's answers up to its sync point, each statement's rows to its own callback
 * (none after a failure), and leaves pipeline mode. */
static os_err batch_read(pg_conn *c, const db_stmt *st, int n) {
    os_err e = OS_OK;
    int i = 0;                         /* the statement whose answer is being read */
    bool more = true;
    for (;;) {
        PGresult *res = PQgetResult(c->pg);
        if (!res) {                    /* the end of one statement's answer */
            i++;
            more = true;
            if (connection_lost(c)) { if (!e) e = OS_ERR_STORE; break; }
            continue;
        }
        ExecStatusType s = PQresultStatus(res);
        if (s == PGRES_PIPELINE_SYNC) { PQclear(res); break; }
        /* Rows may come one result each: libpq keeps the single-row mode of the last
         * statement run outside a pipeline for the first one in it. */
        if (s == PGRES_TUPLES_OK || s == PGRES_SINGLE_TUPLE || s == PGRES_COMMAND_OK) {
            if (!e && i < n && st[i].fn && more) more = deliver(c, res, st[i].fn, st[i].ud);
        } else if (!e) {
            e = s == PGRES_PIPELINE_ABORTED ? OS_ERR_STORE : map_result(c, res, i < n ? st[i].sql : "(batch)");
        }
        PQclear(res);
    }
    c->batch = false;
    if (!connection_lost(c) && !PQexitPipelineMode(c->pg) && !e) e = map_result(c, NULL, "(batch end)");
    return e;
}

/* Every statement sent, then one sync: the server answers them all in one round trip. A
 * statement prepared for the first time on this connection costs one more, once. */
static os_err batch_run(pg_conn *c, const db_stmt *st, int n) {
    const char *names[DB_BATCH_MAX];
    os_err e = OS_OK;
    if (!++c->batches) c->batches = 1;   /* 0 means no batch */
    for (int i = 0; i < n; i++) {
        if (st[i].nargs > MAX_PARAMS) return OS_ERR_INTERNAL;
        names[i] = prepare(c, st[i].sql, st[i].args, st[i].nargs, c->batches, &e);
        if (e) return e;
    }
    if (!PQenterPipelineMode(c->pg)) return map_result(c, NULL, "(batch start)");
    c->batch = true;
    for (int i = 0; i < n && !e; i++) {
        const char *values[MAX_PARAMS];
        int lengths[MAX_PARAMS], formats[MAX_PARAMS];
        char ints[MAX_PARAMS][24];
        for (int k = 0; k < st[i].nargs; k++) {
            const db_val *v = &st[i].args[k];
            lengths[k] = 0;
            formats[k] = 0;
            values[k] = NULL;
            if (v->t == DBV_INT) {
                snprintf(ints[k], sizeof ints[k], "%lld", (long long)v->i);
                values[k] = ints[k];
            } else if (v->t == DBV_TEXT) {
                values[k] = v->s;
            } else if (v->t == DBV_BLOB) {
                values[k] = v->s ? v->s : "";
                lengths[k] = (int)v->i;
                formats[k] = 1;
            }
        }
        int sent;
        if (names[i]) {
            sent = PQsendQueryPrepared(c->pg, names[i], st[i].nargs, values, lengths, formats, 0);
        } else {
            /* Its slot is another statement's of this batch: parsed for this run only. */
            bool used[MAX_PARAMS] = {0};
            char *text = dollar_params(st[i].sql, used, st[i].nargs);
            Oid types[MAX_PARAMS];
            param_types(st[i].args, st[i].nargs, used, types);
            sent = text && PQsendQueryParams(c->pg, text, st[i].nargs, types, values, lengths, formats, 0);
            free(text);
        }
        if (!sent) e = map_result(c, NULL, st[i].sql);
    }
    /* Sent or not, the sync point ends what was sent; its answers are read (and, after a
     * failure, dropped), so the connection is left as it was. */
    if (!PQpipelineSync(c->pg)) {
        c->batch = false;
        return e ? e : map_result(c, NULL, "(batch sync)");
    }
    os_err re = batch_read(c, e ? NULL : st, e ? 0 : n);
    return e ? e : re;
}

static os_err pg_batch(db_conn *base, const db_stmt *st, int n) {
    pg_conn *c = (pg_conn *)base;
    if (n < 1 || n > DB_BATCH_MAX) return OS_ERR_INTERNAL;
    os_err e = OS_OK;
    if (c->pipeline) {
        /* Inside a bulk transaction's pipeline: one after another, each read at once. */
        for (int i = 0; i < n && !e; i++) e = run(c, st[i].sql, st[i].args, st[i].nargs, st[i].fn, st[i].ud, NULL);
        return e;
    }
    if (!ensure_connected(c)) return OS_ERR_STORE;
    e = batch_run(c, st, n);
    /* As for one statement: met a dropped connection outside a transaction, sent again. */
    if (e && connection_lost(c) && !c->in_tx && ensure_connected(c)) e = batch_run(c, st, n);
    return e;
}

/* Leaves pipeline mode, reading what is still unanswered; a failure among it is returned
 * and the statements cache forgotten (server-side too: a prepare in it may have failed). */
static os_err pipeline_end(pg_conn *c) {
    if (!c->pipeline) return OS_OK;
    os_err e = drain(c, false, "(pipeline)", NULL, NULL, NULL);
    if (!PQexitPipelineMode(c->pg) && !e) e = map_result(c, NULL, "(pipeline end)");
    c->pipeline = false;
    if (c->pipeline_failed) {
        c->pipeline_failed = false;
        forget_statements(c);
        if (!connection_lost(c)) PQclear(PQexec(c->pg, "DEALLOCATE ALL"));
    }
    return e;
}

/* A bulk transaction sends the statements that need no answer without waiting for one:
 * many small inserts (search terms, counts, audit rows) then cost one round trip per
 * PIPELINE_DEPTH instead of one each. */
static os_err pg_bulk(db_conn *base) {
    pg_conn *c = (pg_conn *)base;
    if (!c->in_tx || c->pipeline) return OS_OK;
    if (!PQenterPipelineMode(c->pg)) return map_result(c, NULL, "(pipeline start)");
    c->pipeline = true;
    return OS_OK;
}

static os_err pg_begin(db_conn *base, bool write, const int32_t *keys, int nkeys) {
    pg_conn *c = (pg_conn *)base;
    /* One round trip: the locks are taken by the transaction's first statements. */
    char sql[128 + LIMIT_TX_AGREEMENTS * 64];
    if (!write) {
        snprintf(sql, sizeof sql, "BEGIN");
    } else if (nkeys <= 0) {
        snprintf(sql, sizeof sql, "BEGIN; SELECT pg_advisory_xact_lock(" WRITE_LOCK_KEY ")");
    } else {
        if (nkeys > LIMIT_TX_AGREEMENTS) return OS_ERR_INTERNAL;
        int n = snprintf(sql, sizeof sql, "BEGIN; SELECT pg_advisory_xact_lock_shared(" WRITE_LOCK_KEY ")");
        for (int i = 0; i < nkeys && n > 0 && (size_t)n < sizeof sql; i++)
            n += snprintf(sql + n, sizeof sql - (size_t)n, "; SELECT pg_advisory_xact_lock(" AGREEMENT_LOCK_NS ", %ld)",
                          (long)keys[i]);
        if (n <= 0 || (size_t)n >= sizeof sql) return OS_ERR_INTERNAL;
    }
    os_err e = simple(c, sql);
    /* A connection found dropped by this first statement: nothing was done yet, so the
     * transaction starts on a new one. */
    if (e && connection_lost(c) && ensure_connected(c)) e = simple(c, sql);
    if (!e) {
        c->in_tx = true;
    } else if (PQtransactionStatus(c->pg) != PQTRANS_IDLE) {
        PQclear(PQexec(c->pg, "ROLLBACK"));
    }
    return e;
}

static os_err pg_commit(db_conn *base) {
    pg_conn *c = (pg_conn *)base;
    if (connection_lost(c)) {
        c->in_tx = false;
        return OS_ERR_STORE;
    }
    os_err e = pipeline_end(c);
    if (e) return e;                          /* the caller rolls back */
    PGresult *res = PQexec(c->pg, "COMMIT");
    e = map_result(c, res, "COMMIT");
    /* A transaction in which a statement failed ends in ROLLBACK, reported as success. */
    if (!e && strcmp(PQcmdStatus(res), "COMMIT") != 0) e = OS_ERR_STORE;
    PQclear(res);
    c->in_tx = false;
    return e;
}

static os_err pg_rollback(db_conn *base) {
    pg_conn *c = (pg_conn *)base;
    c->in_tx = false;
    (void)pipeline_end(c);                    /* its failure is why we are here, or moot */
    if (connection_lost(c)) return OS_OK;     /* nothing to undo: the server already did */
    return simple(c, "ROLLBACK");
}

/* The caller left mid-statement (a row callback that never returned) or mid-transaction:
 * the result being read is freed, a statement still sending rows is cancelled and its
 * rest read and dropped, a pipeline is left, and an open transaction rolled back. */
static void pg_abandon(db_conn *base) {
    pg_conn *c = (pg_conn *)base;
    if (c->row.tmp) PQfreemem(c->row.tmp);
    c->row.tmp = NULL;
    if (c->delivering) PQclear(c->delivering);
    c->delivering = NULL;
    if (connection_lost(c)) {
        c->in_tx = false;
        c->batch = false;
        c->pipeline = false;
        c->pending = 0;
        return;                           /* the next statement makes a new one */
    }
    if (PQtransactionStatus(c->pg) == PQTRANS_ACTIVE || c->pending) {
        /* A million-row answer is not worth reading to its end: ask the server to stop. */
        PGcancel *cancel = PQgetCancel(c->pg);
        char err[256];
        if (cancel) {
            PQcancel(cancel, err, sizeof err);
            PQfreeCancel(cancel);
        }
    }
    if (c->batch) {
        /* A batch left part-read: the rest of its answers, up to its sync point. */
        (void)batch_read(c, NULL, 0);
    } else if (c->pipeline) {
        (void)pipeline_end(c);
    } else {
        PGresult *res;
        while ((res = PQgetResult(c->pg))) PQclear(res);
    }
    if (c->in_tx || PQtransactionStatus(c->pg) != PQTRANS_IDLE) {
        c->in_tx = false;
        PQclear(PQexec(c->pg, "ROLLBACK"));
    }
}

static void pg_close(db_conn *base) {
    pg_conn *c = (pg_conn *)base;
    forget_statements(c);
    free(c->copy.p);
    PQfinish(c->pg);
    free(c->url);
    free(c);
}

static const db_driver pg_driver = {
    .dialect = DIALECT_PG,
    .exec = pg_exec,
    .script = pg_script,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .bulk = pg_bulk,
    .batch = pg_batch,
    .close = pg_close,
    .abandon = pg_abandon,
    .col_int = pg_int,
    .col_text = pg_text,
    .col_null = pg_null,
    .col_blob = pg_blob,
};

/* The server's notices ("already exists, skipping") are not for the operator's terminal. */
static void quiet(void *arg, const char *message) {
    (void)arg;
    log_event(LOG_DEBUG, "postgresql notice", "message", message, NULL);
}

os_err pg_conn_open(const char *url, db_conn **out, char *err, size_t errlen) {
    pg_conn *c = calloc(1, sizeof *c);
    if (!c) return OS_ERR_NOMEM;
    c->base.drv = &pg_driver;
    c->url = strdup(url);
    c->pg = PQconnectdb(url);
    if (!c->url || !c->pg || PQstatus(c->pg) != CONNECTION_OK) {
        snprintf(err, errlen, "cannot connect to PostgreSQL: %s", c->pg ? PQerrorMessage(c->pg) : "out of memory");
        /* libpq's message ends in a newline */
        size_t n = strlen(err);
        while (n && (err[n - 1] == '\n' || err[n - 1] == ' ')) err[--n] = 0;
        PQfinish(c->pg);
        free(c->url);
        free(c);
        return OS_ERR_STORE;
    }
    PQsetClientEncoding(c->pg, "UTF8");
    PQsetNoticeProcessor(c->pg, quiet, NULL);
    /* A write waits for the write lock as long as SQLite's busy timeout lets it, then fails
     * as busy. Prepared statements keep one generic plan: left to choose, the server planned
     * the page query anew on every execution (0.22 ms planning for 0.09 ms of work), and the
     * subscribers page served 3,345 req/s instead of 5,518 (bench/pg.sh, 100,000
     * subscribers). Every query of the store filters by agreement through an index made for
     * it, so one plan serves every agreement: measured the same at 1,000,000 subscribers.
     * The rest of the session's settings keep their server defaults. */
    char set[128];
    snprintf(set, sizeof set, "SET lock_timeout = %d; SET application_name = 'openseat'; SET plan_cache_mode = force_generic_plan", LIMIT_WRITE_WAIT_MS);
    PGresult *res = PQexec(c->pg, set);
    os_err e = map_result(c, res, set);
    PQclear(res);
    if (e) {
        snprintf(err, errlen, "cannot configure the PostgreSQL session");
        pg_close(&c->base);
        return e;
    }
    *out = &c->base;
    return OS_OK;
}

/* ---- COPY -------------------------------------------------------------------------------- */

typedef struct copy_buf copy_buf;

static void cb_put(copy_buf *b, const char *s, size_t n) {
    if (b->oom || n == 0) return;
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 65536;
        while (cap < b->n + n) cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) { b->oom = true; return; }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
}

/* A value in COPY's text format: \N for NULL, backslash escapes for the separators. */
static void cb_value(copy_buf *b, const db_val *v) {
    static const char hex[] = "0123456789abcdef";
    char tmp[32];
    switch (v->t) {
    case DBV_NULL: cb_put(b, "\\N", 2); break;
    case DBV_INT: cb_put(b, tmp, (size_t)snprintf(tmp, sizeof tmp, "%lld", (long long)v->i)); break;
    case DBV_TEXT:
        for (const char *s = v->s; *s; s++) {
            const char *esc = *s == '\\' ? "\\\\" : *s == '\t' ? "\\t" : *s == '\n' ? "\\n" : *s == '\r' ? "\\r" : NULL;
            if (esc) cb_put(b, esc, 2);
            else cb_put(b, s, 1);
        }
        break;
    case DBV_BLOB:
        cb_put(b, "\\\\x", 3);
        for (int64_t i = 0; i < v->i; i++) {
            unsigned char ch = (unsigned char)v->s[i];
            char two[2] = {hex[ch >> 4], hex[ch & 15]};
            cb_put(b, two, 2);
        }
        break;
    }
}

os_err pg_copy_begin(db_conn *base, const char *table, const char *const *cols, int ncols) {
    pg_conn *c = (pg_conn *)base;
    if (base->drv != &pg_driver || ncols <= 0 || c->copy.p) return OS_ERR_INTERNAL;
    if (!ensure_connected(c)) return OS_ERR_STORE;
    /* Names come from the schema's own catalogue, quoted all the same. */
    copy_buf sql = {0};
    cb_put(&sql, "COPY \"", 6);
    cb_put(&sql, table, strlen(table));
    cb_put(&sql, "\" (", 3);
    for (int i = 0; i < ncols; i++) {
        if (i) cb_put(&sql, ", ", 2);
        cb_put(&sql, "\"", 1);
        cb_put(&sql, cols[i], strlen(cols[i]));
        cb_put(&sql, "\"", 1);
    }
    cb_put(&sql, ") FROM STDIN", 13);     /* with its NUL */
    if (sql.oom) { free(sql.p); return OS_ERR_NOMEM; }
    PGresult *res = PQexec(c->pg, sql.p);
    os_err e = PQresultStatus(res) == PGRES_COPY_IN ? OS_OK : map_result(c, res, sql.p);
    PQclear(res);
    free(sql.p);
    if (e) return e;
    c->copy = (copy_buf){0};
    c->copy_cols = ncols;
    c->copy_failed = false;
    return OS_OK;
}

/* Sent in pieces of a quarter megabyte. */
#define COPY_PIECE (256 * 1024)

os_err pg_copy_row(db_conn *base, const db_val *vals) {
    pg_conn *c = (pg_conn *)base;
    if (base->drv != &pg_driver || c->copy_cols <= 0) return OS_ERR_INTERNAL;
    copy_buf *b = &c->copy;
    for (int i = 0; i < c->copy_cols; i++) {
        if (i) cb_put(b, "\t", 1);
        cb_value(b, &vals[i]);
    }
    cb_put(b, "\n", 1);
    if (b->oom) { c->copy_failed = true; return OS_ERR_NOMEM; }
    if (b->n >= COPY_PIECE) {
        if (PQputCopyData(c->pg, b->p, (int)b->n) != 1) { c->copy_failed = true; return OS_ERR_STORE; }
        b->n = 0;
    }
    return OS_OK;
}

os_err pg_copy_end(db_conn *base, bool ok) {
    pg_conn *c = (pg_conn *)base;
    if (base->drv != &pg_driver || c->copy_cols <= 0) return OS_ERR_INTERNAL;
    copy_buf *b = &c->copy;
    if (ok && c->copy_failed) ok = false;
    if (ok && b->n && PQputCopyData(c->pg, b->p, (int)b->n) != 1) ok = false;
    free(b->p);
    *b = (copy_buf){0};
    c->copy_cols = 0;
    PQputCopyEnd(c->pg, ok ? NULL : "the copy was stopped");
    os_err e = OS_OK;
    PGresult *res;
    while ((res = PQgetResult(c->pg))) {
        os_err re = ok ? map_result(c, res, "COPY") : OS_ERR_STORE;
        if (!e) e = re;
        PQclear(res);
    }
    return ok ? e : OS_ERR_STORE;
}

/* ---- backup ------------------------------------------------------------------------------- */

os_err pg_backup(const char *url, const char *file, char *err, size_t errlen) {
    /* pg_dump's own consistent snapshot; custom format, restored with pg_restore. The
     * URL goes as --dbname, never through a shell. */
    /* posix_spawnp takes char *const argv[]: own copies rather than casting const away. */
    char *file_arg = strdup(file), *url_arg = strdup(url);
    if (!file_arg || !url_arg) {
        free(file_arg);
        free(url_arg);
        return OS_ERR_NOMEM;
    }
    char *argv[] = {"pg_dump", "--format=custom", "--no-owner", "--file", file_arg, "--dbname", url_arg, NULL};
    pid_t pid;
    extern char **environ;
    int rc = posix_spawnp(&pid, "pg_dump", NULL, NULL, argv, environ);
    free(file_arg);
    free(url_arg);
    if (rc) {
        snprintf(err, errlen, "cannot run pg_dump (package postgresql-client-15): %s", strerror(rc));
        return OS_ERR_IO;
    }
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            snprintf(err, errlen, "waiting for pg_dump: %s", strerror(errno));
            return OS_ERR_IO;
        }
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        snprintf(err, errlen, "pg_dump failed (exit status %d); its message is above", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        return OS_ERR_IO;
    }
    return OS_OK;
}
