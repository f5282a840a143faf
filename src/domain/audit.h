/* audit.h — the append-only record of who did what. Every state change writes here,
 * inside the same transaction as the change itself, so the trail cannot disagree
 * with the data. `details` is a JSON object built by the caller (or NULL). */
#ifndef OPENSEAT_AUDIT_H
#define OPENSEAT_AUDIT_H
#include "domain/ctx.h"

os_err audit(op_ctx *x, const char *action, const char *target_type, const char *target_id, int64_t agreement_id,
             const char *details_json);

/* Small JSON object from key/value string pairs, NULL-terminated; arena-owned. */
const char *json_pairs(arena *a, ...);

#endif
