/* store_licensing.c — organizations, partner members, levels, agreements, programs, orders,
 * licensing-center relations, portal roles, idempotency keys, hand-off nonces. Contract
 * in store.h (the licensing sections, idempotency keys); pools are store_seats.c. */
#include "store.h"
#include "store_util.h"

/* ---- organizations, members, levels ---- */

os_err st_org_ensure(store_conn *c, const char *kind, const char *name, const char *country, int64_t now,
                     int64_t *id, bool *created) {
    os_err e = db_scalar_int(c,
                             "SELECT id FROM organizations WHERE kind = ?1 AND name = ?2"
                             " AND (?1 = 'partner' OR country = ?3) ORDER BY id LIMIT 1",
                             DB_ARGS(DV_TEXT(kind), DV_TEXT(name), DV_TEXT(country ? country : "")), id);
    if (created) *created = false;
    if (e != OS_ERR_NOT_FOUND) return e;
    if (created) *created = true;
    return db_scalar_int(c,
                         "INSERT INTO organizations (kind, name, country, created_at) VALUES (?1, ?2, ?3, ?4)"
                         " RETURNING id",
                         DB_ARGS(DV_TEXT(kind), DV_TEXT(name), DV_TEXT(country ? country : ""), DV_INT(now)), id);
}

os_err st_partner_member_add(store_conn *c, int64_t org_id, const char *email, const char *role, int64_t now) {
    return db_exec(c,
                   "INSERT INTO partner_members (org_id, email, role, created_at) VALUES (?1, ?2, ?3, ?4)"
                   " ON CONFLICT (org_id, email) DO UPDATE SET role = excluded.role",
                   DB_ARGS(DV_INT(org_id), DV_TEXT(email), DV_TEXT(role), DV_INT(now)), NULL, NULL);
}

static void fill_org(arena *a, db_row *r, void *dst) {
    org_rec *o = dst;
    o->id = db_int(r, 0);
    o->kind = st_dup(a, r, 1);
    o->name = st_dup(a, r, 2);
    o->country = st_dup(a, r, 3);
}

os_err st_partner_orgs_of(store_conn *c, arena *a, const char *email, org_rec **rows, int *n) {
    return st_list(c, a,
                   "SELECT o.id, o.kind, o.name, o.country FROM organizations o"
                   " JOIN partner_members m ON m.org_id = o.id WHERE m.email = ?1 AND o.kind = 'partner'"
                   " ORDER BY o.name",
                   DB_ARGS(DV_TEXT(email)), sizeof(org_rec), fill_org, (void **)rows, n);
}

static void fill_level(arena *a, db_row *r, void *dst) {
    level_rec *l = dst;
    l->id = db_int(r, 0);
    l->code = st_dup(a, r, 1);
    l->name_en = st_dup(a, r, 2);
    l->name_fr = st_dup(a, r, 3);
}

os_err st_levels(store_conn *c, arena *a, level_rec **rows, int *n) {
    return st_list(c, a, "SELECT id, code, name_en, name_fr FROM levels ORDER BY sort", DB_NOARGS,
                   sizeof(level_rec), fill_level, (void **)rows, n);
}

/* ---- agreements, programs, orders ---- */

os_err st_agreement_create(store_conn *c, const agreement_rec *in, int64_t now, int64_t *id) {
    return db_scalar_int(c,
                         "INSERT INTO agreements (license_number, auth_hash, auth_sealed, customer_org_id,"
                         " customer_email, partner_org_id, program, start_date, end_date, created_at)"
                         " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) RETURNING id",
                         DB_ARGS(DV_TEXT(in->license_number), DV_TEXT(in->auth_hash), DV_TEXT(in->auth_sealed),
                                 DV_INT(in->customer_org_id), DV_TEXT(in->customer_email), DV_INT(in->partner_org_id),
                                 DV_TEXT(in->program), DV_TEXT(in->start_date), DV_TEXT(in->end_date), DV_INT(now)),
                         id);
}

static void fill_agreement(arena *a, db_row *r, void *dst) {
    agreement_rec *g = dst;
    g->id = db_int(r, 0);
    g->license_number = st_dup(a, r, 1);
    g->auth_hash = st_dup(a, r, 2);
    g->auth_sealed = st_dup(a, r, 3);
    g->customer_org_id = db_int(r, 4);
    g->customer_email = st_dup(a, r, 5);
    g->partner_org_id = db_int(r, 6);
    g->program = st_dup(a, r, 7);
    g->start_date = st_dup(a, r, 8);
    g->end_date = st_dup(a, r, 9);
    g->disabled = db_int(r, 10) != 0;
    g->customer_name = st_dup(a, r, 11);
    g->customer_country = st_dup(a, r, 12);
    g->partner_name = st_dup(a, r, 13);
}

#define AGREEMENT_SELECT \
    "SELECT g.id, g.license_number, g.auth_hash, g.auth_sealed, g.customer_org_id, g.customer_email," \
    " g.partner_org_id, g.program, g.start_date, g.end_date, g.disabled, co.name, co.country, po.name" \
    " FROM agreements g JOIN organizations co ON co.id = g.customer_org_id" \
    " JOIN organizations po ON po.id = g.partner_org_id"

static os_err agreement_one(store_conn *c, arena *a, const char *sql, const db_val *args, int nargs,
                            agreement_rec *out) {
    agreement_rec *rows;
    int n;
    os_err e = st_list(c, a, sql, args, nargs, sizeof(agreement_rec), fill_agreement, (void **)&rows, &n);
    if (e) return e;
    if (!n) return OS_ERR_NOT_FOUND;
    *out = rows[0];
    return OS_OK;
}

os_err st_agreement_by_license(store_conn *c, arena *a, const char *license_number, agreement_rec *out) {
    return agreement_one(c, a, AGREEMENT_SELECT " WHERE g.license_number = ?1", DB_ARGS(DV_TEXT(license_number)), out);
}

os_err st_agreement_by_id(store_conn *c, arena *a, int64_t id, agreement_rec *out) {
    return agreement_one(c, a, AGREEMENT_SELECT " WHERE g.id = ?1", DB_ARGS(DV_INT(id)), out);
}

os_err st_authno_taken(store_conn *c, const char *auth_hash, bool *taken) {
    int64_t n = 0;
    os_err e = db_scalar_int(c, "SELECT COUNT(*) FROM agreements WHERE auth_hash = ?1", DB_ARGS(DV_TEXT(auth_hash)), &n);
    *taken = n > 0;
    return e;
}

os_err st_agreement_id(store_conn *c, const char *license_number, int64_t *id) {
    return db_scalar_int(c, "SELECT id FROM agreements WHERE license_number = ?1", DB_ARGS(DV_TEXT(license_number)), id);
}

/* agreements.program is free text and a program gets a row only once an operator sets it:
 * an agreement whose program has no row gets PROGRAM_REASSIGN_DAYS_DEFAULT (90 days, the
 * Open License rule) rather than no rule at all. */
os_err st_agreement_reassign_days(store_conn *c, int64_t agreement_id, int64_t *days) {
    return db_scalar_int(c,
                         "SELECT COALESCE(p.reassign_days, ?2) FROM agreements g"
                         " LEFT JOIN programs p ON p.name = g.program WHERE g.id = ?1",
                         DB_ARGS(DV_INT(agreement_id), DV_INT(PROGRAM_REASSIGN_DAYS_DEFAULT)), days);
}

os_err st_program_set(store_conn *c, const char *name, int64_t reassign_days, int64_t now) {
    return db_exec(c,
                   "INSERT INTO programs (name, reassign_days, updated_at) VALUES (?1, ?2, ?3)"
                   " ON CONFLICT (name) DO UPDATE SET reassign_days = excluded.reassign_days,"
                   " updated_at = excluded.updated_at",
                   DB_ARGS(DV_TEXT(name), DV_INT(reassign_days), DV_INT(now)), NULL, NULL);
}

os_err st_order_create(store_conn *c, int64_t agreement_id, int64_t partner_org_id, int64_t placed_by,
                       const char *customer_email, const char *po_reference, const char *language, int64_t now,
                       int64_t *id) {
    return db_scalar_int(c,
                         "INSERT INTO orders (agreement_id, partner_org_id, placed_by, customer_email, po_reference,"
                         " language, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id",
                         DB_ARGS(DV_INT(agreement_id), DV_INT(partner_org_id), placed_by ? DV_INT(placed_by) : DV_NULL,
                                 DV_TEXT(customer_email), DV_TEXT(po_reference), DV_TEXT(language), DV_INT(now)),
                         id);
}

os_err st_order_license(store_conn *c, arena *a, int64_t order_id, const char **license_number) {
    const char **rows;
    int n;
    os_err e = st_list(c, a, "SELECT g.license_number FROM orders o JOIN agreements g ON g.id = o.agreement_id"
                             " WHERE o.id = ?1",
                       DB_ARGS(DV_INT(order_id)), sizeof(const char *), st_fill_text, (void **)&rows, &n);
    if (e) return e;
    if (!n) return OS_ERR_NOT_FOUND;
    *license_number = rows[0];
    return OS_OK;
}

os_err st_order_line_add(store_conn *c, int64_t order_id, int64_t level_id, int64_t quantity) {
    return db_exec(c, "INSERT INTO order_lines (order_id, level_id, quantity) VALUES (?1, ?2, ?3)",
                   DB_ARGS(DV_INT(order_id), DV_INT(level_id), DV_INT(quantity)), NULL, NULL);
}

static void fill_order(arena *a, db_row *r, void *dst) {
    order_rec *o = dst;
    o->id = db_int(r, 0);
    o->created_at = db_int(r, 1);
    o->placed_by_name = st_dup(a, r, 2);
    o->placed_by_email = st_dup(a, r, 3);
    o->po_reference = st_dup(a, r, 4);
    o->partner_name = st_dup(a, r, 5);
}

os_err st_orders(store_conn *c, arena *a, int64_t agreement_id, int limit, order_rec **rows, int *n) {
    return st_list(c, a,
                   "SELECT o.id, o.created_at, u.name, u.email, o.po_reference, p.name FROM orders o"
                   " LEFT JOIN users u ON u.id = o.placed_by JOIN organizations p ON p.id = o.partner_org_id"
                   " WHERE o.agreement_id = ?1 ORDER BY o.id DESC LIMIT ?2",
                   DB_ARGS(DV_INT(agreement_id), DV_INT(limit)), sizeof(order_rec), fill_order, (void **)rows, n);
}

static void fill_line(arena *a, db_row *r, void *dst) {
    order_line_rec *l = dst;
    l->order_id = db_int(r, 0);
    l->quantity = db_int(r, 1);
    l->level_code = st_dup(a, r, 2);
}

os_err st_order_lines(store_conn *c, arena *a, int64_t agreement_id, order_line_rec **rows, int *n) {
    return st_list(c, a,
                   "SELECT ol.order_id, ol.quantity, l.code FROM order_lines ol JOIN orders o ON o.id = ol.order_id"
                   " JOIN levels l ON l.id = ol.level_id WHERE o.agreement_id = ?1 ORDER BY ol.order_id, l.sort",
                   DB_ARGS(DV_INT(agreement_id)), sizeof(order_line_rec), fill_line, (void **)rows, n);
}

os_err st_order_lines_of(store_conn *c, arena *a, int64_t order_id, order_line_rec **rows, int *n) {
    return st_list(c, a,
                   "SELECT ol.order_id, ol.quantity, l.code FROM order_lines ol JOIN levels l ON l.id = ol.level_id"
                   " WHERE ol.order_id = ?1 ORDER BY l.sort",
                   DB_ARGS(DV_INT(order_id)), sizeof(order_line_rec), fill_line, (void **)rows, n);
}

/* ---- relations and roles ---- */

os_err st_lsc_relation_add(store_conn *c, int64_t agreement_id, int64_t partner_org_id, int64_t now) {
    return db_exec(c,
                   "INSERT INTO lsc_relations (agreement_id, partner_org_id, created_at) VALUES (?1, ?2, ?3)"
                   " ON CONFLICT (agreement_id, partner_org_id) DO NOTHING",
                   DB_ARGS(DV_INT(agreement_id), DV_INT(partner_org_id), DV_INT(now)), NULL, NULL);
}

typedef struct rel_flags {
    bool partner, customer;
} rel_flags;

static int rel_row(void *ud, db_row *r) {
    rel_flags *f = ud;
    f->partner = db_int(r, 0) != 0;
    f->customer = db_int(r, 1) != 0;
    return 1;
}

os_err st_lsc_relation_of(store_conn *c, int64_t agreement_id, int64_t user_id, const char *email, bool *partner,
                          bool *customer) {
    rel_flags f = {false, false};
    os_err e = db_exec(c,
                       "SELECT EXISTS (SELECT 1 FROM lsc_relations r JOIN partner_members m ON m.org_id = r.partner_org_id"
                       "               WHERE r.agreement_id = ?1 AND m.email = ?3),"
                       " EXISTS (SELECT 1 FROM agreements g WHERE g.id = ?1 AND g.customer_email = ?3)"
                       " OR EXISTS (SELECT 1 FROM admin_roles ar WHERE ar.agreement_id = ?1 AND ar.user_id = ?2"
                       "            AND ar.role = 'super_admin')",
                       DB_ARGS(DV_INT(agreement_id), DV_INT(user_id), DV_TEXT(email)), rel_row, &f);
    *partner = f.partner;
    *customer = f.customer;
    return e;
}

/* Columns: license, customer name, country, program, start, end, disabled, tag. */
static void fill_summary(arena *a, db_row *r, void *dst) {
    agreement_summary_rec *x = dst;
    x->license_number = st_dup(a, r, 0);
    x->customer_name = st_dup(a, r, 1);
    x->customer_country = st_dup(a, r, 2);
    x->program = st_dup(a, r, 3);
    x->start_date = st_dup(a, r, 4);
    x->end_date = st_dup(a, r, 5);
    x->disabled = db_int(r, 6) != 0;
    x->tag = st_dup(a, r, 7);
}

os_err st_lsc_relationships(store_conn *c, arena *a, int64_t user_id, const char *email, int limit,
                            agreement_summary_rec **rows, int *n) {
    return st_list(c, a,
                   "SELECT g.license_number, co.name, co.country, g.program, g.start_date, g.end_date, g.disabled,"
                   " CASE WHEN EXISTS (SELECT 1 FROM lsc_relations r JOIN partner_members m"
                   "   ON m.org_id = r.partner_org_id WHERE r.agreement_id = g.id AND m.email = ?2)"
                   " THEN 'partner' ELSE 'customer' END"
                   " FROM agreements g JOIN organizations co ON co.id = g.customer_org_id"
                   " WHERE g.customer_email = ?2"
                   " OR EXISTS (SELECT 1 FROM admin_roles ar WHERE ar.agreement_id = g.id AND ar.user_id = ?1"
                   "            AND ar.role = 'super_admin')"
                   " OR EXISTS (SELECT 1 FROM lsc_relations r JOIN partner_members m ON m.org_id = r.partner_org_id"
                   "            WHERE r.agreement_id = g.id AND m.email = ?2)"
                   " ORDER BY co.name, g.license_number LIMIT ?3",
                   DB_ARGS(DV_INT(user_id), DV_TEXT(email), DV_INT(limit)), sizeof(agreement_summary_rec), fill_summary,
                   (void **)rows, n);
}

static void fill_contact(arena *a, db_row *r, void *dst) {
    contact_rec *x = dst;
    x->role = st_dup(a, r, 0);
    x->name = st_dup(a, r, 1);
    x->email = st_dup(a, r, 2);
}

os_err st_agreement_contacts(store_conn *c, arena *a, int64_t agreement_id, contact_rec **rows, int *n) {
    return st_list(c, a,
                   "SELECT 'customer', u.name, g.customer_email FROM agreements g"
                   " LEFT JOIN users u ON u.email = g.customer_email WHERE g.id = ?1"
                   " UNION SELECT 'customer', u.name, u.email FROM admin_roles ar JOIN users u ON u.id = ar.user_id"
                   " WHERE ar.agreement_id = ?1 AND ar.role = 'super_admin'"
                   " UNION SELECT 'partner', u.name, m.email FROM lsc_relations r"
                   " JOIN partner_members m ON m.org_id = r.partner_org_id LEFT JOIN users u ON u.email = m.email"
                   " WHERE r.agreement_id = ?1 ORDER BY 1, 3",
                   DB_ARGS(DV_INT(agreement_id)), sizeof(contact_rec), fill_contact, (void **)rows, n);
}

os_err st_admin_claim_customer(store_conn *c, arena *a, int64_t user_id, const char *email, int64_t now,
                               const char ***licenses, int *n) {
    return st_list(c, a,
                   "INSERT INTO admin_roles (agreement_id, user_id, role, granted_at)"
                   " SELECT g.id, ?1, 'super_admin', ?3 FROM agreements g WHERE g.customer_email = ?2"
                   " AND NOT EXISTS (SELECT 1 FROM admin_roles ar WHERE ar.agreement_id = g.id AND ar.user_id = ?1)"
                   " RETURNING (SELECT license_number FROM agreements WHERE id = agreement_id)",
                   DB_ARGS(DV_INT(user_id), DV_TEXT(email), DV_INT(now)), sizeof(const char *), st_fill_text,
                   (void **)licenses, n);
}

os_err st_portal_agreements(store_conn *c, arena *a, int64_t user_id, int64_t only_agreement_id, int limit,
                            int64_t now, agreement_summary_rec **rows, int *n) {
    return st_list(c, a,
                   "SELECT g.license_number, co.name, co.country, g.program, g.start_date, g.end_date, g.disabled,"
                   " x.role FROM ("
                   "  SELECT agreement_id, role FROM admin_roles WHERE user_id = ?1"
                   "  UNION SELECT r.agreement_id, 'partner' FROM partner_relationships r"
                   "   JOIN partner_members m ON m.org_id = r.partner_org_id JOIN users u ON u.email = m.email AND u.id = ?1"
                   "   WHERE r.status = 'active' AND r.ends_at > ?3 AND (r.people = 'all' OR EXISTS (SELECT 1 FROM"
                   "   partner_relationship_people p WHERE p.relationship_id = r.id AND p.member_id = m.id))"
                   "   AND r.agreement_id NOT IN (SELECT agreement_id FROM admin_roles WHERE user_id = ?1)"
                   " ) x JOIN agreements g ON g.id = x.agreement_id JOIN organizations co ON co.id = g.customer_org_id"
                   " WHERE (?4 = 0 OR g.id = ?4)"
                   " ORDER BY co.name, g.license_number LIMIT ?2",
                   DB_ARGS(DV_INT(user_id), DV_INT(limit), DV_INT(now), DV_INT(only_agreement_id)),
                   sizeof(agreement_summary_rec), fill_summary,
                   (void **)rows, n);
}

/* ---- idempotency, nonces ---- */

typedef struct idem_ud {
    arena *a;
    const char *hash;
    int64_t order_id;
    bool found;
} idem_ud;

static int idem_row(void *ud, db_row *r) {
    idem_ud *u = ud;
    u->hash = st_dup(u->a, r, 0);
    u->order_id = db_int(r, 1);
    u->found = true;
    return 1;
}

os_err st_idem_get(store_conn *c, arena *a, int64_t user_id, const char *key, const char **request_hash,
                   int64_t *order_id) {
    idem_ud u = {a, NULL, 0, false};
    os_err e = db_exec(c, "SELECT request_hash, COALESCE(order_id, 0) FROM idempotency_keys WHERE user_id = ?1 AND key = ?2",
                       DB_ARGS(DV_INT(user_id), DV_TEXT(key)), idem_row, &u);
    if (e) return e;
    if (!u.found) return OS_ERR_NOT_FOUND;
    *request_hash = u.hash;
    *order_id = u.order_id;
    return OS_OK;
}

os_err st_idem_put(store_conn *c, int64_t user_id, const char *key, const char *request_hash, int64_t order_id,
                   int64_t now) {
    return db_exec(c,
                   "INSERT INTO idempotency_keys (user_id, key, request_hash, order_id, created_at)"
                   " VALUES (?1, ?2, ?3, ?4, ?5)",
                   DB_ARGS(DV_INT(user_id), DV_TEXT(key), DV_TEXT(request_hash), DV_INT(order_id), DV_INT(now)), NULL,
                   NULL);
}

os_err st_handoff_nonce_use(store_conn *c, const char *nonce, int64_t now, int64_t expires_at) {
    return db_exec(c, "INSERT INTO handoff_nonces (nonce, used_at, expires_at) VALUES (?1, ?2, ?3)",
                   DB_ARGS(DV_TEXT(nonce), DV_INT(now), DV_INT(expires_at)), NULL, NULL);
}
