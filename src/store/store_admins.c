/* store_admins.c — agreement admins and admin invitations: roles granted, changed and
 * removed (never the last super admin), invitations sent, withdrawn and claimed at
 * sign-in. Contract in store.h (admins and invitations). */
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
