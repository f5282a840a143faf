/* partner_access.h — how a partner organization gets onto a customer's agreement in the
 * portal, and how the customer stays in control.
 *
 * Access is a relationship per partner organization and agreement (store.h, partner
 * relationships): a set of capabilities (domain/access.h), an end, and the organization's
 * people who act under it (all of them, or named ones). Four routes create one: "order" (the
 * partner placed the order that created the agreement), "new_license" (the agreement picker's
 * New Open license dialog) and "registration" (the not-recognized page) — both of which check
 * the authorization number, license number and customer e-mail from the order — and "handoff"
 * (a signed link from the licensing center).
 *
 * Within the agreement's defaults (its preferences: capabilities, period) and with approval
 * off, access is granted at once and the customer side (the order's e-mail and every super
 * admin) is e-mailed a link to remove it. With approval on, or when the partner asks for more
 * than the defaults, the relationship waits as a request that super admins and partner
 * managers approve, narrow or deny (domain/partner_requests.h); unanswered, it lapses.
 *
 * A removal takes effect on the partner's next request and blocks the organization from that
 * agreement, by any route, until a super admin or partner manager lifts the block.
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

/* What the partner asks for; zero fields mean the agreement's defaults. */
typedef struct access_ask {
    unsigned capabilities;
    int64_t ends_at;
} access_ask;

typedef struct registration_in {
    const char *authorization_number, *license_number, *customer_email;
    bool attested;
    const char *route;              /* "new_license" | "registration" */
    const char *organization_name;  /* for someone in no partner organization: theirs, created */
    access_ask ask;
} registration_in;

typedef enum reg_outcome {
    REG_GRANTED,
    REG_PENDING,                /* waiting for the customer's approval (request_id) */
    REG_ALREADY,                /* access existed: nothing granted twice */
    REG_ALREADY_PENDING,        /* a request is already waiting (request_id) */
    REG_NOT_PARTNER,            /* the user belongs to no partner organization and named none */
    REG_ORG_EXISTS,             /* the organization named exists: its admins invite people */
    REG_NO_MATCH,               /* the three details do not match one agreement */
    REG_BLOCKED,                /* the customer removed this partner and has not lifted the block */
    REG_WRONG_ACCOUNT,          /* hand-off: signed in with another address */
    REG_LINK_INVALID,           /* hand-off: tampered, expired or used */
    REG_THROTTLED,
} reg_outcome;

typedef struct registration_out {
    reg_outcome outcome;
    const char *license_number; /* on GRANTED / PENDING / ALREADY / ALREADY_PENDING */
    int64_t relationship_id, request_id;
    int64_t retry_after;        /* on THROTTLED */
    int64_t tries_left;         /* on NO_MATCH: failures still allowed before THROTTLED (≥ 0) */
} registration_out;

/* The outcome is in *out; the return value is only for store failures. */
os_err partner_register(op_ctx *x, const registration_in *in, registration_out *out);
os_err partner_handoff(op_ctx *x, const char *token, registration_out *out);

/* Grants access to the organization whose user placed the order that created the agreement
 * (route "order"), without the customer notification: the customer invitation already names
 * the partner. */
os_err partner_grant_on_order(op_ctx *x, int64_t agreement_id, int64_t org_id);

/* Partners page: every relationship on the agreement (live ones first, then history), the
 * people named by those that name people, the requests waiting, and the blocks removals left. */
typedef struct partner_list {
    rel_rec *rels;
    int nrels;
    rel_person_rec *people;
    int npeople;
    partner_request_rec *requests;
    int nrequests;
    partner_block_rec *blocks;
    int nblocks;
} partner_list;
os_err partner_list_read(op_ctx *x, int64_t agreement_id, partner_list *out);
/* OS_ERR_NOT_FOUND: no such relationship on this agreement; OS_ERR_CONFLICT: no longer live. */
os_err partner_remove(op_ctx *x, int64_t agreement_id, int64_t relationship_id);
os_err partner_lift_block(op_ctx *x, int64_t agreement_id, int64_t block_id);

/* The signed-in user's standing for GET /session (store.h user_standing), in one statement. */
os_err partner_user_standing(op_ctx *x, user_standing *out);

/* ---- shared by the partner modules (requests, time, organizations) ---- */

/* Begins the write transaction of a change to a partner organization's relationship
 * rel_id: scoped to the relationship's agreement (read first: a relationship never moves
 * to another agreement, so the lock taken is the one its rows need), or to the whole
 * store when the organization has no such relationship, so the caller's own checks, made
 * inside the transaction, still decide what the answer is. */
OS_MUST_USE os_err partner_tx_begin_relationship(op_ctx *x, int64_t org_id, int64_t rel_id);

/* When a relationship of period_days (0: up to the agreement's end) that starts at `from`
 * ends: from + period_days days, or the start of the day after the agreement's end date. */
int64_t partner_period_end(const agreement_rec *g, int64_t period_days, int64_t from);
/* The capabilities in words, in lang ("fr", else English), e.g. "see subscribers and
 * exports, assign subscriptions"; arena-owned. */
const char *partner_caps_text(arena *a, unsigned caps, const char *lang);
/* "read,assign": the capabilities as the audit trail records them; arena-owned. */
const char *partner_caps_csv(arena *a, unsigned caps);
/* A moment as the partner e-mails give it to their `|datetime` filter; arena-owned. */
const char *partner_when_text(arena *a, int64_t t);
/* The last day of access ("YYYY-MM-DD") of a relationship that ends at ends_at; arena-owned. */
const char *partner_last_day(arena *a, int64_t ends_at);
/* A relationship as its partner.* events carry it: {id, organization: {id, name},
 * capabilities: [names], ends_on: last day or null, status}; arena-owned, NULL when it
 * could not be written. */
const char *partner_rel_event_object(arena *a, const rel_rec *r);
/* The partner.* event `type` about the relationship as it now is (read in the caller's
 * transaction): {agreement, relationship}. With `before` (the relationship as read before
 * the change) it is an update's: `changes` as event_changes writes them, and no event at
 * all when none of the object's members changed. */
os_err partner_emit(op_ctx *x, int64_t agreement_id, int64_t relationship_id, const char *type,
                    const rel_rec *before);
/* Queues one e-mail per recipient: template tpl in the recipient's language, data built
 * from the recipient by `data` (JSON object text). */
typedef const char *(*partner_mail_data_fn)(op_ctx *x, const recipient_rec *to, const char *lang, void *ud);
os_err partner_mail(op_ctx *x, const recipient_rec *to, int n, const char *tpl, partner_mail_data_fn data, void *ud);

#endif
