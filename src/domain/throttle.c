/* throttle.c — see throttle.h. */
#include "throttle.h"
#include <stdatomic.h>
#include <string.h>
#include "core/limits.h"
#include "domain/audit.h"

/* Per process, like the request counters: Prometheus sums the instances. */
static atomic_uint_fast64_t suppressed_recipient, suppressed_client;

static os_err at_limit(op_ctx *x, const throttle_rule *r, const char *address, int64_t limit, int64_t *retry_after) {
    int64_t count, oldest;
    os_err e = st_auth_failures(x->c, r->scope, r->key, address, x->now - r->window_s, &count, &oldest);
    if (e) return e;
    if (count >= limit) {
        int64_t wait = oldest + r->window_s - x->now;
        *retry_after = wait > 1 ? wait : 1;
        return OS_ERR_THROTTLED;
    }
    return OS_OK;
}

static os_err over_limit(op_ctx *x, const throttle_rule *r, int64_t *retry_after) {
    os_err e = OS_OK;
    if (r->per_address > 0) e = at_limit(x, r, x->address ? x->address : "", r->per_address, retry_after);
    if (!e) e = at_limit(x, r, NULL, r->limit, retry_after);
    return e;
}

/* Inside the caller's transaction: checks every rule, then records one attempt per rule
 * only when none is at its limit. OS_ERR_THROTTLED leaves the transaction usable. */
static os_err check_and_record(op_ctx *x, const throttle_rule *rules, int n, throttle_attempt *at,
                               int64_t *retry_after) {
    memset(at, 0, sizeof *at);
    os_err e = OS_OK;
    for (int i = 0; !e && i < n && i < THROTTLE_MAX_RULES; i++)
        if (rules[i].key) e = over_limit(x, &rules[i], retry_after);
    for (int i = 0; !e && i < n && i < THROTTLE_MAX_RULES; i++)
        if (rules[i].key)
            e = st_auth_failure_add(x->c, rules[i].scope, rules[i].key, x->address, x->now, &at->rows[at->n++]);
    if (e) at->n = 0;
    return e;
}

os_err throttle_reserve(op_ctx *x, const throttle_rule *rules, int n, throttle_attempt *at, int64_t *retry_after) {
    os_err e = store_tx_begin(x->c);
    if (e) return e;
    e = check_and_record(x, rules, n, at, retry_after);
    e = store_tx_end(x->c, e);
    if (e) at->n = 0;
    return e;
}

void throttle_withdraw(op_ctx *x, const throttle_attempt *at) {
    for (int i = 0; i < at->n; i++)
        /* Best effort: a row left behind counts one failure too many, the safe side. */
        if (at->rows[i]) os_ignore(st_auth_failure_delete(x->c, at->rows[i]));
}

os_err throttle_mail(op_ctx *x, const char *recipient, const char **limited_by) {
    *limited_by = NULL;
    const throttle_rule rules[] = {
        {"mail_to", recipient, 0, x->app->cfg->mail_per_recipient, LIMIT_MAIL_WINDOW_S},
        {"mail_from", x->address, 0, x->app->cfg->mail_per_address, LIMIT_MAIL_WINDOW_S},
    };
    int64_t retry_after = 0;
    /* One rule at a time, so the caller learns which limit was reached. */
    for (int i = 0; i < 2; i++) {
        if (!rules[i].key) continue;
        os_err e = over_limit(x, &rules[i], &retry_after);
        if (e == OS_ERR_THROTTLED) {
            *limited_by = i == 0 ? "recipient" : "client_address";
            return OS_OK;
        }
        if (e) return e;
    }
    os_err e = OS_OK;
    for (int i = 0; !e && i < 2; i++)
        if (rules[i].key) e = st_auth_failure_add(x->c, rules[i].scope, rules[i].key, x->address, x->now, NULL);
    return e;
}

os_err throttle_mail_suppressed(op_ctx *x, const char *recipient, const char *template_name, const char *limited_by) {
    atomic_fetch_add_explicit(strcmp(limited_by, "recipient") ? &suppressed_client : &suppressed_recipient, 1,
                              memory_order_relaxed);
    return audit(x, "mail.suppressed", "email", recipient, 0,
                 json_pairs(x->a, "template", template_name, "limit", limited_by, NULL));
}

uint64_t throttle_mail_suppressed_count(const char *limited_by) {
    return atomic_load_explicit(strcmp(limited_by, "recipient") ? &suppressed_client : &suppressed_recipient,
                                memory_order_relaxed);
}
