/* accounts.c — sign-up, verification, sessions, password reset and profile routes. */
#include <string.h>
#include "api.h"
#include "core/limits.h"
#include "core/secret.h"
#include "domain/account.h"
#include "domain/admins.h"
#include "domain/licensing.h"
#include "domain/mfa.h"
#include "domain/partner_access.h"
#include "domain/sso.h"

const char *const api_languages[] = {"en", "fr", NULL};

static void write_status(req *r, int status, const char *value) {
    jw *w = reply_json(r, status);
    jw_obj(w);
    jw_kstr(w, "status", value);
    jw_obj_end(w);
}

/* A password field with the product's length rule, reported under `field`. */
static const char *password_field(req *r, const char *field) {
    const char *p = body_str_raw(r, field, 0, LIMIT_PASSWORD_MAX, true);
    if (!p) {
        /* body_str_raw named the problem; retag length errors with password codes */
        if (r->fe.tail && !strcmp(r->fe.tail->field, field) && !strcmp(r->fe.tail->code, "too_long"))
            r->fe.tail->code = "password_too_long";
        return NULL;
    }
    if (utf8_chars(p) < LIMIT_PASSWORD_MIN) {
        fe_add(&r->fe, field, "password_too_short",
               arena_printf(&r->a, "Use at least %d characters", LIMIT_PASSWORD_MIN));
        return NULL;
    }
    return p;
}

static const char *token_field(req *r) {
    const char *t = body_str(r, "token", LIMIT_TOKEN_CHARS, true);
    return t;
}

os_err h_session_get(req *r) {
    /* Signed in: the identify step read the session through the request's context; the
     * rest of what this answer says about the user is one more statement. */
    user_standing st = {0};
    if (r->user_id && r->x) {
        os_err e = partner_user_standing(r->x, &st);
        if (e) return e;
    }
    jw *w = reply_json(r, 200);
    jw_obj(w);
    if (r->user_id) {
        jw_kbool(w, "authenticated", true);
        jw_key(w, "user");
        api_write_user(w, r->user_id, r->user_name, r->user_email, r->user_language, true);
        jw_kstr(w, "csrf_token", r->session_csrf);
        /* How this session was proven, and whether the account has a second factor on (the
         * account page offers it; an agreement may require it). */
        jw_kstr(w, "auth_method", r->x ? r->x->auth_method : NULL);
        jw_kbool(w, "mfa_enabled", st.mfa);
        if (st.mfa) jw_kint(w, "recovery_codes_left", st.recovery_codes_left);
        /* Whether the portal recognizes the user (any role on any agreement), and whether
         * they may use the Open License partner registration. */
        jw_kbool(w, "recognized", st.recognized);
        jw_kbool(w, "partner", st.partner);
    } else {
        const char *tok = req_cookie(r, CSRF_COOKIE);
        if (!tok || strlen(tok) != SECRET_TOKEN_CHARS) {
            char fresh[SECRET_TOKEN_CHARS + 1];
            secret_token(fresh);
            tok = arena_strdup(&r->a, fresh);
            reply_cookie(r, CSRF_COOKIE, tok, "Strict", -1);
        }
        jw_kbool(w, "authenticated", false);
        jw_kstr(w, "csrf_token", tok);
    }
    jw_obj_end(w);
    return OS_OK;
}

os_err h_session_create(req *r) {
    const char *email = body_email(r, "email", true);
    const char *password = body_str_raw(r, "password", 0, LIMIT_PASSWORD_MAX, true);
    if (fe_any(&r->fe)) return OS_ERR_INVALID;
    op_ctx *x = r->x;
    /* The operator requires this domain's people to sign in with their provider: the
     * password is not even checked (the answer depends on the domain, not the account). */
    const sso_provider *sso = sso_for_email(r->app->sso, email);
    if (sso && sso_provider_required(sso)) {
        sso_password_refused(x, sso, email);
        r->problem_code = "sso_required";
        r->problem_detail = arena_printf(&r->a, "Sign in with %s: your organization requires it", sso_provider_name(sso));
        return OS_ERR_FORBIDDEN;
    }
    const char *ua = api_user_agent(r);
    signin_result out;
    os_err e = account_signin(x, email, password, ua, &out);
    switch (e) {
    case OS_OK: break;
    case OS_ERR_UNAUTHENTICATED:
        r->problem_code = "invalid_credentials";
        r->problem_detail = "The e-mail address or the password is not correct";
        return e;
    case OS_ERR_FORBIDDEN:
        r->problem_code = "unverified";
        r->problem_detail = "Confirm your e-mail address first: follow the link we sent you";
        return e;
    case OS_ERR_THROTTLED:
        r->retry_after = out.retry_after;
        r->problem_detail = "Too many failed sign-ins; wait before trying again";
        return e;
    default: return e;
    }
    if (out.challenge) {
        /* The second factor is needed: no session yet, only the challenge to present it with
         * (POST /api/v1/session/mfa). */
        jw *w = reply_json(r, 202);
        jw_obj(w);
        jw_kbool(w, "mfa_required", true);
        jw_kstr(w, "challenge", out.challenge);
        jw_kint(w, "expires_in", out.challenge_expires_at - x->now);
        jw_obj_end(w);
        return OS_OK;
    }
    return api_signed_in(r, &out);
}

os_err api_signed_in(req *r, const signin_result *s) {
    op_ctx *x = r->x;
    const signin_result out = *s;
    os_err e;
    /* F2: the customer e-mail on an order makes its verified owner super admin. */
    x->actor_id = out.user.id;
    x->actor_email = out.user.email;
    if ((e = licensing_on_signin(x, out.user.id, out.user.email))) return e;
    /* Admin invitations to this address become roles now that its owner signed in. */
    if ((e = admins_claim(x, out.user.id, out.user.email))) return e;
    reply_cookie(r, SESSION_COOKIE, arena_strdup(&r->a, out.token), "Lax", -1);
    jw *w = reply_json(r, 200);
    jw_obj(w);
    jw_key(w, "user");
    api_write_user(w, out.user.id, out.user.name, out.user.email, out.user.language, true);
    jw_kstr(w, "csrf_token", out.csrf);
    jw_obj_end(w);
    return OS_OK;
}

os_err h_session_delete(req *r) {
    /* Signed in: the identify step read the session through the request's context. */
    if (r->session_hash) {
        os_err e = account_signout(r->x, r->session_hash);
        if (e) return e;
    }
    reply_cookie(r, SESSION_COOKIE, "", "Lax", 0);
    reply_empty(r, 204);
    return OS_OK;
}

/* A page of this site to continue to once the account is confirmed: a path, never a URL
 * that could lead elsewhere ("//host", "/\\host" and "https:" are refused), printable ASCII. */
static bool same_site_path(const char *s) {
    if (s[0] != '/' || s[1] == '/' || s[1] == '\\') return false;
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || *p == '\\') return false;
    return true;
}

/* The optional `next` of the requests that mail a link towards sign-in. */
static const char *next_field(req *r) {
    const char *next = body_str(r, "next", LIMIT_NEXT_BYTES, false);
    if (next && !same_site_path(next)) {
        fe_add(&r->fe, "next", "invalid_value", "Must be a path on this site, such as /home");
        return NULL;
    }
    return next;
}

os_err h_signup(req *r) {
    const char *name = body_str(r, "name", LIMIT_NAME_BYTES, true);
    const char *email = body_email(r, "email", true);
    const char *password = password_field(r, "password");
    const char *lang = body_enum(r, "language", api_languages, false);
    const char *next = next_field(r);
    if (fe_any(&r->fe)) return OS_ERR_INVALID;
    op_ctx *x = r->x;
    os_err e = account_signup(x, name, email, password, lang ? lang : "en", next);
    if (e) return e;
    write_status(r, 202, "verification_sent");
    return OS_OK;
}

os_err h_verify(req *r) {
    const char *token = token_field(r);
    if (fe_any(&r->fe)) return OS_ERR_INVALID;
    op_ctx *x = r->x;
    const char *email;
    os_err e = account_verify(x, token, &email);
    if (e) {
        if (e == OS_ERR_GONE) r->problem_detail = "This link is invalid, has expired or was already used";
        return e;
    }
    jw *w = reply_json(r, 200);
    jw_obj(w);
    jw_kstr(w, "status", "verified");
    jw_kstr(w, "email", email);
    jw_obj_end(w);
    return OS_OK;
}

os_err h_verify_resend(req *r) {
    const char *email = body_email(r, "email", true);
    const char *next = next_field(r);
    if (fe_any(&r->fe)) return OS_ERR_INVALID;
    op_ctx *x = r->x;
    os_err e = account_resend_verification(x, email, next);
    if (e) return e;
    write_status(r, 202, "verification_sent");
    return OS_OK;
}

os_err h_reset_request(req *r) {
    const char *email = body_email(r, "email", true);
    if (fe_any(&r->fe)) return OS_ERR_INVALID;
    op_ctx *x = r->x;
    os_err e = account_reset_request(x, email);
    if (e) return e;
    write_status(r, 202, "reset_sent");
    return OS_OK;
}

os_err h_reset_confirm(req *r) {
    const char *token = token_field(r);
    const char *password = password_field(r, "password");
    if (fe_any(&r->fe)) return OS_ERR_INVALID;
    op_ctx *x = r->x;
    os_err e = account_reset_confirm(x, token, password);
    if (e) {
        if (e == OS_ERR_GONE) r->problem_detail = "This link is invalid, has expired or was already used";
        return e;
    }
    /* Every session ended, including this browser's: clear its cookie too. */
    reply_cookie(r, SESSION_COOKIE, "", "Lax", 0);
    write_status(r, 200, "password_changed");
    return OS_OK;
}

os_err h_account_password(req *r) {
    const char *current = body_str_raw(r, "current_password", 0, LIMIT_PASSWORD_MAX, true);
    const char *next = password_field(r, "new_password");
    if (fe_any(&r->fe)) return OS_ERR_INVALID;
    op_ctx *x = r->x;
    os_err e = account_change_password(x, r->session_id, current, next, &r->fe);
    if (e) return e;
    reply_empty(r, 204);
    return OS_OK;
}

os_err h_account_update(req *r) {
    const char *name = body_str(r, "name", LIMIT_NAME_BYTES, false);
    const char *lang = body_enum(r, "language", api_languages, false);
    if (fe_any(&r->fe)) return OS_ERR_INVALID;
    op_ctx *x = r->x;
    user_rec u;
    os_err e = account_update_profile(x, name, lang, &u);
    if (e) return e;
    jw *w = reply_json(r, 200);
    jw_obj(w);
    jw_key(w, "user");
    api_write_user(w, u.id, u.name, u.email, u.language, u.verified_at != 0);
    jw_obj_end(w);
    return OS_OK;
}
