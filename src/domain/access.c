/* access.c — who may act on an agreement. Contract in access.h. */
#include "access.h"
#include <string.h>
#include "domain/lifecycle.h"

static const char *const cap_names_[CAP_COUNT] = {"read", "assign", "bulk", "usage", "activity"};

const char *cap_name(unsigned bit) {
    for (int i = 0; i < CAP_COUNT; i++)
        if (bit == 1u << i) return cap_names_[i];
    return NULL;
}

unsigned cap_bit(const char *name) {
    for (int i = 0; name && i < CAP_COUNT; i++)
        if (!strcmp(name, cap_names_[i])) return 1u << i;
    return 0;
}

int cap_names(unsigned caps, const char **names) {
    int n = 0;
    for (int i = 0; i < CAP_COUNT; i++)
        if (caps & (1u << i)) names[n++] = cap_names_[i];
    return n;
}

static unsigned role_capabilities(const role_rec *r) {
    if (!strcmp(r->role, "partner")) return r->capabilities & CAP_ALL;
    if (!strcmp(r->role, "partner_manager")) return CAP_NONE;
    return CAP_ALL;
}

static bool who_admits(agreement_who who, const char *role) {
    switch (who) {
    case WHO_ANY_ROLE: return true;
    case WHO_PARTNER_CONTROL: return !strcmp(role, "super_admin") || !strcmp(role, "partner_manager");
    case WHO_SUPER: return !strcmp(role, "super_admin");
    }
    return false;
}

os_err access_agreement(op_ctx *x, const char *license_number, int64_t user_id, const access_need *need,
                        agreement_access *out) {
    memset(out, 0, sizeof *out);
    out->verdict = AGR_NO_ROLE;
    const char *end_date;
    bool disabled;
    int64_t id, data_version;
    os_err e = st_agreement_state(x->c, x->a, license_number, &id, &end_date, &disabled, &data_version);
    if (e == OS_ERR_NOT_FOUND) return OS_OK;
    if (e) return e;
    out->agreement_id = id;
    out->data_version = data_version;
    role_rec role;
    e = st_agreement_role(x->c, x->a, id, user_id, x->now, &role);
    if (e == OS_ERR_NOT_FOUND) return OS_OK;
    if (e) return e;
    out->role = role.role;
    out->capabilities = role_capabilities(&role);
    out->relationship_id = role.relationship_id;
    out->writable = lifecycle_writable(end_date, disabled, x->now, x->app->cfg->grace_days);
    if (!who_admits(need->who, out->role)) out->verdict = AGR_NOT_ALLOWED;
    else if (need->capability && !(out->capabilities & need->capability)) {
        out->verdict = AGR_NO_CAPABILITY;
        out->missing = need->capability;
    } else if (need->change && !out->writable) out->verdict = AGR_READ_ONLY;
    else out->verdict = AGR_ALLOWED;
    return OS_OK;
}
