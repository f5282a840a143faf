/* events.h — what happened to an agreement, as integrators see it.
 *
 * A write that changes something an integrator follows calls event_emit inside its own
 * transaction, beside its audit entry: the event row (and whatever fans out from it, such
 * as webhook deliveries) commits or rolls back with the change, so an event exists exactly
 * when its change committed and is never announced for a change that did not.
 *
 * The audit trail answers "who did what" for people; events answer "what is now different"
 * for programs: typed, with the object as it now is and, for an update, each changed
 * field's value before and after. A bulk job is one event (counts and where to page
 * through its changes), never one per row.
 *
 * The types are a closed list (event_types): a caller names one of them, and the
 * documentation and the webhook endpoint filters list the same. */
#ifndef OPENSEAT_EVENTS_H
#define OPENSEAT_EVENTS_H
#include <stdbool.h>
#include "domain/access.h"
#include "domain/ctx.h"

/* Who outside the agreement's own admins may receive an event of a type: a partner
 * organization acting on the agreement receives it when its relationship holds
 * `capability` (CAP_NONE: any active relationship); EVENT_OWN_RELATIONSHIP only for
 * events about its own relationship; EVENT_CUSTOMER_ONLY never. */
/* An event's data object is at most this long (the largest, a subscription's update, is a
 * few kilobytes). */
#define EVENT_DATA_MAX (64 * 1024)

enum { EVENT_ANY_PARTNER = 0, EVENT_OWN_RELATIONSHIP = -1, EVENT_CUSTOMER_ONLY = -2 };

typedef struct event_type {
    const char *name;          /* "subscription.added", … */
    int partner_capability;    /* a CAP_* bit, or one of the EVENT_* values above */
} event_type;

/* The known types, in documentation order; *n is set to how many. */
const event_type *event_types(int *n);
/* The type named name; NULL when unknown. */
const event_type *event_type_find(const char *name);

/* Records an event of type `type` (one of event_types; anything else is OS_ERR_INTERNAL,
 * a programming error) on agreement_id, with data_json (a JSON object, the caller's) as
 * its data, in x's current transaction. The actor comes from x. */
OS_MUST_USE os_err event_emit(op_ctx *x, int64_t agreement_id, const char *type, const char *data_json);
/* event_emit for an event about a partner relationship (the partner.* types, whose
 * EVENT_OWN_RELATIONSHIP audience is that relationship's organization). */
OS_MUST_USE os_err event_emit_relationship(op_ctx *x, int64_t agreement_id, const char *type,
                                           int64_t relationship_id, const char *data_json);

/* An event's data object: {"agreement": license, key: value, …} from (key, JSON text) pairs
 * ending with NULL; a NULL value writes null. NULL when it could not be written. */
const char *event_data(arena *a, const char *license, ...) __attribute__((sentinel));
/* s as a JSON string (null for NULL), for event_data; arena-owned. */
const char *event_str(arena *a, const char *s);
/* What differs between two states of one object (JSON object texts), as an update's event
 * says it: {"member": {"before": …, "after": …}, …} for exactly the members of `after`
 * whose value is not `before`'s, in after's order, member `skip` (may be NULL) aside. NULL
 * when nothing differs (or either text is not an object). */
const char *event_changes(arena *a, const char *before_json, const char *after_json, const char *skip);

#endif
