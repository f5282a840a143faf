/* store_audit.c — the append-only audit trail (written, read back, and an agreement's
 * activity pages) and the server-wide settings. Contract in store.h (audit trail,
 * activity, settings). */
#include <string.h>
#include "store.h"
#include "store_util.h"

static db_val opt_id(int64_t v) { return v ? DV_INT(v) : DV_NULL; }

os_err st_audit_add(store_conn *c, const audit_rec *r) {
    return db_exec(c,
                   "INSERT INTO audit_events (at, actor_user_id, actor_email, action, target_type, target_id,"
                   " agreement_id, address, request_id, details) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                   DB_ARGS(DV_INT(r->at), opt_id(r->actor_user_id), DV_TEXT(r->actor_email), DV_TEXT(r->action),
                           DV_TEXT(r->target_type), DV_TEXT(r->target_id), opt_id(r->agreement_id),
                           DV_TEXT(r->address), DV_TEXT(r->request_id), DV_TEXT(r->details_json)),
                   NULL, NULL);
}

#define AUDIT_PER_STATEMENT 64   /* 10 parameters each */

os_err st_audit_add_many(store_conn *c, const audit_rec *r, int n) {
    os_err e = OS_OK;
    for (int done = 0; !e && done < n;) {
        int k = st_batch(n - done, AUDIT_PER_STATEMENT);
        char mem[8192];
        buf sql;
        buf_init_fixed(&sql, mem, sizeof mem);
        if (!st_rows_sql(&sql,
                         "INSERT INTO audit_events (at, actor_user_id, actor_email, action, target_type, target_id,"
                         " agreement_id, address, request_id, details) VALUES ",
                         "(#, #, #, #, #, #, #, #, #, #)", 1, k, ""))
            return OS_ERR_INTERNAL;
        db_val args[AUDIT_PER_STATEMENT * 10];
        for (int i = 0; i < k; i++) {
            const audit_rec *x = &r[done + i];
            db_val *v = &args[10 * i];
            v[0] = DV_INT(x->at);
            v[1] = opt_id(x->actor_user_id);
            v[2] = DV_TEXT(x->actor_email);
            v[3] = DV_TEXT(x->action);
            v[4] = DV_TEXT(x->target_type);
            v[5] = DV_TEXT(x->target_id);
            v[6] = opt_id(x->agreement_id);
            v[7] = DV_TEXT(x->address);
            v[8] = DV_TEXT(x->request_id);
            v[9] = DV_TEXT(x->details_json);
        }
        e = db_exec(c, sql.data, args, 10 * k, NULL, NULL);
        done += k;
    }
    return e;
}

typedef struct au_ud {
    arena *a;
    audit_rec *rows;
    int n, cap;
} au_ud;

static int au_row(void *ud, db_row *r) {
    au_ud *u = ud;
    if (u->n >= u->cap) return 1;
    audit_rec *o = &u->rows[u->n++];
    o->at = db_int(r, 0);
    o->actor_user_id = db_int(r, 1);
    o->actor_email = st_dup(u->a, r, 2);
    o->action = st_dup(u->a, r, 3);
    o->target_type = st_dup(u->a, r, 4);
    o->target_id = st_dup(u->a, r, 5);
    o->agreement_id = db_int(r, 6);
    o->address = st_dup(u->a, r, 7);
    o->request_id = st_dup(u->a, r, 8);
    o->details_json = st_dup(u->a, r, 9);
    return 0;
}

os_err st_audit_recent(store_conn *c, arena *a, int64_t actor_user_id, int limit, audit_rec **rows, int *n) {
    au_ud u = {a, arena_alloc(a, sizeof(audit_rec) * (size_t)(limit > 0 ? limit : 1)), 0, limit};
    os_err e = db_exec(c,
                       "SELECT at, COALESCE(actor_user_id, 0), actor_email, action, target_type, target_id,"
                       " COALESCE(agreement_id, 0), address, request_id, details FROM audit_events"
                       " WHERE (?1 = 0 OR actor_user_id = ?1) ORDER BY id DESC LIMIT ?2",
                       DB_ARGS(DV_INT(actor_user_id), DV_INT(limit)), au_row, &u);
    *rows = u.rows;
    *n = u.n;
    return e;
}

/* ---- the agreement's activity (its part of the trail) ---- */

static void fill_activity(arena *a, db_row *r, void *dst) {
    activity_rec *x = dst;
    x->id = db_int(r, 0);
    x->at = db_int(r, 1);
    x->actor_email = st_dup(a, r, 2);
    x->action = st_dup(a, r, 3);
    x->target_type = st_dup(a, r, 4);
    x->target_id = st_dup(a, r, 5);
    x->address = st_dup(a, r, 6);
    x->details = st_dup(a, r, 7);
}

os_err st_activity(store_conn *c, arena *a, const activity_query *q, activity_rec **rows, int *n) {
    /* Open bounds as plain values, so each page is a range of the (agreement_id, id) index
     * walked downwards from `before`: page k of a long log costs what page 1 does (an
     * "?6 = 0 OR id < ?6" test is no range, and every page re-read the rows before it). */
    return st_list(c, a,
                   "SELECT id, at, actor_email, action, target_type, target_id, address, details FROM audit_events"
                   " WHERE agreement_id = ?1 AND id < ?6 AND (CAST(?2 AS TEXT) IS NULL OR instr(actor_email, ?2) > 0)"
                   " AND (CAST(?3 AS TEXT) IS NULL OR substr(action, 1, length(?3)) = ?3)"
                   " AND at >= ?4 AND at <= ?5"
                   " ORDER BY id DESC LIMIT ?7",
                   DB_ARGS(DV_INT(q->agreement_id), DV_TEXT(q->actor), DV_TEXT(q->action), DV_INT(q->from),
                           DV_INT(q->to ? q->to : INT64_MAX), DV_INT(q->before_id ? q->before_id : INT64_MAX),
                           DV_INT(q->limit)),
                   sizeof(activity_rec), fill_activity, (void **)rows, n);
}

/* ---- settings ---- */

typedef struct set_ud {
    arena *a;
    const char *v;
} set_ud;

static int set_row(void *ud, db_row *r) {
    set_ud *s = ud;
    s->v = st_dup(s->a, r, 0);
    return 1;
}

os_err st_setting_get(store_conn *c, arena *a, const char *key, const char **value) {
    set_ud s = {a, NULL};
    os_err e = db_exec(c, "SELECT value FROM settings WHERE key = ?1", DB_ARGS(DV_TEXT(key)), set_row, &s);
    if (e) return e;
    if (!s.v) return OS_ERR_NOT_FOUND;
    *value = s.v;
    return OS_OK;
}

os_err st_setting_init(store_conn *c, arena *a, const char *key, const char *candidate, const char **value) {
    os_err e = db_exec(c, "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO NOTHING",
                       DB_ARGS(DV_TEXT(key), DV_TEXT(candidate)), NULL, NULL);
    if (e) return e;
    return st_setting_get(c, a, key, value);
}

os_err st_setting_put(store_conn *c, const char *key, const char *value) {
    return db_exec(c, "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = ?2",
                   DB_ARGS(DV_TEXT(key), DV_TEXT(value)), NULL, NULL);
}
