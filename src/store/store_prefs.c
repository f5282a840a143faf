/* store_prefs.c — agreement preferences and the customer's e-mail domains. Contract in store.h. */
#include <string.h>
#include "core/limits.h"
#include "store.h"
#include "store_util.h"

const prefs_rec prefs_defaults = {.default_downloads = true,
                                  .allow_outside_domains = true,
                                  .alert_threshold = LIMIT_ALERT_THRESHOLD_DEFAULT,
                                  .partner_capabilities = 31,
                                  .partner_period_days = LIMIT_PARTNER_PERIOD_DAYS_DEFAULT};

static void fill_prefs(arena *a, db_row *r, void *dst) {
    prefs_rec *p = dst;
    p->contact_email = st_dup(a, r, 0);
    p->default_level = st_dup(a, r, 1);
    p->default_country = st_dup(a, r, 2);
    p->default_language = st_dup(a, r, 3);
    p->default_downloads = db_int(r, 4) != 0;
    p->allow_outside_domains = db_int(r, 5) != 0;
    p->alert_threshold = db_int(r, 6);
    p->partner_approval = db_int(r, 7) != 0;
    p->partner_capabilities = (unsigned)db_int(r, 8);
    p->partner_period_days = db_int(r, 9);
    p->require_strong_auth = db_int(r, 10) != 0;
}

os_err st_prefs_get(store_conn *c, arena *a, int64_t agreement_id, prefs_rec *out) {
    prefs_rec *rows;
    int n;
    os_err e = st_list(c, a,
                       "SELECT contact_email, default_level, default_country, default_language, default_downloads,"
                       " allow_outside_domains, alert_threshold, partner_approval, partner_capabilities,"
                       " COALESCE(partner_period_days, 0), require_strong_auth FROM agreement_prefs WHERE agreement_id = ?1",
                       DB_ARGS(DV_INT(agreement_id)), sizeof(prefs_rec), fill_prefs, (void **)&rows, &n);
    if (e) return e;
    if (n) *out = rows[0];
    else *out = prefs_defaults;
    return OS_OK;
}

os_err st_prefs_put(store_conn *c, int64_t agreement_id, const prefs_rec *p, int64_t by, int64_t now) {
    return db_exec(c,
                   "INSERT INTO agreement_prefs (agreement_id, contact_email, default_level, default_country,"
                   " default_language, default_downloads, allow_outside_domains, alert_threshold, updated_at, updated_by,"
                   " partner_approval, partner_capabilities, partner_period_days, require_strong_auth)"
                   " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14) ON CONFLICT (agreement_id) DO UPDATE SET"
                   " contact_email = excluded.contact_email, default_level = excluded.default_level,"
                   " default_country = excluded.default_country, default_language = excluded.default_language,"
                   " default_downloads = excluded.default_downloads,"
                   " allow_outside_domains = excluded.allow_outside_domains, alert_threshold = excluded.alert_threshold,"
                   " updated_at = excluded.updated_at, updated_by = excluded.updated_by,"
                   " partner_approval = excluded.partner_approval, partner_capabilities = excluded.partner_capabilities,"
                   " partner_period_days = excluded.partner_period_days,"
                   " require_strong_auth = excluded.require_strong_auth",
                   DB_ARGS(DV_INT(agreement_id), DV_TEXT(p->contact_email), DV_TEXT(p->default_level),
                           DV_TEXT(p->default_country), DV_TEXT(p->default_language), DV_INT(p->default_downloads),
                           DV_INT(p->allow_outside_domains), DV_INT(p->alert_threshold), DV_INT(now), DV_INT(by),
                           DV_INT(p->partner_approval), DV_INT(p->partner_capabilities),
                           p->partner_period_days ? DV_INT(p->partner_period_days) : DV_NULL,
                           DV_INT(p->require_strong_auth)),
                   NULL, NULL);
}

os_err st_agreement_strong_auth(store_conn *c, int64_t agreement_id, bool *yes) {
    int64_t v = 0;
    os_err e = db_scalar_int(c, "SELECT COALESCE(MAX(require_strong_auth), 0) FROM agreement_prefs WHERE agreement_id = ?1",
                             DB_ARGS(DV_INT(agreement_id)), &v);
    *yes = !e && v != 0;
    return e;
}

os_err st_customer_domains(store_conn *c, arena *a, int64_t agreement_id, const char ***domains, int *n) {
    return st_list(c, a,
                   "SELECT substr(customer_email, instr(customer_email, '@') + 1) FROM agreements WHERE id = ?1"
                   " UNION SELECT substr(u.email, instr(u.email, '@') + 1) FROM admin_roles ar"
                   " JOIN users u ON u.id = ar.user_id WHERE ar.agreement_id = ?1 AND ar.role = 'super_admin'",
                   DB_ARGS(DV_INT(agreement_id)), sizeof(const char *), st_fill_text, (void **)domains, n);
}
