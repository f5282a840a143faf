/* throttle.h — counting attempts in the database and refusing past a limit.
 *
 * An attempt is recorded as a failure *before* the slow or secret check runs, inside
 * the same write transaction as the limit check, and withdrawn when it succeeds.
 * Checking first and recording afterwards would let parallel attempts all pass the
 * check. Kept in the database, so every instance sees the same counts.
 *
 * Every attempt is recorded with the caller's client address. A rule may limit the
 * attempts on its key from that one address (per_address) before the limit over all
 * addresses: failures from an attacker's address then refuse the attacker, not the owner
 * of the account (or the partner of the license) coming from elsewhere, until the much
 * higher ceiling over all addresses is reached.
 *
 * The same counts limit the e-mail that anyone can make the portal send to an address
 * nobody proved to own (throttle_mail).
 */
#ifndef OPENSEAT_THROTTLE_H
#define OPENSEAT_THROTTLE_H
#include <stdbool.h>
#include "domain/ctx.h"

typedef struct throttle_rule {
    const char *scope;      /* "account", "address", "reg_user", "reg_license", "mail_to", "mail_from" */
    const char *key;        /* NULL: rule skipped */
    int64_t per_address;    /* attempts allowed from the caller's client address (0: no such limit) */
    int64_t limit;          /* attempts allowed from all addresses together */
    int64_t window_s;
} throttle_rule;

#define THROTTLE_MAX_RULES 4

typedef struct throttle_attempt {
    int64_t rows[THROTTLE_MAX_RULES];
    int n;
} throttle_attempt;

/* OS_ERR_THROTTLED (with *retry_after seconds) when any rule is at a limit; otherwise
 * records one provisional failure per rule. Runs in a transaction of its own. */
os_err throttle_reserve(op_ctx *x, const throttle_rule *rules, int n, throttle_attempt *at, int64_t *retry_after);
/* The attempt succeeded: it no longer counts. */
void throttle_withdraw(op_ctx *x, const throttle_attempt *at);

/* E-mail to `recipient`, an address the caller has not proven to own, on behalf of an
 * anonymous request: counts the request (per recipient and per client address, within the
 * caller's open transaction, whether a mail follows or not — so the counts say nothing
 * about which addresses have accounts) and sets *limited_by to NULL when a mail may go,
 * else to "recipient" or "client_address", the limit reached (nothing is recorded then).
 * Never fails the transaction for a limit: the caller answers as if the mail went. */
os_err throttle_mail(op_ctx *x, const char *recipient, const char **limited_by);
/* A mail was not queued because of *limited_by: audited (mail.suppressed) and counted for
 * the metrics. Inside the caller's transaction. */
os_err throttle_mail_suppressed(op_ctx *x, const char *recipient, const char *template_name, const char *limited_by);
/* Mails suppressed by this process since it started, per limit ("recipient" or "client_address"). */
uint64_t throttle_mail_suppressed_count(const char *limited_by);

#endif
