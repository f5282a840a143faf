/* store_partner_orgs.c — a partner organization as its own people see it: who they are,
 * its live relationships and requests, and who acts under each relationship. Contract in
 * store.h (partner organizations: people). */
#include "store.h"
#include "store_util.h"

static void fill_porg(arena *a, db_row *r, void *dst) {
    partner_org_rec *x = dst;
    x->id = db_int(r, 0);
    x->name = st_dup(a, r, 1);
    x->role = st_dup(a, r, 2);
}

#define PORG_SELECT                                                                                                   \
    "SELECT o.id, o.name, m.role FROM organizations o JOIN partner_members m ON m.org_id = o.id"                     \
    " WHERE o.kind = 'partner' AND m.email = ?1"

os_err st_porg_mine(store_conn *c, arena *a, const char *email, partner_org_rec **rows, int *n) {
    return st_list(c, a, PORG_SELECT " ORDER BY o.name, o.id", DB_ARGS(DV_TEXT(email)), sizeof(partner_org_rec),
                   fill_porg, (void **)rows, n);
}

os_err st_porg_of(store_conn *c, arena *a, int64_t org_id, const char *email, partner_org_rec *out) {
    partner_org_rec *rows;
    int n;
    os_err e = st_list(c, a, PORG_SELECT " AND o.id = ?2", DB_ARGS(DV_TEXT(email), DV_INT(org_id)),
                       sizeof(partner_org_rec), fill_porg, (void **)&rows, &n);
    if (e) return e;
    if (!n) return OS_ERR_NOT_FOUND;
    *out = rows[0];
    return OS_OK;
}

static void fill_person(arena *a, db_row *r, void *dst) {
    partner_person_rec *x = dst;
    x->id = db_int(r, 0);
    x->name = st_dup(a, r, 1);
    x->email = st_dup(a, r, 2);
    x->role = st_dup(a, r, 3);
    x->has_account = db_int(r, 4) != 0;
}

#define PERSON_SELECT                                                                                                 \
    "SELECT m.id, u.name, m.email, m.role, CASE WHEN u.email_verified_at IS NULL THEN 0 ELSE 1 END"                  \
    " FROM partner_members m LEFT JOIN users u ON u.email = m.email WHERE m.org_id = ?1"

os_err st_porg_people(store_conn *c, arena *a, int64_t org_id, partner_person_rec **rows, int *n) {
    return st_list(c, a, PERSON_SELECT " ORDER BY CASE WHEN m.role = 'admin' THEN 0 ELSE 1 END, m.email",
                   DB_ARGS(DV_INT(org_id)), sizeof(partner_person_rec), fill_person, (void **)rows, n);
}

os_err st_porg_person(store_conn *c, arena *a, int64_t org_id, int64_t member_id, partner_person_rec *out) {
    partner_person_rec *rows;
    int n;
    os_err e = st_list(c, a, PERSON_SELECT " AND m.id = ?2", DB_ARGS(DV_INT(org_id), DV_INT(member_id)),
                       sizeof(partner_person_rec), fill_person, (void **)&rows, &n);
    if (e) return e;
    if (!n) return OS_ERR_NOT_FOUND;
    *out = rows[0];
    return OS_OK;
}

os_err st_porg_person_add(store_conn *c, int64_t org_id, const char *email, const char *role, int64_t now,
                          int64_t *member_id) {
    /* ON CONFLICT DO NOTHING: an existing member is a conflict, not a failed statement
     * (which would doom the caller's transaction on PostgreSQL). */
    os_err e = db_scalar_int(c,
                             "INSERT INTO partner_members (org_id, email, role, created_at) VALUES (?1, ?2, ?3, ?4)"
                             " ON CONFLICT (org_id, email) DO NOTHING RETURNING id",
                             DB_ARGS(DV_INT(org_id), DV_TEXT(email), DV_TEXT(role), DV_INT(now)), member_id);
    return e == OS_ERR_NOT_FOUND ? OS_ERR_CONFLICT : e;
}

os_err st_porg_person_remove(store_conn *c, int64_t org_id, int64_t member_id) {
    int64_t changed = 0;
    /* The guard is in the statement itself, so two concurrent removals of the last two
     * admins cannot both pass it. The named-people rows go with it (ON DELETE CASCADE). */
    os_err e = db_exec_changes(c,
                               "DELETE FROM partner_members WHERE org_id = ?1 AND id = ?2"
                               " AND (role <> 'admin' OR (SELECT COUNT(*) FROM partner_members"
                               "      WHERE org_id = ?1 AND role = 'admin') > 1)",
                               DB_ARGS(DV_INT(org_id), DV_INT(member_id)), &changed);
    if (e || changed) return e;
    int64_t exists = 0;
    e = db_scalar_int(c, "SELECT COUNT(*) FROM partner_members WHERE org_id = ?1 AND id = ?2",
                      DB_ARGS(DV_INT(org_id), DV_INT(member_id)), &exists);
    if (e) return e;
    return exists ? OS_ERR_CONFLICT : OS_ERR_NOT_FOUND;
}

os_err st_porg_rels(store_conn *c, arena *a, int64_t org_id, rel_rec **rows, int *n) {
    return st_list(c, a,
                   REL_SELECT " WHERE r.partner_org_id = ?1 AND r.status IN ('pending', 'active') ORDER BY r.id DESC",
                   DB_ARGS(DV_INT(org_id)), sizeof(rel_rec), st_fill_rel, (void **)rows, n);
}

static void fill_rel_person(arena *a, db_row *r, void *dst) {
    rel_person_rec *x = dst;
    x->relationship_id = db_int(r, 0);
    x->member_id = db_int(r, 1);
    x->name = st_dup(a, r, 2);
    x->email = st_dup(a, r, 3);
}

os_err st_porg_rel_people(store_conn *c, arena *a, int64_t org_id, rel_person_rec **rows, int *n) {
    return st_list(c, a,
                   "SELECT p.relationship_id, m.id, u.name, m.email FROM partner_relationship_people p"
                   " JOIN partner_relationships r ON r.id = p.relationship_id"
                   " JOIN partner_members m ON m.id = p.member_id LEFT JOIN users u ON u.email = m.email"
                   " WHERE r.partner_org_id = ?1 AND r.status IN ('pending', 'active')"
                   " ORDER BY p.relationship_id, m.email",
                   DB_ARGS(DV_INT(org_id)), sizeof(rel_person_rec), fill_rel_person, (void **)rows, n);
}

os_err st_porg_requests_open(store_conn *c, arena *a, int64_t org_id, partner_request_rec **rows, int *n) {
    return st_list(c, a, REQ_SELECT " WHERE r.partner_org_id = ?1 AND q.status = 'pending' ORDER BY q.id",
                   DB_ARGS(DV_INT(org_id)), sizeof(partner_request_rec), st_fill_request, (void **)rows, n);
}

os_err st_porg_rel(store_conn *c, arena *a, int64_t org_id, int64_t rel_id, rel_rec *out) {
    rel_rec *rows;
    int n;
    os_err e = st_list(c, a, REL_SELECT " WHERE r.partner_org_id = ?1 AND r.id = ?2",
                       DB_ARGS(DV_INT(org_id), DV_INT(rel_id)), sizeof(rel_rec), st_fill_rel, (void **)&rows, &n);
    if (e) return e;
    if (!n) return OS_ERR_NOT_FOUND;
    *out = rows[0];
    return OS_OK;
}

os_err st_porg_rel_set_people(store_conn *c, int64_t rel_id, bool named, const int64_t *member_ids, int n) {
    int64_t id;
    os_err e = db_scalar_int(c,
                             "UPDATE partner_relationships SET people = ?2 WHERE id = ?1"
                             " AND status IN ('pending', 'active') RETURNING id",
                             DB_ARGS(DV_INT(rel_id), DV_TEXT(named ? "named" : "all")), &id);
    if (e) return e == OS_ERR_NOT_FOUND ? OS_ERR_CONFLICT : e;
    /* The list is replaced; with "all" it is emptied, so a later switch to "named" starts
     * from the people then chosen, not from an old list. */
    e = db_exec(c, "DELETE FROM partner_relationship_people WHERE relationship_id = ?1", DB_ARGS(DV_INT(rel_id)), NULL,
                NULL);
    for (int i = 0; !e && named && i < n; i++) e = st_rel_person_add(c, rel_id, member_ids[i]);
    return e;
}
