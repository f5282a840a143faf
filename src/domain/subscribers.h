/* subscribers.h — subscriber assignments on an agreement: list, add, edit, remove,
 * resend, and the per-level overview.
 *
 * Seats: adding takes a seat from the level's pool in the same transaction as the insert
 * (an Open License pool never goes over); removing gives it back. A freed seat can go to a
 * different person only some days after its last assignment, as many as the agreement's
 * program says (st_agreement_reassign_days; 0: at once); the error says when.
 * Edits carry the version the editor saw; a stale one is refused (OS_ERR_PRECONDITION).
 * Callers have already checked the user's role on the agreement.
 */
#ifndef OPENSEAT_SUBSCRIBERS_H
#define OPENSEAT_SUBSCRIBERS_H
#include "core/json_write.h"
#include "domain/ctx.h"

#define SUB_NAME_MAX 100
#define SUB_REFERENCE_MAX 256
#define SUB_BATCH_MAX 1000

typedef struct sub_input {
    const char *name, *sign_in_email, *notification_email, *level, *country, *language, *reference;
    int downloads;              /* -1: absent (default on) */
    bool notify;                /* send the assignment e-mail */
} sub_input;

extern const char *const subscriber_languages[];
/* What a language that is not one of subscriber_languages is told. */
#define SUB_LANGUAGE_MESSAGE "Use a language code: en, fr, de, es, it, nl, pt, ja or zh"

/* The params of an invalid_value on a field whose values come from a list ("level",
 * "country", "language", "downloads"), in a single add or edit as in a file's cell:
 * {field, allowed?}, which list and, when given, its values as the English message names
 * them, so a client words the problem in its own language. NULL if it could not be written. */
const char *subscriber_choice_params(arena *a, const char *field, const char *allowed);
/* The values those messages name: the agreement's level codes, subscriber_languages
 * ("en, fr, …"). */
const char *subscriber_level_list(arena *a, const pool_rec *pools, int n);
const char *subscriber_language_list(arena *a);

/* A subscription as the API shows it and as events carry it: {id, name, sign_in_email,
 * notification_email, level, assigned, expires, reference, downloads, country, language,
 * version}. The one writer of that object. */
void subscription_write(jw *w, const sub_rec *s);
/* What differs between two states of one subscription, as the subscription.updated event
 * says it: {"field": {"before": …, "after": …}, …} for exactly the members of
 * subscription_write's object that changed, version aside (it moves with every write).
 * NULL when none did (or it could not be written). */
const char *subscription_changes(arena *a, const sub_rec *before, const sub_rec *after);

/* The subscription.added / subscription.removed event of s on the agreement numbered license,
 * for writers that add and remove through the *_in_tx functions (provisioning). */
os_err subscribers_emit(op_ctx *x, const char *license, const char *type, const sub_rec *s);
/* The subscription.updated event of a subscription's edit (nothing when nothing differs). */
os_err subscribers_emit_updated(op_ctx *x, const char *license, const sub_rec *before, const sub_rec *after);

os_err subscribers_add(op_ctx *x, int64_t agreement_id, const sub_input *in, field_errors *fe, sub_rec *out);

/* What adding needs to know of an agreement, read once: a bulk add reuses it for every row
 * (the pools' counts follow the seats its rows take). */
typedef struct sub_target {
    agreement_rec g;
    pool_rec *pools;
    int npools;
    prefs_rec pr;
    /* Read by subscribers_target_refresh, for adding many at once: */
    int64_t *freed;             /* per pool: freed seats not reused yet */
    const char **domains;       /* the customer's own e-mail domains */
    int ndomains;
} sub_target;
os_err subscribers_target(op_ctx *x, int64_t agreement_id, sub_target *t);
/* subscribers_add's checks and writes inside the caller's transaction: OS_ERR_INVALID with
 * every problem in fe. A refused row may have left some of its writes in the transaction
 * (its insert, when the seat was then refused): commit only when no row failed. The caller
 * wakes the mail worker after committing. */
os_err subscribers_add_in_tx(op_ctx *x, sub_target *t, const sub_input *in, field_errors *fe, sub_rec *out);

/* Adding many at once (a bulk add), set-based, inside the caller's transaction: the same
 * checks, records, seats, usage, alert, audit and e-mails as subscribers_add_in_tx row by
 * row, in a few statements per chunk of rows and one seat update per level. It must not
 * meet the reassignment rule, so it is for rows that fit in seats never assigned
 * (subscribers_unassigned); the caller adds row by row otherwise.
 *
 * Reads again, in the caller's transaction, what the set-based add decides with: the pools'
 * counts, their freed seats not reused yet, the customer's domains. */
os_err subscribers_target_refresh(op_ctx *x, sub_target *t);
/* Seats of pool k never assigned: free ones less the freed ones not reused yet (after
 * subscribers_target_refresh). */
int64_t subscribers_unassigned(const sub_target *t, int k);
/* subscribers_add_in_tx's checks of in[0..n), writing nothing: each row's problems in fe[i]
 * (initialised here, in x's arena), with the single add's fields, codes and messages; an
 * address already holding the level is found with one query per 64 addresses. */
os_err subscribers_check_many(op_ctx *x, const sub_target *t, const sub_input *in, int n, field_errors *fe);
/* Takes need[k] seats of each pool k, one update each, then records one usage point per pool
 * and sends the pool alert when the seats cross its threshold. *taken false, and nothing
 * changed, when a pool has fewer seats left than t says (another writer took some). */
os_err subscribers_take_seats(op_ctx *x, sub_target *t, const int64_t *need, bool *taken);
/* Writes in[0..n), rows subscribers_check_many found no problem with and whose seats
 * subscribers_take_seats took: the subscriptions with their search terms, a freed seat
 * taken back by its own address, the audit entries and the assignment e-mails (rows with
 * notify). *uuids: the new subscriptions' ids, in in's order. Memory: about n rows' worth in
 * x's arena. */
os_err subscribers_add_many_in_tx(op_ctx *x, sub_target *t, const sub_input *in, int n, const char ***uuids);

/* OS_ERR_PRECONDITION: changed since expected_version (*out then holds the current one). */
os_err subscribers_update(op_ctx *x, int64_t agreement_id, const char *uuid, int64_t expected_version,
                          const sub_input *in, field_errors *fe, sub_rec *out);
/* subscribers_update's writes inside the caller's transaction: `next` is `cur` (as read) with
 * the changes, written when the stored version is still expected_version; audited, and a
 * changed sign-in address is told to both addresses. g: the agreement, for the e-mail; pr: its
 * preferences, for a changed address's domain (either NULL: read here when needed).
 * OS_ERR_INVALID with fe when the new address already holds that level, or is outside the
 * customer's domains when the preferences refuse those; OS_ERR_PRECONDITION when stale. The
 * caller wakes the mail worker after committing. */
os_err subscribers_update_in_tx(op_ctx *x, const agreement_rec *g, const prefs_rec *pr, const sub_rec *cur,
                                const sub_rec *next, int64_t expected_version, field_errors *fe);
/* All or nothing: OS_ERR_NOT_FOUND (and *missing) when one id is unknown. */
os_err subscribers_remove(op_ctx *x, int64_t agreement_id, const char *const *uuids, int n, const char **missing);
/* Removes one subscription (as read in this transaction) inside the caller's transaction: the
 * seat goes back to its pool and is recorded as freed (the reassignment rule), the pool's
 * usage is recorded, the removal audited. */
os_err subscribers_remove_in_tx(op_ctx *x, const sub_rec *s);
os_err subscribers_resend(op_ctx *x, int64_t agreement_id, const char *const *uuids, int n, const char **missing);

/* The signed-in person's own subscriptions, on every agreement. */
os_err subscribers_mine(op_ctx *x, my_sub_rec **rows, int *n);
/* A subscriber's question to the agreement's contact address (or its super admins when
 * none is set), with a copy to the asker when wanted. OS_ERR_NOT_FOUND when the person
 * holds no subscription on that agreement. */
os_err subscribers_ask(op_ctx *x, const char *license_number, const char *subject, const char *message, bool copy);
/* One page of the list: at most q->limit subscriptions after cursor (opaque text from a
 * previous page; NULL: the first), the total matching (exact, or counted up to a bound:
 * total_exact false), and the next page's cursor (NULL: this is the last). A cursor the
 * server did not give, or too many words in q->q: OS_ERR_INVALID with fe. */
typedef struct sub_page {
    sub_rec *rows;
    int n;
    int64_t total;
    bool total_exact;
    const char *next_cursor;
} sub_page;
os_err subscribers_page(op_ctx *x, sub_query *q, const char *cursor, sub_page *out, field_errors *fe);
/* Every subscription matching q's filters, in its sort order, handed to fn one at a time
 * (an export): the list's keyset pages, LIMIT_PAGE_SIZE_MAX rows each, each page in an arena
 * of its own, so memory is one page's whatever the count. q's cursor and limit are the
 * walk's own. Stops at fn's first error and returns it. More than max matches:
 * OS_ERR_TOO_LARGE — before any row when the count is exact, else when row max + 1 comes.
 * Rows changed while the walk runs may be missed or met twice (no snapshot is held: a long
 * read would hold back the database's checkpoints). *count: rows handed to fn. */
typedef os_err (*sub_row_fn)(void *ud, const sub_rec *s);
os_err subscribers_each(op_ctx *x, sub_query *q, int64_t max, sub_row_fn fn, void *ud, int64_t *count,
                        field_errors *fe);
/* Records an export of the list: audit "subscriptions.exported" {"rows": N, "format": …}. */
os_err subscribers_exported(op_ctx *x, int64_t agreement_id, const char *format, int64_t rows);
/* The codes of the agreement's levels (those with a pool), in display order; arena-owned. */
os_err subscribers_level_codes(op_ctx *x, int64_t agreement_id, const char ***codes, int *n);
/* The overview: the agreement's pools (seats purchased and assigned per level); the
 * caller names them in the reader's language, which the request's identify step read. */
typedef struct sub_overview {
    pool_rec *pools;
    int npools;
} sub_overview;
os_err subscribers_overview(op_ctx *x, int64_t agreement_id, sub_overview *out);

#endif
