/* access.c — who may act on an agreement. Contract in access.h. */
#include "access.h"
#include <string.h>
#include "domain/lifecycle.h"

os_err access_agreement(op_ctx *x, const char *license_number, int64_t user_id, bool super_only, bool change,
                        agreement_access *out) {
    memset(out, 0, sizeof *out);
    out->verdict = AGR_NO_ROLE;
    const char *end_date;
    bool disabled;
    int64_t id;
    os_err e = st_agreement_state(x->c, x->a, license_number, &id, &end_date, &disabled);
    if (e == OS_ERR_NOT_FOUND) return OS_OK;
    if (e) return e;
    out->agreement_id = id;
    e = st_agreement_role(x->c, x->a, id, user_id, &out->role);
    if (e == OS_ERR_NOT_FOUND) {
        out->role = NULL;
        return OS_OK;
    }
    if (e) return e;
    out->writable = lifecycle_writable(end_date, disabled, x->now, x->app->cfg->grace_days);
    if (super_only && strcmp(out->role, "super_admin")) out->verdict = AGR_NOT_SUPER;
    else if (change && !out->writable) out->verdict = AGR_READ_ONLY;
    else out->verdict = AGR_ALLOWED;
    return OS_OK;
}
