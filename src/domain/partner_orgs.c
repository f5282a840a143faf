/* partner_orgs.c — see partner_orgs.h. */
#include "partner_orgs.h"
#include <string.h>
#include "domain/audit.h"
#include "domain/partner_access.h"
#include "mail/outbox.h"


os_err porg_list(op_ctx *x, partner_org_rec **rows, int *n) { return st_porg_mine(x->c, x->a, x->actor_email, rows, n); }

os_err porg_member(op_ctx *x, int64_t org_id, bool need_admin, partner_org_rec *out) {
    os_err e = st_porg_of(x->c, x->a, org_id, x->actor_email, out);
    if (!e && need_admin && strcmp(out->role, "admin")) e = OS_ERR_FORBIDDEN;
    return e;
}

os_err porg_page_read(op_ctx *x, int64_t org_id, porg_page *out) {
    *out = (porg_page){0};
    os_err e = porg_member(x, org_id, false, &out->org);
    if (!e) e = st_porg_people(x->c, x->a, org_id, &out->people, &out->npeople);
    if (!e) e = st_porg_rels(x->c, x->a, org_id, &out->rels, &out->nrels);
    if (!e) e = st_porg_rel_people(x->c, x->a, org_id, &out->named, &out->nnamed);
    if (!e) e = st_porg_requests_open(x->c, x->a, org_id, &out->requests, &out->nrequests);
    return e;
}

/* The invitation's words that depend on the role and on whether an account uses the address. */
static const char *invite_data(op_ctx *x, const partner_org_rec *org, const char *email, const char *role,
                               bool has_account, const char *lang) {
    bool fr = !strcmp(lang, "fr");
    bool admin = !strcmp(role, "admin");
    const char *role_text = fr ? (admin ? "d’administrateur" : "de membre") : (admin ? "an admin" : "a member");
    const char *next_step =
        has_account ? (fr ? "Connectez-vous avec cette adresse pour voir la page de votre organisation\u00a0:"
                          : "Sign in with this address to see your organization's page:")
                    : (fr ? "Créez votre compte openseat avec cette adresse pour commencer\u00a0:"
                          : "Create your openseat account with this address to start:");
    /* A new account comes back to the organization's page once its address is confirmed. */
    const char *link = has_account ? arena_printf(x->a, "%s/signin", x->app->base_url)
                                   : arena_printf(x->a, "%s/signup?next=/partner-organization", x->app->base_url);
    return json_pairs(x->a, "inviter_name", x->actor_name && *x->actor_name ? x->actor_name : x->actor_email,
                      "organization", org->name, "email", email, "role", role_text, "next_step", next_step, "link", link,
                      NULL);
}

os_err porg_person_add(op_ctx *x, int64_t org_id, const char *email, const char *role, const char *language,
                       const char *fallback_language, partner_person_rec *out) {
    os_err e = store_tx_begin(x->c);
    if (e) return e;
    partner_org_rec org;
    int64_t member_id = 0;
    e = porg_member(x, org_id, true, &org);
    if (!e) e = st_porg_person_add(x->c, org_id, email, role, x->now, &member_id);
    if (!e) e = st_porg_person(x->c, x->a, org_id, member_id, out);
    if (!e) e = audit(x, "partner.member_added", "organization", audit_id(x, org_id), 0,
                      json_pairs(x->a, "email", email, "role", role, NULL));
    user_rec u;
    bool known = false;
    if (!e) {
        e = st_user_by_email(x->c, x->a, email, &u);
        known = e == OS_OK;
        if (e == OS_ERR_NOT_FOUND) e = OS_OK;
    }
    const char *lang = language ? language : known && u.language ? u.language : fallback_language;
    if (!lang || (strcmp(lang, "en") && strcmp(lang, "fr"))) lang = "en";
    if (!e)
        e = outbox_enqueue(x->app, x->c, x->a, email, "partner_member_invited", lang,
                           invite_data(x, &org, email, role, known, lang), x->now);
    e = store_tx_end(x->c, e);
    if (!e) outbox_wake(x->app->mail);
    return e;
}

os_err porg_person_remove(op_ctx *x, int64_t org_id, int64_t member_id) {
    os_err e = store_tx_begin(x->c);
    if (e) return e;
    partner_org_rec org;
    partner_person_rec p;
    e = porg_member(x, org_id, true, &org);
    if (!e) e = st_porg_person(x->c, x->a, org_id, member_id, &p);
    /* Deleting the member row is the whole revocation: the access rule joins it on every
     * request and job checkpoint, and the relationships that named them lose the name. */
    if (!e) e = st_porg_person_remove(x->c, org_id, member_id);
    if (!e) e = audit(x, "partner.member_removed", "organization", audit_id(x, org_id), 0,
                      json_pairs(x->a, "email", p.email, "role", p.role, NULL));
    return store_tx_end(x->c, e);
}

os_err porg_rel_people(op_ctx *x, int64_t org_id, int64_t rel_id, bool named, const int64_t *member_ids, int n,
                       field_errors *fe, rel_rec *out, rel_person_rec **people, int *npeople,
                       const partner_request_rec **open) {
    *open = NULL;
    os_err e = partner_tx_begin_relationship(x, org_id, rel_id);
    if (e) return e;
    partner_org_rec org;
    e = porg_member(x, org_id, true, &org);
    if (!e) e = st_porg_rel(x->c, x->a, org_id, rel_id, out);
    if (!e && strcmp(out->status, "active") && strcmp(out->status, "pending")) e = OS_ERR_CONFLICT;
    if (e) return store_tx_end(x->c, e);
    /* Each id must be one of the organization's people, read in this transaction: a person
     * removed a moment ago cannot be named. */
    const char *emails = "";
    for (int i = 0; named && i < n; i++) {
        partner_person_rec p;
        e = st_porg_person(x->c, x->a, org_id, member_ids[i], &p);
        if (e == OS_ERR_NOT_FOUND) {
            fe_add_params(fe, "member_ids", "not_member", "Each person named must belong to your organization",
                          arena_printf(x->a, "{\"id\":%lld}", (long long)member_ids[i]));
            return store_tx_end(x->c, OS_ERR_INVALID);
        }
        if (e) return store_tx_end(x->c, e);
        emails = *emails ? arena_printf(x->a, "%s,%s", emails, p.email) : p.email;
    }
    e = st_porg_rel_set_people(x->c, rel_id, named, member_ids, named ? n : 0);
    /* On the agreement's trail, as acting under the relationship changed. */
    x->relationship_id = rel_id;
    if (!e) e = audit(x, "partner.people_changed", "partner_relationship", audit_id(x, rel_id), out->agreement_id,
                      json_pairs(x->a, "partner_org", org.name, "people", named ? "named" : "all", "named", emails,
                                 NULL));
    if (!e) e = st_porg_rel(x->c, x->a, org_id, rel_id, out);
    if (!e) e = st_porg_rel_people(x->c, x->a, org_id, people, npeople);
    partner_request_rec *requests;
    int nrequests = 0;
    if (!e && out->request_id) e = st_porg_requests_open(x->c, x->a, org_id, &requests, &nrequests);
    for (int i = 0; !e && i < nrequests; i++)
        if (requests[i].id == out->request_id) *open = &requests[i];
    return store_tx_end(x->c, e);
}
