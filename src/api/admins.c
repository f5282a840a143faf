/* admins.c — the Admins page (super admins) and the activity log of an agreement. */
#include <string.h>
#include "api.h"
#include "core/limits.h"
#include "domain/admins.h"
#include "domain/audit.h"

static const char *const invite_languages[] = {"en", "fr", NULL};

/* {"admins":[{id, name, email, role, since, pending}], "super_admin_count", "few_super_admins"} */
static os_err reply_admins(req *r, int status) {
    admin_list l;
    os_err e = admins_list(r->x, r->agreement_id, &l);
    if (e) return e;
    jw *w = reply_json(r, status);
    jw_obj(w);
    jw_key(w, "admins");
    jw_arr(w);
    for (int i = 0; i < l.n; i++) {
        jw_obj(w);
        jw_kint(w, "id", l.rows[i].id);
        jw_kstr(w, "name", l.rows[i].name);
        jw_kstr(w, "email", l.rows[i].email);
        jw_kstr(w, "role", l.rows[i].role);
        jw_kstr(w, "since", text_iso_time(&r->a, l.rows[i].since));
        jw_kbool(w, "pending", l.rows[i].pending);
        jw_obj_end(w);
    }
    jw_arr_end(w);
    jw_kint(w, "super_admin_count", l.super_admins);
    jw_kbool(w, "few_super_admins", l.few_super_admins);
    jw_obj_end(w);
    return OS_OK;
}

os_err h_admins_list(req *r) { return reply_admins(r, 200); }

static os_err last_super_admin(req *r) {
    problem_reply_status(r, 409, "last_super_admin",
                         "An agreement always keeps at least one super admin; add another before removing this one");
    return OS_OK;
}

static const char *const admin_roles[] = {"super_admin", "admin", "partner_manager", NULL};

os_err h_admins_add(req *r) {
    const char *name = body_str(r, "name", LIMIT_NAME_BYTES, true);
    const char *email = body_email(r, "email", true);
    const char *lang = body_enum(r, "language", invite_languages, false);
    /* role, or the older super_admin flag (true: "super_admin"; false or absent: "admin"). */
    const char *role = body_enum(r, "role", admin_roles, false);
    json_t *sa = json_object_get(r->json, "super_admin");
    if (sa && !json_is_boolean(sa)) fe_add(&r->fe, "super_admin", "wrong_type", "super_admin must be true or false");
    if (fe_any(&r->fe)) return OS_ERR_INVALID;
    if (!role) role = json_is_true(sa) ? "super_admin" : "admin";
    op_ctx *x = r->x;
    os_err e = admins_add(x, r->agreement_id, name, email, lang ? lang : "en", role);
    if (e == OS_ERR_CONFLICT) return last_super_admin(r);
    if (e) return e;
    return reply_admins(r, 201);
}

os_err h_admins_remove(req *r) {
    int64_t id;
    if (!req_param_id(r, 1, &id)) return OS_ERR_NOT_FOUND;
    op_ctx *x = r->x;
    os_err e = admins_remove(x, r->agreement_id, id);
    if (e == OS_ERR_CONFLICT) return last_super_admin(r);
    if (e) return e;
    reply_empty(r, 204);
    return OS_OK;
}

os_err h_admin_invite_remove(req *r) {
    int64_t id;
    if (!req_param_id(r, 1, &id)) return OS_ERR_NOT_FOUND;
    os_err e = admins_remove_invite(r->x, r->agreement_id, id);
    if (!e) reply_empty(r, 204);
    return e;
}

static void activity_query_from(req *r, activity_query *q) {
    memset(q, 0, sizeof *q);
    q->agreement_id = r->agreement_id;
    /* Client addresses are personal data of everyone who acts on the agreement — other
     * partners' staff, the customer's: the customer's super admins alone see them. */
    q->with_address = !strcmp(r->agreement_role, "super_admin");
    q->language = r->user_language;
    q->actor = query_str(r, "actor", LIMIT_QUERY_VALUE_CHARS);
    q->action = query_str(r, "action", LIMIT_QUERY_VALUE_CHARS);
    q->from = query_date(r, "from", false);
    q->to = query_date(r, "to", true);
    q->before_id = query_id(r, "before", "Use the next_before value of the previous page");
    q->relationship_id = query_id(r, "relationship", "Use a partner relationship's id");
    q->limit = (int)query_int(r, "limit", 1, LIMIT_PAGE_SIZE_MAX, LIMIT_PAGE_SIZE_DEFAULT);
}

/* {"events":[{id, at, actor, actor_name, action, target_type, target, target_label, address?,
 *  details, relationship: {id, organization}|null, token: {id, name}|null}], "next_before":
 * id|null}; the client address only when q->with_address; relationship: the partner
 * relationship the actor acted under; token: the API token the actor used. The
 * names are there so the UI can word each event without a request per row. */
os_err h_activity(req *r) {
    activity_query q;
    activity_query_from(r, &q);
    if (fe_any(&r->fe)) return OS_ERR_INVALID;
    activity_list l;
    os_err e = activity_page(r->x, &q, &l);
    if (e) return e;
    jw *w = reply_json(r, 200);
    jw_obj(w);
    jw_key(w, "events");
    jw_arr(w);
    for (int i = 0; i < l.n; i++) {
        const activity_rec *ev = &l.rows[i];
        jw_obj(w);
        jw_kint(w, "id", ev->id);
        jw_kstr(w, "at", text_iso_time(&r->a, ev->at));
        jw_kstr(w, "actor", ev->actor_email);
        jw_kstr(w, "actor_name", ev->actor_name);
        jw_kstr(w, "action", ev->action);
        jw_kstr(w, "target_type", ev->target_type);
        jw_kstr(w, "target", ev->target_id);
        jw_kstr(w, "target_label", audit_target_label(&r->a, ev));
        if (q.with_address) jw_kstr(w, "address", ev->address);
        jw_key(w, "details");
        if (ev->details) jw_raw(w, ev->details);   /* stored by audit() as a JSON object */
        else jw_null(w);
        jw_key(w, "relationship");
        if (ev->relationship_id) {
            jw_obj(w);
            jw_kint(w, "id", ev->relationship_id);
            jw_kstr(w, "organization", ev->relationship_org);
            jw_obj_end(w);
        } else {
            jw_null(w);
        }
        jw_key(w, "token");
        if (ev->token_id) {
            jw_obj(w);
            jw_kint(w, "id", ev->token_id);
            jw_kstr(w, "name", ev->token_name);
            jw_obj_end(w);
        } else {
            jw_null(w);
        }
        jw_obj_end(w);
    }
    jw_arr_end(w);
    if (l.next_before) jw_kint(w, "next_before", l.next_before);
    else jw_knull(w, "next_before");
    jw_obj_end(w);
    return OS_OK;
}

os_err h_activity_csv(req *r) {
    activity_query q;
    activity_query_from(r, &q);
    if (fe_any(&r->fe)) return OS_ERR_INVALID;
    op_ctx *x = r->x;
    /* The raw columns first, for machines (their places unchanged); the readable ones after,
     * the action's label in the user's language; the API token the actor used (empty: none);
     * details stay last. */
    static const export_column with[] = {{"time", 20},       {"actor", 30},        {"action", 24},
                                         {"target type", 14}, {"target", 36},       {"address", 16},
                                         {"actor name", 30},  {"action label", 30}, {"target label", 40},
                                         {"token id", 10},    {"token name", 30},   {"details", 60}};
    static const export_column without[] = {{"time", 20},       {"actor", 30},        {"action", 24},
                                            {"target type", 14}, {"target", 36},       {"actor name", 30},
                                            {"action label", 30}, {"target label", 40}, {"token id", 10},
                                            {"token name", 30},  {"details", 60}};
    export_file *f;
    os_err e = export_begin(&r->a, EXPORT_CSV, r->user_language, "activity", q.with_address ? with : without,
                            q.with_address ? 12 : 11, &f);
    if (e) return e;
    if ((e = activity_csv(x, &q, f))) {
        export_discard(f);
        return e;
    }
    int fd;
    uint64_t size;
    if ((e = export_end(f, &fd, &size))) return e;
    char day[11];
    text_day(r->now, day);
    reply_file(r, 200, export_content_type(EXPORT_CSV), fd, size,
               arena_printf(&r->a, "activity-%s-%s.csv", r->agreement_license, day));
    return OS_OK;
}
