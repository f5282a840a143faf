/* webhooks.h — endpoints that receive integration events (events.h) over HTTPS, and their
 * deliveries.
 *
 * An endpoint belongs to an agreement (its super admins manage it: the route table says
 * so) or to a partner organization (its admins: checked here, inside each write's
 * transaction, as partner_orgs.h does — 404 to anyone not of the organization, 403 to a
 * plain member). Every read and write names the endpoint with its owner, so an id of
 * another owner's is simply not found.
 *
 * An endpoint holds a URL (https only, no user or password, no literal private address;
 * plain http and private addresses only with --webhooks-allow-private), a description,
 * the event types it takes (none listed: all), whether it is enabled (and why not), and a
 * signing secret `whsec_` + base64 of 32 random bytes, shown once when made or rotated and
 * kept sealed under a subkey of the master key. A rotation keeps the previous secret
 * signing beside the new one for LIMIT_WEBHOOK_ROTATION_S.
 *
 * Fan-out (webhooks_fanout, called by event_emit in the event's transaction) writes one
 * delivery per endpoint that takes the event: the agreement's own, and those of partner
 * organizations whose active relationship on it qualifies (events.h, partner_capability).
 * The delivery worker (webhook/worker.h) sends them and asks this module again, at each
 * try, whether a partner's endpoint may still have the event.
 *
 * Records are in x->a. Creation, change, deletion and rotation are audited (webhook.*): an
 * agreement's on its trail, an organization's on the organization's (no agreement).
 */
#ifndef OPENSEAT_WEBHOOKS_H
#define OPENSEAT_WEBHOOKS_H
#include <stdbool.h>
#include <sys/socket.h>
#include "domain/ctx.h"

#define WEBHOOK_SECRET_PREFIX "whsec_"
/* "whsec_" + base64 of 32 bytes + NUL */
#define WEBHOOK_SECRET_MAX 64

/* What a create or a change sets. A change leaves NULL / -1 / !set_types fields as they are;
 * a create needs url. */
typedef struct webhook_change {
    const char *url;
    const char *description;
    bool set_types;
    const char *const *types;
    int ntypes;
    int enabled;                   /* -1: unchanged; 0, 1 */
} webhook_change;

/* The owner's endpoints (at most LIMIT_WEBHOOKS_PER_OWNER). */
os_err webhooks_list(op_ctx *x, webhook_owner o, webhook_rec **rows, int *n);
os_err webhooks_get(op_ctx *x, webhook_owner o, int64_t id, webhook_rec *out);
/* Field errors (url, description, event_types) go to fe, OS_ERR_INVALID; OS_ERR_CONFLICT
 * when the owner has LIMIT_WEBHOOKS_PER_OWNER already. secret: the new secret in clear. */
os_err webhooks_create(op_ctx *x, webhook_owner o, const webhook_change *in, field_errors *fe, webhook_rec *out,
                       char secret[WEBHOOK_SECRET_MAX]);
os_err webhooks_update(op_ctx *x, webhook_owner o, int64_t id, const webhook_change *in, field_errors *fe,
                       webhook_rec *out);
os_err webhooks_delete(op_ctx *x, webhook_owner o, int64_t id);
/* A new secret (in clear in secret); the previous one signs too until out->previous_until. */
os_err webhooks_rotate(op_ctx *x, webhook_owner o, int64_t id, webhook_rec *out, char secret[WEBHOOK_SECRET_MAX]);
/* A webhook.ping delivery to this endpoint only. */
os_err webhooks_ping(op_ctx *x, webhook_owner o, int64_t id, int64_t *delivery_id);
os_err webhooks_deliveries(op_ctx *x, webhook_owner o, int64_t id, int64_t before_id, int limit,
                           webhook_delivery_rec **rows, int *n);
os_err webhooks_delivery(op_ctx *x, webhook_owner o, int64_t id, int64_t delivery_id, webhook_delivery_rec *out,
                         webhook_attempt_rec **attempts, int *nattempts);
/* The delivery pending again, due now, under the same webhook-id. */
os_err webhooks_redeliver(op_ctx *x, webhook_owner o, int64_t id, int64_t delivery_id);

/* The deliveries of an event just written (event_emit's part; x's transaction). */
os_err webhooks_fanout(op_ctx *x, int64_t event_id, int64_t agreement_id, const char *type, int64_t relationship_id);
/* Wakes the delivery threads when x's work fanned anything out (x->webhooks_queued); call
 * it once that work has committed. */
void webhooks_wake(const op_ctx *x);

/* The event types an endpoint's stored filter names (",a,b," → a, b); arena-owned. */
int webhooks_types(arena *a, const char *stored, const char ***types);

/* Whether a connection to this address may be made: not loopback, link-local, private,
 * unique-local, multicast, unspecified or reserved (nor such an IPv4 address mapped into
 * IPv6), unless allow_private. */
bool webhooks_address_allowed(const struct sockaddr *sa, bool allow_private);

/* Seconds before the try after `attempts` failed ones; 0 when there is no other. */
int64_t webhooks_backoff(int64_t attempts);

/* The secret in clear from its sealed form; false when it cannot be opened. */
bool webhooks_secret_open(const app *a, const char *sealed, char out[WEBHOOK_SECRET_MAX]);

/* Housekeeping: forgets finished deliveries and events older than LIMIT_WEBHOOK_KEEP_DAYS. */
os_err webhooks_prune(store_conn *c, int64_t now);

#endif
