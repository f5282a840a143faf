/* access.h — who may act on an agreement, now: the one rule that the request pipeline's
 * agreement step (api/auth.c, for every agreement-scoped route) and every background job
 * acting for a user (domain/jobs.h) apply.
 *
 * Read from the database at every call, never cached, so a partner's removal, the end of a
 * relationship, a narrowing, a staff removal, an admin's removal or an agreement's lapse
 * takes effect on the next request — and at a job's next checkpoint. The rule:
 *   - the user must hold a role on the agreement: super admin, admin, partner manager, or
 *     partner acting under an active relationship that has not reached its end and covers
 *     them;                                                             else AGR_NO_ROLE —
 *     an unknown license number reads the same, so an agreement's existence is not revealed;
 *   - super admins only, or super admins and partner managers, where the route says so;
 *                                                                       else AGR_NOT_ALLOWED;
 *   - the capability the route needs: super admins and admins hold every one, partner
 *     managers none, a partner those of their relationship;           else AGR_NO_CAPABILITY;
 *   - a change (any state-changing request, any job) also needs the agreement writable: not
 *     disabled, and not expired past --grace-days;                     else AGR_READ_ONLY.
 *   - an agreement whose preferences require strong authentication refuses, before the
 *     role's own limits, a person who proved themselves with a password alone
 *     (x->auth_method "password": a session, an API token made from such a session, a job
 *     started by either);                                            else AGR_STRONG_AUTH.
 * A request made with an API token (x->token_id, domain/tokens.h) gets its owner's verdict
 * narrowed by the token, after the owner's role and before the rest: a token named to
 * another agreement reads as no role (AGR_NO_ROLE); a route admitting super admins or
 * partner managers alone needs the token's CAP_MANAGE, and a route's capability must be the
 * token's as well as the owner's (else AGR_NO_CAPABILITY, naming it). A route needing
 * CAP_PROVISIONING (SCIM) is for a token holding it, of a super admin, and for nothing else:
 * it does not need CAP_MANAGE, and a session is AGR_NO_CAPABILITY naming provisioning.
 */
#ifndef OPENSEAT_ACCESS_H
#define OPENSEAT_ACCESS_H
#include <stdbool.h>
#include <stdint.h>
#include "domain/ctx.h"

/* What a partner relationship may do; the bits are stored (partner_relationships.capabilities). */
enum {
    CAP_NONE = 0,
    CAP_READ = 1,       /* overview, subscribers, exports */
    CAP_ASSIGN = 2,     /* add, edit, remove, resend: one or a selection */
    CAP_BULK = 4,       /* files and their jobs */
    CAP_USAGE = 8,      /* the maximum-usage report */
    CAP_ACTIVITY = 16,  /* the activity log */
    CAP_ALL = 31,
    /* API tokens only, never a relationship's: the routes that admit super admins or partner
     * managers alone (WHO_SUPER, WHO_PARTNER_CONTROL). */
    CAP_MANAGE = 32,
    /* API tokens only: the agreement's SCIM endpoints (api/scim.c), which an identity
     * provider calls with a token named to the agreement; super admins hold it. A session
     * never reaches those routes. */
    CAP_PROVISIONING = 64,
    CAP_TOKEN_ALL = 127,
};
#define CAP_COUNT 5
#define CAP_TOKEN_COUNT 7

/* The capability's name ("read", …) for one bit; NULL for anything else. */
const char *cap_name(unsigned bit);
/* The bit of a capability's name; 0 when unknown. */
unsigned cap_bit(const char *name);
/* The names of the bits set, in the order above: names[] must hold CAP_COUNT; returns how many. */
int cap_names(unsigned caps, const char **names);
/* The same over a token's capabilities (CAP_MANAGE too): names[] must hold CAP_TOKEN_COUNT. */
unsigned cap_token_bit(const char *name);
int cap_token_names(unsigned caps, const char **names);

/* Who a route admits, before capabilities. */
typedef enum agreement_who {
    WHO_ANY_ROLE,          /* any role on the agreement */
    WHO_PARTNER_CONTROL,   /* super admins and partner managers */
    WHO_SUPER,             /* super admins */
} agreement_who;

typedef struct access_need {
    agreement_who who;
    unsigned capability;   /* CAP_NONE or one bit */
    bool change;           /* the action changes something */
} access_need;

typedef enum agreement_verdict {
    AGR_ALLOWED,
    AGR_NO_ROLE,
    AGR_NOT_ALLOWED,       /* the role is not among those the route admits */
    AGR_NO_CAPABILITY,     /* out->missing names the capability */
    AGR_READ_ONLY,
    AGR_STRONG_AUTH,       /* the agreement requires a second factor or the company's sign-in */
} agreement_verdict;

typedef struct agreement_access {
    agreement_verdict verdict;
    int64_t agreement_id;       /* 0 when the license number is unknown */
    const char *role;           /* "super_admin" | "admin" | "partner_manager" | "partner"; NULL without one */
    unsigned capabilities;      /* what the caller holds on the agreement */
    unsigned missing;           /* on AGR_NO_CAPABILITY: the bit the route needs */
    int64_t relationship_id;    /* partners: the relationship they act under */
    bool writable;
    /* Grows with every write that may change what the agreement's lists show (store.h,
     * store_tx_begin_agreement); read with the agreement, before any of its rows. */
    int64_t data_version;
} agreement_access;

/* "mfa" and "sso" are strong; "password" (and anything else) is not. */
bool access_method_strong(const char *method);

/* The verdict for user_id on the agreement numbered license_number (normalized, 8 digits)
 * for an action with the given need. Errors are the database's only; a refusal is a
 * verdict. Reads the agreement's state and the user's role, then access_decide. */
os_err access_agreement(op_ctx *x, const char *license_number, int64_t user_id, const access_need *need,
                        agreement_access *out);
/* The verdict from those rows read already, at x->now: the pipeline reads them with the
 * session in one statement (account_session_access), since they are read on every
 * agreement request. The rule itself is this function's, whoever read the rows. */
void access_decide(op_ctx *x, const session_access_rec *rows, const access_need *need, agreement_access *out);

#endif
