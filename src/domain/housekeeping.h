/* housekeeping.h — periodic clean-up of expired records (sessions past their idle or
 * absolute limit, sign-in failures older than any throttle window, finished webhook
 * deliveries and delivered events older than LIMIT_WEBHOOK_KEEP_DAYS). Safe to run from
 * several processes at once: every step is an idempotent DELETE. */
#ifndef OPENSEAT_HOUSEKEEPING_H
#define OPENSEAT_HOUSEKEEPING_H
#include "app.h"

void housekeeping_run(const app *a);

#endif
