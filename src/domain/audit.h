/* audit.h — the append-only record of who did what. Every state change writes here,
 * inside the same transaction as the change itself, so the trail cannot disagree
 * with the data. `details` is a JSON object built by the caller (or NULL). */
#ifndef OPENSEAT_AUDIT_H
#define OPENSEAT_AUDIT_H
#include "domain/ctx.h"

os_err audit(op_ctx *x, const char *action, const char *target_type, const char *target_id, int64_t agreement_id,
             const char *details_json);
/* audit() for n targets of one action at once (a bulk change): target_ids[i] with
 * details_json[i] (details_json NULL: none for any). */
os_err audit_many(op_ctx *x, const char *action, const char *target_type, const char *const *target_ids,
                  int64_t agreement_id, const char *const *details_json, int n);

/* Small JSON object from key/value string pairs, NULL-terminated; arena-owned. */
const char *json_pairs(arena *a, ...) __attribute__((sentinel));

#endif
