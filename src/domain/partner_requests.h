/* partner_requests.h — the customer's answers to partner requests, the customer's own changes
 * to a partner's access, and a partner's request to change its access.
 *
 * A request (store.h, partner relationships and their requests) is either `access` (a
 * pending relationship waiting to start) or `amendment` (an active relationship the partner
 * wants changed). Super admins and partner managers answer it:
 *   - approve, as asked or narrower (fewer capabilities, an earlier last day; more than asked
 *     is the field error `beyond_request` on `capabilities` or `ends_on`): an access request's
 *     relationship becomes active from now, an amendment changes the active relationship in
 *     place (same relationship, no new onboarding). The request ends `approved`, or
 *     `narrowed` when less than asked was given;
 *   - deny, with an optional reason: the request ends `denied`, and so does an access
 *     request's relationship.
 * A request no longer pending cannot be answered (OS_ERR_CONFLICT); one past lapses_at is
 * marked `lapsed` (with an access request's relationship) and committed, and the answer is
 * OS_ERR_GONE. What decides — the request's status, its lapse, the relationship's state — is
 * read inside the write transaction, so of two answers racing on one request (or an answer
 * and a removal) exactly one decides it.
 *
 * The customer may also change an active relationship directly (capabilities, last day,
 * renewal); it takes effect on the partner's next request, since the access rule reads the
 * relationship every time. A partner's admin, or a member the relationship covers, may ask
 * for a change: an `amendment` request, one open at a time.
 *
 * Every decision and change is audited on the agreement's trail with the relationship's id
 * (x->relationship_id is set to it) and e-mailed: decisions to the person who asked and the
 * organization's admins, customer changes to the organization's admins and the relationship's
 * people, amendment requests to the customer's super admins and partner managers. Records
 * returned are in x->a.
 */
#ifndef OPENSEAT_PARTNER_REQUESTS_H
#define OPENSEAT_PARTNER_REQUESTS_H
#include "domain/ctx.h"

/* A relationship as its views need it: the record and, when it names people, theirs. */
typedef struct partner_rel_view {
    rel_rec rel;
    rel_person_rec *people;
    int npeople;
} partner_rel_view;

/* What the customer grants; 0 fields: as the request asked. */
typedef struct request_answer {
    unsigned capabilities;
    int64_t ends_at;
} request_answer;

/* OS_ERR_NOT_FOUND: no such request on the agreement; OS_ERR_CONFLICT: no longer pending;
 * OS_ERR_GONE: it had lapsed (now recorded); OS_ERR_INVALID: more than asked (r->fe). */
os_err partner_request_approve(op_ctx *x, field_errors *fe, int64_t agreement_id, int64_t request_id,
                               const request_answer *ans, partner_rel_view *out);
/* reason: NULL or at most LIMIT_PARTNER_REASON_CHARS. Same errors as approve. */
os_err partner_request_deny(op_ctx *x, int64_t agreement_id, int64_t request_id, const char *reason,
                            partner_request_rec *out);

/* Closes a pending request whose time ran out, inside the caller's transaction: the request
 * (and an access request's relationship) become `lapsed`, by the system; audited
 * partner.request_lapsed. OS_ERR_CONFLICT when it was no longer pending. */
os_err partner_request_lapse_in_tx(op_ctx *x, const partner_request_rec *q);

/* The customer's change to an active relationship; 0 / NULL fields keep what it has.
 * OS_ERR_NOT_FOUND: not on the agreement; OS_ERR_CONFLICT: not active, or past its end. */
typedef struct rel_change {
    unsigned capabilities;
    int64_t ends_at;
    const bool *auto_renew;
} rel_change;
os_err partner_rel_amend(op_ctx *x, int64_t agreement_id, int64_t relationship_id, const rel_change *in,
                         partner_rel_view *out);

/* A partner asks for its relationship to change (kind amendment). */
typedef enum amendment_outcome {
    AMEND_CREATED,
    AMEND_NOT_FOUND,         /* the caller is not a member of org_id, or the relationship is not its */
    AMEND_NOT_ALLOWED,       /* a plain member the relationship does not cover */
    AMEND_ENDED,             /* the relationship is not active, or past its end */
    AMEND_OPEN,              /* a request on it is already waiting */
} amendment_outcome;
os_err partner_amendment_request(op_ctx *x, int64_t org_id, int64_t relationship_id, unsigned capabilities,
                                 int64_t ends_at, amendment_outcome *outcome, partner_request_rec *out);

#endif
