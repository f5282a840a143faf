/* store_rel_time.c — partner relationships over time: what the daily pass has to do (end
 * reminders, ends, renewals, requests past their lapse), each step claimed by one guarded
 * UPDATE so that two instances running the pass at once never both act. Contract in store.h
 * (partner relationships over time). */
#include "store.h"
#include "store_util.h"

static void fill_due(arena *a, db_row *r, void *dst) {
    (void)a;
    rel_due_rec *x = dst;
    x->id = db_int(r, 0);
    x->agreement_id = db_int(r, 1);
}

os_err st_rels_due(store_conn *c, arena *a, int64_t now, int limit, rel_due_rec **rows, int *n) {
    /* Served by the (status, ends_at) index: only active relationships ending within the
     * first reminder's reach are read, and of those the ones with something left to do. */
    return st_list(c, a,
                   "SELECT id, agreement_id FROM partner_relationships"
                   " WHERE status = 'active' AND ends_at <= ?2"
                   " AND (ends_at <= ?1 OR reminded_30_at IS NULL OR (ends_at <= ?3 AND reminded_7_at IS NULL))"
                   " ORDER BY ends_at, id LIMIT ?4",
                   DB_ARGS(DV_INT(now), DV_INT(now + (int64_t)REL_REMIND_FIRST_DAYS * 86400),
                           DV_INT(now + (int64_t)REL_REMIND_LAST_DAYS * 86400), DV_INT(limit)),
                   sizeof(rel_due_rec), fill_due, (void **)rows, n);
}

/* An UPDATE … RETURNING id: whether it changed the row. */
static os_err claimed_one(store_conn *c, const char *sql, const db_val *args, int nargs, bool *claimed) {
    int64_t id;
    os_err e = db_scalar_int(c, sql, args, nargs, &id);
    *claimed = e == OS_OK;
    return e == OS_ERR_NOT_FOUND ? OS_OK : e;
}

os_err st_rel_remind_claim(store_conn *c, int64_t agreement_id, int64_t id, int64_t ends_at, int days, int64_t now,
                           bool *claimed) {
    /* The last reminder also marks the first as passed: a late run never sends both. */
    if (days == REL_REMIND_LAST_DAYS)
        return claimed_one(c,
                           "UPDATE partner_relationships SET reminded_7_at = ?4,"
                           " reminded_30_at = COALESCE(reminded_30_at, ?4)"
                           " WHERE id = ?1 AND agreement_id = ?2 AND status = 'active' AND ends_at = ?3"
                           " AND reminded_7_at IS NULL RETURNING id",
                           DB_ARGS(DV_INT(id), DV_INT(agreement_id), DV_INT(ends_at), DV_INT(now)), claimed);
    return claimed_one(c,
                       "UPDATE partner_relationships SET reminded_30_at = ?4"
                       " WHERE id = ?1 AND agreement_id = ?2 AND status = 'active' AND ends_at = ?3"
                       " AND reminded_30_at IS NULL AND reminded_7_at IS NULL RETURNING id",
                       DB_ARGS(DV_INT(id), DV_INT(agreement_id), DV_INT(ends_at), DV_INT(now)), claimed);
}

os_err st_rel_renew(store_conn *c, int64_t agreement_id, int64_t id, int64_t ends_at, int64_t new_ends_at,
                    int passed, int64_t now, bool *claimed) {
    return claimed_one(c,
                       "UPDATE partner_relationships SET ends_at = ?4,"
                       " reminded_30_at = CASE WHEN ?5 > 0 THEN ?6 END,"
                       " reminded_7_at = CASE WHEN ?5 = ?7 THEN ?6 END"
                       " WHERE id = ?1 AND agreement_id = ?2 AND status = 'active' AND auto_renew = 1 AND ends_at = ?3"
                       " RETURNING id",
                       DB_ARGS(DV_INT(id), DV_INT(agreement_id), DV_INT(ends_at), DV_INT(new_ends_at), DV_INT(passed),
                               DV_INT(now), DV_INT(REL_REMIND_LAST_DAYS)),
                       claimed);
}

os_err st_rel_end(store_conn *c, int64_t agreement_id, int64_t id, int64_t ends_at, int64_t now, bool *claimed) {
    return claimed_one(c,
                       "UPDATE partner_relationships SET status = 'ended', ended_at = ?4, ended_by = NULL"
                       " WHERE id = ?1 AND agreement_id = ?2 AND status = 'active' AND ends_at = ?3 RETURNING id",
                       DB_ARGS(DV_INT(id), DV_INT(agreement_id), DV_INT(ends_at), DV_INT(now)), claimed);
}

os_err st_requests_lapsing(store_conn *c, arena *a, int64_t now, int limit, rel_due_rec **rows, int *n) {
    return st_list(c, a,
                   "SELECT q.id, r.agreement_id FROM partner_requests q"
                   " JOIN partner_relationships r ON r.id = q.relationship_id"
                   " WHERE q.status = 'pending' AND q.lapses_at <= ?1 ORDER BY q.lapses_at, q.id LIMIT ?2",
                   DB_ARGS(DV_INT(now), DV_INT(limit)), sizeof(rel_due_rec), fill_due, (void **)rows, n);
}
