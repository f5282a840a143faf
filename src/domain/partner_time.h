/* partner_time.h — partner relationships over time: the part of the lifecycle pass (the
 * serve process's housekeeping, and `openseat lifecycle --today`) that moves them on.
 *
 * For every active relationship: REL_REMIND_FIRST_DAYS (30) and REL_REMIND_LAST_DAYS (7)
 * days before its end, one reminder each (partner_ending) to both sides — the customer's
 * deciders (the order's address, super admins, partner managers) and the partner's people
 * the relationship covers plus the organization's admins. Only the nearest reminder due is
 * sent: a run five days before the end sends the last one and marks the first as passed.
 * At its end: a relationship that renews automatically gets another period (period_days,
 * or up to the agreement's end when it has none), never past the agreement's end, and both
 * sides are told (partner_renewed); one that does not, or whose agreement has ended, ends
 * (partner_ended). A request still open at its lapse date lapses, with the relationship it
 * asked for when it was an access request.
 *
 * Access never waits for this pass: the access rule compares the end with the time of
 * each request. Every step is claimed by one guarded UPDATE, so two instances running the
 * pass at once never both send or both renew; each relationship and request is handled in
 * its own transaction, and one's failure is logged and does not stop the others. */
#ifndef OPENSEAT_PARTNER_TIME_H
#define OPENSEAT_PARTNER_TIME_H
#include <stdint.h>
#include "app.h"

/* Does what is due at `now` (which may be a simulated day; what is recorded and queued
 * happens at the real time, so mail goes out at once). Returns how many e-mails were
 * queued; *failed: how many relationships or requests failed (logged, left for the next
 * run). -1 when the work could not be listed at all. */
int partner_time_run(const app *a, int64_t now, int *failed);

#endif
