/* audit.c — see audit.h. */
#include "audit.h"
#include <stdarg.h>
#include "core/json_write.h"

os_err audit(op_ctx *x, const char *action, const char *target_type, const char *target_id, int64_t agreement_id,
             const char *details_json) {
    audit_rec r = {
        .at = x->now,
        .actor_user_id = x->actor_id,
        .actor_email = x->actor_email,
        .action = action,
        .target_type = target_type,
        .target_id = target_id,
        .agreement_id = agreement_id,
        .address = x->address,
        .request_id = x->request_id,
        .details_json = details_json,
    };
    return st_audit_add(x->c, &r);
}

os_err audit_many(op_ctx *x, const char *action, const char *target_type, const char *const *target_ids,
                  int64_t agreement_id, const char *const *details_json, int n) {
    if (n <= 0) return OS_OK;
    audit_rec *r = arena_alloc(x->a, sizeof *r * (size_t)n);
    for (int i = 0; i < n; i++)
        r[i] = (audit_rec){
            .at = x->now,
            .actor_user_id = x->actor_id,
            .actor_email = x->actor_email,
            .action = action,
            .target_type = target_type,
            .target_id = target_ids[i],
            .agreement_id = agreement_id,
            .address = x->address,
            .request_id = x->request_id,
            .details_json = details_json ? details_json[i] : NULL,
        };
    return st_audit_add_many(x->c, r, n);
}

const char *json_pairs(arena *a, ...) {
    buf b;
    buf_init(&b, a, 64 * 1024);
    jw w;
    jw_init(&w, &b);
    jw_obj(&w);
    va_list ap;
    va_start(ap, a);
    for (;;) {
        const char *k = va_arg(ap, const char *);
        if (!k) break;
        jw_kstr(&w, k, va_arg(ap, const char *));
    }
    va_end(ap);
    jw_obj_end(&w);
    return jw_ok(&w) ? b.data : "{}";
}
