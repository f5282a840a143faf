/* partners.c — partner registration (New Open license dialog, not-recognized page),
 * the licensing-center hand-off, and the customer's Partners page. */
#include <stdlib.h>
#include <string.h>
#include "api.h"
#include "core/limits.h"
#include "domain/access.h"
#include "domain/licensing.h"
#include "domain/numbers.h"
#include "domain/partner_access.h"

static const char *const reg_routes[] = {"new_license", "registration", NULL};

/* One reply per outcome; mismatches get one generic message that never names a field. */
static os_err reply_outcome(req *r, const registration_out *out) {
    switch (out->outcome) {
    case REG_GRANTED:
    case REG_PENDING:
    case REG_ALREADY:
    case REG_ALREADY_PENDING: {
        static const int status[] = {[REG_GRANTED] = 201, [REG_PENDING] = 202, [REG_ALREADY] = 200,
                                     [REG_ALREADY_PENDING] = 200};
        static const char *const word[] = {[REG_GRANTED] = "granted", [REG_PENDING] = "pending",
                                           [REG_ALREADY] = "already_registered", [REG_ALREADY_PENDING] = "pending"};
        jw *w = reply_json(r, status[out->outcome]);
        jw_obj(w);
        jw_kstr(w, "status", word[out->outcome]);
        jw_kstr(w, "license_number", out->license_number);
        jw_kint(w, "relationship_id", out->relationship_id);
        if (out->request_id) jw_kint(w, "request_id", out->request_id);
        jw_obj_end(w);
        return OS_OK;
    }
    case REG_ORG_EXISTS:
        fe_add(&r->fe, "organization_name", "organization_exists",
               "A partner organization of this name is already in openseat: ask its admins to add you");
        return OS_ERR_INVALID;
    case REG_NOT_PARTNER:
        problem_reply_status(r, 403, "not_partner",
                             "Only people who belong to a partner organization can register for an Open License");
        return OS_OK;
    case REG_NO_MATCH: {
        /* How many more mismatches before the lock-out, so nobody is locked out unawares;
         * the same for every wrong field, so it says nothing about which one was wrong. */
        jw *w = problem_open(r, 422, "no_match", "These details do not match an Open License agreement");
        jw_key(w, "params");
        jw_obj(w);
        jw_kint(w, "tries_left", out->tries_left);
        jw_obj_end(w);
        jw_obj_end(w);
        return OS_OK;
    }
    case REG_BLOCKED:
        problem_reply_status(r, 403, "partner_blocked",
                             "The customer removed your organization's access to this agreement; only one of "
                             "their super admins can allow it again");
        return OS_OK;
    case REG_WRONG_ACCOUNT:
        problem_reply_status(r, 403, "wrong_account",
                             "Sign in with the e-mail address you use in the licensing service center, then "
                             "follow the link again");
        return OS_OK;
    case REG_LINK_INVALID:
        problem_reply_status(r, 410, "link_invalid",
                             "This link is invalid, has expired or was already used; open it again from the "
                             "licensing service center");
        return OS_OK;
    case REG_THROTTLED:
        r->retry_after = out->retry_after;
        problem_reply_status(r, 429, "throttled", "Too many attempts; wait before trying again");
        return OS_OK;
    }
    return OS_ERR_INTERNAL;
}

os_err h_partner_register(req *r) {
    registration_in in = {0};
    in.authorization_number = body_str(r, "authorization_number", LIMIT_AUTHORIZATION_CHARS, true);
    in.license_number = body_str(r, "license_number", LIMIT_LICENSE_NUMBER_CHARS, true);
    in.customer_email = body_email(r, "customer_email", true);
    in.route = body_enum(r, "route", reg_routes, false);
    /* A number that cannot be one is a typing slip, answered field by field and not counted
     * against the partner: only well-formed details reach the throttled comparison. */
    char lic[LICENSE_DIGITS + 1], auth[AUTHNO_CHARS + 1];
    if (in.license_number && !license_number_normalize(in.license_number, lic))
        fe_add(&r->fe, "license_number", "invalid_format", "A license number has 8 digits");
    if (in.authorization_number && !authno_normalize(in.authorization_number, auth))
        fe_add(&r->fe, "authorization_number", "invalid_format",
               "An authorization number has 14 letters and digits, e.g. ABCDE-FGHJ-KMNPQ");
    in.organization_name = body_str(r, "organization_name", LIMIT_NAME_BYTES, false);
    in.ask.capabilities = body_capabilities(r, "capabilities", false, 0);
    in.ask.ends_at = body_ends_on(r, "ends_on", false);
    json_t *att = json_object_get(r->json, "attestation");
    in.attested = json_is_true(att);
    if (!in.attested)
        fe_add(&r->fe, "attestation", "required",
               "Confirm that the customer authorized you to manage these subscriptions");
    if (fe_any(&r->fe)) return OS_ERR_INVALID;
    if (!in.route) in.route = "registration";
    op_ctx *x = r->x;
    registration_out out;
    os_err e = partner_register(x, &in, &out);
    if (e) return e;
    if (out.outcome == REG_NOT_PARTNER) {
        /* Someone in no partner organization registers theirs with the numbers. */
        fe_add(&r->fe, "organization_name", "required",
               "You belong to no partner organization yet: give your organization's name to register it");
        return OS_ERR_INVALID;
    }
    return reply_outcome(r, &out);
}

os_err h_handoff(req *r) {
    const char *token = body_str(r, "token", LIMIT_HANDOFF_TOKEN_CHARS, true);
    if (fe_any(&r->fe)) return OS_ERR_INVALID;
    op_ctx *x = r->x;
    registration_out out;
    os_err e = partner_handoff(x, token, &out);
    if (e) return e;
    return reply_outcome(r, &out);
}

os_err h_agreement_get(req *r) {
    op_ctx *x = r->x;
    agreement_rec g;
    os_err e = st_agreement_by_id(x->c, &r->a, r->agreement_id, &g);
    if (e) return e;
    jw *w = reply_json(r, 200);
    jw_obj(w);
    api_write_agreement_head(w, &g, r->now);
    jw_kstr(w, "role", r->agreement_role);
    api_write_capabilities(w, "capabilities", r->agreement_capabilities);
    jw_obj_end(w);
    return OS_OK;
}

/* {"relationships":[PartnerRelationship], "requests":[PartnerRequest (open)],
 *  "blocks":[{id, organization, blocked_at, blocked_by}]} */
os_err h_partners_list(req *r) {
    partner_list l;
    os_err e = partner_list_read(r->x, r->agreement_id, &l);
    if (e) return e;
    jw *w = reply_json(r, 200);
    jw_obj(w);
    jw_key(w, "relationships");
    jw_arr(w);
    for (int i = 0; i < l.nrels; i++) {
        const partner_request_rec *open = NULL;
        for (int k = 0; k < l.nrequests; k++)
            if (l.requests[k].relationship_id == l.rels[i].id) open = &l.requests[k];
        api_write_relationship(w, &r->a, &l.rels[i], l.people, l.npeople, open);
    }
    jw_arr_end(w);
    jw_key(w, "requests");
    jw_arr(w);
    for (int i = 0; i < l.nrequests; i++) api_write_partner_request(w, &r->a, &l.requests[i]);
    jw_arr_end(w);
    jw_key(w, "blocks");
    jw_arr(w);
    for (int i = 0; i < l.nblocks; i++) {
        const partner_block_rec *b = &l.blocks[i];
        jw_obj(w);
        jw_kint(w, "id", b->id);
        jw_kstr(w, "organization", b->org_name);
        jw_kint(w, "blocked_at", b->blocked_at);
        jw_kstr(w, "blocked_by", b->blocked_by_name);
        jw_obj_end(w);
    }
    jw_arr_end(w);
    jw_obj_end(w);
    return OS_OK;
}

/* DELETE on one item of the agreement named by the path's {id}: 204 on success. */
static os_err delete_item(req *r, os_err (*op)(op_ctx *, int64_t, int64_t)) {
    int64_t id;
    if (!req_param_id(r, 1, &id)) return OS_ERR_NOT_FOUND;
    os_err e = op(r->x, r->agreement_id, id);
    if (!e) reply_empty(r, 204);
    return e;
}

os_err h_partner_remove(req *r) {
    os_err e = delete_item(r, partner_remove);
    if (e == OS_ERR_CONFLICT) r->problem_detail = "This partner's access has already ended";
    return e;
}

os_err h_partner_block_lift(req *r) { return delete_item(r, partner_lift_block); }
