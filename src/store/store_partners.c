/* store_partners.c — partner access grants, the customer's blocks of a partner, the
 * customer side's mail recipients, and who someone is to an agreement (their role; whether
 * they are known at all). Contract in store.h (partner access to the portal). */
#include "store.h"
#include "store_util.h"

os_err st_partner_grant(store_conn *c, int64_t agreement_id, int64_t user_id, int64_t org_id, const char *route,
                        int64_t attested_at, int64_t now, int64_t *id) {
    bool live = false;
    int64_t existing;
    os_err e = db_scalar_int(c, "SELECT id FROM partner_access WHERE agreement_id = ?1 AND user_id = ?2 AND removed_at IS NULL",
                             DB_ARGS(DV_INT(agreement_id), DV_INT(user_id)), &existing);
    if (e == OS_OK) live = true;
    else if (e != OS_ERR_NOT_FOUND) return e;
    if (live) { *id = existing; return OS_ERR_CONFLICT; }
    return db_scalar_int(c,
                         "INSERT INTO partner_access (agreement_id, user_id, partner_org_id, route, granted_at, attested_at)"
                         " VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id",
                         DB_ARGS(DV_INT(agreement_id), DV_INT(user_id), DV_INT(org_id), DV_TEXT(route), DV_INT(now),
                                 attested_at ? DV_INT(attested_at) : DV_NULL),
                         id);
}

os_err st_partner_blocked(store_conn *c, int64_t agreement_id, int64_t org_id, bool *blocked) {
    int64_t n = 0;
    os_err e = db_scalar_int(c,
                             "SELECT COUNT(*) FROM partner_blocks WHERE agreement_id = ?1 AND partner_org_id = ?2"
                             " AND lifted_at IS NULL",
                             DB_ARGS(DV_INT(agreement_id), DV_INT(org_id)), &n);
    *blocked = n > 0;
    return e;
}

#define GRANT_SELECT \
    "SELECT pa.id, pa.user_id, pa.partner_org_id, pa.granted_at, COALESCE(pa.removed_at, 0), pa.route, o.name," \
    " u.name, u.email, u.language, rb.name FROM partner_access pa JOIN organizations o ON o.id = pa.partner_org_id" \
    " JOIN users u ON u.id = pa.user_id LEFT JOIN users rb ON rb.id = pa.removed_by"

static void fill_grant(arena *a, db_row *r, void *dst) {
    partner_grant_rec *g = dst;
    g->id = db_int(r, 0);
    g->user_id = db_int(r, 1);
    g->partner_org_id = db_int(r, 2);
    g->granted_at = db_int(r, 3);
    g->removed_at = db_int(r, 4);
    g->route = st_dup(a, r, 5);
    g->org_name = st_dup(a, r, 6);
    g->user_name = st_dup(a, r, 7);
    g->user_email = st_dup(a, r, 8);
    g->user_language = st_dup(a, r, 9);
    g->removed_by_name = st_dup(a, r, 10);
}

os_err st_partner_grants(store_conn *c, arena *a, int64_t agreement_id, partner_grant_rec **rows, int *n) {
    return st_list(c, a, GRANT_SELECT " WHERE pa.agreement_id = ?1 ORDER BY pa.removed_at IS NOT NULL, pa.id DESC",
                   DB_ARGS(DV_INT(agreement_id)), sizeof(partner_grant_rec), fill_grant, (void **)rows, n);
}

os_err st_partner_grant_get(store_conn *c, arena *a, int64_t agreement_id, int64_t grant_id, partner_grant_rec *out) {
    partner_grant_rec *rows;
    int n;
    os_err e = st_list(c, a, GRANT_SELECT " WHERE pa.agreement_id = ?1 AND pa.id = ?2",
                       DB_ARGS(DV_INT(agreement_id), DV_INT(grant_id)), sizeof(partner_grant_rec), fill_grant,
                       (void **)&rows, &n);
    if (e) return e;
    if (!n) return OS_ERR_NOT_FOUND;
    *out = rows[0];
    return OS_OK;
}

os_err st_partner_remove_org(store_conn *c, arena *a, int64_t agreement_id, int64_t org_id, int64_t by, int64_t now,
                             partner_grant_rec **removed, int *n) {
    os_err e = st_list(c, a, GRANT_SELECT " WHERE pa.agreement_id = ?1 AND pa.partner_org_id = ?2 AND pa.removed_at IS NULL",
                       DB_ARGS(DV_INT(agreement_id), DV_INT(org_id)), sizeof(partner_grant_rec), fill_grant,
                       (void **)removed, n);
    if (e) return e;
    return db_exec(c,
                   "UPDATE partner_access SET removed_at = ?3, removed_by = ?4"
                   " WHERE agreement_id = ?1 AND partner_org_id = ?2 AND removed_at IS NULL",
                   DB_ARGS(DV_INT(agreement_id), DV_INT(org_id), DV_INT(now), DV_INT(by)), NULL, NULL);
}

os_err st_partner_block_add(store_conn *c, int64_t agreement_id, int64_t org_id, int64_t by, int64_t now) {
    return db_exec(c,
                   "INSERT INTO partner_blocks (agreement_id, partner_org_id, blocked_at, blocked_by)"
                   " SELECT ?1, ?2, ?3, ?4 WHERE NOT EXISTS (SELECT 1 FROM partner_blocks WHERE agreement_id = ?1"
                   " AND partner_org_id = ?2 AND lifted_at IS NULL)",
                   DB_ARGS(DV_INT(agreement_id), DV_INT(org_id), DV_INT(now), DV_INT(by)), NULL, NULL);
}

static void fill_block(arena *a, db_row *r, void *dst) {
    partner_block_rec *b = dst;
    b->id = db_int(r, 0);
    b->partner_org_id = db_int(r, 1);
    b->blocked_at = db_int(r, 2);
    b->org_name = st_dup(a, r, 3);
    b->blocked_by_name = st_dup(a, r, 4);
}

os_err st_partner_blocks(store_conn *c, arena *a, int64_t agreement_id, partner_block_rec **rows, int *n) {
    return st_list(c, a,
                   "SELECT b.id, b.partner_org_id, b.blocked_at, o.name, u.name FROM partner_blocks b"
                   " JOIN organizations o ON o.id = b.partner_org_id LEFT JOIN users u ON u.id = b.blocked_by"
                   " WHERE b.agreement_id = ?1 AND b.lifted_at IS NULL ORDER BY b.id DESC",
                   DB_ARGS(DV_INT(agreement_id)), sizeof(partner_block_rec), fill_block, (void **)rows, n);
}

os_err st_partner_block_lift(store_conn *c, int64_t agreement_id, int64_t block_id, int64_t by, int64_t now,
                             int64_t *org_id) {
    os_err e = db_scalar_int(c,
                             "UPDATE partner_blocks SET lifted_at = ?3, lifted_by = ?4"
                             " WHERE id = ?2 AND agreement_id = ?1 AND lifted_at IS NULL RETURNING partner_org_id",
                             DB_ARGS(DV_INT(agreement_id), DV_INT(block_id), DV_INT(now), DV_INT(by)), org_id);
    return e;
}

os_err st_customer_recipients(store_conn *c, arena *a, int64_t agreement_id, recipient_rec **rows, int *n) {
    return st_list(c, a,
                   "SELECT g.customer_email, u.name, COALESCE(u.language, o.language) FROM agreements g"
                   " LEFT JOIN users u ON u.email = g.customer_email"
                   " LEFT JOIN (SELECT agreement_id, language FROM orders WHERE agreement_id = ?1 ORDER BY id LIMIT 1) o"
                   "   ON o.agreement_id = g.id WHERE g.id = ?1"
                   " UNION SELECT u.email, u.name, u.language FROM admin_roles ar JOIN users u ON u.id = ar.user_id"
                   " JOIN agreements g ON g.id = ar.agreement_id"
                   " WHERE ar.agreement_id = ?1 AND ar.role = 'super_admin' AND u.email <> g.customer_email",
                   DB_ARGS(DV_INT(agreement_id)), sizeof(recipient_rec), st_fill_recipient, (void **)rows, n);
}

os_err st_agreement_role(store_conn *c, arena *a, int64_t agreement_id, int64_t user_id, const char **role) {
    const char **rows;
    int n;
    os_err e = st_list(c, a,
                       "SELECT role FROM admin_roles WHERE agreement_id = ?1 AND user_id = ?2"
                       " UNION ALL SELECT 'partner' FROM partner_access WHERE agreement_id = ?1 AND user_id = ?2"
                       " AND removed_at IS NULL LIMIT 1",
                       DB_ARGS(DV_INT(agreement_id), DV_INT(user_id)), sizeof(const char *), st_fill_text, (void **)&rows,
                       &n);
    if (e) return e;
    if (!n) return OS_ERR_NOT_FOUND;
    *role = rows[0];
    return OS_OK;
}

os_err st_user_recognized(store_conn *c, int64_t user_id, const char *email, bool *recognized, bool *partner) {
    int64_t v = 0;
    os_err e = db_scalar_int(c,
                             "SELECT CAST((EXISTS (SELECT 1 FROM admin_roles WHERE user_id = ?1)"
                             " OR EXISTS (SELECT 1 FROM partner_access WHERE user_id = ?1 AND removed_at IS NULL)"
                             " OR EXISTS (SELECT 1 FROM subscriptions WHERE sign_in_email = ?2)) AS INTEGER)"
                             " + 2 * CAST(EXISTS (SELECT 1 FROM partner_members m JOIN organizations o ON o.id = m.org_id"
                             "                    WHERE m.email = ?2 AND o.kind = 'partner') AS INTEGER)",
                             DB_ARGS(DV_INT(user_id), DV_TEXT(email)), &v);
    *recognized = (v & 1) != 0;
    *partner = (v & 2) != 0;
    return e;
}
