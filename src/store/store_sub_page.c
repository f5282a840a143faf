/* store_sub_page.c — the subscribers list: one keyset page of an agreement's subscribers,
 * filtered (the filter box's words through the terms index, level, country, downloads)
 * and sorted by any sortable column, and how many match in all (exact where it is kept
 * counted, else bounded); the cursor's text for a row. Contract in store.h (subscriptions:
 * the list); the terms it reads are written by store_sub_rows.c. SQL is assembled at run
 * time only from fixed fragments and the column table (store_sub.h): every value bound. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/buf.h"
#include "core/search.h"
#include "store.h"
#include "store_sub.h"
#include "store_util.h"

/* The columns as the list orders by them, from SUB_COLUMNS: the SQL, and whether a number
 * (a cursor's key is then cast, and must be a whole number). */
typedef struct sub_col_def {
    const char *sql;
    bool integer;
} sub_col_def;
#define SUB_COL_DEF_(col, sql, field, kind) [SUB_COL_##col] = {sql, SUB_COL_INTEGER_##kind},
static const sub_col_def sub_cols[SUB_COL_COUNT] = {SUB_COLUMNS(SUB_COL_DEF_, SUB_COL_DEF_)};

/* The sortable columns; a compound select orders by the column's position (sub_col + 1). */
static const sub_col sort_cols[SUB_SORT_COUNT] = {
    [SUB_SORT_NAME] = SUB_COL_NAME,
    [SUB_SORT_EMAIL] = SUB_COL_SIGN_IN_EMAIL,
    [SUB_SORT_LEVEL] = SUB_COL_LEVEL_ID,   /* levels are created in display order */
    [SUB_SORT_ASSIGNED] = SUB_COL_ASSIGNED_AT,
    [SUB_SORT_EXPIRES] = SUB_COL_EXPIRES_ON,
    [SUB_SORT_REFERENCE] = SUB_COL_REFERENCE,
    [SUB_SORT_COUNTRY] = SUB_COL_COUNTRY,
    [SUB_SORT_LANGUAGE] = SUB_COL_LANGUAGE,
    [SUB_SORT_DOWNLOADS] = SUB_COL_DOWNLOADS,
};

bool st_sub_sort_key_valid(sub_sort sort, const char *key) {
    if ((int)sort < 0 || sort >= SUB_SORT_COUNT) return false;
    if (!sub_cols[sort_cols[sort]].integer) return true;
    char *end;
    errno = 0;
    (void)strtoll(key, &end, 10);
    return *key && !*end && !errno;
}

/* Statement text and its parameters, numbered in the order they are added. */
#define QB_ARGS 200
typedef struct qbuild {
    buf sql;
    db_val args[QB_ARGS];
    int n;
} qbuild;

static int qb_arg(qbuild *b, db_val v) {
    if (b->n == QB_ARGS) { b->sql.overflow = true; return 1; }
    b->args[b->n++] = v;
    return b->n;
}

/* The filter box's words, folded like the stored terms, each with the distinct stored
 * terms it starts (when there are few). The longest word with few terms ("driver") picks
 * the candidates through sub_terms; the others are checked on each candidate. */
#define SUB_TERMS_MERGE 16
typedef struct words {
    char mem[SEARCH_TERMS_MAX];
    int n, driver;                                  /* driver -1: none has few terms */
    struct {
        const char *w;
        int k;                                      /* terms found; SUB_TERMS_MERGE + 1: many */
        const char *terms[SUB_TERMS_MERGE + 1];
    } v[SUB_QUERY_WORDS];
} words;

/* Up to SUB_TERMS_MERGE + 1 distinct stored terms starting with word w. */
static os_err terms_starting(store_conn *c, arena *a, int64_t agreement_id, const char *w, const char **terms,
                             int *k) {
    /* The prefix's range ends at the word followed by U+10FFFF, the highest code point:
     * valid UTF-8 (which PostgreSQL requires of text) above every term starting with w. */
    const char *hi = arena_printf(a, "%s\xf4\x8f\xbf\xbf", w);
    *k = 0;
    while (*k <= SUB_TERMS_MERGE) {
        const char **one;
        int n;
        /* Each step seeks just past the previous term: one index probe per distinct term. */
        os_err e = st_list(c, a,
                           *k ? "SELECT term FROM sub_terms WHERE agreement_id = ?1 AND term > ?2 AND term < ?3"
                                " ORDER BY term LIMIT 1"
                              : "SELECT term FROM sub_terms WHERE agreement_id = ?1 AND term >= ?2 AND term < ?3"
                                " ORDER BY term LIMIT 1",
                           DB_ARGS(DV_INT(agreement_id), DV_TEXT(*k ? terms[*k - 1] : w), DV_TEXT(hi)),
                           sizeof(char *), st_fill_text, (void **)&one, &n);
        if (e) return e;
        if (!n) break;
        terms[(*k)++] = one[0];
    }
    return OS_OK;
}

/* OS_ERR_INVALID: too many words. *none: some word starts no stored term (nothing matches). */
static os_err parse_words(store_conn *c, arena *a, const sub_query *q, words *w, bool *none) {
    w->n = 0;
    w->driver = -1;
    *none = false;
    if (!q->q) return OS_OK;
    const char *texts[] = {q->q};
    if (!search_terms(texts, 1, w->mem, sizeof w->mem)) return OS_ERR_INTERNAL;
    size_t pos = 0, len;
    const char *t;
    while (search_next(w->mem, &pos, &t, &len)) {
        if (w->n == SUB_QUERY_WORDS) return OS_ERR_INVALID;
        w->v[w->n++].w = t;
    }
    for (char *p = w->mem; *p; p++)   /* each word its own string */
        if (*p == ' ') *p = 0;
    size_t best = 0;
    for (int i = 0; i < w->n; i++) {
        os_err e = terms_starting(c, a, q->agreement_id, w->v[i].w, w->v[i].terms, &w->v[i].k);
        if (e) return e;
        if (w->v[i].k == 0) *none = true;
        if (w->v[i].k <= SUB_TERMS_MERGE && strlen(w->v[i].w) > best) {
            best = strlen(w->v[i].w);
            w->driver = i;
        }
    }
    return OS_OK;
}

static void add_term_list(qbuild *b, const char *col, const char *const *terms, int k) {
    buf_printf(&b->sql, " AND %s IN (", col);
    for (int j = 0; j < k; j++) buf_printf(&b->sql, "%s?%d", j ? ", " : "", qb_arg(b, DV_TEXT(terms[j])));
    buf_puts(&b->sql, ")");
}

/* Level, country, downloads and the words other than the driver. A word with few terms is
 * checked in sub_terms beside the candidate `t` (index only); otherwise on the row `s`. */
static void add_filters(qbuild *b, const sub_query *q, const words *w, bool beside_t, int ag) {
    if (q->level) buf_printf(&b->sql, " AND l.code = ?%d", qb_arg(b, DV_TEXT(q->level)));
    if (q->country) buf_printf(&b->sql, " AND s.country = ?%d", qb_arg(b, DV_TEXT(q->country)));
    if (q->downloads >= 0) buf_printf(&b->sql, " AND s.downloads = ?%d", qb_arg(b, DV_INT(q->downloads)));
    for (int i = 0; i < w->n; i++) {
        if (i == w->driver) continue;
        if (beside_t && w->v[i].k <= SUB_TERMS_MERGE) {
            buf_printf(&b->sql, " AND EXISTS (SELECT 1 FROM sub_terms u WHERE u.agreement_id = ?%d", ag);
            add_term_list(b, "u.term", w->v[i].terms, w->v[i].k);
            buf_puts(&b->sql, " AND u.name = t.name AND u.sub_id = t.sub_id)");
        } else {
            buf_printf(&b->sql, " AND instr(s.search, ' ' || ?%d) > 0", qb_arg(b, DV_TEXT(w->v[i].w)));
        }
    }
}

/* Whether add_filters needs the row `s` beside a candidate `t`. */
static bool filters_need_row(const sub_query *q, const words *w) {
    if (q->level || q->country || q->downloads >= 0) return true;
    for (int i = 0; i < w->n; i++)
        if (i != w->driver && w->v[i].k > SUB_TERMS_MERGE) return true;
    return false;
}

/* Rows after the cursor in the order (key, id), then that order and the page size. The
 * cursor is a row value, (key, id) > (…, …): the planner seeks straight to it in the sort
 * column's index. Spelled "key > k OR (key = k AND id > i)" it walked the index from the
 * agreement's first row instead: 80 ms for a page 900,000 rows in, 0.03 ms this way. */
static void add_page(qbuild *b, const sub_query *q, const char *key, const char *id, bool integer) {
    const char *dir = q->desc ? "DESC" : "ASC";
    if (q->after_id) {
        int k = qb_arg(b, DV_TEXT(q->after_key)), i = qb_arg(b, DV_INT(q->after_id));
        char kx[32];
        snprintf(kx, sizeof kx, integer ? "CAST(?%d AS BIGINT)" : "?%d", k);
        buf_printf(&b->sql, " AND (%s, %s) %s (%s, ?%d)", key, id, q->desc ? "<" : ">", kx, i);
    }
    buf_printf(&b->sql, " ORDER BY %s %s, %s %s LIMIT ?%d", key, dir, id, dir, qb_arg(b, DV_INT(q->limit)));
}

#define SUB_ROWS " FROM subscriptions s JOIN levels l ON l.id = s.level_id WHERE s.agreement_id = ?%d"
/* Candidates from sub_terms first, then their rows: the planner must not start elsewhere. */
#define TERM_ROWS " FROM sub_terms t CROSS JOIN subscriptions s CROSS JOIN levels l" \
                  " WHERE s.id = t.sub_id AND l.id = s.level_id AND t.agreement_id = ?%d"

/* The page. Three plans, chosen so that it costs about a page whatever the agreement's
 * size: no words, the sort column's index; a driver word, one ordered run of sub_terms
 * per term it starts, merged (for the default order by name each run comes out of the
 * index sorted); words that each start many terms, the sort column's index again, where
 * such common prefixes soon fill the page. */
static os_err page(arena *a, const sub_query *q, const words *w, qbuild *b) {
    sub_sort sort = q->sort < SUB_SORT_COUNT ? q->sort : SUB_SORT_NAME;
    sub_col col = sort_cols[sort];
    const sub_col_def *key = &sub_cols[col];
    b->n = 0;
    buf_init(&b->sql, a, 256 * 1024);
    int ag = qb_arg(b, DV_INT(q->agreement_id));
    if (w->driver < 0) {
        buf_printf(&b->sql, "SELECT " SUB_COLS SUB_ROWS, ag);
        add_filters(b, q, w, false, ag);
        add_page(b, q, key->sql, "s.id", key->integer);
    } else {
        bool by_name = sort == SUB_SORT_NAME;
        int k = w->v[w->driver].k;
        for (int i = 0; i < k; i++) {
            if (k > 1) buf_puts(&b->sql, i ? " UNION SELECT * FROM (" : "SELECT * FROM (");
            buf_printf(&b->sql, "SELECT " SUB_COLS TERM_ROWS, ag);
            buf_printf(&b->sql, " AND t.term = ?%d", qb_arg(b, DV_TEXT(w->v[w->driver].terms[i])));
            add_filters(b, q, w, true, ag);
            add_page(b, q, by_name ? "t.name" : key->sql, by_name ? "t.sub_id" : "s.id", key->integer);
            if (k > 1) buf_printf(&b->sql, ") AS p%d", i);
        }
        if (k > 1) {
            const char *dir = q->desc ? "DESC" : "ASC";
            buf_printf(&b->sql, " ORDER BY %d %s, %d %s LIMIT ?%d", col + 1, dir, SUB_COL_ID + 1, dir,
                       qb_arg(b, DV_INT(q->limit)));
        }
    }
    return b->sql.overflow ? OS_ERR_INTERNAL : OS_OK;
}

/* How many match: the statement (its one row, one column is the total) and whether that
 * total is counted only up to SUB_COUNT_CAP + 1 (*bounded). */
static os_err count(arena *a, const sub_query *q, const words *w, qbuild *b, bool *bounded) {
    b->n = 0;
    buf_init(&b->sql, a, 64 * 1024);
    *bounded = false;
    if (!w->n && !q->country && q->downloads < 0) {   /* the pools count every seat taken */
        buf_puts(&b->sql, "SELECT COALESCE(SUM(p.assigned), 0) FROM pools p JOIN levels l ON l.id = p.level_id"
                          " WHERE p.agreement_id = ?1 AND (CAST(?2 AS TEXT) IS NULL OR l.code = ?2)");
        qb_arg(b, DV_INT(q->agreement_id));
        qb_arg(b, DV_TEXT(q->level));
        return OS_OK;
    }
    if (w->n == 1 && w->v[0].k == 1 && !filters_need_row(q, w)) {   /* one word, one term: kept counted */
        buf_puts(&b->sql, "SELECT COALESCE(SUM(n), 0) FROM sub_term_counts WHERE agreement_id = ?1 AND term = ?2");
        qb_arg(b, DV_INT(q->agreement_id));
        qb_arg(b, DV_TEXT(w->v[0].terms[0]));
        return OS_OK;
    }
    *bounded = true;
    int ag = qb_arg(b, DV_INT(q->agreement_id));
    if (w->driver >= 0) {
        /* One term: each subscription holds it once, so no duplicates to remove. */
        int k = w->v[w->driver].k;
        buf_printf(&b->sql, "SELECT COUNT(*) FROM (SELECT %s t.sub_id", k > 1 ? "DISTINCT" : "");
        if (filters_need_row(q, w)) buf_printf(&b->sql, TERM_ROWS, ag);
        else buf_printf(&b->sql, " FROM sub_terms t WHERE t.agreement_id = ?%d", ag);
        add_term_list(b, "t.term", w->v[w->driver].terms, k);
        add_filters(b, q, w, true, ag);
    } else {
        buf_printf(&b->sql, "SELECT COUNT(*) FROM (SELECT s.id" SUB_ROWS, ag);
        add_filters(b, q, w, false, ag);
    }
    buf_printf(&b->sql, " LIMIT %d) AS c", SUB_COUNT_CAP + 1);
    return b->sql.overflow ? OS_ERR_INTERNAL : OS_OK;
}

static int total_row(void *ud, db_row *r) {
    *(int64_t *)ud = db_int(r, 0);
    return 1;
}

os_err st_sub_page(store_conn *c, arena *a, const sub_query *q, sub_rec **rows, int *n, int64_t *total,
                   bool *exact) {
    words *w = arena_alloc(a, sizeof *w);
    bool none;
    os_err e = parse_words(c, a, q, w, &none);
    if (e) return e;
    if (none) {
        *rows = arena_alloc(a, sizeof(sub_rec));
        *n = 0;
        *total = 0;
        *exact = true;
        return OS_OK;
    }
    qbuild *pb = arena_alloc(a, sizeof *pb), *cb = arena_alloc(a, sizeof *cb);
    bool bounded;
    if ((e = page(a, q, w, pb)) || (e = count(a, q, w, cb, &bounded))) return e;
    /* Inside a write transaction the terms' counts it moved are still held: written first,
     * so a total read from them counts this transaction's rows too. */
    if ((e = st_term_counts_flush(c))) return e;
    /* The page and its total in one exchange: on PostgreSQL one round trip for both. */
    rows_ud u = {a, sizeof(sub_rec), fill_sub, NULL, 0, 0};
    *total = 0;
    const db_stmt both[] = {{pb->sql.data, pb->args, pb->n, st_collect, &u},
                            {cb->sql.data, cb->args, cb->n, total_row, total}};
    e = db_batch(c, both, 2);
    *rows = u.rows ? (sub_rec *)(void *)u.rows : arena_alloc(a, sizeof(sub_rec));
    *n = u.n;
    *exact = true;
    if (!e && bounded && *total > SUB_COUNT_CAP) {
        *total = SUB_COUNT_CAP;
        *exact = false;
    }
    return e;
}

#define SUB_COL_KEY_INT(a, v) arena_printf(a, "%lld", (long long)(v))
#define SUB_COL_KEY_TEXT(a, v) (v)
#define SUB_COL_KEY_(col, sql, field, kind) \
    case SUB_COL_##col: return SUB_COL_KEY_##kind(a, r->field);

const char *st_sub_sort_key(arena *a, const sub_rec *r, sub_sort sort) {
    switch (sort_cols[(int)sort >= 0 && sort < SUB_SORT_COUNT ? sort : SUB_SORT_NAME]) {
    SUB_COLUMNS(SUB_COL_KEY_, SUB_COL_KEY_)
    default: return r->name;
    }
}
