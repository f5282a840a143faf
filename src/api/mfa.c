/* mfa.c — the account's second factor (session-only routes) and sign-in's second step.
 *
 *  POST   /api/v1/account/mfa                 → {secret, secret_groups, uri}: enrolment begins
 *  POST   /api/v1/account/mfa/confirm {code}  → {enabled, recovery_codes:[10]}, shown once
 *  DELETE /api/v1/account/mfa {password, code} → 204
 *  POST   /api/v1/account/mfa/recovery-codes {code} → {recovery_codes:[10]}
 *  POST   /api/v1/session/mfa {challenge, code | recovery_code} → as POST /api/v1/session
 */
#include <string.h>
#include "api.h"
#include "core/limits.h"
#include "domain/mfa.h"

/* The secret in groups of four, as people copy it into an authenticator app. */
static const char *groups_of_four(req *r, const char *s) {
    size_t n = strlen(s);
    char *out = arena_alloc(&r->a, n + n / 4 + 1), *o = out;
    for (size_t i = 0; i < n; i++) {
        if (i && i % 4 == 0) *o++ = ' ';
        *o++ = s[i];
    }
    *o = 0;
    return out;
}

static const char *code_field(req *r, const char *field, bool required) {
    return body_str(r, field, LIMIT_MFA_CODE_CHARS, required);
}

static void reply_codes(req *r, int status, const char *const *codes, bool enabled) {
    jw *w = reply_json(r, status);
    jw_obj(w);
    if (enabled) jw_kbool(w, "enabled", true);
    jw_key(w, "recovery_codes");
    jw_arr(w);
    for (int i = 0; i < LIMIT_MFA_RECOVERY_CODES; i++) jw_str(w, codes[i]);
    jw_arr_end(w);
    jw_obj_end(w);
}

/* The domain's answers that are the same on every route here. */
static os_err mfa_problem(req *r, os_err e, int64_t retry_after) {
    switch (e) {
    case OS_ERR_THROTTLED:
        r->retry_after = retry_after;
        r->problem_detail = "Too many wrong codes; wait before trying again";
        break;
    case OS_ERR_CONFLICT:
        r->problem_code = "mfa_not_pending";
        r->problem_detail = "Two-step sign-in is on already, or its set-up was not started";
        break;
    case OS_ERR_NOT_FOUND:
        r->problem_code = "mfa_not_enabled";
        r->problem_detail = "Two-step sign-in is not on for this account";
        problem_reply_status(r, 409, r->problem_code, r->problem_detail);
        return OS_OK;
    default: break;
    }
    return e;
}

os_err h_mfa_enrol(req *r) {
    const char *secret, *uri;
    os_err e = mfa_enrol(r->x, &secret, &uri);
    if (e == OS_ERR_CONFLICT) {
        problem_reply_status(r, 409, "mfa_already_enabled", "Two-step sign-in is on already: turn it off first");
        return OS_OK;
    }
    if (e) return e;
    reply_header(r, "Cache-Control", "no-store");
    jw *w = reply_json(r, 200);
    jw_obj(w);
    jw_kstr(w, "secret", secret);
    jw_kstr(w, "secret_groups", groups_of_four(r, secret));
    jw_kstr(w, "uri", uri);
    jw_obj_end(w);
    return OS_OK;
}

os_err h_mfa_confirm(req *r) {
    const char *code = code_field(r, "code", true);
    if (fe_any(&r->fe)) return OS_ERR_INVALID;
    const char *codes[LIMIT_MFA_RECOVERY_CODES];
    int64_t retry = 0;
    os_err e = mfa_confirm(r->x, code, &r->fe, codes, &retry);
    if (e) return mfa_problem(r, e, retry);
    reply_header(r, "Cache-Control", "no-store");
    reply_codes(r, 200, codes, true);
    return OS_OK;
}

os_err h_mfa_disable(req *r) {
    const char *password = body_str_raw(r, "password", 0, LIMIT_PASSWORD_MAX, true);
    const char *code = code_field(r, "code", true);
    if (fe_any(&r->fe)) return OS_ERR_INVALID;
    int64_t retry = 0;
    os_err e = mfa_disable(r->x, r->session_id, password, code, &r->fe, &retry);
    if (e) return mfa_problem(r, e, retry);
    reply_empty(r, 204);
    return OS_OK;
}

os_err h_mfa_recovery_codes(req *r) {
    const char *code = code_field(r, "code", true);
    if (fe_any(&r->fe)) return OS_ERR_INVALID;
    const char *codes[LIMIT_MFA_RECOVERY_CODES];
    int64_t retry = 0;
    os_err e = mfa_renew_codes(r->x, code, &r->fe, codes, &retry);
    if (e) return mfa_problem(r, e, retry);
    reply_header(r, "Cache-Control", "no-store");
    reply_codes(r, 200, codes, false);
    return OS_OK;
}

os_err h_session_mfa(req *r) {
    const char *challenge = body_str(r, "challenge", LIMIT_TOKEN_CHARS, true);
    const char *code = code_field(r, "code", false);
    const char *recovery = code_field(r, "recovery_code", false);
    if (!fe_any(&r->fe) && !code == !recovery)
        fe_add(&r->fe, code ? "recovery_code" : "code", code ? "one_of_code" : "required",
               "Give either the code from your app or a recovery code");
    if (fe_any(&r->fe)) return OS_ERR_INVALID;
    const char *ua = api_user_agent(r);
    signin_result out;
    os_err e = mfa_signin(r->x, challenge, code, recovery, ua, &out);
    switch (e) {
    case OS_OK: return api_signed_in(r, &out);
    case OS_ERR_GONE:
        r->problem_code = "mfa_challenge_invalid";
        r->problem_detail = "This sign-in has expired or was completed already: sign in again";
        return e;
    case OS_ERR_UNAUTHENTICATED:
        r->problem_code = "invalid_code";
        r->problem_detail = "This code is not right, or was used already";
        return e;
    case OS_ERR_THROTTLED:
        r->retry_after = out.retry_after;
        r->problem_detail = "Too many failed sign-ins; wait before trying again";
        return e;
    default: return e;
    }
}
