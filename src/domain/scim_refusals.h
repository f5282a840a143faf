/* scim_refusals.h — the super admins' daily summary of the people SCIM provisioning could not
 * give a seat: the part of the lifecycle pass (the serve process's housekeeping, and
 * `openseat lifecycle --today`) that tells them.
 *
 * The provider hears of a refused seat at once (409 tooMany, domain/scim.h) and retries on
 * its own cycle; each refusal is kept as one row per person and level (a retry updates it),
 * dropped when the person gets the seat and after SCIM_REFUSAL_KEEP_DAYS without a retry.
 * At most once per agreement and UTC day, the first pass that finds refusals not reported
 * yet — made within the last day and after the previous summary — queues one
 * `scim_refusals` e-mail to the order's address and each super admin, in their language,
 * listing the people, their level, the group and why (at most SCIM_REFUSAL_LIST_MAX lines);
 * audited as provisioning.refusals_summarized. No refusals, no e-mail. The day is claimed by
 * one guarded write, so two instances never both send; each agreement is handled in its own
 * transaction and one's failure is logged and does not stop the others. */
#ifndef OPENSEAT_SCIM_REFUSALS_H
#define OPENSEAT_SCIM_REFUSALS_H
#include <stdint.h>
#include "app.h"

#define SCIM_REFUSAL_KEEP_DAYS 7
#define SCIM_REFUSAL_LIST_MAX 200

/* Sends the summaries due on the day of `now` (which may be simulated; what is recorded and
 * queued happens at the real time). Returns how many e-mails were queued; *failed: how many
 * agreements failed (logged, left for the next run); -1 when the work could not be listed. */
int scim_refusals_run(const app *a, int64_t now, int *failed);

#endif
