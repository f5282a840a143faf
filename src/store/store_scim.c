/* store_scim.c — an identity provider's users, groups, memberships, group → seat rules and
 * the seats provisioned through them. Contract in store.h (SCIM provisioning). */
#include <string.h>
#include "store.h"
#include "store_util.h"

#define USER_COLS                                                                                      \
    "id, agreement_id, uuid, user_name, external_id, email, display_name, resource, active, created_at," \
    " updated_at, version"

static void fill_user(arena *a, db_row *r, void *dst) {
    scim_user_rec *u = dst;
    u->id = db_int(r, 0);
    u->agreement_id = db_int(r, 1);
    u->uuid = st_dup(a, r, 2);
    u->user_name = st_dup(a, r, 3);
    u->external_id = st_dup(a, r, 4);
    u->email = st_dup(a, r, 5);
    u->display_name = st_dup(a, r, 6);
    u->resource = st_dup(a, r, 7);
    u->active = db_int(r, 8) != 0;
    u->created_at = db_int(r, 9);
    u->updated_at = db_int(r, 10);
    u->version = db_int(r, 11);
}

#define GROUP_COLS "id, agreement_id, uuid, display_name, external_id, created_at, updated_at, version"

static void fill_group(arena *a, db_row *r, void *dst) {
    scim_group_rec *g = dst;
    g->id = db_int(r, 0);
    g->agreement_id = db_int(r, 1);
    g->uuid = st_dup(a, r, 2);
    g->display_name = st_dup(a, r, 3);
    g->external_id = st_dup(a, r, 4);
    g->created_at = db_int(r, 5);
    g->updated_at = db_int(r, 6);
    g->version = db_int(r, 7);
}

static os_err one(os_err e, int n) { return e ? e : n ? OS_OK : OS_ERR_NOT_FOUND; }

os_err st_scim_user_insert(store_conn *c, const scim_user_rec *u, int64_t *id) {
    return db_scalar_int(c,
                         "INSERT INTO scim_users (agreement_id, uuid, user_name, user_name_key, external_id, email,"
                         " display_name, active, resource, created_at, updated_at, version)"
                         " VALUES (?1, ?2, ?3, lower(?3), ?4, ?5, ?6, ?7, ?8, ?9, ?9, 1) RETURNING id",
                         DB_ARGS(DV_INT(u->agreement_id), DV_TEXT(u->uuid), DV_TEXT(u->user_name),
                                 DV_TEXT(u->external_id), DV_TEXT(u->email), DV_TEXT(u->display_name),
                                 DV_INT(u->active), DV_TEXT(u->resource), DV_INT(u->created_at)),
                         id);
}

os_err st_scim_user_update(store_conn *c, const scim_user_rec *u) {
    return db_exec(c,
                   "UPDATE scim_users SET user_name = ?3, user_name_key = lower(?3), external_id = ?4, email = ?5,"
                   " display_name = ?6, active = ?7, resource = ?8, updated_at = ?9, version = version + 1"
                   " WHERE agreement_id = ?1 AND id = ?2",
                   DB_ARGS(DV_INT(u->agreement_id), DV_INT(u->id), DV_TEXT(u->user_name), DV_TEXT(u->external_id),
                           DV_TEXT(u->email), DV_TEXT(u->display_name), DV_INT(u->active), DV_TEXT(u->resource),
                           DV_INT(u->updated_at)),
                   NULL, NULL);
}

os_err st_scim_user_leave_groups(store_conn *c, int64_t id) {
    return db_exec(c, "DELETE FROM scim_members WHERE kind = 'u' AND member_id = ?1", DB_ARGS(DV_INT(id)), NULL, NULL);
}

os_err st_scim_user_delete(store_conn *c, int64_t agreement_id, int64_t id) {
    os_err e = st_scim_user_leave_groups(c, id);
    if (!e)
        e = db_exec(c, "DELETE FROM scim_users WHERE id = ?2 AND +agreement_id = ?1",
                    DB_ARGS(DV_INT(agreement_id), DV_INT(id)), NULL, NULL);
    return e;
}

os_err st_scim_user_get(store_conn *c, arena *a, int64_t agreement_id, const char *uuid, scim_user_rec *out) {
    scim_user_rec *rows;
    int n;
    os_err e = st_list(c, a, "SELECT " USER_COLS " FROM scim_users WHERE uuid = ?2 AND +agreement_id = ?1",
                       DB_ARGS(DV_INT(agreement_id), DV_TEXT(uuid)), sizeof *rows, fill_user, (void **)&rows, &n);
    if (!e && n) *out = rows[0];
    return one(e, n);
}

os_err st_scim_user_by_id(store_conn *c, arena *a, int64_t agreement_id, int64_t id, scim_user_rec *out) {
    scim_user_rec *rows;
    int n;
    /* By its key; `+agreement_id` is no indexed column, so PostgreSQL's one plan cannot walk
     * the agreement's users instead (store_sub_rows.c, st_sub_get, says why it did). */
    os_err e = st_list(c, a, "SELECT " USER_COLS " FROM scim_users WHERE id = ?2 AND +agreement_id = ?1",
                       DB_ARGS(DV_INT(agreement_id), DV_INT(id)), sizeof *rows, fill_user, (void **)&rows, &n);
    if (!e && n) *out = rows[0];
    return one(e, n);
}

/* The WHERE of a list: the agreement, and the filter's column (the e-mail and userName are
 * compared case-folded, as SCIM says of those attributes). */
static const char *filter_sql(scim_filter_attr f) {
    switch (f) {
    case SCIM_F_USER_NAME: return " WHERE agreement_id = ?1 AND user_name_key = lower(?2)";
    case SCIM_F_EXTERNAL_ID: return " WHERE agreement_id = ?1 AND external_id = ?2";
    case SCIM_F_EMAIL: return " WHERE agreement_id = ?1 AND email = lower(?2)";
    case SCIM_F_DISPLAY_NAME: return " WHERE agreement_id = ?1 AND display_key = lower(?2)";
    case SCIM_F_NONE: break;
    }
    return " WHERE agreement_id = ?1 AND CAST(?2 AS TEXT) IS NULL";   /* typed: PostgreSQL must know ?2 */
}

static os_err list(store_conn *c, arena *a, const char *cols, const char *table, size_t elem, row_fill_fn fill,
                   int64_t agreement_id, scim_filter_attr f, const char *value, int64_t offset, int limit,
                   void **rows, int *n, int64_t *total) {
    const char *where = filter_sql(f);
    const char *v = f == SCIM_F_NONE ? NULL : value;
    os_err e = db_scalar_int(c, arena_printf(a, "SELECT COUNT(*) FROM %s%s", table, where),
                             DB_ARGS(DV_INT(agreement_id), DV_TEXT(v)), total);
    if (!e)
        e = st_list(c, a, arena_printf(a, "SELECT %s FROM %s%s ORDER BY id LIMIT ?3 OFFSET ?4", cols, table, where),
                    DB_ARGS(DV_INT(agreement_id), DV_TEXT(v), DV_INT(limit), DV_INT(offset)), elem, fill, rows, n);
    return e;
}

os_err st_scim_users_list(store_conn *c, arena *a, int64_t agreement_id, scim_filter_attr f, const char *value,
                          int64_t offset, int limit, scim_user_rec **rows, int *n, int64_t *total) {
    return list(c, a, USER_COLS, "scim_users", sizeof **rows, fill_user, agreement_id, f, value, offset, limit,
                (void **)rows, n, total);
}

os_err st_scim_group_insert(store_conn *c, const scim_group_rec *g, int64_t *id) {
    return db_scalar_int(c,
                         "INSERT INTO scim_groups (agreement_id, uuid, display_name, display_key, external_id,"
                         " created_at, updated_at, version) VALUES (?1, ?2, ?3, lower(?3), ?4, ?5, ?5, 1)"
                         " RETURNING id",
                         DB_ARGS(DV_INT(g->agreement_id), DV_TEXT(g->uuid), DV_TEXT(g->display_name),
                                 DV_TEXT(g->external_id), DV_INT(g->created_at)),
                         id);
}

os_err st_scim_group_update(store_conn *c, const scim_group_rec *g) {
    return db_exec(c,
                   "UPDATE scim_groups SET display_name = ?3, display_key = lower(?3), external_id = ?4,"
                   " updated_at = ?5, version = version + 1 WHERE agreement_id = ?1 AND id = ?2",
                   DB_ARGS(DV_INT(g->agreement_id), DV_INT(g->id), DV_TEXT(g->display_name),
                           DV_TEXT(g->external_id), DV_INT(g->updated_at)),
                   NULL, NULL);
}

os_err st_scim_group_delete(store_conn *c, int64_t agreement_id, int64_t id) {
    os_err e = db_exec(c, "DELETE FROM scim_members WHERE kind = 'g' AND member_id = ?1", DB_ARGS(DV_INT(id)), NULL,
                       NULL);
    if (!e) e = st_scim_members_clear(c, id);
    if (!e)
        e = db_exec(c, "DELETE FROM scim_mappings WHERE agreement_id = ?1 AND group_id = ?2",
                    DB_ARGS(DV_INT(agreement_id), DV_INT(id)), NULL, NULL);
    if (!e)
        e = db_exec(c, "DELETE FROM scim_groups WHERE agreement_id = ?1 AND id = ?2",
                    DB_ARGS(DV_INT(agreement_id), DV_INT(id)), NULL, NULL);
    return e;
}

os_err st_scim_group_get(store_conn *c, arena *a, int64_t agreement_id, const char *uuid, scim_group_rec *out) {
    scim_group_rec *rows;
    int n;
    os_err e = st_list(c, a, "SELECT " GROUP_COLS " FROM scim_groups WHERE agreement_id = ?1 AND uuid = ?2",
                       DB_ARGS(DV_INT(agreement_id), DV_TEXT(uuid)), sizeof *rows, fill_group, (void **)&rows, &n);
    if (!e && n) *out = rows[0];
    return one(e, n);
}

os_err st_scim_groups_list(store_conn *c, arena *a, int64_t agreement_id, scim_filter_attr f, const char *value,
                           int64_t offset, int limit, scim_group_rec **rows, int *n, int64_t *total) {
    return list(c, a, GROUP_COLS, "scim_groups", sizeof **rows, fill_group, agreement_id, f, value, offset, limit,
                (void **)rows, n, total);
}

static void fill_member(arena *a, db_row *r, void *dst) {
    scim_member_rec *m = dst;
    const char *k = db_text(r, 0);
    m->kind = k ? k[0] : 'u';
    m->id = db_int(r, 1);
    m->uuid = st_dup(a, r, 2);
    m->display = st_dup(a, r, 3);
}

os_err st_scim_members(store_conn *c, arena *a, int64_t group_id, int limit, scim_member_rec **rows, int *n) {
    return st_list(c, a,
                   "SELECT m.kind, m.member_id, COALESCE(u.uuid, g.uuid), COALESCE(u.display_name, u.user_name,"
                   " g.display_name) FROM scim_members m"
                   " LEFT JOIN scim_users u ON m.kind = 'u' AND u.id = m.member_id"
                   " LEFT JOIN scim_groups g ON m.kind = 'g' AND g.id = m.member_id"
                   " WHERE m.group_id = ?1 ORDER BY m.kind DESC, m.member_id LIMIT ?2",
                   DB_ARGS(DV_INT(group_id), DV_INT(limit)), sizeof **rows, fill_member, (void **)rows, n);
}

os_err st_scim_member_add(store_conn *c, int64_t group_id, char kind, int64_t member_id) {
    const char *k = kind == 'g' ? "g" : "u";
    return db_exec(c,
                   "INSERT INTO scim_members (group_id, kind, member_id) VALUES (?1, ?2, ?3)"
                   " ON CONFLICT DO NOTHING",
                   DB_ARGS(DV_INT(group_id), DV_TEXT(k), DV_INT(member_id)), NULL, NULL);
}

os_err st_scim_members_clear(store_conn *c, int64_t group_id) {
    return db_exec(c, "DELETE FROM scim_members WHERE group_id = ?1", DB_ARGS(DV_INT(group_id)), NULL, NULL);
}

static int read_kind_id(void *ud, db_row *r) {
    void **p = ud;
    const char *k = db_text(r, 0);
    *(char *)p[0] = k ? k[0] : 0;
    *(int64_t *)p[1] = db_int(r, 1);
    return 1;
}

os_err st_scim_resolve(store_conn *c, int64_t agreement_id, const char *uuid, char *kind, int64_t *id) {
    *kind = 0;
    void *ud[2] = {kind, id};
    os_err e = db_exec(c,
                       /* By the uuids' indexes (`+agreement_id`: see st_scim_user_by_id). */
                       "SELECT 'u', id FROM scim_users WHERE uuid = ?2 AND +agreement_id = ?1"
                       " UNION ALL SELECT 'g', id FROM scim_groups WHERE uuid = ?2 AND +agreement_id = ?1",
                       DB_ARGS(DV_INT(agreement_id), DV_TEXT(uuid)), read_kind_id, ud);
    return e ? e : *kind ? OS_OK : OS_ERR_NOT_FOUND;
}

static void fill_id(arena *a, db_row *r, void *dst) { *(int64_t *)dst = db_int(r, 0); }

os_err st_scim_users_under(store_conn *c, arena *a, int64_t group_id, int64_t **ids, int *n) {
    /* UNION, not UNION ALL: a group met twice (a cycle) adds no row, so the walk ends. */
    return st_list(c, a,
                   "WITH RECURSIVE g(id) AS (SELECT ?1 UNION SELECT m.member_id FROM scim_members m"
                   " JOIN g ON m.group_id = g.id AND m.kind = 'g')"
                   " SELECT DISTINCT m.member_id FROM scim_members m JOIN g ON m.group_id = g.id"
                   " WHERE m.kind = 'u' ORDER BY 1",
                   DB_ARGS(DV_INT(group_id)), sizeof **ids, fill_id, (void **)ids, n);
}

static void fill_mapping(arena *a, db_row *r, void *dst) {
    scim_mapping_rec *m = dst;
    m->id = db_int(r, 0);
    m->group_id = db_int(r, 1);
    m->group_uuid = st_dup(a, r, 2);
    m->group_name = st_dup(a, r, 3);
    m->level_code = st_dup(a, r, 4);
    m->language = st_dup(a, r, 5);
    m->country = st_dup(a, r, 6);
    m->downloads = (int)db_int(r, 7);
    m->created_at = db_int(r, 8);
}

#define MAPPING_COLS                                                                                    \
    "p.id, p.group_id, g.uuid, g.display_name, p.level_code, p.language, p.country, p.downloads, p.created_at"

os_err st_scim_user_wants(store_conn *c, arena *a, int64_t user_id, scim_mapping_rec **rows, int *n) {
    return st_list(c, a,
                   "WITH RECURSIVE up(id) AS (SELECT group_id FROM scim_members WHERE kind = 'u' AND member_id = ?1"
                   " UNION SELECT m.group_id FROM scim_members m JOIN up ON m.kind = 'g' AND m.member_id = up.id)"
                   " SELECT " MAPPING_COLS " FROM scim_mappings p JOIN up ON p.group_id = up.id"
                   " JOIN scim_groups g ON g.id = p.group_id ORDER BY p.level_code, p.id",
                   DB_ARGS(DV_INT(user_id)), sizeof **rows, fill_mapping, (void **)rows, n);
}

static void fill_seat(arena *a, db_row *r, void *dst) {
    scim_seat_rec *s = dst;
    s->level_code = st_dup(a, r, 0);
    s->sub_uuid = st_dup(a, r, 1);
}

os_err st_scim_seats(store_conn *c, arena *a, int64_t user_id, scim_seat_rec **rows, int *n) {
    return st_list(c, a, "SELECT level_code, sub_uuid FROM scim_seats WHERE scim_user_id = ?1 ORDER BY level_code",
                   DB_ARGS(DV_INT(user_id)), sizeof **rows, fill_seat, (void **)rows, n);
}

os_err st_scim_seat_add(store_conn *c, int64_t user_id, const char *level_code, const char *sub_uuid) {
    return db_exec(c, "INSERT INTO scim_seats (scim_user_id, level_code, sub_uuid) VALUES (?1, ?2, ?3)",
                   DB_ARGS(DV_INT(user_id), DV_TEXT(level_code), DV_TEXT(sub_uuid)), NULL, NULL);
}

os_err st_scim_seat_delete(store_conn *c, int64_t user_id, const char *level_code) {
    return db_exec(c, "DELETE FROM scim_seats WHERE scim_user_id = ?1 AND level_code = ?2",
                   DB_ARGS(DV_INT(user_id), DV_TEXT(level_code)), NULL, NULL);
}

os_err st_scim_mappings(store_conn *c, arena *a, int64_t agreement_id, scim_mapping_rec **rows, int *n) {
    return st_list(c, a,
                   "SELECT " MAPPING_COLS " FROM scim_mappings p JOIN scim_groups g ON g.id = p.group_id"
                   " WHERE p.agreement_id = ?1 ORDER BY p.id",
                   DB_ARGS(DV_INT(agreement_id)), sizeof **rows, fill_mapping, (void **)rows, n);
}

os_err st_scim_mapping_put(store_conn *c, int64_t agreement_id, const scim_mapping_rec *m, int64_t now, int64_t *id) {
    return db_scalar_int(c,
                         "INSERT INTO scim_mappings (agreement_id, group_id, level_code, language, country, downloads,"
                         " created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (group_id) DO UPDATE SET"
                         " level_code = excluded.level_code, language = excluded.language,"
                         " country = excluded.country, downloads = excluded.downloads RETURNING id",
                         DB_ARGS(DV_INT(agreement_id), DV_INT(m->group_id), DV_TEXT(m->level_code),
                                 DV_TEXT(m->language), DV_TEXT(m->country), DV_INT(m->downloads), DV_INT(now)),
                         id);
}

os_err st_scim_mapping_delete(store_conn *c, int64_t agreement_id, int64_t id, int64_t *group_id) {
    *group_id = 0;
    os_err e = db_scalar_int(c, "DELETE FROM scim_mappings WHERE agreement_id = ?1 AND id = ?2 RETURNING group_id",
                             DB_ARGS(DV_INT(agreement_id), DV_INT(id)), group_id);
    return e;
}

os_err st_scim_seat_holder(store_conn *c, int64_t agreement_id, const char *sub_uuid, int64_t *user_id) {
    return db_scalar_int(c,
                         "SELECT s.scim_user_id FROM scim_seats s JOIN scim_users u ON u.id = s.scim_user_id"
                         " WHERE s.sub_uuid = ?2 AND u.agreement_id = ?1 LIMIT 1",
                         DB_ARGS(DV_INT(agreement_id), DV_TEXT(sub_uuid)), user_id);
}

/* ---- refusals and their daily summary ---- */

os_err st_scim_refusal_record(store_conn *c, int64_t agreement_id, int64_t user_id, const char *level_code,
                              const char *group_name, const char *reason, int64_t now) {
    return db_exec(c,
                   "INSERT INTO scim_refusals (agreement_id, scim_user_id, level_code, group_name, reason, first_at,"
                   " last_at, times) SELECT ?1, u.id, ?3, ?4, ?5, ?6, ?6, 1 FROM scim_users u"
                   " WHERE u.id = ?2 AND u.agreement_id = ?1"
                   " ON CONFLICT (scim_user_id, level_code) DO UPDATE SET group_name = excluded.group_name,"
                   " reason = excluded.reason, last_at = excluded.last_at, times = scim_refusals.times + 1",
                   DB_ARGS(DV_INT(agreement_id), DV_INT(user_id), DV_TEXT(level_code), DV_TEXT(group_name),
                           DV_TEXT(reason), DV_INT(now)),
                   NULL, NULL);
}

os_err st_scim_refusal_clear(store_conn *c, int64_t user_id, const char *level_code) {
    return db_exec(c, "DELETE FROM scim_refusals WHERE scim_user_id = ?1 AND level_code = ?2",
                   DB_ARGS(DV_INT(user_id), DV_TEXT(level_code)), NULL, NULL);
}

os_err st_scim_refusals_prune(store_conn *c, int64_t before) {
    return db_exec(c, "DELETE FROM scim_refusals WHERE last_at < ?1", DB_ARGS(DV_INT(before)), NULL, NULL);
}

os_err st_scim_refusal_agreements(store_conn *c, arena *a, int64_t since, const char *day, int limit, int64_t **ids,
                                  int *n) {
    return st_list(c, a,
                   "SELECT DISTINCT r.agreement_id FROM scim_refusals r"
                   " LEFT JOIN scim_refusal_summaries s ON s.agreement_id = r.agreement_id"
                   " WHERE r.last_at > ?1 AND (s.day IS NULL OR (s.day < ?2 AND r.last_at >= s.sent_at))"
                   " ORDER BY 1 LIMIT ?3",
                   DB_ARGS(DV_INT(since), DV_TEXT(day), DV_INT(limit)), sizeof **ids, fill_id, (void **)ids, n);
}

os_err st_scim_refusal_summary_claim(store_conn *c, int64_t agreement_id, const char *day, int64_t now,
                                     int64_t *previous, bool *claimed) {
    *previous = 0;
    *claimed = false;
    os_err e = db_scalar_int(c, "SELECT sent_at FROM scim_refusal_summaries WHERE agreement_id = ?1",
                             DB_ARGS(DV_INT(agreement_id)), previous);
    if (e && e != OS_ERR_NOT_FOUND) return e;
    int64_t changed = 0;
    e = db_exec_changes(c,
                        "INSERT INTO scim_refusal_summaries (agreement_id, day, sent_at) VALUES (?1, ?2, ?3)"
                        " ON CONFLICT (agreement_id) DO UPDATE SET day = excluded.day, sent_at = excluded.sent_at"
                        " WHERE scim_refusal_summaries.day < excluded.day",
                        DB_ARGS(DV_INT(agreement_id), DV_TEXT(day), DV_INT(now)), &changed);
    *claimed = changed > 0;
    return e;
}

static void fill_refusal(arena *a, db_row *r, void *dst) {
    scim_refusal_rec *f = dst;
    f->user_name = st_dup(a, r, 0);
    f->display_name = st_dup(a, r, 1);
    f->email = st_dup(a, r, 2);
    f->level_code = st_dup(a, r, 3);
    f->level_en = st_dup(a, r, 4);
    f->level_fr = st_dup(a, r, 5);
    f->group_name = st_dup(a, r, 6);
    f->reason = st_dup(a, r, 7);
    f->first_at = db_int(r, 8);
    f->last_at = db_int(r, 9);
    f->times = db_int(r, 10);
}

os_err st_scim_refusals_since(store_conn *c, arena *a, int64_t agreement_id, int64_t since, int limit,
                              scim_refusal_rec **rows, int *n) {
    return st_list(c, a,
                   "SELECT u.user_name, u.display_name, u.email, r.level_code, COALESCE(l.name_en, r.level_code),"
                   " COALESCE(l.name_fr, r.level_code), r.group_name, r.reason, r.first_at, r.last_at, r.times"
                   " FROM scim_refusals r JOIN scim_users u ON u.id = r.scim_user_id"
                   " LEFT JOIN levels l ON l.code = r.level_code"
                   " WHERE r.agreement_id = ?1 AND u.agreement_id = ?1 AND r.last_at >= ?2"
                   " ORDER BY u.user_name_key, r.level_code LIMIT ?3",
                   DB_ARGS(DV_INT(agreement_id), DV_INT(since), DV_INT(limit)), sizeof **rows, fill_refusal,
                   (void **)rows, n);
}

os_err st_scim_live_seats(store_conn *c, arena *a, int64_t agreement_id, int64_t user_id, scim_seat_rec **rows,
                          int *n) {
    return st_list(c, a,
                   /* The subscription is looked up per seat by its uuid: as a join, PostgreSQL's
                    * one plan (made when the tables were empty) walked every subscription of
                    * the agreement for each user, and a 10,000-member rule took minutes. */
                   "SELECT s.level_code, s.sub_uuid FROM scim_seats s WHERE s.scim_user_id = ?1"
                   " AND (SELECT b.agreement_id FROM subscriptions b WHERE b.uuid = s.sub_uuid) = ?2"
                   " ORDER BY s.level_code",
                   DB_ARGS(DV_INT(user_id), DV_INT(agreement_id)), sizeof **rows, fill_seat, (void **)rows, n);
}

static void fill_group_count(arena *a, db_row *r, void *dst) {
    scim_group_count_rec *g = dst;
    g->uuid = st_dup(a, r, 0);
    g->display_name = st_dup(a, r, 1);
    g->members = db_int(r, 2);
    g->active = db_int(r, 3);
}

os_err st_scim_group_counts(store_conn *c, arena *a, int64_t agreement_id, int limit, scim_group_count_rec **rows,
                            int *n, int64_t *total) {
    os_err e = db_scalar_int(c, "SELECT COUNT(*) FROM scim_groups WHERE agreement_id = ?1",
                             DB_ARGS(DV_INT(agreement_id)), total);
    if (e) return e;
    /* Each group's reach (itself and the groups under it, cycles ending as in users_under),
     * then the distinct users in it: one statement for the page of groups. */
    return st_list(c, a,
                   "WITH RECURSIVE top(id) AS (SELECT id FROM scim_groups WHERE agreement_id = ?1"
                   " ORDER BY display_key, id LIMIT ?2),"
                   " reach(root, id) AS (SELECT id, id FROM top UNION SELECT r.root, m.member_id FROM scim_members m"
                   " JOIN reach r ON m.group_id = r.id AND m.kind = 'g'),"
                   " n(root, members, active) AS (SELECT r.root, COUNT(DISTINCT u.id),"
                   " COUNT(DISTINCT CASE WHEN u.active = 1 THEN u.id END) FROM reach r"
                   " JOIN scim_members m ON m.group_id = r.id AND m.kind = 'u'"
                   " JOIN scim_users u ON u.id = m.member_id GROUP BY r.root)"
                   " SELECT g.uuid, g.display_name, COALESCE(n.members, 0), COALESCE(n.active, 0)"
                   " FROM top JOIN scim_groups g ON g.id = top.id LEFT JOIN n ON n.root = g.id"
                   " ORDER BY g.display_key, g.id",
                   DB_ARGS(DV_INT(agreement_id), DV_INT(limit)), sizeof **rows, fill_group_count, (void **)rows, n);
}
