/* store_partners.c — the customer's blocks of a partner, the customer side's mail
 * recipients, and who someone is to an agreement (their role; whether they are known at
 * all). Contract in store.h (partner blocks, recipients and roles). */
#include "store.h"
#include "store_util.h"

os_err st_partner_blocked(store_conn *c, int64_t agreement_id, int64_t org_id, bool *blocked) {
    int64_t n = 0;
    os_err e = db_scalar_int(c,
                             "SELECT COUNT(*) FROM partner_blocks WHERE agreement_id = ?1 AND partner_org_id = ?2"
                             " AND lifted_at IS NULL",
                             DB_ARGS(DV_INT(agreement_id), DV_INT(org_id)), &n);
    *blocked = n > 0;
    return e;
}

static void fill_role(arena *a, db_row *r, void *dst) {
    role_rec *x = dst;
    x->role = st_dup(a, r, 0);
    x->capabilities = (unsigned)db_int(r, 1);
    x->relationship_id = db_int(r, 2);
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

/* The order's e-mail, with its account's name and language (else the first order's
 * language), and the agreement's users of the given roles (deduplicated). */
static os_err customer_side(store_conn *c, arena *a, int64_t agreement_id, const char *also_role, recipient_rec **rows,
                            int *n) {
    return st_list(c, a,
                   "SELECT g.customer_email, u.name, COALESCE(u.language, o.language) FROM agreements g"
                   " LEFT JOIN users u ON u.email = g.customer_email"
                   " LEFT JOIN (SELECT agreement_id, language FROM orders WHERE agreement_id = ?1 ORDER BY id LIMIT 1) o"
                   "   ON o.agreement_id = g.id WHERE g.id = ?1"
                   " UNION SELECT u.email, u.name, u.language FROM admin_roles ar JOIN users u ON u.id = ar.user_id"
                   " JOIN agreements g ON g.id = ar.agreement_id"
                   " WHERE ar.agreement_id = ?1 AND ar.role IN ('super_admin', ?2) AND u.email <> g.customer_email",
                   DB_ARGS(DV_INT(agreement_id), DV_TEXT(also_role)), sizeof(recipient_rec), st_fill_recipient,
                   (void **)rows, n);
}

os_err st_customer_recipients(store_conn *c, arena *a, int64_t agreement_id, recipient_rec **rows, int *n) {
    return customer_side(c, a, agreement_id, "super_admin", rows, n);
}

os_err st_partner_deciders(store_conn *c, arena *a, int64_t agreement_id, recipient_rec **rows, int *n) {
    return customer_side(c, a, agreement_id, "partner_manager", rows, n);
}

os_err st_agreement_role(store_conn *c, arena *a, int64_t agreement_id, int64_t user_id, int64_t now,
                         role_rec *out) {
    memset(out, 0, sizeof *out);
    role_rec *rows;
    int n;
    os_err e = st_list(c, a, ST_ROLE_SQL("?1", "?2", "?3"),
                       DB_ARGS(DV_INT(agreement_id), DV_INT(user_id), DV_INT(now)), sizeof(role_rec), fill_role,
                       (void **)&rows, &n);
    if (e) return e;
    if (!n) return OS_ERR_NOT_FOUND;
    *out = rows[0];
    return OS_OK;
}

static int standing_row(void *ud, db_row *r) {
    user_standing *o = ud;
    int64_t v = db_int(r, 0);
    o->recognized = (v & 1) != 0;
    o->partner = (v & 2) != 0;
    o->mfa = db_int(r, 1) != 0;
    o->recovery_codes_left = o->mfa ? db_int(r, 2) : 0;
    return 1;
}

os_err st_user_standing(store_conn *c, int64_t user_id, const char *email, int64_t now, user_standing *out) {
    *out = (user_standing){0};
    return db_exec(c,
                   "SELECT CAST((EXISTS (SELECT 1 FROM admin_roles WHERE user_id = ?1)"
                   " OR EXISTS (SELECT 1 FROM partner_relationships r JOIN partner_members m"
                   "            ON m.org_id = r.partner_org_id AND m.email = ?2"
                   "            WHERE r.status = 'active' AND r.ends_at > ?3 AND (r.people = 'all' OR EXISTS"
                   "            (SELECT 1 FROM partner_relationship_people p WHERE p.relationship_id = r.id"
                   "             AND p.member_id = m.id)))"
                   " OR EXISTS (SELECT 1 FROM subscriptions WHERE sign_in_email = ?2)) AS INTEGER)"
                   " + 2 * CAST(EXISTS (SELECT 1 FROM partner_members m JOIN organizations o ON o.id = m.org_id"
                   "                    WHERE m.email = ?2 AND o.kind = 'partner') AS INTEGER),"
                   " CAST(EXISTS (SELECT 1 FROM user_mfa WHERE user_id = ?1 AND confirmed_at IS NOT NULL) AS INTEGER),"
                   " (SELECT COUNT(*) FROM mfa_recovery_codes WHERE user_id = ?1 AND used_at IS NULL)",
                   DB_ARGS(DV_INT(user_id), DV_TEXT(email), DV_INT(now)), standing_row, out);
}
