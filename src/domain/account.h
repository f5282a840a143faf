/* account.h — accounts, e-mail verification, sign-in sessions and password reset.
 *
 * The security boundary of the product is recognition by e-mail: nothing is granted
 * to an address until its owner followed the link we mailed. Answers never reveal
 * whether an address has an account (sign-up and reset always "succeed"; sign-in
 * failures are one error, and unknown accounts cost the same hashing time).
 * Tokens in links and cookies are random and stored only as SHA-256 hashes.
 *
 * Inputs are already validated for shape by the caller (e-mail normalised, lengths
 * bounded). Every function that changes state writes the audit trail.
 */
#ifndef OPENSEAT_ACCOUNT_H
#define OPENSEAT_ACCOUNT_H
#include "core/secret.h"
#include "domain/ctx.h"

/* next (may be NULL): a same-site path, checked by the caller, that the verification link
 * carries so the new user lands where they were going once confirmed; for an address that
 * already has an account, the "account exists" mail's sign-in link carries it instead. */
os_err account_signup(op_ctx *x, const char *name, const char *email, const char *password, const char *language,
                      const char *next);
/* On success *email is the verified address (arena-owned). OS_ERR_GONE for a bad link. */
os_err account_verify(op_ctx *x, const char *token, const char **email);
/* A new verification link for an account not verified yet (nothing otherwise, same answer);
 * next as for account_signup. */
os_err account_resend_verification(op_ctx *x, const char *email, const char *next);

typedef struct signin_result {
    user_rec user;
    char token[SECRET_TOKEN_CHARS + 1];   /* the cookie value */
    const char *csrf;
    int64_t retry_after;                  /* set with OS_ERR_THROTTLED */
    /* Set instead of a session when the account has a second factor on (domain/mfa.h): the
     * challenge to present with a code, until challenge_expires_at. */
    const char *challenge;
    int64_t challenge_expires_at;
} signin_result;

/* OS_ERR_UNAUTHENTICATED: wrong address or password (one answer for both).
 * OS_ERR_FORBIDDEN: right password, address not verified yet.
 * OS_ERR_THROTTLED: too many recent failures for this account or address.
 * OS_OK with out->challenge and no session: the account's second factor is needed. */
os_err account_signin(op_ctx *x, const char *email, const char *password, const char *user_agent,
                      signin_result *out);
/* A new session for u, proven by method ("password", "mfa", "sso"): its cookie and CSRF token
 * in out, audited as `signin`. Opens and ends its own transaction; rehash (may be NULL) is a
 * password hash to store instead of u's, password_checked whether u's password hash must
 * still be the stored one (a reset committed meanwhile wins). */
os_err account_open_session(op_ctx *x, const user_rec *u, const char *method, const char *user_agent,
                            const char *rehash, bool password_checked, signin_result *out);

/* Resolves a session cookie; OS_ERR_NOT_FOUND when unknown or expired (idle or absolute). */
os_err account_session(op_ctx *x, const char *cookie, session_rec *s, user_rec *u);
/* account_session and, in the same statement, what the access rule reads about the user
 * on the agreement numbered license_number (rows, for access_decide in domain/access.h):
 * an agreement request's identity and standing in one round trip. */
os_err account_session_access(op_ctx *x, const char *cookie, const char *license_number, session_rec *s,
                              user_rec *u, session_access_rec *rows);
os_err account_signout(op_ctx *x, const char *cookie);

os_err account_reset_request(op_ctx *x, const char *email);
/* Sets the new password, verifies the address (the link proves it), ends every session. */
os_err account_reset_confirm(op_ctx *x, const char *token, const char *password);
/* OS_ERR_INVALID with a field error on current_password when it is wrong. */
os_err account_change_password(op_ctx *x, int64_t session_id, const char *current, const char *next,
                               field_errors *fe);
os_err account_update_profile(op_ctx *x, const char *name, const char *language, user_rec *out);

/* For the CLI's demo data: a verified account, created or left as it is. */
os_err account_ensure_verified(op_ctx *x, const char *name, const char *email, const char *password,
                               const char *language);

#endif
