/* prefs.c — agreement preferences (super admins). */
#include <string.h>
#include "api.h"
#include "core/limits.h"
#include "domain/access.h"
#include "domain/prefs.h"
#include "domain/subscribers.h"

/* {contact_email, default_level, default_country, default_language, default_downloads,
 *  allow_outside_domains, alert_threshold, partner_approval, require_strong_auth,
 *  partner_capabilities:[…],
 *  partner_period_days (null: up to the agreement's end), customer_domains:[…]} */
static os_err reply_prefs(req *r) {
    prefs_view v;
    os_err e = prefs_read(r->x, r->agreement_id, &v);
    if (e) return e;
    jw *w = reply_json(r, 200);
    jw_obj(w);
    jw_kstr(w, "contact_email", v.p.contact_email);
    jw_kstr(w, "default_level", v.p.default_level);
    jw_kstr(w, "default_country", v.p.default_country);
    jw_kstr(w, "default_language", v.p.default_language);
    jw_kbool(w, "default_downloads", v.p.default_downloads);
    jw_kbool(w, "allow_outside_domains", v.p.allow_outside_domains);
    jw_kint(w, "alert_threshold", v.p.alert_threshold);
    jw_kbool(w, "partner_approval", v.p.partner_approval);
    jw_kbool(w, "require_strong_auth", v.p.require_strong_auth);
    api_write_capabilities(w, "partner_capabilities", v.p.partner_capabilities);
    jw_key(w, "partner_period_days");
    if (v.p.partner_period_days) jw_int(w, v.p.partner_period_days);
    else jw_null(w);
    jw_key(w, "customer_domains");
    jw_arr(w);
    for (int i = 0; i < v.ndomains; i++) jw_str(w, v.domains[i]);
    jw_arr_end(w);
    jw_obj_end(w);
    return OS_OK;
}

os_err h_prefs_get(req *r) { return reply_prefs(r); }

static bool bool_field(req *r, const char *field, bool dflt) {
    json_t *v = json_object_get(r->json, field);
    if (!v || json_is_null(v)) return dflt;
    if (!json_is_boolean(v)) fe_add(&r->fe, field, "wrong_type", "Use true or false");
    return json_is_true(v);
}

/* PUT replaces the preferences as a whole (absent fields return to their defaults). */
os_err h_prefs_put(req *r) {
    prefs_rec p = {0};
    p.contact_email = body_email(r, "contact_email", false);
    p.default_level = body_str(r, "default_level", LIMIT_LEVEL_CODE_CHARS, false);
    p.default_country = body_country(r, "default_country", false, NULL);
    p.default_language = body_enum(r, "default_language", subscriber_languages, false);
    p.default_downloads = bool_field(r, "default_downloads", true);
    p.allow_outside_domains = bool_field(r, "allow_outside_domains", true);
    json_t *t = json_object_get(r->json, "alert_threshold");
    p.alert_threshold = LIMIT_ALERT_THRESHOLD_DEFAULT;
    if (t && !json_is_null(t)) {
        if (json_is_integer(t)) p.alert_threshold = json_integer_value(t);
        else
            fe_add(&r->fe, "alert_threshold", "wrong_type",
                   arena_printf(&r->a, "A whole number from %d to %d", LIMIT_ALERT_THRESHOLD_MIN,
                                LIMIT_ALERT_THRESHOLD_MAX));
    }
    p.partner_approval = bool_field(r, "partner_approval", false);
    p.require_strong_auth = bool_field(r, "require_strong_auth", false);
    /* Requiring it from a password-only session would shut the one asking out at once. */
    if (p.require_strong_auth && !access_method_strong(r->x->auth_method))
        fe_add(&r->fe, "require_strong_auth", "strong_auth_needed",
               "Sign in with a second factor or your company's provider before requiring it");
    p.partner_capabilities = body_capabilities(r, "partner_capabilities", false, prefs_defaults.partner_capabilities);
    /* Absent: the default period; null: up to the agreement's end. */
    json_t *pd = json_object_get(r->json, "partner_period_days");
    p.partner_period_days = prefs_defaults.partner_period_days;
    if (pd && json_is_null(pd)) p.partner_period_days = 0;
    else if (pd && !json_is_integer(pd))
        fe_add(&r->fe, "partner_period_days", "wrong_type", "A whole number of days from 1 to 730, or null");
    else if (pd && (json_integer_value(pd) < 1 || json_integer_value(pd) > LIMIT_PARTNER_PERIOD_DAYS_MAX))
        fe_add_params(&r->fe, "partner_period_days", "out_of_range", "From 1 to 730 days",
                      "{\"min\":1,\"max\":730}");
    else if (pd) p.partner_period_days = json_integer_value(pd);
    op_ctx *x = r->x;
    os_err e = prefs_save(x, r->agreement_id, &p, &r->fe);
    if (e) return e;
    return reply_prefs(r);
}
