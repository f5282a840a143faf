/* store_outbox.c — the mail outbox: queue, lease-based claiming, delivery results.
 * Contract in store.h. A worker leases rows for a while; a crashed worker's lease
 * runs out and another picks the row up, so a message is never lost. */
#include <string.h>
#include "store.h"
#include "store_util.h"

#define OUTBOX_COLS "id, recipient, template, language, data, message_id, attempts, next_attempt_at," \
                    " COALESCE(sent_at, 0), last_error, created_at, reply_to"

typedef struct ob_ud {
    arena *a;
    outbox_rec *rows;
    int n, cap;
} ob_ud;

static int ob_row(void *ud, db_row *r) {
    ob_ud *u = ud;
    if (u->n >= u->cap) return 1;
    outbox_rec *o = &u->rows[u->n++];
    o->id = db_int(r, 0);
    o->recipient = st_dup(u->a, r, 1);
    o->template_name = st_dup(u->a, r, 2);
    o->language = st_dup(u->a, r, 3);
    o->data = st_dup(u->a, r, 4);
    o->message_id = st_dup(u->a, r, 5);
    o->attempts = db_int(r, 6);
    o->next_attempt_at = db_int(r, 7);
    o->sent_at = db_int(r, 8);
    o->last_error = st_dup(u->a, r, 9);
    o->created_at = db_int(r, 10);
    o->reply_to = st_dup(u->a, r, 11);
    return 0;
}

os_err st_outbox_add(store_conn *c, const char *recipient, const char *reply_to, const char *template_name,
                     const char *language, const char *data_json, const char *message_id, int64_t now, int64_t *id) {
    int64_t tmp;
    return db_scalar_int(c,
                         "INSERT INTO outbox (recipient, template, language, data, message_id, next_attempt_at,"
                         " created_at, reply_to) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7) RETURNING id",
                         DB_ARGS(DV_TEXT(recipient), DV_TEXT(template_name), DV_TEXT(language), DV_TEXT(data_json),
                                 DV_TEXT(message_id), DV_INT(now), reply_to ? DV_TEXT(reply_to) : DV_NULL),
                         id ? id : &tmp);
}

#define OUTBOX_PER_STATEMENT 64   /* 6 parameters each */

os_err st_outbox_add_many(store_conn *c, const outbox_rec *rows, int n, int64_t now) {
    os_err e = OS_OK;
    for (int done = 0; !e && done < n;) {
        int k = st_batch(n - done, OUTBOX_PER_STATEMENT);
        char mem[4096];
        buf sql;
        buf_init_fixed(&sql, mem, sizeof mem);
        if (!st_rows_sql(&sql,
                         "INSERT INTO outbox (recipient, template, language, data, message_id, next_attempt_at,"
                         " created_at, reply_to) VALUES ",
                         "(#, #, #, #, #, ?1, ?1, #)", 2, k, ""))
            return OS_ERR_INTERNAL;
        db_val args[1 + OUTBOX_PER_STATEMENT * 6];
        args[0] = DV_INT(now);
        for (int i = 0; i < k; i++) {
            const outbox_rec *m = &rows[done + i];
            db_val *v = &args[1 + 6 * i];
            v[0] = DV_TEXT(m->recipient);
            v[1] = DV_TEXT(m->template_name);
            v[2] = DV_TEXT(m->language);
            v[3] = DV_TEXT(m->data);
            v[4] = DV_TEXT(m->message_id);
            v[5] = m->reply_to ? DV_TEXT(m->reply_to) : DV_NULL;
        }
        e = db_exec(c, sql.data, args, 1 + 6 * k, NULL, NULL);
        done += k;
    }
    return e;
}

os_err st_outbox_claim(store_conn *c, arena *a, const char *worker, int64_t now, int64_t lease_until, int limit,
                       outbox_rec **rows, int *n) {
    ob_ud u = {a, arena_alloc(a, sizeof(outbox_rec) * (size_t)(limit > 0 ? limit : 1)), 0, limit};
    /* SQLite serialises writers, so the UPDATE's subquery cannot race another claimer;
     * the PostgreSQL dialect adds FOR UPDATE SKIP LOCKED to the subquery. */
    const char *sql = c->drv->dialect == DIALECT_PG
        ? "UPDATE outbox SET claimed_by = ?1, claimed_until = ?3 WHERE id IN ("
          " SELECT id FROM outbox WHERE sent_at IS NULL AND next_attempt_at <= ?2"
          " AND (claimed_until IS NULL OR claimed_until < ?2) ORDER BY next_attempt_at, id LIMIT ?4"
          " FOR UPDATE SKIP LOCKED) RETURNING " OUTBOX_COLS
        : "UPDATE outbox SET claimed_by = ?1, claimed_until = ?3 WHERE id IN ("
          " SELECT id FROM outbox WHERE sent_at IS NULL AND next_attempt_at <= ?2"
          " AND (claimed_until IS NULL OR claimed_until < ?2) ORDER BY next_attempt_at, id LIMIT ?4)"
          " RETURNING " OUTBOX_COLS;
    os_err e = db_exec(c, sql, DB_ARGS(DV_TEXT(worker), DV_INT(now), DV_INT(lease_until), DV_INT(limit)), ob_row, &u);
    *rows = u.rows;
    *n = u.n;
    return e;
}

os_err st_outbox_mark_sent(store_conn *c, int64_t id, const char *worker, int64_t now) {
    return db_exec(c,
                   "UPDATE outbox SET sent_at = ?3, attempts = attempts + 1, last_error = NULL,"
                   " claimed_until = NULL, claimed_by = NULL WHERE id = ?1 AND claimed_by = ?2",
                   DB_ARGS(DV_INT(id), DV_TEXT(worker), DV_INT(now)), NULL, NULL);
}

os_err st_outbox_mark_failed(store_conn *c, int64_t id, const char *worker, int64_t next_attempt_at,
                             const char *error) {
    return db_exec(c,
                   "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?3, last_error = ?4,"
                   " claimed_until = NULL, claimed_by = NULL WHERE id = ?1 AND claimed_by = ?2",
                   DB_ARGS(DV_INT(id), DV_TEXT(worker), DV_INT(next_attempt_at), DV_TEXT(error)), NULL, NULL);
}

os_err st_outbox_list(store_conn *c, arena *a, bool pending_only, int limit, outbox_rec **rows, int *n) {
    ob_ud u = {a, arena_alloc(a, sizeof(outbox_rec) * (size_t)(limit > 0 ? limit : 1)), 0, limit};
    os_err e = db_exec(c,
                       "SELECT " OUTBOX_COLS " FROM outbox WHERE (?1 = 0 OR sent_at IS NULL)"
                       " ORDER BY id DESC LIMIT ?2",
                       DB_ARGS(DV_INT(pending_only), DV_INT(limit)), ob_row, &u);
    *rows = u.rows;
    *n = u.n;
    return e;
}

os_err st_outbox_retry(store_conn *c, int64_t id, int64_t now, int64_t *changed) {
    int64_t tmp;
    return db_exec_changes(c,
                           "UPDATE outbox SET next_attempt_at = ?2 WHERE sent_at IS NULL AND (?1 = 0 OR id = ?1)",
                           DB_ARGS(DV_INT(id), DV_INT(now)), changed ? changed : &tmp);
}

os_err st_outbox_depth(store_conn *c, int64_t *pending) {
    return db_scalar_int(c, "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL", DB_NOARGS, pending);
}
