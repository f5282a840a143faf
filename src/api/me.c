/* me.c — the signed-in person's own subscriptions and questions to their admins. */
#include "api.h"
#include "domain/subscribers.h"

os_err h_my_subscriptions(req *r) {
    return subscribers_write_mine(r->x, r->user_language, reply_json(r, 200));
}

os_err h_my_question(req *r) {
    const char *lic = body_str(r, "license_number", 16, true);
    const char *subject = body_str(r, "subject", 200, true);
    const char *message = body_str_raw(r, "message", 1, 5000, true);
    json_t *copy = json_object_get(r->json, "copy_to_me");
    if (fe_any(&r->fe)) return OS_ERR_INVALID;
    op_ctx *x = r->x;
    os_err e = subscribers_ask(x, lic, subject, message, json_is_true(copy));
    if (e) return e;
    jw *w = reply_json(r, 202);
    jw_obj(w);
    jw_kstr(w, "status", "sent");
    jw_obj_end(w);
    return OS_OK;
}
