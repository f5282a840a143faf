/* sso.c — signing in with an OpenID Connect provider: which provider answers for an address,
 * the start (a redirect to the provider) and the callback (a session, or the sign-in page
 * with the reason the provider's answer was refused). Contract in domain/sso.h. */
#include <string.h>
#include "api.h"
#include "core/limits.h"
#include "core/text.h"
#include "domain/admins.h"
#include "domain/licensing.h"
#include "domain/sso.h"

/* ?email= or ?provider=; field errors name which is wrong. */
static sso_provider *provider_param(req *r) {
    const char *email = query_str(r, "email", LIMIT_EMAIL_BYTES);
    const char *name = query_str(r, "provider", 200);
    if (fe_any(&r->fe)) return NULL;
    const sso_registry *reg = r->app->sso;
    if (email) {
        const char *norm = email_normalize(&r->a, email);
        if (!norm) {
            fe_add(&r->fe, "email", "invalid_email", "Enter an e-mail address such as name@example.com");
            return NULL;
        }
        return sso_for_email(reg, norm);
    }
    if (name) {
        sso_provider *p = sso_by_name(reg, name);
        if (!p) fe_add(&r->fe, "provider", "invalid_value", "No sign-in provider has this name");
        return p;
    }
    fe_add(&r->fe, "email", "required", "Required");
    return NULL;
}

os_err h_sso_provider(req *r) {
    sso_provider *p = provider_param(r);
    if (fe_any(&r->fe)) return OS_ERR_INVALID;
    jw *w = reply_json(r, 200);
    jw_obj(w);
    jw_key(w, "provider");
    if (p) {
        jw_obj(w);
        jw_kstr(w, "name", sso_provider_name(p));
        jw_kbool(w, "required", sso_provider_required(p));
        jw_obj_end(w);
    } else {
        jw_null(w);
    }
    jw_obj_end(w);
    return OS_OK;
}

os_err h_sso_start(req *r) {
    sso_provider *p = provider_param(r);
    if (fe_any(&r->fe)) return OS_ERR_INVALID;
    if (!p) {
        fe_add(&r->fe, "email", "sso_no_provider", "No sign-in provider answers for this address");
        return OS_ERR_INVALID;
    }
    /* The page's language, for an account the callback may create (absent: English). */
    int lang = query_enum(r, "language", api_languages, 0, "Use en or fr");
    if (fe_any(&r->fe)) return OS_ERR_INVALID;
    const char *url;
    os_err e = sso_start(r->x, p, api_languages[lang], &url);
    if (e == OS_ERR_IO) {
        r->problem_code = "sso_unavailable";
        r->problem_detail = "The sign-in provider cannot be reached; try again later";
        return OS_ERR_BUSY;
    }
    if (e) return e;
    reply_empty(r, 302);
    reply_header(r, "Location", url);
    return OS_OK;
}

/* The sign-in page explains the reason in the person's language. */
static os_err back_to_signin(req *r, const char *reason) {
    reply_empty(r, 302);
    reply_header(r, "Location", arena_printf(&r->a, "/signin?sso_error=%s", reason));
    return OS_OK;
}

os_err h_sso_callback(req *r) {
    /* The provider's own refusal (the person cancelled, or it declined): no code to redeem,
     * but the state is still consumed so the request cannot be finished later. */
    const char *state = query_token(r, "state", LIMIT_SSO_PARAM_CHARS);
    const char *code = query_token(r, "code", LIMIT_SSO_PARAM_CHARS);
    if (fe_any(&r->fe) || !state || !*state) return back_to_signin(r, "sso_expired");
    if (code && !*code) code = NULL;
    op_ctx *x = r->x;
    const char *ua = api_user_agent(r);
    signin_result out;
    const char *reason;
    os_err e = sso_finish(x, state, code, ua, &out, &reason);
    if (e == OS_ERR_UNAUTHENTICATED || e == OS_ERR_FORBIDDEN) return back_to_signin(r, reason);
    if (e) return e;
    x->actor_id = out.user.id;
    x->actor_email = out.user.email;
    /* What a password sign-in does next: the order's address and admin invitations. */
    if ((e = licensing_on_signin(x, out.user.id, out.user.email))) return e;
    if ((e = admins_claim(x, out.user.id, out.user.email))) return e;
    reply_cookie(r, SESSION_COOKIE, arena_strdup(&r->a, out.token), "Lax", -1);
    reply_empty(r, 302);
    reply_header(r, "Location", "/home");
    return OS_OK;
}
