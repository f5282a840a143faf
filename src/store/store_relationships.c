/* store_relationships.c — partner relationships (one per partner organization and
 * agreement), the people they name, and the requests customers answer. Contract in store.h
 * (partner relationships and their requests). */
#include "store.h"
#include "store_util.h"

void st_fill_rel(arena *a, db_row *r, void *dst) {
    rel_rec *x = dst;
    x->id = db_int(r, 0);
    x->agreement_id = db_int(r, 1);
    x->partner_org_id = db_int(r, 2);
    x->starts_at = db_int(r, 3);
    x->ends_at = db_int(r, 4);
    x->period_days = db_int(r, 5);
    x->created_at = db_int(r, 6);
    x->ended_at = db_int(r, 7);
    x->requested_by = db_int(r, 8);
    x->last_action_at = db_int(r, 9);
    x->request_id = db_int(r, 10);
    x->capabilities = (unsigned)db_int(r, 11);
    x->auto_renew = db_int(r, 12) != 0;
    x->named = db_int(r, 13) != 0;
    x->status = st_dup(a, r, 14);
    x->route = st_dup(a, r, 15);
    x->org_name = st_dup(a, r, 16);
    x->ended_by_name = st_dup(a, r, 17);
    x->license_number = st_dup(a, r, 18);
    x->customer_name = st_dup(a, r, 19);
}

static os_err one_rel(store_conn *c, arena *a, const char *sql, const db_val *args, int nargs, rel_rec *out) {
    rel_rec *rows;
    int n;
    os_err e = st_list(c, a, sql, args, nargs, sizeof(rel_rec), st_fill_rel, (void **)&rows, &n);
    if (e) return e;
    if (!n) return OS_ERR_NOT_FOUND;
    *out = rows[0];
    return OS_OK;
}

os_err st_rel_create(store_conn *c, const rel_new *in, int64_t now, int64_t *id) {
    os_err e = db_scalar_int(c,
                             "SELECT id FROM partner_relationships WHERE agreement_id = ?1 AND partner_org_id = ?2"
                             " AND status IN ('pending', 'active')",
                             DB_ARGS(DV_INT(in->agreement_id), DV_INT(in->partner_org_id)), id);
    if (e == OS_OK) return OS_ERR_CONFLICT;
    if (e != OS_ERR_NOT_FOUND) return e;
    return db_scalar_int(c,
                         "INSERT INTO partner_relationships (agreement_id, partner_org_id, status, capabilities, people,"
                         " starts_at, ends_at, period_days, route, requested_by, created_at)"
                         " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) RETURNING id",
                         DB_ARGS(DV_INT(in->agreement_id), DV_INT(in->partner_org_id), DV_TEXT(in->status),
                                 DV_INT(in->capabilities), DV_TEXT(in->named ? "named" : "all"),
                                 in->starts_at ? DV_INT(in->starts_at) : DV_NULL, DV_INT(in->ends_at),
                                 in->period_days ? DV_INT(in->period_days) : DV_NULL, DV_TEXT(in->route),
                                 in->requested_by ? DV_INT(in->requested_by) : DV_NULL, DV_INT(now)),
                         id);
}

os_err st_rel_live(store_conn *c, arena *a, int64_t agreement_id, int64_t org_id, rel_rec *out) {
    return one_rel(c, a,
                   REL_SELECT " WHERE r.agreement_id = ?1 AND r.partner_org_id = ?2 AND r.status IN ('pending', 'active')",
                   DB_ARGS(DV_INT(agreement_id), DV_INT(org_id)), out);
}

os_err st_rel_get(store_conn *c, arena *a, int64_t agreement_id, int64_t id, rel_rec *out) {
    return one_rel(c, a, REL_SELECT " WHERE r.agreement_id = ?1 AND r.id = ?2", DB_ARGS(DV_INT(agreement_id), DV_INT(id)),
                   out);
}

os_err st_rels_of_agreement(store_conn *c, arena *a, int64_t agreement_id, rel_rec **rows, int *n) {
    return st_list(c, a,
                   REL_SELECT " WHERE r.agreement_id = ?1"
                              " ORDER BY CASE WHEN r.status IN ('pending', 'active') THEN 0 ELSE 1 END, r.id DESC",
                   DB_ARGS(DV_INT(agreement_id)), sizeof(rel_rec), st_fill_rel, (void **)rows, n);
}

/* An UPDATE … RETURNING that changed no row: the state it expected had moved on. */
static os_err changed_one(store_conn *c, const char *sql, const db_val *args, int nargs) {
    int64_t id;
    os_err e = db_scalar_int(c, sql, args, nargs, &id);
    return e == OS_ERR_NOT_FOUND ? OS_ERR_CONFLICT : e;
}

os_err st_rel_finish(store_conn *c, int64_t id, const char *status, int64_t by, int64_t now) {
    return changed_one(c,
                       "UPDATE partner_relationships SET status = ?2, ended_at = ?3, ended_by = ?4"
                       " WHERE id = ?1 AND status IN ('pending', 'active') RETURNING id",
                       DB_ARGS(DV_INT(id), DV_TEXT(status), DV_INT(now), by ? DV_INT(by) : DV_NULL));
}

os_err st_rel_activate(store_conn *c, int64_t id, unsigned capabilities, int64_t ends_at, int64_t period_days,
                       int64_t now) {
    return changed_one(c,
                       "UPDATE partner_relationships SET status = 'active', capabilities = ?2, ends_at = ?3,"
                       " period_days = ?4, starts_at = ?5 WHERE id = ?1 AND status = 'pending' RETURNING id",
                       DB_ARGS(DV_INT(id), DV_INT(capabilities), DV_INT(ends_at),
                               period_days ? DV_INT(period_days) : DV_NULL, DV_INT(now)));
}

os_err st_rel_amend(store_conn *c, int64_t id, unsigned capabilities, int64_t ends_at, int64_t period_days,
                    bool auto_renew) {
    /* A moved end is a new end: its reminders are due again. */
    return changed_one(c,
                       "UPDATE partner_relationships SET capabilities = ?2,"
                       " reminded_30_at = CASE WHEN ends_at = ?3 THEN reminded_30_at END,"
                       " reminded_7_at = CASE WHEN ends_at = ?3 THEN reminded_7_at END,"
                       " ends_at = ?3, period_days = ?4, auto_renew = ?5"
                       " WHERE id = ?1 AND status = 'active' RETURNING id",
                       DB_ARGS(DV_INT(id), DV_INT(capabilities), DV_INT(ends_at),
                               period_days ? DV_INT(period_days) : DV_NULL, DV_INT(auto_renew ? 1 : 0)));
}

static void fill_person(arena *a, db_row *r, void *dst) {
    rel_person_rec *x = dst;
    x->relationship_id = db_int(r, 0);
    x->member_id = db_int(r, 1);
    x->name = st_dup(a, r, 2);
    x->email = st_dup(a, r, 3);
}

os_err st_rel_people_of_agreement(store_conn *c, arena *a, int64_t agreement_id, rel_person_rec **rows, int *n) {
    return st_list(c, a,
                   "SELECT p.relationship_id, m.id, u.name, m.email FROM partner_relationship_people p"
                   " JOIN partner_relationships r ON r.id = p.relationship_id"
                   " JOIN partner_members m ON m.id = p.member_id LEFT JOIN users u ON u.email = m.email"
                   " WHERE r.agreement_id = ?1 ORDER BY p.relationship_id, m.email",
                   DB_ARGS(DV_INT(agreement_id)), sizeof(rel_person_rec), fill_person, (void **)rows, n);
}

os_err st_rel_person_add(store_conn *c, int64_t relationship_id, int64_t member_id) {
    return db_exec(c,
                   "INSERT INTO partner_relationship_people (relationship_id, member_id) SELECT ?1, ?2"
                   " WHERE NOT EXISTS (SELECT 1 FROM partner_relationship_people WHERE relationship_id = ?1"
                   " AND member_id = ?2)",
                   DB_ARGS(DV_INT(relationship_id), DV_INT(member_id)), NULL, NULL);
}

os_err st_partner_member_id(store_conn *c, int64_t org_id, const char *email, int64_t *member_id) {
    return db_scalar_int(c, "SELECT id FROM partner_members WHERE org_id = ?1 AND email = ?2",
                         DB_ARGS(DV_INT(org_id), DV_TEXT(email)), member_id);
}

os_err st_rel_partner_recipients(store_conn *c, arena *a, int64_t relationship_id, recipient_rec **rows, int *n) {
    return st_list(c, a,
                   "SELECT DISTINCT u.email, u.name, u.language FROM partner_relationships r"
                   " JOIN partner_members m ON m.org_id = r.partner_org_id JOIN users u ON u.email = m.email"
                   " WHERE r.id = ?1 AND (m.role = 'admin' OR r.people = 'all' OR EXISTS (SELECT 1 FROM"
                   " partner_relationship_people p WHERE p.relationship_id = r.id AND p.member_id = m.id))"
                   " ORDER BY u.email",
                   DB_ARGS(DV_INT(relationship_id)), sizeof(recipient_rec), st_fill_recipient, (void **)rows, n);
}

/* ---- requests ---- */

void st_fill_request(arena *a, db_row *r, void *dst) {
    partner_request_rec *x = dst;
    x->id = db_int(r, 0);
    x->relationship_id = db_int(r, 1);
    x->agreement_id = db_int(r, 2);
    x->partner_org_id = db_int(r, 3);
    x->ends_at = db_int(r, 4);
    x->period_days = db_int(r, 5);
    x->requested_by = db_int(r, 6);
    x->created_at = db_int(r, 7);
    x->lapses_at = db_int(r, 8);
    x->decided_at = db_int(r, 9);
    x->decided_by = db_int(r, 10);
    x->capabilities = (unsigned)db_int(r, 11);
    x->kind = st_dup(a, r, 12);
    x->status = st_dup(a, r, 13);
    x->reason = st_dup(a, r, 14);
    x->requested_by_name = st_dup(a, r, 15);
    x->requested_by_email = st_dup(a, r, 16);
    x->requested_by_language = st_dup(a, r, 17);
    x->org_name = st_dup(a, r, 18);
    x->license_number = st_dup(a, r, 19);
}

os_err st_request_create(store_conn *c, const partner_request_new *in, int64_t now, int64_t *id) {
    int64_t open;
    os_err e = db_scalar_int(c, "SELECT id FROM partner_requests WHERE relationship_id = ?1 AND status = 'pending'",
                             DB_ARGS(DV_INT(in->relationship_id)), &open);
    if (e == OS_OK) return OS_ERR_CONFLICT;
    if (e != OS_ERR_NOT_FOUND) return e;
    return db_scalar_int(c,
                         "INSERT INTO partner_requests (relationship_id, kind, capabilities, ends_at, period_days,"
                         " requested_by, created_at, lapses_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) RETURNING id",
                         DB_ARGS(DV_INT(in->relationship_id), DV_TEXT(in->kind), DV_INT(in->capabilities),
                                 DV_INT(in->ends_at), in->period_days ? DV_INT(in->period_days) : DV_NULL,
                                 in->requested_by ? DV_INT(in->requested_by) : DV_NULL, DV_INT(now),
                                 DV_INT(in->lapses_at)),
                         id);
}

os_err st_request_get(store_conn *c, arena *a, int64_t agreement_id, int64_t id, partner_request_rec *out) {
    partner_request_rec *rows;
    int n;
    os_err e = st_list(c, a, REQ_SELECT " WHERE r.agreement_id = ?1 AND q.id = ?2",
                       DB_ARGS(DV_INT(agreement_id), DV_INT(id)), sizeof(partner_request_rec), st_fill_request,
                       (void **)&rows, &n);
    if (e) return e;
    if (!n) return OS_ERR_NOT_FOUND;
    *out = rows[0];
    return OS_OK;
}

os_err st_requests_open(store_conn *c, arena *a, int64_t agreement_id, partner_request_rec **rows, int *n) {
    return st_list(c, a, REQ_SELECT " WHERE r.agreement_id = ?1 AND q.status = 'pending' ORDER BY q.id",
                   DB_ARGS(DV_INT(agreement_id)), sizeof(partner_request_rec), st_fill_request, (void **)rows, n);
}

os_err st_request_decide(store_conn *c, int64_t id, const char *status, int64_t by, const char *reason, int64_t now) {
    return changed_one(c,
                       "UPDATE partner_requests SET status = ?2, decided_at = ?3, decided_by = ?4, reason = ?5"
                       " WHERE id = ?1 AND status = 'pending' RETURNING id",
                       DB_ARGS(DV_INT(id), DV_TEXT(status), DV_INT(now), by ? DV_INT(by) : DV_NULL, DV_TEXT(reason)));
}

/* ---- partner requests: decisions ---- */

os_err st_request_recipients(store_conn *c, arena *a, int64_t request_id, recipient_rec **rows, int *n) {
    return st_list(c, a,
                   "SELECT u.email, u.name, u.language FROM partner_requests q JOIN users u ON u.id = q.requested_by"
                   " WHERE q.id = ?1"
                   " UNION SELECT u.email, u.name, u.language FROM partner_requests q"
                   " JOIN partner_relationships r ON r.id = q.relationship_id"
                   " JOIN partner_members m ON m.org_id = r.partner_org_id AND m.role = 'admin'"
                   " JOIN users u ON u.email = m.email WHERE q.id = ?1 ORDER BY 1",
                   DB_ARGS(DV_INT(request_id)), sizeof(recipient_rec), st_fill_recipient, (void **)rows, n);
}

typedef struct membership_row {
    int64_t id;
    const char *role;
} membership_row;

static void fill_membership(arena *a, db_row *r, void *dst) {
    membership_row *x = dst;
    x->id = db_int(r, 0);
    x->role = st_dup(a, r, 1);
}

os_err st_partner_membership(store_conn *c, arena *a, int64_t org_id, const char *email, int64_t *member_id,
                             const char **role) {
    membership_row *rows;
    int n;
    os_err e = st_list(c, a, "SELECT id, role FROM partner_members WHERE org_id = ?1 AND email = ?2",
                       DB_ARGS(DV_INT(org_id), DV_TEXT(email)), sizeof(membership_row), fill_membership,
                       (void **)&rows, &n);
    if (e) return e;
    if (!n) return OS_ERR_NOT_FOUND;
    *member_id = rows[0].id;
    *role = rows[0].role;
    return OS_OK;
}

os_err st_rel_of_org(store_conn *c, arena *a, int64_t org_id, int64_t id, rel_rec *out) {
    return one_rel(c, a, REL_SELECT " WHERE r.partner_org_id = ?1 AND r.id = ?2", DB_ARGS(DV_INT(org_id), DV_INT(id)),
                   out);
}

os_err st_rel_names_member(store_conn *c, int64_t relationship_id, int64_t member_id, bool *named) {
    int64_t one;
    os_err e = db_scalar_int(c,
                             "SELECT 1 FROM partner_relationship_people WHERE relationship_id = ?1 AND member_id = ?2",
                             DB_ARGS(DV_INT(relationship_id), DV_INT(member_id)), &one);
    *named = e == OS_OK;
    return e == OS_ERR_NOT_FOUND ? OS_OK : e;
}
