/* mfa.h — the second factor: time-based one-time passwords (RFC 6238: SHA-1, 6 digits,
 * 30-second steps, one step either side), computed by liboath, and single-use recovery codes.
 *
 * Enrolment is two steps: mfa_enrol makes a secret (shown once, with its otpauth:// URI) that
 * is not in force until mfa_confirm receives a code made from it; confirming switches the
 * factor on and returns LIMIT_MFA_RECOVERY_CODES recovery codes, shown once. The secret is
 * kept sealed with the server's key (core/secret.h), recovery codes as SHA-256 hashes. A code
 * is accepted once: the last step used is kept, and a code from that step or before is
 * refused. Every code check counts as a sign-in attempt (domain/throttle.h, the sign-in
 * limits of the account), withdrawn when it succeeds.
 *
 * Sign-in: account_signin answers a challenge instead of a session for an account with the
 * factor on; mfa_signin trades the challenge and a code (or a recovery code) for a session
 * whose method is "mfa". Renewing the recovery codes takes a code from the app: the factor
 * stands, and so do the sessions it proved. Writes audit: mfa.enabled, mfa.disabled,
 * mfa.recovery_renewed, mfa.recovery_used, signin.mfa_failed. Strings returned are in x->a.
 */
#ifndef OPENSEAT_MFA_H
#define OPENSEAT_MFA_H
#include "core/limits.h"
#include "domain/account.h"


/* Starts (or restarts) the actor's enrolment. OS_ERR_CONFLICT: the factor is on already. */
os_err mfa_enrol(op_ctx *x, const char **secret_b32, const char **uri);
/* Switches it on with a code from the new secret. OS_ERR_CONFLICT: no enrolment started, or
 * on already; OS_ERR_INVALID: `code` wrong_code in fe; OS_ERR_THROTTLED (*retry_after). */
os_err mfa_confirm(op_ctx *x, const char *code, field_errors *fe, const char *codes[LIMIT_MFA_RECOVERY_CODES],
                   int64_t *retry_after);
/* Switches it off: the password and a code (or a recovery code) prove the owner. What the
 * factor proved goes with it (st_mfa_proofs_withdraw): the owner's sessions other than
 * session_id end, session_id becomes a password session, and the owner's API tokens and
 * unfinished jobs proven with "mfa" count as "password" — they keep working where a password
 * is enough (the password alone could make their like again), and an agreement requiring
 * strong sign-in refuses them. OS_ERR_NOT_FOUND: it is not on; OS_ERR_INVALID: `password`
 * wrong_password or `code` wrong_code in fe. */
os_err mfa_disable(op_ctx *x, int64_t session_id, const char *password, const char *code, field_errors *fe,
                   int64_t *retry_after);
/* New recovery codes (the old ones stop working) against a code from the app. */
os_err mfa_renew_codes(op_ctx *x, const char *code, field_errors *fe, const char *codes[LIMIT_MFA_RECOVERY_CODES],
                       int64_t *retry_after);

/* For account_signin: a challenge (out->challenge) for u, whose factor is on. */
os_err mfa_challenge(op_ctx *x, const user_rec *u, signin_result *out);
/* The second step of sign-in: exactly one of code and recovery_code. OS_ERR_GONE: the
 * challenge is unknown, expired or used; OS_ERR_UNAUTHENTICATED: a wrong code;
 * OS_ERR_THROTTLED (out->retry_after). On success, a session with method "mfa" in out. */
os_err mfa_signin(op_ctx *x, const char *challenge, const char *code, const char *recovery_code,
                  const char *user_agent, signin_result *out);

#endif
