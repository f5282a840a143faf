/* access.h — who may act on an agreement, now: the one rule that the request pipeline's
 * authorize step (api/auth.c, for every ACCESS_AGREEMENT and ACCESS_AGREEMENT_SUPER route)
 * and every background job acting for a user (domain/jobs.h) apply.
 *
 * Read from the database at every call, never cached, so a partner's removal, an admin's
 * removal or an agreement's lapse takes effect on the next request — and at a job's next
 * checkpoint. The rule:
 *   - the user must hold a role on the agreement: super admin, admin, or partner with live
 *     access (a partner organization the customer removed has none);  else AGR_NO_ROLE —
 *     an unknown license number reads the same, so an agreement's existence is not revealed;
 *   - super admins only, where asked;                                  else AGR_NOT_SUPER;
 *   - a change (any state-changing request, any job) also needs the agreement writable: not
 *     disabled, and not expired past --grace-days;                     else AGR_READ_ONLY.
 */
#ifndef OPENSEAT_ACCESS_H
#define OPENSEAT_ACCESS_H
#include <stdbool.h>
#include <stdint.h>
#include "domain/ctx.h"

typedef enum agreement_verdict {
    AGR_ALLOWED,
    AGR_NO_ROLE,
    AGR_NOT_SUPER,
    AGR_READ_ONLY,
} agreement_verdict;

typedef struct agreement_access {
    agreement_verdict verdict;
    int64_t agreement_id;       /* 0 when the license number is unknown */
    const char *role;           /* "super_admin" | "admin" | "partner"; NULL without one */
    bool writable;
} agreement_access;

/* The verdict for user_id on the agreement numbered license_number (normalized, 8 digits)
 * for an action that needs a super admin (super_only) and/or changes something (change).
 * Errors are the database's only; a refusal is a verdict. */
os_err access_agreement(op_ctx *x, const char *license_number, int64_t user_id, bool super_only, bool change,
                        agreement_access *out);

#endif
