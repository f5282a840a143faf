/* me.c — the signed-in person's own subscriptions and questions to their admins. */
#include "api.h"
#include "core/limits.h"
#include "domain/licensing.h"
#include "domain/subscribers.h"

/* {"subscriptions":[{license_number, customer, level, level_name, expires, downloads,
 *  status}]}, level names in the reader's language. */
os_err h_my_subscriptions(req *r) {
    my_sub_rec *rows;
    int n;
    os_err e = subscribers_mine(r->x, &rows, &n);
    if (e) return e;
    jw *w = reply_json(r, 200);
    jw_obj(w);
    jw_key(w, "subscriptions");
    jw_arr(w);
    for (int i = 0; i < n; i++) {
        jw_obj(w);
        jw_kstr(w, "license_number", rows[i].license_number);
        jw_kstr(w, "customer", rows[i].customer_name);
        jw_kstr(w, "level", rows[i].level_code);
        jw_kstr(w, "level_name", api_in_language(r->user_language, rows[i].name_en, rows[i].name_fr));
        jw_kstr(w, "expires", rows[i].expires_on);
        jw_kbool(w, "downloads", rows[i].downloads);
        jw_kstr(w, "status", licensing_status(rows[i].agreement_end, rows[i].disabled, r->now));
        jw_obj_end(w);
    }
    jw_arr_end(w);
    jw_obj_end(w);
    return OS_OK;
}

os_err h_my_question(req *r) {
    const char *lic = body_str(r, "license_number", 16, true);
    const char *subject = body_str(r, "subject", LIMIT_QUESTION_SUBJECT_CHARS, true);
    const char *message = body_str_raw(r, "message", 1, LIMIT_QUESTION_MESSAGE_CHARS, true);
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
