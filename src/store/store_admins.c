/* store_admins.c — agreement admins, admin invitations, and the agreement's activity
 * (audit trail). Contract in store.h. */
#include "store.h"
#include "store_util.h"

static void fill_admin(arena *a, db_row *r, void *dst) {
    admin_rec *x = dst;
    x->id = db_int(r, 0);
    x->name = st_dup(a, r, 1);
    x->email = st_dup(a, r, 2);
    x->role = st_dup(a, r, 3);
    x->since = db_int(r, 4);
    x->pending = db_int(r, 5) != 0;
}

os_err st_admins(store_conn *c, arena *a, int64_t agreement_id, admin_rec **rows, int *n) {
    return st_list(c, a,
                   "SELECT u.id, u.name, u.email, ar.role, ar.granted_at, 0 FROM admin_roles ar"
                   " JOIN users u ON u.id = ar.user_id WHERE ar.agreement_id = ?1"
                   " UNION ALL SELECT i.id, i.name, i.email, i.role, i.invited_at, 1 FROM admin_invites i"
                   " WHERE i.agreement_id = ?1 ORDER BY 6, 4 DESC, 3",
                   DB_ARGS(DV_INT(agreement_id)), sizeof(admin_rec), fill_admin, (void **)rows, n);
}

os_err st_admin_set(store_conn *c, int64_t agreement_id, int64_t user_id, const char *role, int64_t by, int64_t now) {
    return db_exec(c,
                   "INSERT INTO admin_roles (agreement_id, user_id, role, granted_at, granted_by) VALUES (?1, ?2, ?3, ?4, ?5)"
                   " ON CONFLICT (agreement_id, user_id) DO UPDATE SET role = excluded.role",
                   DB_ARGS(DV_INT(agreement_id), DV_INT(user_id), DV_TEXT(role), DV_INT(now), DV_INT(by)), NULL, NULL);
}

os_err st_admin_invite(store_conn *c, int64_t agreement_id, const char *email, const char *name, const char *role,
                       const char *language, int64_t by, int64_t now) {
    return db_exec(c,
                   "INSERT INTO admin_invites (agreement_id, email, name, role, language, invited_by, invited_at)"
                   " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (agreement_id, email) DO UPDATE SET"
                   " name = excluded.name, role = excluded.role, language = excluded.language, invited_at = excluded.invited_at",
                   DB_ARGS(DV_INT(agreement_id), DV_TEXT(email), DV_TEXT(name), DV_TEXT(role), DV_TEXT(language),
                           DV_INT(by), DV_INT(now)),
                   NULL, NULL);
}

os_err st_super_admin_count(store_conn *c, int64_t agreement_id, int64_t *n) {
    return db_scalar_int(c, "SELECT COUNT(*) FROM admin_roles WHERE agreement_id = ?1 AND role = 'super_admin'",
                         DB_ARGS(DV_INT(agreement_id)), n);
}

os_err st_admin_remove(store_conn *c, int64_t agreement_id, int64_t user_id) {
    int64_t changed = 0;
    /* The guard is in the statement itself, so two concurrent removals cannot both pass it. */
    os_err e = db_exec_changes(c,
                               "DELETE FROM admin_roles WHERE agreement_id = ?1 AND user_id = ?2"
                               " AND (role <> 'super_admin' OR (SELECT COUNT(*) FROM admin_roles"
                               "      WHERE agreement_id = ?1 AND role = 'super_admin') > 1)",
                               DB_ARGS(DV_INT(agreement_id), DV_INT(user_id)), &changed);
    if (e || changed) return e;
    int64_t exists = 0;
    e = db_scalar_int(c, "SELECT COUNT(*) FROM admin_roles WHERE agreement_id = ?1 AND user_id = ?2",
                      DB_ARGS(DV_INT(agreement_id), DV_INT(user_id)), &exists);
    if (e) return e;
    return exists ? OS_ERR_CONFLICT : OS_ERR_NOT_FOUND;
}

os_err st_admin_invite_remove(store_conn *c, int64_t agreement_id, int64_t invite_id) {
    int64_t changed = 0;
    os_err e = db_exec_changes(c, "DELETE FROM admin_invites WHERE agreement_id = ?1 AND id = ?2",
                               DB_ARGS(DV_INT(agreement_id), DV_INT(invite_id)), &changed);
    return e ? e : changed ? OS_OK : OS_ERR_NOT_FOUND;
}

static void fill_id(arena *a, db_row *r, void *dst) {
    (void)a;
    *(int64_t *)dst = db_int(r, 0);
}

os_err st_admin_claim_invites(store_conn *c, arena *a, int64_t user_id, const char *email, int64_t now,
                              int64_t **agreements, int *n) {
    os_err e = st_list(c, a,
                       "INSERT INTO admin_roles (agreement_id, user_id, role, granted_at, granted_by)"
                       " SELECT agreement_id, ?1, role, ?3, invited_by FROM admin_invites WHERE email = ?2"
                       " ON CONFLICT (agreement_id, user_id) DO NOTHING RETURNING agreement_id",
                       DB_ARGS(DV_INT(user_id), DV_TEXT(email), DV_INT(now)), sizeof(int64_t), fill_id,
                       (void **)agreements, n);
    if (!e) e = db_exec(c, "DELETE FROM admin_invites WHERE email = ?1", DB_ARGS(DV_TEXT(email)), NULL, NULL);
    return e;
}

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

typedef struct state_ud {
    arena *a;
    int64_t id;
    const char *end;
    bool disabled, found;
} state_ud;

static int state_row(void *ud, db_row *r) {
    state_ud *s = ud;
    s->id = db_int(r, 0);
    s->end = st_dup(s->a, r, 1);
    s->disabled = db_int(r, 2) != 0;
    s->found = true;
    return 1;
}

os_err st_agreement_state(store_conn *c, arena *a, const char *license_number, int64_t *id, const char **end_date,
                          bool *disabled) {
    state_ud s = {a, 0, NULL, false, false};
    os_err e = db_exec(c, "SELECT id, end_date, disabled FROM agreements WHERE license_number = ?1",
                       DB_ARGS(DV_TEXT(license_number)), state_row, &s);
    if (e) return e;
    if (!s.found) return OS_ERR_NOT_FOUND;
    *id = s.id;
    *end_date = s.end;
    *disabled = s.disabled;
    return OS_OK;
}

static void fill_ending(arena *a, db_row *r, void *dst) {
    agreement_rec *g = dst;
    g->id = db_int(r, 0);
    g->license_number = st_dup(a, r, 1);
    g->end_date = st_dup(a, r, 2);
    g->customer_name = st_dup(a, r, 3);
}

os_err st_agreements_ending(store_conn *c, arena *a, const char *from, const char *until, agreement_rec **rows, int *n) {
    return st_list(c, a,
                   "SELECT g.id, g.license_number, g.end_date, co.name FROM agreements g"
                   " JOIN organizations co ON co.id = g.customer_org_id"
                   " WHERE g.disabled = 0 AND g.end_date >= ?1 AND g.end_date <= ?2 ORDER BY g.end_date LIMIT 10000",
                   DB_ARGS(DV_TEXT(from), DV_TEXT(until)), sizeof(agreement_rec), fill_ending, (void **)rows, n);
}

os_err st_expiry_notice_claim(store_conn *c, int64_t agreement_id, int days, int64_t now, bool *claimed) {
    int64_t changed = 0;
    os_err e = db_exec_changes(c,
                               "INSERT INTO expiry_notices (agreement_id, days, sent_at) VALUES (?1, ?2, ?3)"
                               " ON CONFLICT (agreement_id, days) DO NOTHING",
                               DB_ARGS(DV_INT(agreement_id), DV_INT(days), DV_INT(now)), &changed);
    *claimed = changed > 0;
    return e;
}

os_err st_admin_recipients(store_conn *c, arena *a, int64_t agreement_id, recipient_rec **rows, int *n) {
    return st_list(c, a,
                   "SELECT u.email, u.name, u.language FROM admin_roles ar JOIN users u ON u.id = ar.user_id"
                   " WHERE ar.agreement_id = ?1 ORDER BY u.email",
                   DB_ARGS(DV_INT(agreement_id)), sizeof(recipient_rec), st_fill_recipient, (void **)rows, n);
}
