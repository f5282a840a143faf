/* admins.c — the Admins page (super admins) and the activity log of an agreement. */
#include <string.h>
#include "api.h"
#include "core/limits.h"
#include "domain/admins.h"

static const char *const invite_languages[] = {"en", "fr", NULL};

os_err h_admins_list(req *r) {
    return admins_write_list(r->x, r->agreement_id, reply_json(r, 200));
}

static os_err last_super_admin(req *r) {
    problem_reply_status(r, 409, "last_super_admin",
                         "An agreement always keeps at least one super admin; add another before removing this one");
    return OS_OK;
}

os_err h_admins_add(req *r) {
    const char *name = body_str(r, "name", LIMIT_NAME_BYTES, true);
    const char *email = body_email(r, "email", true);
    const char *lang = body_enum(r, "language", invite_languages, false);
    json_t *sa = json_object_get(r->json, "super_admin");
    if (sa && !json_is_boolean(sa)) fe_add(&r->fe, "super_admin", "wrong_type", "super_admin must be true or false");
    if (fe_any(&r->fe)) return OS_ERR_INVALID;
    op_ctx *x = r->x;
    os_err e = admins_add(x, r->agreement_id, name, email, lang ? lang : "en", json_is_true(sa));
    if (e == OS_ERR_CONFLICT) return last_super_admin(r);
    if (e) return e;
    return admins_write_list(x, r->agreement_id, reply_json(r, 201));
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
    q->actor = query_str(r, "actor", LIMIT_QUERY_VALUE_CHARS);
    q->action = query_str(r, "action", LIMIT_QUERY_VALUE_CHARS);
    q->from = query_date(r, "from", false);
    q->to = query_date(r, "to", true);
    q->before_id = query_id(r, "before", "Use the next_before value of the previous page");
    q->limit = (int)query_int(r, "limit", 1, LIMIT_PAGE_SIZE_MAX, LIMIT_PAGE_SIZE_DEFAULT);
}

os_err h_activity(req *r) {
    activity_query q;
    activity_query_from(r, &q);
    if (fe_any(&r->fe)) return OS_ERR_INVALID;
    return activity_write(r->x, &q, reply_json(r, 200));
}

os_err h_activity_csv(req *r) {
    activity_query q;
    activity_query_from(r, &q);
    if (fe_any(&r->fe)) return OS_ERR_INVALID;
    op_ctx *x = r->x;
    static const export_column with[] = {{"time", 20}, {"actor", 30}, {"action", 24}, {"target type", 14},
                                         {"target", 36}, {"address", 16}, {"details", 60}};
    static const export_column without[] = {{"time", 20}, {"actor", 30}, {"action", 24}, {"target type", 14},
                                            {"target", 36}, {"details", 60}};
    export_file *f;
    os_err e = export_begin(&r->a, EXPORT_CSV, r->user_language, "activity", q.with_address ? with : without,
                            q.with_address ? 7 : 6, &f);
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
