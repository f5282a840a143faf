/* store_subscriptions.c — subscriber assignments, pool seats, freed seats and the usage
 * series. Contract in store.h. The subscribers list is the one place SQL is assembled at
 * run time: only from the fixed column table below, every value bound. */
#include <string.h>
#include "core/buf.h"
#include "store.h"
#include "store_util.h"

#define SUB_COLS "s.id, s.uuid, s.agreement_id, s.level_id, l.code, s.name, s.sign_in_email, s.notification_email," \
                 " s.country, s.language, s.downloads, s.reference, s.assigned_at, s.expires_on, s.version"
#define SUB_FROM " FROM subscriptions s JOIN levels l ON l.id = s.level_id"

static void fill_sub(arena *a, db_row *r, void *dst) {
    sub_rec *x = dst;
    x->id = db_int(r, 0);
    x->uuid = st_dup(a, r, 1);
    x->agreement_id = db_int(r, 2);
    x->level_id = db_int(r, 3);
    x->level_code = st_dup(a, r, 4);
    x->name = st_dup(a, r, 5);
    x->sign_in_email = st_dup(a, r, 6);
    x->notification_email = st_dup(a, r, 7);
    x->country = st_dup(a, r, 8);
    x->language = st_dup(a, r, 9);
    x->downloads = db_int(r, 10);
    x->reference = st_dup(a, r, 11);
    x->assigned_at = db_int(r, 12);
    x->expires_on = st_dup(a, r, 13);
    x->version = db_int(r, 14);
}

os_err st_sub_insert(store_conn *c, const sub_rec *in, int64_t now, int64_t *id) {
    return db_scalar_int(c,
                         "INSERT INTO subscriptions (uuid, agreement_id, level_id, name, sign_in_email,"
                         " notification_email, country, language, downloads, reference, assigned_at, expires_on,"
                         " updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?11) RETURNING id",
                         DB_ARGS(DV_TEXT(in->uuid), DV_INT(in->agreement_id), DV_INT(in->level_id), DV_TEXT(in->name),
                                 DV_TEXT(in->sign_in_email), DV_TEXT(in->notification_email), DV_TEXT(in->country),
                                 DV_TEXT(in->language), DV_INT(in->downloads), DV_TEXT(in->reference ? in->reference : ""),
                                 DV_INT(now), DV_TEXT(in->expires_on)),
                         id);
}

os_err st_sub_get(store_conn *c, arena *a, int64_t agreement_id, const char *uuid, sub_rec *out) {
    sub_rec *rows;
    int n;
    os_err e = st_list(c, a, "SELECT " SUB_COLS SUB_FROM " WHERE s.agreement_id = ?1 AND s.uuid = ?2",
                       DB_ARGS(DV_INT(agreement_id), DV_TEXT(uuid)), sizeof(sub_rec), fill_sub, (void **)&rows, &n);
    if (e) return e;
    if (!n) return OS_ERR_NOT_FOUND;
    *out = rows[0];
    return OS_OK;
}

os_err st_sub_update(store_conn *c, const sub_rec *in, int64_t expected_version, int64_t now) {
    int64_t changed = 0;
    os_err e = db_exec_changes(c,
                               "UPDATE subscriptions SET name = ?3, sign_in_email = ?4, notification_email = ?5,"
                               " country = ?6, language = ?7, downloads = ?8, reference = ?9, version = version + 1,"
                               " updated_at = ?10 WHERE id = ?1 AND version = ?2",
                               DB_ARGS(DV_INT(in->id), DV_INT(expected_version), DV_TEXT(in->name),
                                       DV_TEXT(in->sign_in_email), DV_TEXT(in->notification_email), DV_TEXT(in->country),
                                       DV_TEXT(in->language), DV_INT(in->downloads),
                                       DV_TEXT(in->reference ? in->reference : ""), DV_INT(now)),
                               &changed);
    if (e) return e;
    return changed ? OS_OK : OS_ERR_PRECONDITION;
}

os_err st_sub_delete(store_conn *c, int64_t id) {
    return db_exec(c, "DELETE FROM subscriptions WHERE id = ?1", DB_ARGS(DV_INT(id)), NULL, NULL);
}

typedef struct sort_col {
    const char *sql;
    bool integer;
} sort_col;

static const sort_col sort_cols[SUB_SORT_COUNT] = {
    [SUB_SORT_NAME] = {"s.name", false},         [SUB_SORT_EMAIL] = {"s.sign_in_email", false},
    [SUB_SORT_LEVEL] = {"s.level_id", true},  /* levels are created in display order */         [SUB_SORT_ASSIGNED] = {"s.assigned_at", true},
    [SUB_SORT_EXPIRES] = {"s.expires_on", false}, [SUB_SORT_REFERENCE] = {"s.reference", false},
    [SUB_SORT_COUNTRY] = {"s.country", false},   [SUB_SORT_LANGUAGE] = {"s.language", false},
    [SUB_SORT_DOWNLOADS] = {"s.downloads", true},
};

/* WHERE clause shared by the list and its count; parameters ?1..?5 as in sub_args(). */
static void sub_where(buf *b) {
    buf_puts(b, " WHERE s.agreement_id = ?1"
                " AND (?2 IS NULL OR instr(lower(s.name), ?2) > 0 OR instr(s.sign_in_email, ?2) > 0"
                "      OR instr(lower(s.reference), ?2) > 0)"
                " AND (?3 IS NULL OR l.code = ?3) AND (?4 IS NULL OR s.country = ?4)"
                " AND (?5 < 0 OR s.downloads = ?5)");
}

os_err st_sub_list(store_conn *c, arena *a, const sub_query *q, sub_rec **rows, int *n) {
    const sort_col *col = &sort_cols[q->sort < SUB_SORT_COUNT ? q->sort : SUB_SORT_NAME];
    buf b;
    buf_init(&b, a, 4096);
    buf_puts(&b, "SELECT " SUB_COLS SUB_FROM);
    sub_where(&b);
    const char *cmp = q->desc ? "<" : ">";
    if (q->after_id) {
        if (col->integer)
            buf_printf(&b, " AND (%s %s CAST(?6 AS INTEGER) OR (%s = CAST(?6 AS INTEGER) AND s.id %s ?7))", col->sql,
                       cmp, col->sql, cmp);
        else
            buf_printf(&b, " AND (%s %s ?6 OR (%s = ?6 AND s.id %s ?7))", col->sql, cmp, col->sql, cmp);
    } else {
        buf_puts(&b, " AND ?6 IS NULL AND ?7 = 0");
    }
    buf_printf(&b, " ORDER BY %s %s, s.id %s LIMIT ?8", col->sql, q->desc ? "DESC" : "ASC", q->desc ? "DESC" : "ASC");
    if (b.overflow) return OS_ERR_INTERNAL;
    return st_list(c, a, b.data,
                   DB_ARGS(DV_INT(q->agreement_id), DV_TEXT(q->q), DV_TEXT(q->level), DV_TEXT(q->country),
                           DV_INT(q->downloads), DV_TEXT(q->after_id ? q->after_key : NULL), DV_INT(q->after_id),
                           DV_INT(q->limit)),
                   sizeof(sub_rec), fill_sub, (void **)rows, n);
}

os_err st_sub_count(store_conn *c, const sub_query *q, int64_t *total) {
    char mem[1024];
    buf b;
    buf_init_fixed(&b, mem, sizeof mem);
    buf_puts(&b, "SELECT COUNT(*)" SUB_FROM);
    sub_where(&b);
    if (b.overflow) return OS_ERR_INTERNAL;
    return db_scalar_int(c, b.data,
                         DB_ARGS(DV_INT(q->agreement_id), DV_TEXT(q->q), DV_TEXT(q->level), DV_TEXT(q->country),
                                 DV_INT(q->downloads)),
                         total);
}

const char *st_sub_sort_key(arena *a, const sub_rec *r, sub_sort sort) {
    switch (sort) {
    case SUB_SORT_EMAIL: return r->sign_in_email;
    case SUB_SORT_LEVEL: return arena_printf(a, "%lld", (long long)r->level_id);
    case SUB_SORT_ASSIGNED: return arena_printf(a, "%lld", (long long)r->assigned_at);
    case SUB_SORT_EXPIRES: return r->expires_on;
    case SUB_SORT_REFERENCE: return r->reference;
    case SUB_SORT_COUNTRY: return r->country;
    case SUB_SORT_LANGUAGE: return r->language;
    case SUB_SORT_DOWNLOADS: return arena_printf(a, "%lld", (long long)r->downloads);
    default: return r->name;
    }
}

static void fill_my(arena *a, db_row *r, void *dst) {
    my_sub_rec *x = dst;
    x->license_number = st_dup(a, r, 0);
    x->customer_name = st_dup(a, r, 1);
    x->level_code = st_dup(a, r, 2);
    x->name_en = st_dup(a, r, 3);
    x->name_fr = st_dup(a, r, 4);
    x->expires_on = st_dup(a, r, 5);
    x->downloads = db_int(r, 6) != 0;
    x->agreement_end = st_dup(a, r, 7);
    x->disabled = db_int(r, 8) != 0;
    x->agreement_id = db_int(r, 9);
}

os_err st_my_subscriptions(store_conn *c, arena *a, const char *email, my_sub_rec **rows, int *n) {
    return st_list(c, a,
                   "SELECT g.license_number, co.name, l.code, l.name_en, l.name_fr, s.expires_on, s.downloads,"
                   " g.end_date, g.disabled, g.id FROM subscriptions s JOIN agreements g ON g.id = s.agreement_id"
                   " JOIN organizations co ON co.id = g.customer_org_id JOIN levels l ON l.id = s.level_id"
                   " WHERE s.sign_in_email = ?1 ORDER BY co.name, l.sort LIMIT 500",
                   DB_ARGS(DV_TEXT(email)), sizeof(my_sub_rec), fill_my, (void **)rows, n);
}

static void fill_usage(arena *a, db_row *r, void *dst) {
    usage_rec *x = dst;
    x->level_id = db_int(r, 0);
    x->at = db_int(r, 1);
    x->assigned = db_int(r, 2);
    x->purchased = db_int(r, 3);
    x->level_code = st_dup(a, r, 4);
    x->name_en = st_dup(a, r, 5);
    x->name_fr = st_dup(a, r, 6);
}

os_err st_usage_changes(store_conn *c, arena *a, int64_t agreement_id, usage_rec **rows, int *n) {
    return st_list(c, a,
                   "SELECT u.level_id, u.at, u.assigned_after, u.purchased, l.code, l.name_en, l.name_fr"
                   " FROM usage_changes u JOIN levels l ON l.id = u.level_id WHERE u.agreement_id = ?1"
                   " ORDER BY l.sort, u.at, u.id",
                   DB_ARGS(DV_INT(agreement_id)), sizeof(usage_rec), fill_usage, (void **)rows, n);
}

/* ---- seats ---- */

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

os_err st_usage_record(store_conn *c, int64_t agreement_id, int64_t level_id, int64_t now) {
    return db_exec(c,
                   "INSERT INTO usage_changes (agreement_id, level_id, at, assigned_after, purchased)"
                   " SELECT agreement_id, level_id, ?3, assigned, purchased FROM pools"
                   " WHERE agreement_id = ?1 AND level_id = ?2",
                   DB_ARGS(DV_INT(agreement_id), DV_INT(level_id), DV_INT(now)), NULL, NULL);
}

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
        db_scalar_int(c,
                      "SELECT MIN(assigned_at) FROM seat_releases WHERE agreement_id = ?1 AND level_id = ?2"
                      " AND reused_at IS NULL",
                      DB_ARGS(DV_INT(agreement_id), DV_INT(level_id)), earliest);
        return OS_ERR_NOT_FOUND;
    }
    if (e) return e;
    return db_exec(c, "UPDATE seat_releases SET reused_at = ?2 WHERE id = ?1", DB_ARGS(DV_INT(id), DV_INT(now)), NULL,
                   NULL);
}
