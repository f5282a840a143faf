/* worker.h — the threads that send webhook deliveries (domain/webhooks.h).
 *
 * --webhook-threads threads, each with its own curl handle and connection. Like the mail
 * outbox's worker they lease due deliveries (--webhook-lease seconds, each thread under a
 * name of its own: core/worker.h), so any number of instances share the work and a delivery
 * whose instance died is taken up by another when its lease ends — each is sent at least
 * once, and may be sent twice. A lease takes one endpoint's due deliveries, from an endpoint
 * no thread holds (st_webhook_claim): an endpoint that hangs holds one thread, never the
 * others' deliveries. For each one a thread:
 *   - checks again that a partner organization's endpoint may still have the event (the
 *     relationship active and qualifying now: events.h); if not, the delivery is dropped,
 *     logged as such, never sent;
 *   - POSTs {"type", "timestamp", "data"} with libcurl, signed as Standard Webhooks say
 *     (webhook-id "msg_<delivery id>", the same on every try and redelivery;
 *     webhook-timestamp, the try's; webhook-signature "v1,<base64 HMAC-SHA256>" for the
 *     secret and, within a rotation's overlap, the previous one), in at most
 *     LIMIT_WEBHOOK_TIMEOUT_S, following no redirect (a 3xx fails), connecting only to
 *     public addresses unless --webhooks-allow-private (checked on the socket's address,
 *     after DNS: a name that resolves to a private address is refused too);
 *   - logs the try (status or error, the answer's first KiB, duration): 2xx is delivered,
 *     anything else is retried after webhooks_backoff, then failed. An endpoint failing
 *     with nothing delivered for LIMIT_WEBHOOK_FAILING_DAYS is disabled, its pending
 *     deliveries failed, its owners e-mailed (webhook_disabled) and the system audited.
 * Memory: the worker is malloc'd here and freed by webhook_worker_stop. */
#ifndef OPENSEAT_WEBHOOK_WORKER_H
#define OPENSEAT_WEBHOOK_WORKER_H
#include "app.h"

typedef struct webhook_worker webhook_worker;

webhook_worker *webhook_worker_start(const app *a);
void webhook_worker_wake(webhook_worker *w);   /* NULL-safe */
void webhook_worker_stop(webhook_worker *w);   /* each thread finishes its try in hand, then joins */

#endif
