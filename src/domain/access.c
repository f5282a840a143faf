/* access.c — who may act on an agreement. Contract in access.h. */
#include "access.h"
#include <string.h>
#include "domain/lifecycle.h"

/* The relationship's capabilities, then the token's own. */
static const char *const cap_names_[CAP_TOKEN_COUNT] = {"read", "assign", "bulk", "usage", "activity", "manage",
                                                              "provisioning"};

const char *cap_name(unsigned bit) {
    for (int i = 0; i < CAP_TOKEN_COUNT; i++)
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

unsigned cap_token_bit(const char *name) {
    for (int i = 0; name && i < CAP_TOKEN_COUNT; i++)
        if (!strcmp(name, cap_names_[i])) return 1u << i;
    return 0;
}

int cap_token_names(unsigned caps, const char **names) {
    int n = 0;
    for (int i = 0; i < CAP_TOKEN_COUNT; i++)
        if (caps & (1u << i)) names[n++] = cap_names_[i];
    return n;
}

bool access_method_strong(const char *method) {
    return method && (!strcmp(method, "mfa") || !strcmp(method, "sso"));
}

static unsigned role_capabilities(const role_rec *r) {
    if (!strcmp(r->role, "partner")) return r->capabilities & CAP_ALL;
    if (!strcmp(r->role, "partner_manager")) return CAP_NONE;
    return !strcmp(r->role, "super_admin") ? CAP_ALL | CAP_PROVISIONING : CAP_ALL;
}

static bool who_admits(agreement_who who, const char *role) {
    switch (who) {
    case WHO_ANY_ROLE: return true;
    case WHO_PARTNER_CONTROL: return !strcmp(role, "super_admin") || !strcmp(role, "partner_manager");
    case WHO_SUPER: return !strcmp(role, "super_admin");
    }
    return false;
}

void access_decide(op_ctx *x, const session_access_rec *rows, const access_need *need, agreement_access *out) {
    memset(out, 0, sizeof *out);
    out->verdict = AGR_NO_ROLE;
    if (!rows->agreement_id) return;
    out->agreement_id = rows->agreement_id;
    if (!rows->role.role) return;
    /* A token named to another agreement: its owner's role here does not reach it. */
    if (x->token_id && x->token_agreement_id && x->token_agreement_id != rows->agreement_id) return;
    out->role = rows->role.role;
    out->capabilities = role_capabilities(&rows->role);
    if (x->token_id) out->capabilities &= x->token_capabilities;
    out->relationship_id = rows->role.relationship_id;
    out->data_version = rows->data_version;
    out->writable = lifecycle_writable(rows->end_date, rows->disabled, x->now, x->app->cfg->grace_days);
    /* Before anything else the role would allow: the agreement asks for more than a
     * password, whatever the role. Not a person's request (auth_method NULL): not applied. */
    if (rows->strong_auth && x->auth_method && !access_method_strong(x->auth_method))
        out->verdict = AGR_STRONG_AUTH;
    else if (!who_admits(need->who, out->role)) out->verdict = AGR_NOT_ALLOWED;
    else if (need->capability == CAP_PROVISIONING && !x->token_id) {
        /* An identity provider's endpoints: bearer only, whoever signed in. */
        out->verdict = AGR_NO_CAPABILITY;
        out->missing = CAP_PROVISIONING;
    } else if (x->token_id && need->who != WHO_ANY_ROLE && need->capability != CAP_PROVISIONING &&
               !(x->token_capabilities & CAP_MANAGE)) {
        out->verdict = AGR_NO_CAPABILITY;
        out->missing = CAP_MANAGE;
    } else if (need->capability && !(out->capabilities & need->capability)) {
        out->verdict = AGR_NO_CAPABILITY;
        out->missing = need->capability;
    } else if (need->change && !out->writable) out->verdict = AGR_READ_ONLY;
    else out->verdict = AGR_ALLOWED;
}

os_err access_agreement(op_ctx *x, const char *license_number, int64_t user_id, const access_need *need,
                        agreement_access *out) {
    session_access_rec rows = {0};
    os_err e = st_agreement_state(x->c, x->a, license_number, &rows.agreement_id, &rows.end_date, &rows.disabled,
                                  &rows.data_version);
    if (e && e != OS_ERR_NOT_FOUND) return e;
    if (!e) {
        e = st_agreement_role(x->c, x->a, rows.agreement_id, user_id, x->now, &rows.role);
        if (!e) e = st_agreement_strong_auth(x->c, rows.agreement_id, &rows.strong_auth);
        if (e == OS_ERR_NOT_FOUND) rows.role.role = NULL;
        else if (e) return e;
    } else {
        rows.agreement_id = 0;
    }
    access_decide(x, &rows, need, out);
    return OS_OK;
}
