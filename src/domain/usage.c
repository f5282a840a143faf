/* usage.c — see usage.h. */
#include "usage.h"
#include "core/text.h"
#include <inttypes.h>

/* One level's figures, gathered while its changes go by in time order. */
typedef struct level_walk {
    const usage_visitor *v;
    int64_t window_start;
    int64_t life_max, life_at;
    int64_t before;          /* the count in force when the window opened */
    int64_t year_max, year_at;
    bool in_window;
    int64_t run;             /* the highest count so far: a change above it is a new maximum */
} level_walk;

/* The count in force when the window opened counts as reached at its start. */
static void open_window(level_walk *l) {
    l->in_window = true;
    l->year_max = l->before;
    l->year_at = l->before ? l->window_start : 0;
}

static int level_change(void *ud, const usage_change *ch) {
    level_walk *l = ud;
    if (ch->at < l->window_start) l->before = ch->assigned;
    else if (!l->in_window) open_window(l);
    if (ch->assigned > l->life_max) { l->life_max = ch->assigned; l->life_at = ch->at; }
    if (l->in_window && ch->assigned > l->year_max) { l->year_max = ch->assigned; l->year_at = ch->at; }
    if (ch->assigned > l->run) {
        l->run = ch->assigned;
        return l->v->new_maximum(l->v->ud, ch);
    }
    return 0;
}

/* One level: its new maxima are handed on as its changes are read, the peaks after them. */
static os_err walk_level(op_ctx *x, const usage_visitor *v, int64_t agreement_id, const pool_rec *pool,
                         const char *lang) {
    level_walk l = {.v = v, .window_start = x->now - USAGE_WINDOW_S};
    os_err e = v->level(v->ud, pool, lang);
    if (!e) e = st_usage_each(x->c, agreement_id, pool->level_id, level_change, &l);
    if (e) return e;
    if (!l.in_window) open_window(&l);
    usage_peaks p = {l.year_max, l.year_at, l.life_max, l.life_at};
    return v->peaks(v->ud, &p);
}

os_err usage_levels(op_ctx *x, int64_t agreement_id, const usage_visitor *v) {
    pool_rec *pools;
    int npools;
    os_err e = st_pools(x->c, x->a, agreement_id, &pools, &npools);
    if (e) return e;
    user_rec me;
    /* No such person (a system actor): English. A store error is an error, not English. */
    e = st_user_by_id(x->c, x->a, x->actor_id, &me);
    if (e && e != OS_ERR_NOT_FOUND) return e;
    const char *lang = e ? "en" : me.language;
    e = OS_OK;
    for (int p = 0; !e && p < npools; p++) e = walk_level(x, v, agreement_id, &pools[p], lang);
    return e;
}

typedef struct csv_walk {
    buf *out;
    const char *level;
} csv_walk;

static int csv_change(void *ud, const usage_change *ch) {
    csv_walk *c = ud;
    char at[32];
    text_iso_time_into(ch->at, at);
    /* Level codes and ISO times never need quoting. */
    buf_printf(c->out, "%s,%s,%" PRId64 ",%" PRId64 "\r\n", c->level, at, ch->assigned, ch->purchased);
    return c->out->overflow ? OS_ERR_IO : 0;
}

os_err usage_csv(op_ctx *x, int64_t agreement_id, buf *out) {
    pool_rec *pools;
    int npools;
    os_err e = st_pools(x->c, x->a, agreement_id, &pools, &npools);
    if (e) return e;
    buf_puts(out, "\xEF\xBB\xBFlevel,time,assigned,purchased\r\n");
    for (int p = 0; !e && p < npools; p++) {
        csv_walk c = {out, pools[p].level_code};
        e = st_usage_each(x->c, agreement_id, pools[p].level_id, csv_change, &c);
    }
    return e ? e : out->overflow ? OS_ERR_IO : OS_OK;
}
