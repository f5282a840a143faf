/* prefs.h — agreement preferences (super admins): contact address for subscriber
 * questions, defaults for new subscribers, whether addresses outside the customer's own
 * e-mail domains may be assigned, and the over-allocation alert threshold. */
#ifndef OPENSEAT_PREFS_H
#define OPENSEAT_PREFS_H
#include "domain/ctx.h"

/* The preferences as stored, and the customer's own e-mail domains they apply to. */
typedef struct prefs_view {
    prefs_rec p;
    const char **domains;
    int ndomains;
} prefs_view;
os_err prefs_read(op_ctx *x, int64_t agreement_id, prefs_view *out);
/* Validates against the agreement (default level must be one of its levels). */
os_err prefs_save(op_ctx *x, int64_t agreement_id, const prefs_rec *p, field_errors *fe);
/* Whether the address's domain is one of the customer's own. */
os_err prefs_domain_is_customers(op_ctx *x, int64_t agreement_id, const char *email, bool *yes);
/* Whether the address's domain is one of domains[0..n) (the customer's own, read once for
 * many addresses with st_customer_domains). */
bool prefs_domain_in(const char *const *domains, int n, const char *email);

#endif
