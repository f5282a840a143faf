/* throttle.c — see throttle.h. */
#include "throttle.h"
#include <string.h>

static os_err over_limit(op_ctx *x, const throttle_rule *r, int64_t *retry_after) {
    int64_t count, oldest;
    os_err e = st_auth_failures(x->c, r->scope, r->key, x->now - r->window_s, &count, &oldest);
    if (e) return e;
    if (count >= r->limit) {
        int64_t wait = oldest + r->window_s - x->now;
        *retry_after = wait > 1 ? wait : 1;
        return OS_ERR_THROTTLED;
    }
    return OS_OK;
}

os_err throttle_reserve(op_ctx *x, const throttle_rule *rules, int n, throttle_attempt *at, int64_t *retry_after) {
    memset(at, 0, sizeof *at);
    os_err e = store_tx_begin(x->c);
    if (e) return e;
    for (int i = 0; !e && i < n && i < THROTTLE_MAX_RULES; i++)
        if (rules[i].key) e = over_limit(x, &rules[i], retry_after);
    for (int i = 0; !e && i < n && i < THROTTLE_MAX_RULES; i++)
        if (rules[i].key) e = st_auth_failure_add(x->c, rules[i].scope, rules[i].key, x->now, &at->rows[at->n++]);
    e = store_tx_end(x->c, e);
    if (e) at->n = 0;
    return e;
}

void throttle_withdraw(op_ctx *x, const throttle_attempt *at) {
    for (int i = 0; i < at->n; i++)
        /* Best effort: a row left behind counts one failure too many, the safe side. */
        if (at->rows[i]) os_ignore(st_auth_failure_delete(x->c, at->rows[i]));
}
