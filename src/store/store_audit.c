/* store_audit.c — the append-only audit trail (written, read back, and an agreement's
 * activity pages) and the server-wide settings. Contract in store.h (audit trail,
 * activity, settings). */
#include <string.h>
#include "store.h"
#include "store_util.h"

static db_val opt_id(int64_t v) { return v ? DV_INT(v) : DV_NULL; }

os_err st_audit_add(store_conn *c, const audit_rec *r) {
    return db_exec(c,
                   "INSERT INTO audit_events (at, actor_user_id, actor_email, action, target_type, target_id,"
                   " agreement_id, address, request_id, details, relationship_id, token_id)"
                   " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                   DB_ARGS(DV_INT(r->at), opt_id(r->actor_user_id), DV_TEXT(r->actor_email), DV_TEXT(r->action),
                           DV_TEXT(r->target_type), DV_TEXT(r->target_id), opt_id(r->agreement_id),
                           DV_TEXT(r->address), DV_TEXT(r->request_id), DV_TEXT(r->details_json),
                           opt_id(r->relationship_id), opt_id(r->token_id)),
                   NULL, NULL);
}

#define AUDIT_PER_STATEMENT 64   /* 12 parameters each */

os_err st_audit_add_many(store_conn *c, const audit_rec *r, int n) {
    os_err e = OS_OK;
    for (int done = 0; !e && done < n;) {
        int k = st_batch(n - done, AUDIT_PER_STATEMENT);
        char mem[8192];
        buf sql;
        buf_init_fixed(&sql, mem, sizeof mem);
        if (!st_rows_sql(&sql,
                         "INSERT INTO audit_events (at, actor_user_id, actor_email, action, target_type, target_id,"
                         " agreement_id, address, request_id, details, relationship_id, token_id) VALUES ",
                         "(#, #, #, #, #, #, #, #, #, #, #, #)", 1, k, ""))
            return OS_ERR_INTERNAL;
        db_val args[AUDIT_PER_STATEMENT * 12];
        for (int i = 0; i < k; i++) {
            const audit_rec *x = &r[done + i];
            db_val *v = &args[12 * i];
            v[0] = DV_INT(x->at);
            v[1] = opt_id(x->actor_user_id);
            v[2] = DV_TEXT(x->actor_email);
            v[3] = DV_TEXT(x->action);
            v[4] = DV_TEXT(x->target_type);
            v[5] = DV_TEXT(x->target_id);
            v[6] = opt_id(x->agreement_id);
            v[7] = DV_TEXT(x->address);
            v[8] = DV_TEXT(x->request_id);
            v[9] = DV_TEXT(x->details_json);
            v[10] = opt_id(x->relationship_id);
            v[11] = opt_id(x->token_id);
        }
        e = db_exec(c, sql.data, args, 12 * k, NULL, NULL);
        done += k;
    }
    return e;
}

typedef struct au_ud {
    arena *a;
    audit_rec *rows;
    int n, cap;
} au_ud;

static int au_row(void *ud, db_row *r) {
    au_ud *u = ud;
    if (u->n >= u->cap) return 1;
    audit_rec *o = &u->rows[u->n++];
    o->at = db_int(r, 0);
    o->actor_user_id = db_int(r, 1);
    o->actor_email = st_dup(u->a, r, 2);
    o->action = st_dup(u->a, r, 3);
    o->target_type = st_dup(u->a, r, 4);
    o->target_id = st_dup(u->a, r, 5);
    o->agreement_id = db_int(r, 6);
    o->address = st_dup(u->a, r, 7);
    o->request_id = st_dup(u->a, r, 8);
    o->details_json = st_dup(u->a, r, 9);
    return 0;
}

os_err st_audit_recent(store_conn *c, arena *a, int64_t actor_user_id, int limit, audit_rec **rows, int *n) {
    au_ud u = {a, arena_alloc(a, sizeof(audit_rec) * (size_t)(limit > 0 ? limit : 1)), 0, limit};
    os_err e = db_exec(c,
                       "SELECT at, COALESCE(actor_user_id, 0), actor_email, action, target_type, target_id,"
                       " COALESCE(agreement_id, 0), address, request_id, details FROM audit_events"
                       " WHERE (?1 = 0 OR actor_user_id = ?1) ORDER BY id DESC LIMIT ?2",
                       DB_ARGS(DV_INT(actor_user_id), DV_INT(limit)), au_row, &u);
    *rows = u.rows;
    *n = u.n;
    return e;
}

/* ---- the agreement's activity (its part of the trail) ---- */

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
    x->actor_name = st_dup(a, r, 8);
    x->target_name = st_dup(a, r, 9);
    x->target_note = st_dup(a, r, 10);
    x->relationship_id = db_int(r, 11);
    x->relationship_org = st_dup(a, r, 12);
    x->token_id = db_int(r, 13);
    x->token_name = st_dup(a, r, 14);
}

/* The readable names of an event, resolved in the same statement as the page (a page of the
 * CSV export is one statement, whatever it names): the actor's current name; the target's
 * name — a subscription's subscriber (its row, or once removed the name or e-mail and level
 * the event recorded), an organization's name, a person's name, a job's file name, a
 * program's or license's own — and a second part (a subscription's level, a person's
 * e-mail). Every joined row that belongs to an agreement must belong to the event's own, so
 * an identifier can never name another agreement's row. The page is chosen first, in a
 * subquery of its own (the keyset range): joined to the events directly, SQLite's planner
 * walks the (agreement_id, at) index and sorts the whole log for every page. Integer targets
 * are read only under their own target type, and only when they are digits: other types
 * carry e-mails, uuids and license numbers there, and a subscriber's question names its
 * "user" target by address (PostgreSQL refuses to cast those). */
#define ACTIVITY_SELECT(J, N)                                                                                      \
    "SELECT ae.id, ae.at, ae.actor_email, ae.action, ae.target_type, ae.target_id, ae.address, ae.details,"       \
    " au.name,"                                                                                                   \
    " CASE ae.target_type"                                                                                        \
    "  WHEN 'subscription' THEN COALESCE(s.name, " J("name") ", " J("email") ")"                                 \
    "  WHEN 'organization' THEN COALESCE(o.name, " J("partner_org") ")"                                           \
    "  WHEN 'partner_access' THEN COALESCE(po.name, " J("partner_org") ")"                                        \
    "  WHEN 'partner_relationship' THEN COALESCE(tro.name, " J("partner_org") ")"                                \
    "  WHEN 'partner_request' THEN COALESCE(tqo.name, " J("partner_org") ")"                                     \
    "  WHEN 'user' THEN tu.name"                                                                                  \
    "  WHEN 'email' THEN COALESCE(eu.name, ai.name)"                                                              \
    "  WHEN 'job' THEN COALESCE(j.file_name, " J("file_name") ")"                                                 \
    "  WHEN 'order' THEN " J("license_number")                                                                    \
    "  WHEN 'program' THEN ae.target_id WHEN 'license' THEN ae.target_id"                                         \
    "  ELSE NULL END,"                                                                                            \
    " CASE ae.target_type"                                                                                        \
    "  WHEN 'subscription' THEN CASE WHEN CAST(?8 AS TEXT) = 'fr' THEN COALESCE(sl.name_fr, dl.name_fr)"        \
    "   ELSE COALESCE(sl.name_en, dl.name_en) END"                                                               \
    "  WHEN 'user' THEN tu.email"                                                                                 \
    "  WHEN 'email' THEN ae.target_id"                                                                            \
    "  ELSE NULL END,"                                                                                            \
    " ae.relationship_id, aro.name, COALESCE(ae.token_id, 0), tk.name"                                            \
    " FROM (SELECT id, at, actor_user_id, actor_email, action, target_type, target_id, agreement_id, address,"   \
    "  details, relationship_id, token_id FROM audit_events"                                                      \
    "  WHERE agreement_id = ?1 AND id < ?6 AND (CAST(?2 AS TEXT) IS NULL OR instr(actor_email, ?2) > 0)"          \
    "  AND (?9 = 0 OR relationship_id = ?9)"                                                                      \
    "  AND (CAST(?3 AS TEXT) IS NULL OR substr(action, 1, length(?3)) = ?3)"                                      \
    "  AND at >= ?4 AND at <= ?5"                                                                                 \
    "  ORDER BY id DESC LIMIT ?7) ae"                                                                             \
    " LEFT JOIN users au ON au.id = ae.actor_user_id"                                                             \
    " LEFT JOIN subscriptions s ON ae.target_type = 'subscription' AND s.uuid = ae.target_id"                     \
    "  AND s.agreement_id = ae.agreement_id"                                                                      \
    " LEFT JOIN levels sl ON sl.id = s.level_id"                                                                  \
    " LEFT JOIN levels dl ON ae.target_type = 'subscription' AND dl.code = " J("level")                           \
    " LEFT JOIN organizations o ON o.id = CASE WHEN ae.target_type = 'organization' THEN " N " END"              \
    " LEFT JOIN partner_access pa ON pa.id = CASE WHEN ae.target_type = 'partner_access' THEN " N " END"        \
    "  AND pa.agreement_id = ae.agreement_id"                                                                     \
    " LEFT JOIN organizations po ON po.id = pa.partner_org_id"                                                    \
    " LEFT JOIN partner_relationships tr ON tr.id = CASE WHEN ae.target_type = 'partner_relationship'"          \
    "  THEN " N " END AND tr.agreement_id = ae.agreement_id"                                                      \
    " LEFT JOIN organizations tro ON tro.id = tr.partner_org_id"                                                  \
    " LEFT JOIN partner_requests tq ON tq.id = CASE WHEN ae.target_type = 'partner_request' THEN " N " END"      \
    " LEFT JOIN partner_relationships tqr ON tqr.id = tq.relationship_id AND tqr.agreement_id = ae.agreement_id"  \
    " LEFT JOIN organizations tqo ON tqo.id = tqr.partner_org_id"                                                 \
    " LEFT JOIN partner_relationships ar ON ar.id = ae.relationship_id AND ar.agreement_id = ae.agreement_id"    \
    " LEFT JOIN organizations aro ON aro.id = ar.partner_org_id"                                                  \
    " LEFT JOIN api_tokens tk ON tk.id = ae.token_id"                                                             \
    " LEFT JOIN users tu ON tu.id = CASE WHEN ae.target_type = 'user' THEN " N " END"                            \
    " LEFT JOIN users eu ON ae.target_type = 'email' AND eu.email = ae.target_id"                                 \
    " LEFT JOIN admin_invites ai ON ae.target_type = 'email' AND ai.agreement_id = ae.agreement_id"               \
    "  AND ai.email = ae.target_id"                                                                               \
    " LEFT JOIN jobs j ON ae.target_type = 'job' AND j.id = ae.target_id AND j.agreement_id = ae.agreement_id"   \
    " ORDER BY ae.id DESC"
/* A member of the event's details (a JSON object written by audit(), or NULL). */
#define SQLITE_DETAIL(key) "json_extract(ae.details, '$." key "')"
#define PG_DETAIL(key) "(ae.details::json ->> '" key "')"
/* The target's identifier as an integer; NULL (PostgreSQL) or 0 (SQLite) when it is none. */
#define SQLITE_TARGET_NUMBER "CAST(ae.target_id AS INTEGER)"
#define PG_TARGET_NUMBER "CASE WHEN ae.target_id ~ '^[0-9]{1,18}$' THEN CAST(ae.target_id AS BIGINT) END"

os_err st_activity(store_conn *c, arena *a, const activity_query *q, activity_rec **rows, int *n) {
    /* Open bounds as plain values, so each page is a range of the (agreement_id, id) index
     * walked downwards from `before`: page k of a long log costs what page 1 does (an
     * "?6 = 0 OR id < ?6" test is no range, and every page re-read the rows before it). */
    const char *sql = c->drv->dialect == DIALECT_PG ? ACTIVITY_SELECT(PG_DETAIL, PG_TARGET_NUMBER)
                                                    : ACTIVITY_SELECT(SQLITE_DETAIL, SQLITE_TARGET_NUMBER);
    return st_list(c, a, sql,
                   DB_ARGS(DV_INT(q->agreement_id), DV_TEXT(q->actor), DV_TEXT(q->action), DV_INT(q->from),
                           DV_INT(q->to ? q->to : INT64_MAX), DV_INT(q->before_id ? q->before_id : INT64_MAX),
                           DV_INT(q->limit), DV_TEXT(q->language ? q->language : "en"), DV_INT(q->relationship_id)),
                   sizeof(activity_rec), fill_activity, (void **)rows, n);
}

/* ---- settings ---- */

typedef struct set_ud {
    arena *a;
    const char *v;
} set_ud;

static int set_row(void *ud, db_row *r) {
    set_ud *s = ud;
    s->v = st_dup(s->a, r, 0);
    return 1;
}

os_err st_setting_get(store_conn *c, arena *a, const char *key, const char **value) {
    set_ud s = {a, NULL};
    os_err e = db_exec(c, "SELECT value FROM settings WHERE key = ?1", DB_ARGS(DV_TEXT(key)), set_row, &s);
    if (e) return e;
    if (!s.v) return OS_ERR_NOT_FOUND;
    *value = s.v;
    return OS_OK;
}

os_err st_setting_init(store_conn *c, arena *a, const char *key, const char *candidate, const char **value) {
    os_err e = db_exec(c, "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO NOTHING",
                       DB_ARGS(DV_TEXT(key), DV_TEXT(candidate)), NULL, NULL);
    if (e) return e;
    return st_setting_get(c, a, key, value);
}

os_err st_setting_put(store_conn *c, const char *key, const char *value) {
    return db_exec(c, "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = ?2",
                   DB_ARGS(DV_TEXT(key), DV_TEXT(value)), NULL, NULL);
}
