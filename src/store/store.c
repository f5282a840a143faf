/* store.c — opening the store, per-thread connections, transactions, migrations,
 * backup. The typed record functions live in store_*.c beside this file. */
#include "store.h"
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "core/embed.h"
#include "core/log.h"
#include "store_sub.h"

typedef struct conn_node {
    db_conn *conn;
    struct conn_node *next;
} conn_node;

struct store {
    bool pg;                    /* PostgreSQL at path (a URL); else SQLite file at path */
    char path[4096];
    char desc[4200];
    pthread_key_t key;
    pthread_mutex_t mu;         /* guards conns */
    conn_node *conns;
};

static void conn_destroy(void *p) {
    /* Runs at thread exit. The node stays listed (closed at store_close) to avoid a race
     * with store_close; the connection itself is closed here. */
    conn_node *n = p;
    if (n && n->conn) {
        st_term_counts_drop(n->conn);
        n->conn->drv->close(n->conn);
        n->conn = NULL;
    }
}

static int mkdir_p(const char *dir) {
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s", dir) >= (int)sizeof tmp) return -1;
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(tmp, 0700) && errno != EEXIST) return -1;
        *p = '/';
    }
    if (mkdir(tmp, 0700) && errno != EEXIST) return -1;
    return 0;
}

/* What logs and `openseat` commands show of the store: a PostgreSQL URL without its
 * password. */
static void describe(store *s) {
    if (!s->pg) {
        snprintf(s->desc, sizeof s->desc, "sqlite:%s", s->path);
        return;
    }
    const char *scheme_end = strstr(s->path, "://") + 3;
    const char *at = strchr(scheme_end, '@');
    const char *colon = at ? memchr(scheme_end, ':', (size_t)(at - scheme_end)) : NULL;
    if (colon)
        snprintf(s->desc, sizeof s->desc, "%.*s:***%s", (int)(colon - s->path), s->path, at);
    else
        snprintf(s->desc, sizeof s->desc, "%s", s->path);
}

static os_err conn_open(const store *s, db_conn **out, char *err, size_t errlen) {
    return s->pg ? pg_conn_open(s->path, out, err, errlen) : sqlite_conn_open(s->path, out, err, errlen);
}

os_err store_open(const char *data_dir, const char *url, store **out, char *err, size_t errlen) {
    store *s = calloc(1, sizeof *s);
    if (!s) return OS_ERR_NOMEM;
    if (url && (strncmp(url, "postgres://", 11) == 0 || strncmp(url, "postgresql://", 13) == 0)) {
        if (snprintf(s->path, sizeof s->path, "%s", url) >= (int)sizeof s->path) {
            snprintf(err, errlen, "database URL is too long");
            free(s);
            return OS_ERR_INVALID;
        }
        s->pg = true;
    } else if (url && strncmp(url, "sqlite:", 7) == 0) {
        snprintf(s->path, sizeof s->path, "%s", url + 7);
    } else if (url) {
        snprintf(err, errlen, "database URL must start with sqlite: or postgres:// (got \"%s\")", url);
        free(s);
        return OS_ERR_INVALID;
    } else {
        snprintf(s->path, sizeof s->path, "%s/openseat.db", data_dir);
    }
    /* Whatever the database, the data directory holds the key file and the Maildir. */
    if (mkdir_p(data_dir)) {
        snprintf(err, errlen, "cannot create data directory %s: %s", data_dir, strerror(errno));
        free(s);
        return OS_ERR_IO;
    }
    describe(s);
    pthread_mutex_init(&s->mu, NULL);
    if (pthread_key_create(&s->key, conn_destroy)) {
        free(s);
        return OS_ERR_INTERNAL;
    }
    /* Open once now so a bad path fails at start-up, not on the first request. */
    db_conn *probe;
    os_err e = conn_open(s, &probe, err, errlen);
    if (e) {
        pthread_key_delete(s->key);
        free(s);
        return e;
    }
    probe->drv->close(probe);
    *out = s;
    return OS_OK;
}

const char *store_describe(const store *s) { return s->desc; }

bool store_writes_beside_tx(const store *s) { return s->pg; }

store_conn *store_conn_get(store *s) {
    conn_node *n = pthread_getspecific(s->key);
    if (n && n->conn) return n->conn;
    char err[256];
    db_conn *c;
    if (conn_open(s, &c, err, sizeof err)) {
        log_event(LOG_ERROR, "database connection failed", "error", err, NULL);
        return NULL;
    }
    if (!n) {
        n = calloc(1, sizeof *n);
        if (!n) { c->drv->close(c); return NULL; }
        pthread_mutex_lock(&s->mu);
        n->next = s->conns;
        s->conns = n;
        pthread_mutex_unlock(&s->mu);
        pthread_setspecific(s->key, n);
    }
    n->conn = c;
    return c;
}

void store_close(store *s) {
    if (!s) return;
    pthread_mutex_lock(&s->mu);
    conn_node *n = s->conns;
    while (n) {
        conn_node *next = n->next;
        if (n->conn) {
            st_term_counts_drop(n->conn);
            n->conn->drv->close(n->conn);
        }
        free(n);
        n = next;
    }
    s->conns = NULL;
    pthread_mutex_unlock(&s->mu);
    pthread_key_delete(s->key);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

/* ---- fault injection ------------------------------------------------------------------ */

#ifdef OPENSEAT_FAULTS
typedef enum { FAULT_OFF, FAULT_COUNT, FAULT_STMT, FAULT_COMMIT } fault_kind;
/* Per thread: a request runs on one thread, so parallel requests never share a count. */
static _Thread_local struct {
    fault_kind kind;
    long at;              /* the Nth operation (FAULT_STMT) or commit (FAULT_COMMIT) fails */
    long ops, commits;    /* counted since arming */
    os_err err;
    bool fired;
    char what[81];        /* what failed, for the log and the test */
} fault;

bool store_fault_available(void) { return true; }

bool store_fault_arm(const char *spec) {
    fault.kind = FAULT_OFF;
    fault.ops = fault.commits = 0;
    fault.fired = false;
    fault.err = OS_ERR_STORE;
    fault.at = 0;
    if (!spec) {
        fault.kind = FAULT_COUNT;
        return true;
    }
    fault_kind k;
    const char *p;
    if (!strncmp(spec, "stmt:", 5)) k = FAULT_STMT, p = spec + 5;
    else if (!strncmp(spec, "commit:", 7)) k = FAULT_COMMIT, p = spec + 7;
    else return false;
    char *end;
    errno = 0;
    long n = strtol(p, &end, 10);
    if (errno || end == p || n < 1 || n > 1000000) return false;
    os_err err = OS_ERR_STORE;
    if (!strcmp(end, ":busy")) err = OS_ERR_BUSY;
    else if (*end) return false;
    fault.kind = k;
    fault.at = n;
    fault.err = err;
    return true;
}

bool store_fault_disarm(long *ops, char *what, size_t whatlen) {
    if (ops) *ops = fault.ops;
    bool fired = fault.fired;
    if (what && whatlen) snprintf(what, whatlen, "%s", fired ? fault.what : "");
    fault.kind = FAULT_OFF;
    fault.fired = false;
    return fired;
}

/* Counts one operation reaching the driver (what: its SQL, or "BEGIN", "COMMIT"); the error
 * to return instead of running it, or OS_OK. The log line names what failed. */
static os_err fault_check(const char *what) {
    bool commit = !strcmp(what, "COMMIT");
    if (fault.kind == FAULT_OFF) return OS_OK;
    fault.ops++;
    if (commit) fault.commits++;
    if (fault.fired) return OS_OK;
    if ((fault.kind == FAULT_STMT && fault.ops == fault.at) ||
        (fault.kind == FAULT_COMMIT && commit && fault.commits == fault.at)) {
        fault.fired = true;
        char n[24];
        snprintf(n, sizeof n, "%ld", fault.ops);
        snprintf(fault.what, sizeof fault.what, "%s", what);
        log_event(LOG_INFO, "fault injected", "operation", n, "sql", fault.what, "error", os_err_name(fault.err), NULL);
        return fault.err;
    }
    return OS_OK;
}
#else
bool store_fault_available(void) { return false; }
bool store_fault_arm(const char *spec) { return false; }
bool store_fault_disarm(long *ops, char *what, size_t whatlen) {
    if (ops) *ops = 0;
    if (what && whatlen) what[0] = 0;
    return false;
}
static inline os_err fault_check(const char *what) { return OS_OK; }
#endif

/* ---- write transactions and their scope ------------------------------------------------
 * A write transaction holds either the whole store or the agreements it names (pg.c says
 * how; SQLite has one writer whatever the scope). A nested begin runs under the outermost
 * one's locks, which cannot grow once taken without risking a wait in the wrong order: it
 * must fit inside them, else it fails (a programming error, logged) and dooms the
 * transaction. Every begin that names an agreement bumps its data version, once per
 * transaction: what its lists show may change. */

static bool in_scope(const store_conn *c, int64_t id) {
    if (c->tx_nscope == 0) return true;              /* the whole store */
    for (int i = 0; i < c->tx_nscope; i++)
        if (c->tx_scope[i] == id) return true;
    return false;
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}
static int cmp_i32(const void *a, const void *b) {
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return x < y ? -1 : x > y;
}

os_err st_agreement_data_changed(store_conn *c, int64_t agreement_id) {
    return db_exec(c, "UPDATE agreements SET data_version = data_version + 1 WHERE id = ?1",
                   DB_ARGS(DV_INT(agreement_id)), NULL, NULL);
}

/* ids/n: the scope (n 0: the whole store). */
static os_err tx_begin(store_conn *c, const int64_t *ids, int n) {
    if (n < 0 || n > LIMIT_TX_AGREEMENTS) return OS_ERR_INTERNAL;
    int64_t scope[LIMIT_TX_AGREEMENTS];
    int m = 0;
    for (int i = 0; i < n; i++) scope[m++] = ids[i];
    qsort(scope, (size_t)m, sizeof *scope, cmp_i64);
    int k = 0;
    for (int i = 0; i < m; i++)
        if (!k || scope[k - 1] != scope[i]) scope[k++] = scope[i];
    m = k;
    if (c->tx_depth > 0) {
        bool fits = m > 0 || c->tx_nscope == 0;
        for (int i = 0; fits && i < m; i++) fits = in_scope(c, scope[i]);
        if (!fits) {
            log_event(LOG_ERROR, "a nested write transaction reaches beyond its outer one's scope", NULL);
            c->tx_failed = true;
            return OS_ERR_INTERNAL;
        }
        c->tx_depth++;
        /* Inside a transaction that holds the whole store, the agreements named have not
         * been bumped yet; inside a scoped one they were, at its start. */
        os_err e = OS_OK;
        for (int i = 0; !e && c->tx_nscope == 0 && i < m; i++) e = st_agreement_data_changed(c, scope[i]);
        if (e) {
            c->tx_depth--;
            c->tx_failed = true;
        }
        return e;
    }
    /* The locks are per key; two agreements whose ids share their low 32 bits share one,
     * which only makes them wait for each other. */
    int32_t keys[LIMIT_TX_AGREEMENTS];
    for (int i = 0; i < m; i++) keys[i] = (int32_t)(uint32_t)(uint64_t)scope[i];
    qsort(keys, (size_t)m, sizeof *keys, cmp_i32);
    int nkeys = 0;
    for (int i = 0; i < m; i++)
        if (!nkeys || keys[nkeys - 1] != keys[i]) keys[nkeys++] = keys[i];
    c->tx_depth = 1;
    c->tx_failed = false;
    c->tx_nscope = m;
    memcpy(c->tx_scope, scope, sizeof *scope * (size_t)m);
    os_err e = fault_check("BEGIN");
    if (!e) e = c->drv->begin(c, true, keys, nkeys);
    if (e) {
        c->tx_depth = 0;
        c->tx_nscope = 0;
        return e;
    }
    for (int i = 0; !e && i < m; i++) e = st_agreement_data_changed(c, scope[i]);
    if (e) {
        c->drv->rollback(c);
        c->tx_depth = 0;
        c->tx_nscope = 0;
    }
    return e;
}

os_err store_tx_begin(store_conn *c) { return tx_begin(c, NULL, 0); }

os_err store_tx_begin_agreement(store_conn *c, int64_t agreement_id) { return tx_begin(c, &agreement_id, 1); }

os_err store_tx_begin_agreements(store_conn *c, const int64_t *ids, int n) {
    /* No agreement named would mean the whole store: a scope is never empty by accident. */
    return n > 0 ? tx_begin(c, ids, n) : OS_ERR_INTERNAL;
}

os_err store_tx_end(store_conn *c, os_err e) {
    if (c->tx_depth <= 0) return e ? e : OS_ERR_INTERNAL;
    if (e) c->tx_failed = true;
    if (--c->tx_depth > 0) return e;
    c->tx_nscope = 0;
    /* The terms' counts held for the transaction go in it, last (a failure rolls back all). */
    if (!c->tx_failed && (e = st_term_counts_flush(c))) c->tx_failed = true;
    st_term_counts_drop(c);
    if (c->tx_failed) {
        c->drv->rollback(c);
        c->tx_failed = false;
        return e ? e : OS_ERR_STORE;
    }
    os_err ce = fault_check("COMMIT");
    if (!ce) ce = c->drv->commit(c);
    if (ce) c->drv->rollback(c);
    return ce;
}

void store_conn_abandon(store_conn *c) {
    if (!c) return;
    c->drv->abandon(c);
    st_term_counts_drop(c);
    c->tx_depth = 0;
    c->tx_nscope = 0;
    c->tx_failed = false;
}

os_err store_tx_bulk(store_conn *c) {
    if (c->tx_depth <= 0) return OS_ERR_INTERNAL;
    if (!c->drv->bulk) return OS_OK;
    os_err e = fault_check("(bulk transaction)");
    return e ? e : c->drv->bulk(c);
}

/* ---- migrations ---------------------------------------------------------------------- */

typedef struct mig_list {
    const embed_file *files[128];
    int n;
} mig_list;

static void collect(const embed_file *f, void *ud) {
    mig_list *l = ud;
    if (l->n < 128) l->files[l->n++] = f;
}

static int mig_version(const char *name) {
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    int v = 0;
    for (; *base >= '0' && *base <= '9'; base++) v = v * 10 + (*base - '0');
    return v;
}

int store_schema_version(store_conn *c) {
    int64_t v = 0;
    if (db_scalar_int(c, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations", DB_NOARGS, &v)) return -1;
    return (int)v;
}

os_err store_migrate(store *s, int *applied, char *err, size_t errlen) {
    store_conn *c = store_conn_get(s);
    if (!c) { snprintf(err, errlen, "no database connection"); return OS_ERR_STORE; }
    /* In a write transaction: instances starting together on one PostgreSQL database
     * would otherwise race on creating it. */
    os_err e = store_tx_begin(c);
    if (!e) e = c->drv->script(c, "CREATE TABLE IF NOT EXISTS schema_migrations ("
                                  " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)");
    if ((e = store_tx_end(c, e))) { snprintf(err, errlen, "cannot create schema_migrations"); return e; }
    mig_list l = {.n = 0};
    embed_each(c->drv->dialect == DIALECT_PG ? "migrations/pg/" : "migrations/sqlite/", collect, &l);
    /* A version is applied once: a second file with the same number would be skipped
     * silently on every database that has the first, so two are refused outright. */
    for (int i = 0; i < l.n; i++)
        for (int j = 0; j < i; j++)
            if (mig_version(l.files[i]->name) == mig_version(l.files[j]->name)) {
                snprintf(err, errlen, "migrations %s and %s have the same number", l.files[j]->name,
                         l.files[i]->name);
                return OS_ERR_INTERNAL;
            }
    int count = 0;
    for (int i = 0; i < l.n; i++) {
        int v = mig_version(l.files[i]->name);
        /* Inside the write transaction, so two processes starting at once apply it once. */
        if ((e = store_tx_begin(c))) break;
        int64_t have = 0;
        e = db_scalar_int(c, "SELECT COUNT(*) FROM schema_migrations WHERE version = ?1", DB_ARGS(DV_INT(v)), &have);
        if (!e && have == 0) {
            e = c->drv->script(c, (const char *)l.files[i]->data);
            if (!e)
                e = db_exec(c, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
                            DB_ARGS(DV_INT(v), DV_TEXT(l.files[i]->name), DV_INT(time(NULL))), NULL, NULL);
            if (!e) count++;
        }
        e = store_tx_end(c, e);
        if (e) {
            snprintf(err, errlen, "migration %s failed", l.files[i]->name);
            return e;
        }
    }
    if (applied) *applied = count;
    int64_t filled = 0;
    if (!e && (e = st_sub_search_backfill(c, &filled))) snprintf(err, errlen, "computing search terms failed");
    return e;
}

os_err store_backup(store *s, const char *file, char *err, size_t errlen) {
    if (s->pg) return pg_backup(s->path, file, err, errlen);
    store_conn *c = store_conn_get(s);
    if (!c) { snprintf(err, errlen, "no database connection"); return OS_ERR_STORE; }
    return sqlite_backup(c, file, err, errlen);
}

/* ---- db.h convenience wrappers -------------------------------------------------------- */

int64_t db_int(db_row *r, int col) { return r->drv->col_int(r, col); }
const char *db_text(db_row *r, int col) { return r->drv->col_text(r, col); }
bool db_is_null(db_row *r, int col) { return r->drv->col_null(r, col); }
const void *db_blob(db_row *r, int col, size_t *len) { return r->drv->col_blob(r, col, len); }

os_err db_exec(db_conn *c, const char *sql, const db_val *args, int nargs, db_row_fn fn, void *ud) {
    os_err e = fault_check(sql);
    return e ? e : c->drv->exec(c, sql, args, nargs, fn, ud, NULL);
}

os_err db_exec_changes(db_conn *c, const char *sql, const db_val *args, int nargs, int64_t *changes) {
    os_err e = fault_check(sql);
    return e ? e : c->drv->exec(c, sql, args, nargs, NULL, NULL, changes);
}

os_err db_batch(db_conn *c, const db_stmt *stmts, int n) {
    if (n < 1 || n > DB_BATCH_MAX) return OS_ERR_INTERNAL;
    /* One operation, as it is one exchange: a fault fails the batch as a whole. */
    os_err e = fault_check(stmts[0].sql);
    if (e) return e;
    if (c->drv->batch) return c->drv->batch(c, stmts, n);
    for (int i = 0; i < n && !e; i++)
        e = c->drv->exec(c, stmts[i].sql, stmts[i].args, stmts[i].nargs, stmts[i].fn, stmts[i].ud, NULL);
    return e;
}

typedef struct scalar_ud {
    int64_t v;
    bool found;
} scalar_ud;

static int scalar_row(void *ud, db_row *r) {
    scalar_ud *s = ud;
    s->v = db_int(r, 0);
    s->found = true;
    return 1;
}

os_err db_scalar_int(db_conn *c, const char *sql, const db_val *args, int nargs, int64_t *out) {
    scalar_ud s = {0, false};
    os_err e = fault_check(sql);
    if (!e) e = c->drv->exec(c, sql, args, nargs, scalar_row, &s, NULL);
    if (e) return e;
    if (!s.found) return OS_ERR_NOT_FOUND;
    *out = s.v;
    return OS_OK;
}
