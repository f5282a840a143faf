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

/* Both read the history one change at a time as the database hands it over (nothing of
 * it is kept), so an agreement with millions of recorded changes costs the memory of one;
 * what they write can be that long, so w and out are meant to be sink buffers
 * (buf_init_sink: a temporary file behind them, io/export.h's export_text_begin).
 * Each level: {level, name, purchased, assigned, new_maxima:[{at, assigned, purchased}…],
 * max_12_months, max_12_months_first_at, max_life, max_life_first_at}. */
os_err usage_write(op_ctx *x, int64_t agreement_id, jw *w);
/* Every change as CSV (UTF-8 BOM): level, time, assigned, purchased; by level, then time.
 * OS_ERR_IO when out refused a write. */
os_err usage_csv(op_ctx *x, int64_t agreement_id, buf *out);

#endif
