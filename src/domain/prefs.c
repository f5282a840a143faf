/* prefs.c — see prefs.h. */
#include "prefs.h"
#include <string.h>
#include "core/limits.h"
#include "core/text.h"
#include "domain/audit.h"

os_err prefs_read(op_ctx *x, int64_t agreement_id, prefs_view *out) {
    *out = (prefs_view){0};
    os_err e = st_prefs_get(x->c, x->a, agreement_id, &out->p);
    if (!e) e = st_customer_domains(x->c, x->a, agreement_id, &out->domains, &out->ndomains);
    return e;
}

os_err prefs_save(op_ctx *x, int64_t agreement_id, const prefs_rec *p, field_errors *fe) {
    if (p->alert_threshold < LIMIT_ALERT_THRESHOLD_MIN || p->alert_threshold > LIMIT_ALERT_THRESHOLD_MAX)
        fe_add(fe, "alert_threshold", "out_of_range",
               arena_printf(x->a, "A percentage from %d to %d", LIMIT_ALERT_THRESHOLD_MIN, LIMIT_ALERT_THRESHOLD_MAX));
    /* The agreement's levels decide whether the default level is one: read in the
     * transaction that saves it. */
    os_err e = store_tx_begin_agreement(x->c, agreement_id);
    if (e) return e;
    if (p->default_level) {
        pool_rec *pools;
        int n;
        e = st_pools(x->c, x->a, agreement_id, &pools, &n);
        bool found = false;
        for (int i = 0; !e && i < n; i++)
            if (!strcmp(pools[i].level_code, p->default_level)) found = true;
        if (!e && !found) fe_add(fe, "default_level", "invalid_value", "Choose one of the agreement's levels");
    }
    if (!e && fe_any(fe)) e = OS_ERR_INVALID;
    if (!e) e = st_prefs_put(x->c, agreement_id, p, x->actor_id, x->now);
    if (!e) e = audit(x, "preferences.updated", "agreement", NULL, agreement_id, NULL);
    return store_tx_end(x->c, e);
}

os_err prefs_domain_is_customers(op_ctx *x, int64_t agreement_id, const char *email, bool *yes) {
    const char **domains;
    int n;
    os_err e = st_customer_domains(x->c, x->a, agreement_id, &domains, &n);
    *yes = !e && prefs_domain_in(domains, n, email);
    return e;
}

bool prefs_domain_in(const char *const *domains, int n, const char *email) {
    const char *d = email_domain(email);
    for (int i = 0; i < n; i++)
        if (domains[i] && !strcmp(domains[i], d)) return true;
    return false;
}
