/* lifecycle.h — an agreement's life: active until its end date, then expired (still
 * editable for --grace-days), then read-only (read and export only), as is a disabled one.
 * Super admins and admins are reminded 120, 60, 30 and 7 days before the end date, once
 * each, by whichever instance gets there first. The same pass moves partner relationships
 * on in time (domain/partner_time.h) and sends the super admins' daily summary of the seats
 * provisioning could not give (domain/scim_refusals.h). */
#ifndef OPENSEAT_LIFECYCLE_H
#define OPENSEAT_LIFECYCLE_H
#include <stdbool.h>
#include <stdint.h>
#include "app.h"

bool lifecycle_writable(const char *end_date, bool disabled, int64_t now, long grace_days);
/* Queues the reminders due on the day of `now` (which may be simulated; the mail is queued
 * for delivery at once), then moves partner relationships on (domain/partner_time.h: their
 * reminders, ends, renewals, lapsed requests) and sends the provisioning refusals' summaries
 * due. Returns how many expiry reminders were
 * queued, *partner_mails how many e-mails about partner relationships (NULL: not wanted);
 * -1 when any of it failed: what failed is logged and retried by the next run, the rest is
 * done. */
int lifecycle_run(const app *a, int64_t now, int *partner_mails);

#endif
