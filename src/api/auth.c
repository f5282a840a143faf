/* auth.c — the pipeline's identity, CSRF, access and context hooks: the request → op_ctx
 * bridge.
 *
 * Identity: an `Authorization: Bearer` API token (domain/tokens.h), or else the session
 * cookie — never both.
 *
 * CSRF: a signed-in request must echo its session's token (synchronizer token, kept in
 * the database so any instance can check it); an anonymous request must echo the
 * os_csrf cookie (double submit). Either way a cross-site Origin is refused outright.
 * Comparisons are constant-time.
 */
#include <string.h>
#include <strings.h>
#include "api.h"
#include "core/log.h"
#include "domain/access.h"
#include "domain/account.h"
#include "domain/numbers.h"
#include "domain/tokens.h"
#include "domain/webhooks.h"

/* The actor is whoever the identify step found (nobody before it runs). */
static void set_actor(req *r) {
    r->x->actor_id = r->user_id;
    r->x->actor_email = r->user_email;
    r->x->actor_name = r->user_name;
}

/* One context per request, in its arena, with this thread's connection: built by the first
 * step that needs the database (identify for a session cookie, the access rule, or the
 * pipeline just before a CTX_DOMAIN handler). */
static os_err context(req *r) {
    if (!r->x) {
        store_conn *c = store_conn_get(r->app->st);
        if (!c) return OS_ERR_BUSY;
        op_ctx *x = arena_alloc(&r->a, sizeof *x);
        *x = (op_ctx){.app = r->app, .c = c, .a = &r->a, .now = r->now, .address = r->client_addr,
                      .request_id = r->request_id};
        r->x = x;
    }
    set_actor(r);
    return OS_OK;
}

const char *api_user_agent(req *r) {
    const char *ua = req_header(r, "User-Agent");
    return ua && strlen(ua) > 256 ? arena_strndup(&r->a, ua, 256) : ua;
}

void api_write_user(jw *w, int64_t id, const char *name, const char *email, const char *language, bool verified) {
    jw_obj(w);
    jw_kint(w, "id", id);
    jw_kstr(w, "name", name);
    jw_kstr(w, "email", email);
    jw_kstr(w, "language", language);
    jw_kbool(w, "verified", verified);
    jw_obj_end(w);
}

static bool agreement_route(const req *r) {
    return r->route && (r->route->access == ACCESS_AGREEMENT || r->route->access == ACCESS_AGREEMENT_SUPER ||
                        r->route->access == ACCESS_AGREEMENT_PARTNERS);
}

/* The path's license number, normalized; NULL when it cannot be one. */
static const char *path_license(req *r) {
    char *lic = arena_alloc(&r->a, LICENSE_DIGITS + 1);
    const char *p = req_param(r, 0);
    return p && license_number_normalize(p, lic) ? lic : NULL;
}

/* The secret of an `Authorization: Bearer …` header; NULL when the request has none (another
 * scheme is not ours to read). */
static const char *bearer(req *r) {
    const char *h = req_header(r, "Authorization");
    if (!h || strncasecmp(h, "Bearer", 6) || (h[6] && h[6] != ' ')) return NULL;
    h += 6;
    while (*h == ' ') h++;
    return h;
}

/* A request with a bearer token is the token's alone: its cookies are not read, so a bad
 * token with a good session is still refused, and no CSRF token is asked (a cross-site page
 * cannot send the header). The owner's standing on the agreement is read with the token,
 * in one statement, as a session's is. */
static os_err identify_token(req *r, const char *secret) {
    os_err e = context(r);
    if (e) return e;
    const char *lic = agreement_route(r) ? path_license(r) : NULL;
    session_access_rec *rows = arena_alloc(&r->a, sizeof *rows);
    api_token_rec t;
    user_rec u;
    e = tokens_authenticate(r->x, secret, lic, &t, &u, rows);
    if (e == OS_ERR_NOT_FOUND) {
        problem_reply_status(r, 401, "token_invalid", "This API token is unknown, expired or revoked");
        reply_header(r, "WWW-Authenticate", "Bearer error=\"invalid_token\"");
        return OS_OK;
    }
    if (e) return e;
    int64_t wait = 0;
    if (!tokens_rate_take(r->app, t.id, &wait)) {
        r->retry_after = wait;
        problem_reply_status(r, 429, "token_rate_limited",
                             "This API token has made too many requests in the last minute; wait and try again");
        return OS_OK;
    }
    r->user_id = u.id;
    r->user_email = u.email;
    r->user_name = u.name;
    r->user_language = u.language;
    r->token_id = t.id;
    r->agreement_rows = lic ? rows : NULL;
    r->x->token_id = t.id;
    r->x->token_agreement_id = t.agreement_id;
    r->x->token_capabilities = t.capabilities;
    r->x->auth_method = t.method;
    set_actor(r);
    return OS_OK;
}

static os_err identify(req *r) {
    const char *secret = bearer(r);
    if (secret) return identify_token(r, secret);
    const char *cookie = req_cookie(r, SESSION_COOKIE);
    if (!cookie || !*cookie) return OS_OK;
    os_err e = context(r);
    if (e) return e;
    session_rec s;
    user_rec u;
    /* On an agreement route the authorize step needs the agreement and the user's role on
     * it: read with the session, they cost no round trip of their own. */
    const char *lic = agreement_route(r) ? path_license(r) : NULL;
    session_access_rec *rows = lic ? arena_alloc(&r->a, sizeof *rows) : NULL;
    e = rows ? account_session_access(r->x, cookie, lic, &s, &u, rows) : account_session(r->x, cookie, &s, &u);
    if (e == OS_ERR_NOT_FOUND) return OS_OK;   /* stale cookie: treat as anonymous */
    if (e) return e;
    r->user_id = u.id;
    r->user_email = u.email;
    r->user_name = u.name;
    r->user_language = u.language;
    r->session_id = s.id;
    r->session_csrf = s.csrf_token;
    r->session_hash = cookie;
    r->agreement_rows = rows;
    r->x->auth_method = s.method;
    set_actor(r);   /* for routes that run on the context built here (CTX_NONE) */
    return OS_OK;
}

/* Same origin as the configured base URL or the Host header, when the browser says. */
static bool origin_ok(req *r) {
    const char *site = req_header(r, "Sec-Fetch-Site");
    if (site && strcasecmp(site, "same-origin") && strcasecmp(site, "none")) return false;
    const char *origin = req_header(r, "Origin");
    if (!origin || !strcmp(origin, "null")) return origin == NULL;
    if (!strcasecmp(origin, r->app->base_url)) return true;
    const char *host = req_header(r, "Host");
    if (!host) return false;
    const char *sep = strstr(origin, "://");
    return sep && !strcasecmp(sep + 3, host);
}

static bool csrf_ok(req *r) {
    if (r->token_id) return true;   /* a bearer request carries no ambient credential */
    if (!origin_ok(r)) return false;
    const char *sent = req_header(r, "X-CSRF-Token");
    if (!sent || !*sent) return false;
    if (r->user_id) return secret_equal(sent, r->session_csrf);
    const char *cookie = req_cookie(r, CSRF_COOKIE);
    return cookie && secret_equal(sent, cookie);
}

/* The route's access rule, through the one function that decides it (domain/access.h, which
 * background jobs apply too). No cache: the role is read on every request, so a removed
 * partner is refused at once. */
static os_err agreement(req *r) {
    const char *lic = path_license(r);
    if (!lic) return OS_ERR_NOT_FOUND;
    os_err e = context(r);
    if (e) return e;
    bool change = strcmp(r->method, "GET") && strcmp(r->method, "HEAD") && strcmp(r->method, "OPTIONS");
    access_need need = {r->route->access == ACCESS_AGREEMENT_SUPER      ? WHO_SUPER
                        : r->route->access == ACCESS_AGREEMENT_PARTNERS ? WHO_PARTNER_CONTROL
                                                                        : WHO_ANY_ROLE,
                        r->route->capability, change};
    agreement_access g;
    if (r->agreement_rows) access_decide(r->x, r->agreement_rows, &need, &g);   /* read by identify */
    else if ((e = access_agreement(r->x, lic, r->user_id, &need, &g))) return e;
    if (g.verdict == AGR_NO_ROLE) return OS_ERR_NOT_FOUND;
    r->agreement_id = g.agreement_id;
    r->agreement_license = lic;
    r->agreement_role = g.role;
    r->agreement_capabilities = g.capabilities;
    r->agreement_writable = g.writable;
    r->agreement_data_version = g.data_version;
    r->x->relationship_id = g.relationship_id;
    if (g.verdict == AGR_NOT_ALLOWED)
        problem_reply_status(r, 403, "forbidden",
                             need.who == WHO_SUPER ? "Only the agreement's super admins can do this"
                                                   : "Only the agreement's super admins and partner managers can do this");
    else if (g.verdict == AGR_NO_CAPABILITY) {
        /* The code names the capability, so a client can say what to ask the customer for. */
        const char *cap = cap_name(g.missing);
        jw *w = problem_open(r, 403, arena_printf(&r->a, "capability_%s_missing", cap),
                             arena_printf(&r->a, "This needs the \"%s\" capability, which your access to this "
                                                 "agreement does not include", cap));
        jw_kstr(w, "capability", cap);
        jw_obj_end(w);
    } else if (g.verdict == AGR_STRONG_AUTH) {
        /* The member says what would let the person in, for clients to offer it. */
        jw *w = problem_open(r, 403, "strong_auth_required",
                             "This agreement requires a second factor: turn on two-step sign-in for your account "
                             "and sign in again with it, or sign in with your company's provider");
        jw_key(w, "how");
        jw_arr(w);
        jw_str(w, "enrol_mfa");
        jw_str(w, "sso");
        jw_arr_end(w);
        jw_obj_end(w);
    } else if (g.verdict == AGR_READ_ONLY)
        problem_reply_status(r, 403, "read_only",
                             "This agreement has expired or is disabled: it can be read and exported, not changed");
    return OS_OK;
}

/* An abandoned request may have left a statement running or a transaction open on this
 * thread's connection, which the thread's next request would inherit. */
static void abandon(req *r) { store_conn_abandon(store_conn_get(r->app->st)); }

static void finish(req *r) {
    webhooks_wake(r->x);
}

const server_hooks api_hooks = {identify, csrf_ok, agreement, context, abandon, finish};
