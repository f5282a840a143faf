/* usage.c — see usage.h. */
#include "usage.h"
#include "core/text.h"
#include <string.h>
#include <time.h>

/* Writes one level's figures from its changes rows[0..n) (time order). */
static void write_level(op_ctx *x, jw *w, const pool_rec *pool, const usage_rec *rows, int n, const char *lang) {
    int64_t ws = x->now - USAGE_WINDOW_S;
    int64_t life_max = 0, life_at = 0, year_max = 0, year_at = 0, before = 0;
    for (int i = 0; i < n; i++) {
        if (rows[i].at < ws) before = rows[i].assigned;
        if (rows[i].assigned > life_max) { life_max = rows[i].assigned; life_at = rows[i].at; }
    }
    /* The count in force when the window opened counts as reached at its start. */
    year_max = before;
    year_at = before ? ws : 0;
    for (int i = 0; i < n; i++)
        if (rows[i].at >= ws && rows[i].assigned > year_max) { year_max = rows[i].assigned; year_at = rows[i].at; }
    jw_obj(w);
    jw_kstr(w, "level", pool->level_code);
    jw_kstr(w, "name", lang && !strcmp(lang, "fr") ? pool->name_fr : pool->name_en);
    jw_kint(w, "purchased", pool->purchased);
    jw_kint(w, "assigned", pool->assigned);
    jw_kint(w, "max_12_months", year_max);
    if (year_at) jw_kstr(w, "max_12_months_first_at", text_iso_time(x->a, year_at));
    else jw_knull(w, "max_12_months_first_at");
    jw_kint(w, "max_life", life_max);
    if (life_at) jw_kstr(w, "max_life_first_at", text_iso_time(x->a, life_at));
    else jw_knull(w, "max_life_first_at");
    jw_key(w, "new_maxima");
    jw_arr(w);
    int64_t run = 0;
    for (int i = 0; i < n; i++) {
        if (rows[i].assigned <= run) continue;
        run = rows[i].assigned;
        jw_obj(w);
        jw_kstr(w, "at", text_iso_time(x->a, rows[i].at));
        jw_kint(w, "assigned", rows[i].assigned);
        jw_kint(w, "purchased", rows[i].purchased);
        jw_obj_end(w);
    }
    jw_arr_end(w);
    jw_obj_end(w);
}

os_err usage_write(op_ctx *x, int64_t agreement_id, jw *w) {
    pool_rec *pools;
    usage_rec *rows;
    int npools, n;
    os_err e = st_pools(x->c, x->a, agreement_id, &pools, &npools);
    if (!e) e = st_usage_changes(x->c, x->a, agreement_id, &rows, &n);
    if (e) return e;
    user_rec me;
    /* No such person (a system actor): English. A store error is an error, not English. */
    e = st_user_by_id(x->c, x->a, x->actor_id, &me);
    if (e && e != OS_ERR_NOT_FOUND) return e;
    const char *lang = e ? "en" : me.language;
    jw_obj(w);
    jw_key(w, "levels");
    jw_arr(w);
    for (int p = 0; p < npools; p++) {
        int first = 0, count = 0;
        for (int i = 0; i < n; i++)
            if (rows[i].level_id == pools[p].level_id) {
                if (!count) first = i;
                count++;
            }
        write_level(x, w, &pools[p], rows + first, count, lang);
    }
    jw_arr_end(w);
    jw_obj_end(w);
    return OS_OK;
}

os_err usage_csv(op_ctx *x, int64_t agreement_id, buf *out) {
    usage_rec *rows;
    int n;
    os_err e = st_usage_changes(x->c, x->a, agreement_id, &rows, &n);
    if (e) return e;
    buf_puts(out, "\xEF\xBB\xBFlevel,time,assigned,purchased\r\n");
    /* Level codes and ISO times never need quoting. */
    for (int i = 0; i < n; i++)
        buf_printf(out, "%s,%s,%lld,%lld\r\n", rows[i].level_code, text_iso_time(x->a, rows[i].at), (long long)rows[i].assigned,
                   (long long)rows[i].purchased);
    return out->overflow ? OS_ERR_TOO_LARGE : OS_OK;
}
