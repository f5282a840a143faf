/* store_webhooks.c — webhook endpoints, their deliveries and each delivery's tries.
 * Contract in store.h (webhook endpoints). Deliveries are leased as outbox rows are: a
 * worker claims due rows for a while; a crashed worker's lease runs out and another takes
 * the row up, so a delivery is never lost (it may be sent twice: at least once). */
#include <string.h>
#include "store.h"
#include "store_util.h"

#define WH_COLS "id, COALESCE(agreement_id, 0), COALESCE(partner_org_id, 0), url, description, event_types," \
                " enabled, disabled_reason, secret, previous_secret, COALESCE(previous_until, 0),"           \
                " COALESCE(failing_since, 0), created_at, updated_at, COALESCE(created_by, 0)"
/* The owner's condition, ?1 and ?2 its agreement and organization (0 for the one it is not). */
#define WH_OWNER "((?1 > 0 AND agreement_id = ?1) OR (?2 > 0 AND partner_org_id = ?2))"

static void fill_webhook(arena *a, db_row *r, void *dst) {
    webhook_rec *w = dst;
    w->id = db_int(r, 0);
    w->owner.agreement_id = db_int(r, 1);
    w->owner.org_id = db_int(r, 2);
    w->url = st_dup(a, r, 3);
    w->description = st_dup(a, r, 4);
    w->event_types = st_dup(a, r, 5);
    w->enabled = db_int(r, 6) != 0;
    w->disabled_reason = st_dup(a, r, 7);
    w->secret = st_dup(a, r, 8);
    w->previous_secret = st_dup(a, r, 9);
    w->previous_until = db_int(r, 10);
    w->failing_since = db_int(r, 11);
    w->created_at = db_int(r, 12);
    w->updated_at = db_int(r, 13);
    w->created_by = db_int(r, 14);
}

os_err st_webhook_add(store_conn *c, const webhook_rec *w, int64_t *id) {
    return db_scalar_int(c,
                         "INSERT INTO webhook_endpoints (agreement_id, partner_org_id, url, description, event_types,"
                         " enabled, disabled_reason, secret, created_at, created_by, updated_at)"
                         " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?9) RETURNING id",
                         DB_ARGS(w->owner.agreement_id ? DV_INT(w->owner.agreement_id) : DV_NULL,
                                 w->owner.org_id ? DV_INT(w->owner.org_id) : DV_NULL, DV_TEXT(w->url),
                                 DV_TEXT(w->description ? w->description : ""),
                                 DV_TEXT(w->event_types ? w->event_types : ""), DV_INT(w->enabled),
                                 DV_TEXT(w->disabled_reason), DV_TEXT(w->secret), DV_INT(w->created_at),
                                 w->created_by ? DV_INT(w->created_by) : DV_NULL),
                         id);
}

os_err st_webhook_count(store_conn *c, webhook_owner o, int64_t *n) {
    return db_scalar_int(c, "SELECT COUNT(*) FROM webhook_endpoints WHERE " WH_OWNER,
                         DB_ARGS(DV_INT(o.agreement_id), DV_INT(o.org_id)), n);
}

os_err st_webhook_get(store_conn *c, arena *a, webhook_owner o, int64_t id, webhook_rec *out) {
    webhook_rec *rows;
    int n;
    os_err e = st_list(c, a, "SELECT " WH_COLS " FROM webhook_endpoints WHERE " WH_OWNER " AND id = ?3",
                       DB_ARGS(DV_INT(o.agreement_id), DV_INT(o.org_id), DV_INT(id)), sizeof *rows, fill_webhook,
                       (void **)&rows, &n);
    if (e) return e;
    if (n == 0) return OS_ERR_NOT_FOUND;
    *out = rows[0];
    return OS_OK;
}

os_err st_webhook_list(store_conn *c, arena *a, webhook_owner o, webhook_rec **rows, int *n) {
    return st_list(c, a, "SELECT " WH_COLS " FROM webhook_endpoints WHERE " WH_OWNER " ORDER BY id",
                   DB_ARGS(DV_INT(o.agreement_id), DV_INT(o.org_id)), sizeof **rows, fill_webhook, (void **)rows,
                   n);
}

os_err st_webhook_update(store_conn *c, const webhook_rec *w) {
    return db_exec(c,
                   "UPDATE webhook_endpoints SET url = ?4, description = ?5, event_types = ?6, enabled = ?7,"
                   " disabled_reason = ?8, updated_at = ?9,"
                   " failing_since = CASE WHEN ?7 = 1 AND enabled = 0 THEN NULL ELSE failing_since END"
                   " WHERE " WH_OWNER " AND id = ?3",
                   DB_ARGS(DV_INT(w->owner.agreement_id), DV_INT(w->owner.org_id), DV_INT(w->id), DV_TEXT(w->url),
                           DV_TEXT(w->description), DV_TEXT(w->event_types), DV_INT(w->enabled),
                           DV_TEXT(w->disabled_reason), DV_INT(w->updated_at)),
                   NULL, NULL);
}

os_err st_webhook_delete(store_conn *c, webhook_owner o, int64_t id, int64_t *changed) {
    return db_exec_changes(c, "DELETE FROM webhook_endpoints WHERE " WH_OWNER " AND id = ?3",
                           DB_ARGS(DV_INT(o.agreement_id), DV_INT(o.org_id), DV_INT(id)), changed);
}

os_err st_webhook_rotate(store_conn *c, webhook_owner o, int64_t id, const char *sealed, int64_t previous_until,
                         int64_t now) {
    return db_exec(c,
                   "UPDATE webhook_endpoints SET previous_secret = secret, previous_until = ?5, secret = ?4,"
                   " updated_at = ?6 WHERE " WH_OWNER " AND id = ?3",
                   DB_ARGS(DV_INT(o.agreement_id), DV_INT(o.org_id), DV_INT(id), DV_TEXT(sealed),
                           DV_INT(previous_until), DV_INT(now)),
                   NULL, NULL);
}

/* Whether an active relationship r (on the event's agreement ?2, at ?4) qualifies for an
 * event of partner capability ?5 about relationship ?6 (st_webhook_partner_may asks the
 * same of one organization). The event type names are a closed
 * list (events.c) of letters, dots and underscores; the endpoint's filter is matched as
 * ",type," inside ",a,b,", where LIKE's "_" can only stand for the "_" it is. */
#define WH_QUALIFIES                                                                                         \
    "r.agreement_id = ?2 AND r.status = 'active' AND r.ends_at > ?4"                                        \
    " AND (?5 = 0 OR (?5 > 0 AND (r.capabilities & ?5) <> 0) OR (?5 = -1 AND r.id = ?6))"

os_err st_webhook_fanout(store_conn *c, int64_t event_id, int64_t agreement_id, const char *type,
                         int partner_capability, int64_t relationship_id, int64_t now) {
    return db_exec(c,
                   "INSERT INTO webhook_deliveries (endpoint_id, event_id, type, next_attempt_at, created_at)"
                   " SELECT w.id, ?1, ?3, ?4, ?4 FROM webhook_endpoints w"
                   " WHERE w.enabled = 1 AND (w.event_types = '' OR w.event_types LIKE '%,' || CAST(?3 AS TEXT) || ',%')"
                   " AND (w.agreement_id = ?2 OR (?5 <> -2 AND w.partner_org_id IN ("
                   "  SELECT r.partner_org_id FROM partner_relationships r WHERE " WH_QUALIFIES ")))",
                   DB_ARGS(DV_INT(event_id), DV_INT(agreement_id), DV_TEXT(type), DV_INT(now),
                           DV_INT(partner_capability), DV_INT(relationship_id)),
                   NULL, NULL);
}

os_err st_webhook_partner_may(store_conn *c, int64_t org_id, int64_t agreement_id, int partner_capability,
                              int64_t relationship_id, int64_t now, bool *may) {
    int64_t n = 0;
    *may = false;
    if (partner_capability == -2) return OS_OK;
    os_err e = db_scalar_int(c,
                             "SELECT COUNT(*) FROM partner_relationships r WHERE r.partner_org_id = ?1"
                             " AND r.agreement_id = ?2 AND r.status = 'active' AND r.ends_at > ?3"
                             " AND (?4 = 0 OR (?4 > 0 AND (r.capabilities & ?4) <> 0) OR (?4 = -1 AND r.id = ?5))",
                             DB_ARGS(DV_INT(org_id), DV_INT(agreement_id), DV_INT(now), DV_INT(partner_capability),
                                     DV_INT(relationship_id)),
                             &n);
    *may = !e && n > 0;
    return e;
}

os_err st_webhook_delivery_add(store_conn *c, int64_t endpoint_id, const char *type, int64_t now, int64_t *id) {
    return db_scalar_int(c,
                         "INSERT INTO webhook_deliveries (endpoint_id, type, next_attempt_at, created_at)"
                         " VALUES (?1, ?2, ?3, ?3) RETURNING id",
                         DB_ARGS(DV_INT(endpoint_id), DV_TEXT(type), DV_INT(now)), id);
}

#define WD_COLS "d.id, d.endpoint_id, COALESCE(d.event_id, 0), d.type, d.status, d.attempts, d.next_attempt_at," \
                " d.created_at, COALESCE(d.finished_at, 0),"                                                      \
                " COALESCE((SELECT t.http_status FROM webhook_attempts t WHERE t.delivery_id = d.id"              \
                " ORDER BY t.id DESC LIMIT 1), 0)"

static void fill_delivery(arena *a, db_row *r, void *dst) {
    webhook_delivery_rec *d = dst;
    d->id = db_int(r, 0);
    d->endpoint_id = db_int(r, 1);
    d->event_id = db_int(r, 2);
    d->type = st_dup(a, r, 3);
    d->status = st_dup(a, r, 4);
    d->attempts = db_int(r, 5);
    d->next_attempt_at = db_int(r, 6);
    d->created_at = db_int(r, 7);
    d->finished_at = db_int(r, 8);
    d->last_status = db_int(r, 9);
}

os_err st_webhook_deliveries(store_conn *c, arena *a, int64_t endpoint_id, int64_t before_id, int limit,
                             webhook_delivery_rec **rows, int *n) {
    return st_list(c, a,
                   "SELECT " WD_COLS " FROM webhook_deliveries d WHERE d.endpoint_id = ?1 AND (?2 = 0 OR d.id < ?2)"
                   " ORDER BY d.id DESC LIMIT ?3",
                   DB_ARGS(DV_INT(endpoint_id), DV_INT(before_id), DV_INT(limit)), sizeof **rows, fill_delivery,
                   (void **)rows, n);
}

os_err st_webhook_delivery_get(store_conn *c, arena *a, int64_t endpoint_id, int64_t id, webhook_delivery_rec *out) {
    webhook_delivery_rec *rows;
    int n;
    os_err e = st_list(c, a, "SELECT " WD_COLS " FROM webhook_deliveries d WHERE d.endpoint_id = ?1 AND d.id = ?2",
                       DB_ARGS(DV_INT(endpoint_id), DV_INT(id)), sizeof *rows, fill_delivery, (void **)&rows, &n);
    if (e) return e;
    if (n == 0) return OS_ERR_NOT_FOUND;
    *out = rows[0];
    return OS_OK;
}

static void fill_attempt(arena *a, db_row *r, void *dst) {
    webhook_attempt_rec *t = dst;
    t->id = db_int(r, 0);
    t->delivery_id = db_int(r, 1);
    t->at = db_int(r, 2);
    t->http_status = db_int(r, 3);
    t->error = st_dup(a, r, 4);
    t->response = st_dup(a, r, 5);
    t->duration_ms = db_int(r, 6);
}

os_err st_webhook_attempts(store_conn *c, arena *a, int64_t delivery_id, int limit, webhook_attempt_rec **rows,
                           int *n) {
    return st_list(c, a,
                   "SELECT * FROM (SELECT id, delivery_id, at, COALESCE(http_status, 0), error, response, duration_ms"
                   " FROM webhook_attempts WHERE delivery_id = ?1 ORDER BY id DESC LIMIT ?2) t ORDER BY id",
                   DB_ARGS(DV_INT(delivery_id), DV_INT(limit)), sizeof **rows, fill_attempt, (void **)rows, n);
}

os_err st_webhook_redeliver(store_conn *c, int64_t endpoint_id, int64_t id, int64_t now) {
    int64_t changed = 0;
    os_err e = db_exec_changes(c,
                               "UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = ?3,"
                               " finished_at = NULL WHERE endpoint_id = ?1 AND id = ?2",
                               DB_ARGS(DV_INT(endpoint_id), DV_INT(id), DV_INT(now)), &changed);
    if (!e && changed == 0) e = OS_ERR_NOT_FOUND;
    return e;
}

static void fill_id(arena *a, db_row *r, void *dst) { *(int64_t *)dst = db_int(r, 0); }

os_err st_webhook_claim(store_conn *c, arena *a, const char *worker, int64_t now, int64_t lease_until, int limit,
                        int64_t **ids, int *n) {
    /* One endpoint per claim: the one whose oldest due delivery is oldest among endpoints
     * none of whose pending deliveries is under a live lease. A claim in hand is such a
     * lease, so an endpoint is sent to by one thread at a time and one that hangs holds up
     * only its own deliveries. SQLite serialises writers; on PostgreSQL the endpoint is
     * picked by locking its oldest due row (SKIP LOCKED), so a concurrent claim passes on
     * to another endpoint — two can pick one only between one's commit and the other's
     * snapshot, and then each sends different deliveries of it. */
    const char *sql = c->drv->dialect == DIALECT_PG
        ? "UPDATE webhook_deliveries SET claimed_by = ?1, claimed_until = ?3 WHERE id IN ("
          " SELECT d.id FROM webhook_deliveries d WHERE d.status = 'pending' AND d.next_attempt_at <= ?2"
          " AND (d.claimed_until IS NULL OR d.claimed_until < ?2) AND d.endpoint_id = ("
          "  SELECT p.endpoint_id FROM webhook_deliveries p JOIN webhook_endpoints w ON w.id = p.endpoint_id"
          "  WHERE p.status = 'pending' AND p.next_attempt_at <= ?2 AND w.enabled = 1"
          "  AND (p.claimed_until IS NULL OR p.claimed_until < ?2) AND NOT EXISTS (SELECT 1 FROM webhook_deliveries h"
          "   WHERE h.endpoint_id = p.endpoint_id AND h.status = 'pending' AND h.claimed_until >= ?2)"
          "  ORDER BY p.next_attempt_at, p.id LIMIT 1 FOR UPDATE OF p SKIP LOCKED)"
          " ORDER BY d.next_attempt_at, d.id LIMIT ?4 FOR UPDATE OF d SKIP LOCKED) RETURNING id"
        : "UPDATE webhook_deliveries SET claimed_by = ?1, claimed_until = ?3 WHERE id IN ("
          " SELECT d.id FROM webhook_deliveries d WHERE d.status = 'pending' AND d.next_attempt_at <= ?2"
          " AND (d.claimed_until IS NULL OR d.claimed_until < ?2) AND d.endpoint_id = ("
          "  SELECT p.endpoint_id FROM webhook_deliveries p JOIN webhook_endpoints w ON w.id = p.endpoint_id"
          "  WHERE p.status = 'pending' AND p.next_attempt_at <= ?2 AND w.enabled = 1"
          "  AND (p.claimed_until IS NULL OR p.claimed_until < ?2) AND NOT EXISTS (SELECT 1 FROM webhook_deliveries h"
          "   WHERE h.endpoint_id = p.endpoint_id AND h.status = 'pending' AND h.claimed_until >= ?2)"
          "  ORDER BY p.next_attempt_at, p.id LIMIT 1)"
          " ORDER BY d.next_attempt_at, d.id LIMIT ?4) RETURNING id";
    return st_list(c, a, sql, DB_ARGS(DV_TEXT(worker), DV_INT(now), DV_INT(lease_until), DV_INT(limit)),
                   sizeof **ids, fill_id, (void **)ids, n);
}

os_err st_webhook_release(store_conn *c, const char *worker) {
    return db_exec(c,
                   "UPDATE webhook_deliveries SET claimed_by = NULL, claimed_until = NULL"
                   " WHERE claimed_by = ?1 AND status = 'pending'",
                   DB_ARGS(DV_TEXT(worker)), NULL, NULL);
}

static void fill_job(arena *a, db_row *r, void *dst) {
    webhook_job_rec *j = dst;
    j->delivery_id = db_int(r, 0);
    j->endpoint_id = db_int(r, 1);
    j->event_id = db_int(r, 2);
    j->attempts = db_int(r, 3);
    j->type = st_dup(a, r, 4);
    j->owner.agreement_id = db_int(r, 5);
    j->owner.org_id = db_int(r, 6);
    j->agreement_id = db_int(r, 7);
    j->relationship_id = db_int(r, 8);
    j->at = db_int(r, 9);
    j->data = st_dup(a, r, 10);
    j->url = st_dup(a, r, 11);
    j->secret = st_dup(a, r, 12);
    j->previous_secret = st_dup(a, r, 13);
    j->previous_until = db_int(r, 14);
    j->enabled = db_int(r, 15) != 0;
}

os_err st_webhook_job(store_conn *c, arena *a, int64_t delivery_id, webhook_job_rec *out) {
    webhook_job_rec *rows;
    int n;
    os_err e = st_list(c, a,
                       "SELECT d.id, d.endpoint_id, COALESCE(d.event_id, 0), d.attempts, d.type,"
                       " COALESCE(w.agreement_id, 0), COALESCE(w.partner_org_id, 0), COALESCE(v.agreement_id, 0),"
                       " COALESCE(v.relationship_id, 0), COALESCE(v.at, d.created_at), v.data, w.url, w.secret,"
                       " w.previous_secret, COALESCE(w.previous_until, 0), w.enabled"
                       " FROM webhook_deliveries d JOIN webhook_endpoints w ON w.id = d.endpoint_id"
                       " LEFT JOIN events v ON v.id = d.event_id WHERE d.id = ?1",
                       DB_ARGS(DV_INT(delivery_id)), sizeof *rows, fill_job, (void **)&rows, &n);
    if (e) return e;
    if (n == 0) return OS_ERR_NOT_FOUND;
    *out = rows[0];
    return OS_OK;
}

os_err st_webhook_attempt_add(store_conn *c, const webhook_attempt_rec *t) {
    return db_exec(c,
                   "INSERT INTO webhook_attempts (delivery_id, at, http_status, error, response, duration_ms)"
                   " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                   DB_ARGS(DV_INT(t->delivery_id), DV_INT(t->at), t->http_status ? DV_INT(t->http_status) : DV_NULL,
                           DV_TEXT(t->error), DV_TEXT(t->response), DV_INT(t->duration_ms)),
                   NULL, NULL);
}

os_err st_webhook_delivery_done(store_conn *c, int64_t id, const char *worker, const char *status,
                                int64_t next_attempt_at, int64_t now, int64_t *changed) {
    return db_exec_changes(c,
                           "UPDATE webhook_deliveries SET status = ?3,"
                           " attempts = attempts + CASE WHEN ?3 = 'dropped' THEN 0 ELSE 1 END,"
                           " next_attempt_at = ?4, finished_at = CASE WHEN ?3 = 'pending' THEN NULL ELSE ?5 END,"
                           " claimed_by = NULL, claimed_until = NULL WHERE id = ?1 AND claimed_by = ?2",
                           DB_ARGS(DV_INT(id), DV_TEXT(worker), DV_TEXT(status), DV_INT(next_attempt_at), DV_INT(now)),
                           changed);
}

os_err st_webhook_endpoint_result(store_conn *c, int64_t endpoint_id, bool ok, int64_t now, int64_t disable_before,
                                  bool *disabled) {
    *disabled = false;
    if (ok)
        return db_exec(c, "UPDATE webhook_endpoints SET failing_since = NULL WHERE id = ?1 AND failing_since IS NOT NULL",
                       DB_ARGS(DV_INT(endpoint_id)), NULL, NULL);
    int64_t changed = 0;
    os_err e = db_exec(c, "UPDATE webhook_endpoints SET failing_since = ?2 WHERE id = ?1 AND failing_since IS NULL",
                       DB_ARGS(DV_INT(endpoint_id), DV_INT(now)), NULL, NULL);
    /* The disabling update is the claim: of two instances failing at once, one changes the row. */
    if (!e)
        e = db_exec_changes(c,
                            "UPDATE webhook_endpoints SET enabled = 0, disabled_reason = 'failing', updated_at = ?2"
                            " WHERE id = ?1 AND enabled = 1 AND failing_since <= ?3",
                            DB_ARGS(DV_INT(endpoint_id), DV_INT(now), DV_INT(disable_before)), &changed);
    if (!e && changed)
        e = db_exec(c,
                    "UPDATE webhook_deliveries SET status = 'failed', finished_at = ?2, claimed_by = NULL,"
                    " claimed_until = NULL WHERE endpoint_id = ?1 AND status = 'pending'",
                    DB_ARGS(DV_INT(endpoint_id), DV_INT(now)), NULL, NULL);
    *disabled = !e && changed > 0;
    return e;
}

os_err st_webhook_owners(store_conn *c, arena *a, webhook_owner o, recipient_rec **rows, int *n) {
    if (o.agreement_id)
        return st_list(c, a,
                       "SELECT u.email, u.name, u.language FROM admin_roles ar JOIN users u ON u.id = ar.user_id"
                       " WHERE ar.agreement_id = ?1 AND ar.role = 'super_admin' ORDER BY u.id",
                       DB_ARGS(DV_INT(o.agreement_id)), sizeof **rows, st_fill_recipient, (void **)rows, n);
    return st_list(c, a,
                   "SELECT m.email, COALESCE(u.name, ''), COALESCE(u.language, 'en') FROM partner_members m"
                   " LEFT JOIN users u ON u.email = m.email WHERE m.org_id = ?1 AND m.role = 'admin' ORDER BY m.id",
                   DB_ARGS(DV_INT(o.org_id)), sizeof **rows, st_fill_recipient, (void **)rows, n);
}

os_err st_webhook_prune(store_conn *c, int64_t before) {
    os_err e = db_exec(c, "DELETE FROM webhook_deliveries WHERE status <> 'pending' AND created_at < ?1",
                       DB_ARGS(DV_INT(before)), NULL, NULL);
    if (!e)
        e = db_exec(c,
                    "DELETE FROM events WHERE at < ?1 AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d"
                    " WHERE d.event_id = events.id)",
                    DB_ARGS(DV_INT(before)), NULL, NULL);
    return e;
}
