/* throttle.h — counting failed attempts in the database and refusing past a limit.
 *
 * An attempt is recorded as a failure *before* the slow or secret check runs, inside
 * the same write transaction as the limit check, and withdrawn when it succeeds.
 * Checking first and recording afterwards would let parallel attempts all pass the
 * check. Kept in the database, so every instance sees the same counts.
 */
#ifndef OPENSEAT_THROTTLE_H
#define OPENSEAT_THROTTLE_H
#include "domain/ctx.h"

typedef struct throttle_rule {
    const char *scope;      /* "account", "address", "reg_user", "reg_license" */
    const char *key;        /* NULL: rule skipped */
    int64_t limit;          /* failures allowed within the window */
    int64_t window_s;
} throttle_rule;

#define THROTTLE_MAX_RULES 4

typedef struct throttle_attempt {
    int64_t rows[THROTTLE_MAX_RULES];
    int n;
} throttle_attempt;

/* OS_ERR_THROTTLED (with *retry_after seconds) when any rule is at its limit; otherwise
 * records one provisional failure per rule. */
os_err throttle_reserve(op_ctx *x, const throttle_rule *rules, int n, throttle_attempt *at, int64_t *retry_after);
/* The attempt succeeded: it no longer counts. */
void throttle_withdraw(op_ctx *x, const throttle_attempt *at);

#endif
