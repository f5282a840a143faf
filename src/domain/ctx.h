/* ctx.h — what every domain operation needs: who acts, from where, when, and with
 * which connection and arena. Built by the API layer from the request (or by the CLI);
 * the domain never looks at HTTP. */
#ifndef OPENSEAT_CTX_H
#define OPENSEAT_CTX_H
#include <stdbool.h>
#include <stdint.h>
#include "app.h"
#include "core/arena.h"
#include "store/store.h"

typedef struct op_ctx {
    const app *app;
    store_conn *c;
    arena *a;
    int64_t now;
    int64_t actor_id;            /* 0: anonymous or system */
    const char *actor_email;
    const char *actor_name;
    const char *address;         /* client address, for audit and throttling */
    const char *request_id;
    int64_t relationship_id;     /* the partner relationship the actor acts under (set by the
                                  * access rule); 0: not a partner, or not on an agreement */
    /* The API token the request came with (domain/tokens.h), set by the identify step;
     * token_id 0: a browser session, a job, the CLI, nobody. A token narrows what its
     * owner may do to one agreement (token_agreement_id; 0: any) and to its capabilities. */
    int64_t token_id;
    int64_t token_agreement_id;
    unsigned token_capabilities;
    /* How the acting person proved who they are: the session's method ("password", "mfa",
     * "sso"), or the one of the session that made the API token. NULL: no person's session
     * (the CLI, the system) — an agreement's strong-authentication rule does not apply. */
    const char *auth_method;
    /* Set when a write fanned an event out to webhook deliveries. Whoever ends x's work
     * calls webhooks_wake (domain/webhooks.h) after its commit, so the deliveries leave at
     * once rather than at the worker's next look; after a rollback the wake finds nothing. */
    bool webhooks_queued;
} op_ctx;

#endif
