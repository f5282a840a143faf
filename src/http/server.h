/* server.h — the HTTP server: libmicrohttpd plus the request pipeline.
 *
 * server_start() listens and serves the given route table on a thread pool until
 * server_stop(), which stops accepting, lets in-flight requests finish (bounded by
 * LIMIT_SHUTDOWN_GRACE_S) and then closes everything. The hooks supply identity and
 * CSRF checking, which belong to the account layer, not to HTTP.
 */
#ifndef OPENSEAT_SERVER_H
#define OPENSEAT_SERVER_H
#include "http/http.h"

typedef struct server_hooks {
    /* Reads the bearer token, or else the session cookie, and fills r->user_* and
     * r->token_id or r->session_*; OS_OK when anonymous. A refusal it answers itself
     * (r->replied: a bad token, a token over its rate). */
    os_err (*identify)(req *r);
    /* True when a state-changing request carries the right CSRF token. */
    bool (*csrf_ok)(req *r);
    /* Resolves r->params[0] to an agreement and the user's role on it, and applies the
     * route's access rule: OS_ERR_NOT_FOUND when there is no such agreement or the user has
     * no role on it; any other refusal (403) it answers itself (r->replied). */
    os_err (*agreement)(req *r);
    /* Sets r->x (once per request; the actor is refreshed from r->user_* on every call):
     * OS_ERR_BUSY when there is no database connection to be had. Runs before the handler
     * of every CTX_DOMAIN route, after the body is parsed. */
    os_err (*context)(req *r);
    /* The request's steps were abandoned part-way (it ran out of its memory): leave what
     * they used outside the request (the thread's database connection) as if they had
     * never started. */
    void (*abandon)(req *r);
    /* The handler has answered (its transactions are over, committed or not): whatever
     * waits on what it wrote (the webhook deliveries) is told now. May be NULL. */
    void (*finish)(req *r);
} server_hooks;

typedef struct server server;

server *server_start(const app *a, const route *routes, int nroutes, const server_hooks *hooks, char *err,
                     size_t errlen);
int  server_port(const server *s);
void server_stop(server *s);

/* route_match and route_request (route.c) are declared in http/http.h. */

#endif
