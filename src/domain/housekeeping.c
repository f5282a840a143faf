/* housekeeping.c — see housekeeping.h. */
#include "housekeeping.h"
#include <time.h>
#include "core/limits.h"
#include "core/log.h"
#include "domain/lifecycle.h"
#include "domain/webhooks.h"

void housekeeping_run(const app *a) {
    store_conn *c = store_conn_get(a->st);
    if (!c) return;
    int64_t now = time(NULL);
    os_err e = st_sessions_purge(c, now - a->cfg->session_idle_s, now);
    if (!e) e = st_auth_failures_purge(c, now - 24 * 3600);
    if (!e) e = webhooks_prune(c, now);
    if (!e) lifecycle_run(a, now, NULL);
    if (e) log_event(LOG_WARN, "housekeeping failed", "error", os_err_name(e), NULL);
}
