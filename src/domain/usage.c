/* usage.c — see usage.h. */
#include "usage.h"
#include "core/text.h"
#include <inttypes.h>
#include <string.h>
#include <time.h>

/* ISO 8601 UTC into out (no allocation: the history may hold millions of changes). */
static void iso_time(int64_t t, char out[32]) {
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* One level's figures, gathered while its changes go by in time order. */
typedef struct level_walk {
    jw *w;
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
        char at[32];
        l->run = ch->assigned;
        iso_time(ch->at, at);
        jw_obj(l->w);
        jw_kstr(l->w, "at", at);
        jw_kint(l->w, "assigned", ch->assigned);
        jw_kint(l->w, "purchased", ch->purchased);
        jw_obj_end(l->w);
    }
    return 0;
}

static void kiso(jw *w, const char *key, int64_t t) {
    char at[32];
    if (!t) { jw_knull(w, key); return; }
    iso_time(t, at);
    jw_kstr(w, key, at);
}

/* One level: its new maxima are written as its changes are read, the peaks after them. */
static os_err write_level(op_ctx *x, jw *w, int64_t agreement_id, const pool_rec *pool, const char *lang) {
    level_walk l = {.w = w, .window_start = x->now - USAGE_WINDOW_S};
    jw_obj(w);
    jw_kstr(w, "level", pool->level_code);
    jw_kstr(w, "name", lang && !strcmp(lang, "fr") ? pool->name_fr : pool->name_en);
    jw_kint(w, "purchased", pool->purchased);
    jw_kint(w, "assigned", pool->assigned);
    jw_key(w, "new_maxima");
    jw_arr(w);
    os_err e = st_usage_each(x->c, agreement_id, pool->level_id, level_change, &l);
    if (e) return e;
    jw_arr_end(w);
    if (!l.in_window) open_window(&l);
    jw_kint(w, "max_12_months", l.year_max);
    kiso(w, "max_12_months_first_at", l.year_at);
    jw_kint(w, "max_life", l.life_max);
    kiso(w, "max_life_first_at", l.life_at);
    jw_obj_end(w);
    return OS_OK;
}

os_err usage_write(op_ctx *x, int64_t agreement_id, jw *w) {
    pool_rec *pools;
    int npools;
    os_err e = st_pools(x->c, x->a, agreement_id, &pools, &npools);
    if (e) return e;
    user_rec me;
    /* No such person (a system actor): English. A store error is an error, not English. */
    e = st_user_by_id(x->c, x->a, x->actor_id, &me);
    if (e && e != OS_ERR_NOT_FOUND) return e;
    const char *lang = e ? "en" : me.language;
    jw_obj(w);
    jw_key(w, "levels");
    jw_arr(w);
    for (int p = 0; !e && p < npools; p++) e = write_level(x, w, agreement_id, &pools[p], lang);
    jw_arr_end(w);
    jw_obj_end(w);
    return e;
}

typedef struct csv_walk {
    buf *out;
    const char *level;
} csv_walk;

static int csv_change(void *ud, const usage_change *ch) {
    csv_walk *c = ud;
    char at[32];
    iso_time(ch->at, at);
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
