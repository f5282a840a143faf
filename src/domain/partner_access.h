/* partner_access.h — how a partner gets onto a customer's agreement in the portal, and
 * how the customer stays in control.
 *
 * Three routes grant access: "new_license" (the agreement picker's New Open license
 * dialog) and "registration" (the not-recognized page) both check the authorization
 * number, license number and customer e-mail from the order; "handoff" follows a signed
 * link from the licensing center. Every grant is audited and e-mailed to the customer
 * (the order's e-mail and every super admin) with a link to remove it. A removal takes
 * effect on the partner's next request and blocks the partner organization from that
 * agreement, by any route, until a super admin lifts the block.
 */
#ifndef OPENSEAT_PARTNER_ACCESS_H
#define OPENSEAT_PARTNER_ACCESS_H
#include "domain/ctx.h"

/* Failed registrations allowed per window: per user; per license from one client address,
 * then per license from all addresses together (a ceiling well above what one address may
 * spend, so failures from elsewhere do not refuse the license's real partner). */
#define REG_LIMIT_PER_USER 5
#define REG_WINDOW_USER_S (15 * 60)
#define REG_LIMIT_PER_LICENSE_ADDRESS 20
#define REG_LIMIT_PER_LICENSE 100
#define REG_WINDOW_LICENSE_S 3600

typedef struct registration_in {
    const char *authorization_number, *license_number, *customer_email;
    bool attested;
    const char *route;          /* "new_license" | "registration" */
} registration_in;

typedef enum reg_outcome {
    REG_GRANTED,
    REG_ALREADY,                /* access existed: nothing granted twice */
    REG_NOT_PARTNER,            /* the user belongs to no partner organization */
    REG_NO_MATCH,               /* the three details do not match one agreement */
    REG_BLOCKED,                /* the customer removed this partner and has not lifted the block */
    REG_WRONG_ACCOUNT,          /* hand-off: signed in with another address */
    REG_LINK_INVALID,           /* hand-off: tampered, expired or used */
    REG_THROTTLED,
} reg_outcome;

typedef struct registration_out {
    reg_outcome outcome;
    const char *license_number; /* on GRANTED / ALREADY */
    int64_t retry_after;        /* on THROTTLED */
    int64_t tries_left;         /* on NO_MATCH: failures still allowed before THROTTLED (≥ 0) */
} registration_out;

/* The outcome is in *out; the return value is only for store failures. */
os_err partner_register(op_ctx *x, const registration_in *in, registration_out *out);
os_err partner_handoff(op_ctx *x, const char *token, registration_out *out);

/* Grants access to the user who placed an order (route "order"), without the
 * customer notification: the customer invitation already names the partner. */
os_err partner_grant_on_order(op_ctx *x, int64_t agreement_id, int64_t org_id);

/* Partners page: every grant on the agreement (removed ones too) and the blocks removals left. */
typedef struct partner_list {
    partner_grant_rec *grants;
    int ngrants;
    partner_block_rec *blocks;
    int nblocks;
} partner_list;
os_err partner_list_read(op_ctx *x, int64_t agreement_id, partner_list *out);
/* OS_ERR_NOT_FOUND: no such grant on this agreement; OS_ERR_CONFLICT: already removed. */
os_err partner_remove(op_ctx *x, int64_t agreement_id, int64_t grant_id);
os_err partner_lift_block(op_ctx *x, int64_t agreement_id, int64_t block_id);

/* Whether the user may land in the portal (any role anywhere). */
os_err partner_user_recognized(op_ctx *x, bool *recognized, bool *is_partner);

#endif
