/* outbox.h — queueing e-mail and the worker that delivers it.
 *
 * outbox_enqueue() only writes a row (inside the caller's transaction, so a mail is
 * queued if and only if the change that caused it commits). The worker thread leases
 * due rows, renders and composes each message, and delivers it through the SMTP relay
 * or, with none configured, into DATA/maildir. A failed delivery is retried with
 * exponential backoff (30 s doubling to 1 h) for as long as it takes: nothing is
 * dropped, and the last error is kept for `openseat outbox`.
 */
#ifndef OPENSEAT_OUTBOX_H
#define OPENSEAT_OUTBOX_H
#include "app.h"
#include "core/arena.h"
#include "store/store.h"

typedef struct outbox_worker outbox_worker;

os_err outbox_enqueue(const app *a, store_conn *c, arena *ar, const char *to, const char *template_name,
                      const char *language, const char *data_json, int64_t now);
/* outbox_enqueue with a Reply-To (NULL: none), for mail whose text asks the reader to
 * answer someone other than the no-reply sender. OS_ERR_INVALID when reply_to is not one
 * plain address. */
os_err outbox_enqueue_reply(const app *a, store_conn *c, arena *ar, const char *to, const char *reply_to,
                            const char *template_name, const char *language, const char *data_json, int64_t now);
/* outbox_enqueue for n messages at once (a bulk change's): m[i] gives recipient,
 * template_name, language, data and reply_to (may be NULL); its message_id is set here. */
os_err outbox_enqueue_many(const app *a, store_conn *c, arena *ar, outbox_rec *m, int n, int64_t now);

outbox_worker *outbox_start(const app *a);
void outbox_wake(outbox_worker *w);           /* NULL-safe */
void outbox_stop(outbox_worker *w);           /* finishes the batch in hand (≤ 16 messages), then joins */

int64_t outbox_backoff(int64_t attempts);     /* seconds before the next try */

#endif
