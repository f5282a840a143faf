/* partner_requests.c — the customer's answers to partner requests (approve, narrow, deny),
 * the customer's change to a partner's access in place, and a partner organization's request
 * to change its access. The rules are domain/partner_requests.h's. */
#include <string.h>
#include "api.h"
#include "core/limits.h"
#include "domain/access.h"
#include "domain/partner_requests.h"

static void reply_relationship(req *r, int status, const partner_rel_view *v) {
    jw *w = reply_json(r, status);
    api_write_relationship(w, &r->a, &v->rel, v->people, v->npeople, NULL);
}

static void reply_request(req *r, int status, const partner_request_rec *q) {
    jw *w = reply_json(r, status);
    api_write_partner_request(w, &r->a, q);
}

/* The answers shared by approve and deny when the request cannot be answered any more. */
static os_err decision_refused(req *r, os_err e) {
    if (e == OS_ERR_CONFLICT) {
        problem_reply_status(r, 409, "request_decided", "This request has already been answered or withdrawn");
        return OS_OK;
    }
    if (e == OS_ERR_GONE) {
        problem_reply_status(r, 410, "request_lapsed",
                             "This request went unanswered for too long and has lapsed; the partner can ask again");
        return OS_OK;
    }
    return e;
}

/* POST …/partner-requests/{id}/approve {capabilities?, ends_on?} → 200 PartnerRelationship */
os_err h_partner_request_approve(req *r) {
    int64_t id;
    if (!req_param_id(r, 1, &id)) return OS_ERR_NOT_FOUND;
    request_answer ans = {0};
    ans.capabilities = body_capabilities(r, "capabilities", false, 0);
    ans.ends_at = body_ends_on(r, "ends_on", false);
    if (fe_any(&r->fe)) return OS_ERR_INVALID;
    partner_rel_view v;
    os_err e = partner_request_approve(r->x, &r->fe, r->agreement_id, id, &ans, &v);
    if (e) return decision_refused(r, e);
    reply_relationship(r, 200, &v);
    return OS_OK;
}

/* POST …/partner-requests/{id}/deny {reason?} → 200 PartnerRequest */
os_err h_partner_request_deny(req *r) {
    int64_t id;
    if (!req_param_id(r, 1, &id)) return OS_ERR_NOT_FOUND;
    const char *reason = body_str(r, "reason", LIMIT_PARTNER_REASON_CHARS, false);
    if (fe_any(&r->fe)) return OS_ERR_INVALID;
    partner_request_rec q;
    os_err e = partner_request_deny(r->x, r->agreement_id, id, reason, &q);
    if (e) return decision_refused(r, e);
    reply_request(r, 200, &q);
    return OS_OK;
}

/* PATCH …/partners/{id} {capabilities?, ends_on?, auto_renew?} → 200 PartnerRelationship */
os_err h_partner_amend(req *r) {
    int64_t id;
    if (!req_param_id(r, 1, &id)) return OS_ERR_NOT_FOUND;
    rel_change in = {0};
    in.capabilities = body_capabilities(r, "capabilities", false, 0);
    in.ends_at = body_ends_on(r, "ends_on", false);
    json_t *ar = json_object_get(r->json, "auto_renew");
    bool renew = json_is_true(ar);
    if (ar && !json_is_null(ar)) {
        if (json_is_boolean(ar)) in.auto_renew = &renew;
        else fe_add(&r->fe, "auto_renew", "wrong_type", "Use true or false");
    }
    if (fe_any(&r->fe)) return OS_ERR_INVALID;
    partner_rel_view v;
    os_err e = partner_rel_amend(r->x, r->agreement_id, id, &in, &v);
    if (e == OS_ERR_CONFLICT) {
        problem_reply_status(r, 409, "relationship_ended",
                             "This partner's access has ended; it can only be changed while it is active");
        return OS_OK;
    }
    if (e) return e;
    reply_relationship(r, 200, &v);
    return OS_OK;
}

/* POST /partner-organizations/{org}/relationships/{id}/amendments {capabilities, ends_on}
 * → 201 PartnerRequest. Membership is the domain's to check: 404 for anyone outside the
 * organization, so its relationships are not revealed. */
os_err h_partner_amendment_create(req *r) {
    int64_t org, id;
    if (!req_param_id(r, 0, &org) || !req_param_id(r, 1, &id)) return OS_ERR_NOT_FOUND;
    unsigned caps = body_capabilities(r, "capabilities", true, 0);
    int64_t ends_at = body_ends_on(r, "ends_on", true);
    if (fe_any(&r->fe)) return OS_ERR_INVALID;
    amendment_outcome outcome;
    partner_request_rec q;
    os_err e = partner_amendment_request(r->x, org, id, caps, ends_at, &outcome, &q);
    if (e) return e;
    switch (outcome) {
    case AMEND_CREATED:
        reply_request(r, 201, &q);
        return OS_OK;
    case AMEND_NOT_FOUND:
        return OS_ERR_NOT_FOUND;
    case AMEND_NOT_ALLOWED:
        problem_reply_status(r, 403, "partner_admin_required",
                             "Only an admin of your organization, or someone this access covers, can ask to change it");
        return OS_OK;
    case AMEND_ENDED:
        problem_reply_status(r, 409, "relationship_ended",
                             "This access has ended; register again to ask for new access");
        return OS_OK;
    case AMEND_OPEN:
        problem_reply_status(r, 409, "request_open",
                             "A request on this access is already waiting for the customer's answer");
        return OS_OK;
    }
    return OS_ERR_INTERNAL;
}
