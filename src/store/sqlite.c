/* sqlite.c — the SQLite driver behind db.h.
 *
 * One connection per thread (measured faster than sharing one), WAL journal so
 * readers never block the writer, foreign keys on, a busy timeout so concurrent
 * writers queue instead of failing, and write transactions opened with BEGIN
 * IMMEDIATE so a read-then-write transaction cannot deadlock on upgrade.
 * Prepared statements are cached per connection, keyed by SQL text.
 */
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/limits.h"
#include "core/log.h"
#include "db.h"

#define STMT_CACHE 256

typedef struct cached {
    char *sql;                /* owned copy */
    uint64_t hash;
    sqlite3_stmt *st;
} cached;

typedef struct sqlite_conn {
    db_conn base;
    sqlite3 *db;
    cached cache[STMT_CACHE];
    bool bulk;                /* a bulk transaction is open (sq_bulk) */
} sqlite_conn;

static int64_t sq_int(db_row *r, int col) { return sqlite3_column_int64(r->h, col); }
static const char *sq_text(db_row *r, int col) {
    if (sqlite3_column_type(r->h, col) == SQLITE_NULL) return NULL;
    return (const char *)sqlite3_column_text(r->h, col);
}
static bool sq_null(db_row *r, int col) { return sqlite3_column_type(r->h, col) == SQLITE_NULL; }
static const void *sq_blob(db_row *r, int col, size_t *len) {
    const void *p = sqlite3_column_blob(r->h, col);   /* before the length: it may convert */
    *len = p ? (size_t)sqlite3_column_bytes(r->h, col) : 0;
    return p;
}

static uint64_t fnv(const char *s) {
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static os_err map_rc(sqlite_conn *c, int rc, const char *sql) {
    switch (rc & 0xff) {
    case SQLITE_OK: case SQLITE_DONE: case SQLITE_ROW: return OS_OK;
    case SQLITE_CONSTRAINT: return OS_ERR_CONFLICT;
    case SQLITE_BUSY: case SQLITE_LOCKED: return OS_ERR_BUSY;
    case SQLITE_NOMEM: return OS_ERR_NOMEM;
    default:
        log_event(LOG_ERROR, "sqlite error", "error", sqlite3_errmsg(c->db), "sql", sql, NULL);
        return OS_ERR_STORE;
    }
}

static sqlite3_stmt *prepare(sqlite_conn *c, const char *sql, os_err *e) {
    uint64_t h = fnv(sql);
    size_t slot = h % STMT_CACHE;
    cached *ce = &c->cache[slot];
    if (ce->st && ce->hash == h && strcmp(ce->sql, sql) == 0) {
        sqlite3_reset(ce->st);
        sqlite3_clear_bindings(ce->st);
        return ce->st;
    }
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
    if (rc != SQLITE_OK) {
        *e = map_rc(c, rc, sql);
        return NULL;
    }
    char *copy = strdup(sql);
    if (!copy) {
        sqlite3_finalize(st);
        *e = OS_ERR_NOMEM;
        return NULL;
    }
    if (ce->st) {                 /* collision: evict */
        sqlite3_finalize(ce->st);
        free(ce->sql);
    }
    ce->st = st;
    ce->sql = copy;
    ce->hash = h;
    return st;
}

static os_err sq_exec(db_conn *base, const char *sql, const db_val *args, int nargs, db_row_fn fn, void *ud,
                      int64_t *changes) {
    sqlite_conn *c = (sqlite_conn *)base;
    os_err e = OS_OK;
    sqlite3_stmt *st = prepare(c, sql, &e);
    if (!st) return e;
    for (int i = 0; i < nargs; i++) {
        int rc;
        switch (args[i].t) {
        case DBV_INT: rc = sqlite3_bind_int64(st, i + 1, args[i].i); break;
        case DBV_TEXT: rc = sqlite3_bind_text(st, i + 1, args[i].s, -1, SQLITE_STATIC); break;
        case DBV_BLOB: rc = sqlite3_bind_blob64(st, i + 1, args[i].s, (sqlite3_uint64)args[i].i, SQLITE_STATIC); break;
        default: rc = sqlite3_bind_null(st, i + 1); break;
        }
        if (rc != SQLITE_OK) { e = map_rc(c, rc, sql); goto out; }
    }
    db_row row = {base->drv, st, 0, NULL};
    for (;;) {
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            if (fn && fn(ud, &row)) break;
            continue;
        }
        if (rc != SQLITE_DONE) e = map_rc(c, rc, sql);
        break;
    }
    if (changes && e == OS_OK) *changes = sqlite3_changes64(c->db);
out:
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return e;
}

static os_err sq_script(db_conn *base, const char *sql) {
    sqlite_conn *c = (sqlite_conn *)base;
    char *msg = NULL;
    int rc = sqlite3_exec(c->db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        log_event(LOG_ERROR, "sqlite script failed", "error", msg ? msg : "?", NULL);
        sqlite3_free(msg);
        return map_rc(c, rc, "(script)");
    }
    return OS_OK;
}

/* One writer at a time whatever the scope: the agreements' keys change nothing here. */
static os_err sq_begin(db_conn *c, bool write, const int32_t *keys, int nkeys) {
    (void)keys;
    (void)nkeys;
    return sq_exec(c, write ? "BEGIN IMMEDIATE" : "BEGIN", NULL, 0, NULL, NULL, NULL);
}

/* A bulk transaction's page cache. With SQLite's default (2 MiB) a 100,000-row bulk add
 * (about 140 MiB of new pages) spilled pages into the log and read them back while it
 * ran: 4.8 s; with 32 MiB 4.0 s, 64 MiB 3.9 s, 128 MiB no better. Only for the
 * transaction: a cache this size on every connection would stay filled after it. */
#define BULK_CACHE_KIB 65536

static os_err sq_bulk(db_conn *base) {
    sqlite_conn *c = (sqlite_conn *)base;
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA cache_size = -%d", BULK_CACHE_KIB);
    os_err e = sq_script(base, sql);
    c->bulk = !e;
    return e;
}

/* After a bulk transaction: the default cache again, and its memory given back. */
static void bulk_end(sqlite_conn *c) {
    if (!c->bulk) return;
    c->bulk = false;
    sqlite3_exec(c->db, "PRAGMA cache_size = -2000; PRAGMA shrink_memory", NULL, NULL, NULL);
}

static os_err sq_commit(db_conn *c) {
    os_err e = sq_exec(c, "COMMIT", NULL, 0, NULL, NULL, NULL);
    if (!e) bulk_end((sqlite_conn *)c);   /* when it fails, the caller rolls back */
    return e;
}

static os_err sq_rollback(db_conn *c) {
    os_err e = sq_exec(c, "ROLLBACK", NULL, 0, NULL, NULL, NULL);
    bulk_end((sqlite_conn *)c);
    return e;
}

/* A statement left mid-way (its caller jumped out of a row callback) keeps its read
 * snapshot, and on a writer its lock, until reset: every busy one is reset, then whatever
 * transaction is open is rolled back. */
static void sq_abandon(db_conn *base) {
    sqlite_conn *c = (sqlite_conn *)base;
    for (sqlite3_stmt *st = sqlite3_next_stmt(c->db, NULL); st; st = sqlite3_next_stmt(c->db, st))
        if (sqlite3_stmt_busy(st)) sqlite3_reset(st);
    if (!sqlite3_get_autocommit(c->db)) sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
    bulk_end(c);
}

static void sq_close(db_conn *base) {
    sqlite_conn *c = (sqlite_conn *)base;
    for (int i = 0; i < STMT_CACHE; i++) {
        if (c->cache[i].st) sqlite3_finalize(c->cache[i].st);
        free(c->cache[i].sql);
    }
    sqlite3_close_v2(c->db);
    free(c);
}

static const db_driver sqlite_driver = {
    .dialect = DIALECT_SQLITE,
    .exec = sq_exec,
    .script = sq_script,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .bulk = sq_bulk,
    .close = sq_close,
    .abandon = sq_abandon,
    .col_int = sq_int,
    .col_text = sq_text,
    .col_null = sq_null,
    .col_blob = sq_blob,
};

/* Process-wide settings, before SQLite initialises itself. Memory statistics take a global
 * mutex on every allocation SQLite makes — measured at over a tenth of the CPU of a bulk
 * add on two cores — and nothing here reads them. (Too late once any connection was
 * opened: then SQLite keeps its defaults, which are only slower.) */
static pthread_once_t configured = PTHREAD_ONCE_INIT;
static void configure(void) { sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); }

os_err sqlite_conn_open(const char *path, db_conn **out, char *err, size_t errlen) {
    pthread_once(&configured, configure);
    sqlite_conn *c = calloc(1, sizeof *c);
    if (!c) return OS_ERR_NOMEM;
    c->base.drv = &sqlite_driver;
    int rc = sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "cannot open %s: %s", path, c->db ? sqlite3_errmsg(c->db) : "out of memory");
        sqlite3_close_v2(c->db);
        free(c);
        return OS_ERR_STORE;
    }
    sqlite3_busy_timeout(c->db, LIMIT_WRITE_WAIT_MS);
    sqlite3_extended_result_codes(c->db, 1);
    /* mmap: reads of a large database come straight from the page cache of the kernel
     * instead of a read() per page into each connection's own small cache — a page of
     * subscribers from a million touches some sixty pages spread over the file. */
    const char *pragmas = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
                          "PRAGMA temp_store=MEMORY; PRAGMA mmap_size=2147418112;";
    char *msg = NULL;
    if (sqlite3_exec(c->db, pragmas, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "cannot configure %s: %s", path, msg ? msg : "?");
        sqlite3_free(msg);
        sqlite3_close_v2(c->db);
        free(c);
        return OS_ERR_STORE;
    }
    *out = &c->base;
    return OS_OK;
}

os_err sqlite_backup(db_conn *base, const char *file, char *err, size_t errlen) {
    sqlite_conn *c = (sqlite_conn *)base;
    sqlite3 *dst;
    if (sqlite3_open_v2(file, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot create %s: %s", file, sqlite3_errmsg(dst));
        sqlite3_close_v2(dst);
        return OS_ERR_IO;
    }
    /* Copies in steps so writers are only paused briefly; restarts if they change pages. */
    sqlite3_backup *b = sqlite3_backup_init(dst, "main", c->db, "main");
    if (!b) {
        snprintf(err, errlen, "backup failed: %s", sqlite3_errmsg(dst));
        sqlite3_close_v2(dst);
        return OS_ERR_IO;
    }
    int rc;
    do {
        rc = sqlite3_backup_step(b, 256);
        if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) sqlite3_sleep(20);
    } while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
    sqlite3_backup_finish(b);
    os_err e = OS_OK;
    if (rc != SQLITE_DONE) {
        snprintf(err, errlen, "backup failed: %s", sqlite3_errmsg(dst));
        e = OS_ERR_IO;
    }
    sqlite3_close_v2(dst);
    return e;
}
