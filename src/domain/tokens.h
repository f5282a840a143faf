/* tokens.h — personal API tokens: a person's secret that scripts and integrations send as
 * `Authorization: Bearer …` instead of signing in.
 *
 * A token acts as its owner, narrowed: to one agreement (or every agreement the owner may act
 * on) and to some capabilities (domain/access.h CAP_*, CAP_MANAGE for the routes only super
 * admins and partner managers reach). The owner's standing is read on every request, so a
 * token never does more than its owner may at that moment (access.h applies the narrowing).
 *
 * The secret is "ost_", a 12-hex-digit public prefix (6 random bytes, by which the row is
 * found) and 64 hex digits (32 random bytes): 80 characters, shown once, at creation. Only
 * its SHA-256 is stored; the hash found by the prefix is compared in constant time. Tokens
 * are revoked, never deleted, so the audit trail keeps naming the one that made a change.
 *
 * Records and strings returned are in x->a. Functions that write open and end their own
 * transaction and audit (token.created, token.revoked).
 */
#ifndef OPENSEAT_TOKENS_H
#define OPENSEAT_TOKENS_H
#include "domain/ctx.h"

#define TOKEN_SECRET_CHARS 80          /* "ost_" + 12 + 64 */
#define TOKEN_PREFIX_CHARS 16          /* "ost_" + 12 */

/* What a token is, now: "active", "expired" or "revoked". */
const char *tokens_status(const api_token_rec *t, int64_t now);

/* What a new token is asked for: name checked by the caller (1..LIMIT_TOKEN_NAME_CHARS);
 * expires_at the end of its last day; license_number normalized, NULL for every agreement;
 * capabilities non-empty CAP_* bits within CAP_TOKEN_ALL. */
typedef struct token_request {
    const char *name;
    int64_t expires_at;
    const char *license_number;
    unsigned capabilities;
} token_request;

/* Creates a token for the actor. Field errors (OS_ERR_INVALID, in fe): `agreement`
 * unknown_agreement when the actor holds no role on the agreement named (whether or not it
 * exists); `capabilities` capability_not_held when it asks for one the actor does not hold
 * there (CAP_MANAGE: super admins and partner managers hold it). OS_ERR_CONFLICT: the actor
 * has LIMIT_TOKENS_LIVE live tokens already. *secret: the one time it is seen. */
os_err tokens_create(op_ctx *x, const token_request *in, field_errors *fe, api_token_rec *out, const char **secret);
/* The actor's tokens, newest first (LIMIT_TOKENS_LISTED at most). */
os_err tokens_list(op_ctx *x, api_token_rec **rows, int *n);
/* Revokes one of the actor's tokens (already revoked: nothing to do). OS_ERR_NOT_FOUND:
 * unknown or another's. */
os_err tokens_revoke_own(op_ctx *x, int64_t id);
/* The live tokens that can act on the agreement, with their owners (its super admins'
 * view), and the revocation of one of them (OS_ERR_NOT_FOUND: none such on this agreement). */
os_err tokens_of_agreement(op_ctx *x, int64_t agreement_id, api_token_rec **rows, int *n);
os_err tokens_revoke_on_agreement(op_ctx *x, int64_t agreement_id, int64_t id);

/* The request's bearer secret checked: the token, its owner and — with license_number (NULL:
 * none) — what the access rule reads about the owner on that agreement, in one statement.
 * OS_ERR_NOT_FOUND for a secret that is malformed, unknown, revoked or expired (one answer
 * for all). A use is recorded at most once a minute, best effort, outside any transaction. */
os_err tokens_authenticate(op_ctx *x, const char *secret, const char *license_number, api_token_rec *t,
                           user_rec *owner, session_access_rec *rows);

/* Narrows x to the token token_id of user_id, as the request that started a background job
 * was: x->token_* set from the token read now. *live false (x untouched) when it has been
 * revoked or has expired since, or is not the user's: the job may no longer act. */
os_err tokens_narrow(op_ctx *x, int64_t user_id, int64_t token_id, bool *live);

/* The token's rate limit, --token-rate requests a minute per instance: a bucket of that many
 * requests refilled continuously, in a fixed table of LIMIT_TOKEN_RATE_SLOTS (the least
 * recently used bucket of its set makes room for a new token). true: the request may go on;
 * false: *retry_after seconds until it may. Thread-safe; memory is static. */
bool tokens_rate_take(const app *ap, int64_t token_id, int64_t *retry_after);

#endif
