/* store_seats.c — pools and their seats: seats bought (an order adds them) and read, taken
 * and given back one at a time or many at once (each atomic, never past what was bought);
 * freed seats and the reassignment rule; the usage series (a point per change of a pool)
 * and its walk for the reports. Contract in store.h (pools, seats and usage). */
#include "store.h"
#include "store_util.h"

/* ---- pools and their seats ---- */

os_err st_pool_add(store_conn *c, int64_t agreement_id, int64_t level_id, int64_t quantity) {
    return db_exec(c,
                   "INSERT INTO pools (agreement_id, level_id, purchased) VALUES (?1, ?2, ?3)"
                   " ON CONFLICT (agreement_id, level_id) DO UPDATE SET purchased = pools.purchased + excluded.purchased",
                   DB_ARGS(DV_INT(agreement_id), DV_INT(level_id), DV_INT(quantity)), NULL, NULL);
}

static void fill_pool(arena *a, db_row *r, void *dst) {
    pool_rec *p = dst;
    p->level_id = db_int(r, 0);
    p->purchased = db_int(r, 1);
    p->assigned = db_int(r, 2);
    p->level_code = st_dup(a, r, 3);
    p->name_en = st_dup(a, r, 4);
    p->name_fr = st_dup(a, r, 5);
}

os_err st_pools(store_conn *c, arena *a, int64_t agreement_id, pool_rec **rows, int *n) {
    return st_list(c, a,
                   "SELECT p.level_id, p.purchased, p.assigned, l.code, l.name_en, l.name_fr FROM pools p"
                   " JOIN levels l ON l.id = p.level_id WHERE p.agreement_id = ?1 ORDER BY l.sort",
                   DB_ARGS(DV_INT(agreement_id)), sizeof(pool_rec), fill_pool, (void **)rows, n);
}

os_err st_pool_take(store_conn *c, int64_t agreement_id, int64_t level_id, bool *taken, int64_t *left) {
    int64_t changed = 0;
    os_err e = db_exec_changes(c,
                               "UPDATE pools SET assigned = assigned + 1"
                               " WHERE agreement_id = ?1 AND level_id = ?2 AND assigned < purchased",
                               DB_ARGS(DV_INT(agreement_id), DV_INT(level_id)), &changed);
    if (e) return e;
    *taken = changed > 0;
    e = db_scalar_int(c, "SELECT purchased - assigned FROM pools WHERE agreement_id = ?1 AND level_id = ?2",
                      DB_ARGS(DV_INT(agreement_id), DV_INT(level_id)), left);
    if (e == OS_ERR_NOT_FOUND) { *left = 0; e = OS_OK; }
    return e;
}

os_err st_pool_give_back(store_conn *c, int64_t agreement_id, int64_t level_id) {
    return db_exec(c,
                   "UPDATE pools SET assigned = assigned - 1 WHERE agreement_id = ?1 AND level_id = ?2 AND assigned > 0",
                   DB_ARGS(DV_INT(agreement_id), DV_INT(level_id)), NULL, NULL);
}

os_err st_pool_take_many(store_conn *c, int64_t agreement_id, int64_t level_id, int64_t n, bool *taken) {
    int64_t changed = 0;
    os_err e = db_exec_changes(c,
                               "UPDATE pools SET assigned = assigned + ?3"
                               " WHERE agreement_id = ?1 AND level_id = ?2 AND assigned + ?3 <= purchased",
                               DB_ARGS(DV_INT(agreement_id), DV_INT(level_id), DV_INT(n)), &changed);
    *taken = !e && changed == 1;
    return e;
}

os_err st_pool_give_back_many(store_conn *c, int64_t agreement_id, int64_t level_id, int64_t n) {
    return db_exec(c,
                   "UPDATE pools SET assigned = assigned - ?3 WHERE agreement_id = ?1 AND level_id = ?2"
                   " AND assigned >= ?3",
                   DB_ARGS(DV_INT(agreement_id), DV_INT(level_id), DV_INT(n)), NULL, NULL);
}

typedef struct pool_seats {
    int64_t purchased, assigned, freed;
    bool found;
} pool_seats;

static int read_pool_seats(void *ud, db_row *r) {
    pool_seats *p = ud;
    *p = (pool_seats){db_int(r, 0), db_int(r, 1), db_int(r, 2), true};
    return 1;
}

os_err st_pool_seats(store_conn *c, int64_t agreement_id, int64_t level_id, int64_t *purchased, int64_t *assigned,
                     int64_t *freed) {
    pool_seats p = {0, 0, 0, false};
    os_err e = db_exec(c,
                       "SELECT p.purchased, p.assigned, (SELECT COUNT(*) FROM seat_releases r"
                       " WHERE r.agreement_id = p.agreement_id AND r.level_id = p.level_id AND r.reused_at IS NULL)"
                       " FROM pools p WHERE p.agreement_id = ?1 AND p.level_id = ?2",
                       DB_ARGS(DV_INT(agreement_id), DV_INT(level_id)), read_pool_seats, &p);
    if (e) return e;
    if (!p.found) return OS_ERR_NOT_FOUND;
    *purchased = p.purchased;
    *assigned = p.assigned;
    *freed = p.freed;
    return OS_OK;
}

/* ---- freed seats (the reassignment rule) ---- */

os_err st_seat_release_add(store_conn *c, int64_t agreement_id, int64_t level_id, const char *email,
                           int64_t assigned_at, int64_t now) {
    return db_exec(c,
                   "INSERT INTO seat_releases (agreement_id, level_id, sign_in_email, assigned_at, released_at)"
                   " VALUES (?1, ?2, ?3, ?4, ?5)",
                   DB_ARGS(DV_INT(agreement_id), DV_INT(level_id), DV_TEXT(email), DV_INT(assigned_at), DV_INT(now)),
                   NULL, NULL);
}

os_err st_seat_releases_free(store_conn *c, int64_t agreement_id, int64_t level_id, int64_t *n) {
    return db_scalar_int(c,
                         "SELECT COUNT(*) FROM seat_releases WHERE agreement_id = ?1 AND level_id = ?2"
                         " AND reused_at IS NULL",
                         DB_ARGS(DV_INT(agreement_id), DV_INT(level_id)), n);
}

os_err st_seat_release_reuse(store_conn *c, int64_t agreement_id, int64_t level_id, const char *email,
                             int64_t cutoff, int64_t now, int64_t *earliest) {
    int64_t id;
    /* The person's own freed seat first, then the one assigned longest ago. */
    os_err e = db_scalar_int(c,
                             "SELECT id FROM seat_releases WHERE agreement_id = ?1 AND level_id = ?2"
                             " AND reused_at IS NULL AND (sign_in_email = ?3 OR assigned_at <= ?4)"
                             " ORDER BY sign_in_email = ?3 DESC, assigned_at LIMIT 1",
                             DB_ARGS(DV_INT(agreement_id), DV_INT(level_id), DV_TEXT(email), DV_INT(cutoff)), &id);
    if (e == OS_ERR_NOT_FOUND) {
        *earliest = 0;
        e = db_scalar_int(c,
                          "SELECT MIN(assigned_at) FROM seat_releases WHERE agreement_id = ?1 AND level_id = ?2"
                          " AND reused_at IS NULL",
                          DB_ARGS(DV_INT(agreement_id), DV_INT(level_id)), earliest);
        return e && e != OS_ERR_NOT_FOUND ? e : OS_ERR_NOT_FOUND;
    }
    if (e) return e;
    return db_exec(c, "UPDATE seat_releases SET reused_at = ?2 WHERE id = ?1", DB_ARGS(DV_INT(id), DV_INT(now)), NULL,
                   NULL);
}

os_err st_seat_releases_of(store_conn *c, arena *a, int64_t agreement_id, int64_t level_id, const char *const *emails,
                           int n, const char ***found, int *nfound) {
    rows_ud u = {a, sizeof(const char *), st_fill_text, NULL, 0, 0};
    os_err e = st_query_in(c, a, "SELECT DISTINCT sign_in_email FROM seat_releases WHERE agreement_id = ?1"
                                 " AND level_id = ?2 AND reused_at IS NULL AND sign_in_email IN (",
                           DB_ARGS(DV_INT(agreement_id), DV_INT(level_id)), emails, n, &u);
    *found = u.rows ? (void *)u.rows : arena_alloc(a, sizeof(const char *));
    *nfound = u.n;
    return e;
}

/* ---- the usage series ---- */

os_err st_usage_record(store_conn *c, int64_t agreement_id, int64_t level_id, int64_t now) {
    return db_exec(c,
                   "INSERT INTO usage_changes (agreement_id, level_id, at, assigned_after, purchased)"
                   " SELECT agreement_id, level_id, ?3, assigned, purchased FROM pools"
                   " WHERE agreement_id = ?1 AND level_id = ?2",
                   DB_ARGS(DV_INT(agreement_id), DV_INT(level_id), DV_INT(now)), NULL, NULL);
}

typedef struct usage_ud {
    usage_change_fn fn;
    void *ud;
    int stopped;
} usage_ud;

static int usage_row(void *ud, db_row *r) {
    usage_ud *u = ud;
    usage_change ch = {db_int(r, 0), db_int(r, 1), db_int(r, 2)};
    u->stopped = u->fn(u->ud, &ch);
    return u->stopped;
}

os_err st_usage_each(store_conn *c, int64_t agreement_id, int64_t level_id, usage_change_fn fn, void *ud) {
    usage_ud u = {fn, ud, 0};
    os_err e = db_exec(c,
                       "SELECT at, assigned_after, purchased FROM usage_changes"
                       " WHERE agreement_id = ?1 AND level_id = ?2 ORDER BY at, id",
                       DB_ARGS(DV_INT(agreement_id), DV_INT(level_id)), usage_row, &u);
    return e ? e : (os_err)u.stopped;
}
