/* fault.c — see fault.h. */
#include "http/fault.h"
#include "core/log.h"
#include "store/store.h"

bool fault_request_begin(req *r) {
    if (!r->app->cfg->fault_injection) return false;
    const char *spec = req_header(r, "X-Openseat-Fault");
    if (!store_fault_arm(spec)) {
        /* Unarmed, the reply lacks X-Openseat-Fault-Fired: the test sees its fault did not happen. */
        log_event(LOG_WARN, "malformed X-Openseat-Fault ignored", "request_id", r->request_id, NULL);
        store_fault_arm(NULL);
    }
    return true;
}

void fault_request_end(req *r) {
    long ops;
    char what[81];
    bool fired = store_fault_disarm(&ops, what, sizeof what);
    reply_header(r, "X-Openseat-Ops", arena_printf(&r->a, "%ld", ops));
    if (!fired) return;
    reply_header(r, "X-Openseat-Fault-Fired", "1");
    /* Header-safe: SQL text on one line, printable ASCII only. */
    for (char *p = what; *p; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e) *p = ' ';
    reply_header(r, "X-Openseat-Fault-Op", arena_strdup(&r->a, what));
}
