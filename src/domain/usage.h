/* usage.h — maximum usage: per level, the highest number of seats assigned over the last
 * 12 months and over the agreement's life, the first time each peak was reached, and
 * every new maximum with the purchased count at that moment. Computed exactly from the
 * recorded pool changes (every add and removal writes one), never estimated, because
 * true-up billing depends on it. */
#ifndef OPENSEAT_USAGE_H
#define OPENSEAT_USAGE_H
#include "core/buf.h"
#include "domain/ctx.h"

#define USAGE_WINDOW_S (365 * 86400)

/* A level's peaks: the highest count of seats assigned over the last 12 months (the count in
 * force when that window opened counts as reached at its start) and over the agreement's
 * life, each with the time it was first reached (0: never above zero). */
typedef struct usage_peaks {
    int64_t max_12_months, max_12_months_at;
    int64_t max_life, max_life_at;
} usage_peaks;

/* What usage_levels hands over, level by level: the level (its pool, and the reader's
 * language for its name), then each new maximum in time order, then its peaks. A callback's
 * error stops the walk and is returned. */
typedef struct usage_visitor {
    void *ud;
    os_err (*level)(void *ud, const pool_rec *pool, const char *lang);
    os_err (*new_maximum)(void *ud, const usage_change *ch);
    os_err (*peaks)(void *ud, const usage_peaks *p);
} usage_visitor;

/* Both read the history one change at a time as the database hands it over (nothing of
 * it is kept), so an agreement with millions of recorded changes costs the memory of one;
 * what is made of it can be that long, so the visitor's writer and out are meant to be
 * sink buffers (buf_init_sink: a temporary file behind them, io/export.h's
 * export_text_begin). */
os_err usage_levels(op_ctx *x, int64_t agreement_id, const usage_visitor *v);
/* Every change as CSV (UTF-8 BOM): level, time, assigned, purchased; by level, then time.
 * OS_ERR_IO when out refused a write. */
os_err usage_csv(op_ctx *x, int64_t agreement_id, buf *out);

#endif
