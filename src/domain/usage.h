/* usage.h — maximum usage: per level, the highest number of seats assigned over the last
 * 12 months and over the agreement's life, the first time each peak was reached, and
 * every new maximum with the purchased count at that moment. Computed exactly from the
 * recorded pool changes (every add and removal writes one), never estimated, because
 * true-up billing depends on it. */
#ifndef OPENSEAT_USAGE_H
#define OPENSEAT_USAGE_H
#include "core/buf.h"
#include "core/json_write.h"
#include "domain/ctx.h"

#define USAGE_WINDOW_S (365 * 86400)

os_err usage_write(op_ctx *x, int64_t agreement_id, jw *w);
/* Every change as CSV (UTF-8 BOM): level, time, assigned, purchased. */
os_err usage_csv(op_ctx *x, int64_t agreement_id, buf *out);

#endif
