/* store_subscriptions.c — subscriber assignments, pool seats, freed seats and the usage
 * series. Contract in store.h. SQL is assembled at run time for the subscribers list (only
 * from the fixed column table below) and for multi-row writes (repeated fixed fragments):
 * every value bound. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/buf.h"
#include "core/limits.h"
#include "core/search.h"
#include "store.h"
#include "store_util.h"

#define SUB_COLS "s.id, s.uuid, s.agreement_id, s.level_id, l.code, s.name, s.sign_in_email, s.notification_email," \
                 " s.country, s.language, s.downloads, s.reference, s.assigned_at, s.expires_on, s.version"
#define SUB_FROM " FROM subscriptions s JOIN levels l ON l.id = s.level_id"

static void fill_sub(arena *a, db_row *r, void *dst) {
    sub_rec *x = dst;
    x->id = db_int(r, 0);
    x->uuid = st_dup(a, r, 1);
    x->agreement_id = db_int(r, 2);
    x->level_id = db_int(r, 3);
    x->level_code = st_dup(a, r, 4);
    x->name = st_dup(a, r, 5);
    x->sign_in_email = st_dup(a, r, 6);
    x->notification_email = st_dup(a, r, 7);
    x->country = st_dup(a, r, 8);
    x->language = st_dup(a, r, 9);
    x->downloads = db_int(r, 10);
    x->reference = st_dup(a, r, 11);
    x->assigned_at = db_int(r, 12);
    x->expires_on = st_dup(a, r, 13);
    x->version = db_int(r, 14);
}

/* ---- search terms ----
 * Every write of a subscription rewrites its terms in the same transaction: the row's
 * `search` column and one sub_terms entry per term (ordered by name for the list). */

typedef struct term_row {
    int64_t agreement_id;
    char name[LIMIT_FIELD_BYTES * 4];   /* names are at most 100 characters */
    char search[SEARCH_TERMS_MAX];
    bool found, indexed;
} term_row;

static int read_term_row(void *ud, db_row *r) {
    term_row *t = ud;
    t->found = true;
    t->agreement_id = db_int(r, 0);
    snprintf(t->name, sizeof t->name, "%s", db_text(r, 1) ? db_text(r, 1) : "");
    t->indexed = !db_is_null(r, 2);
    snprintf(t->search, sizeof t->search, "%s", t->indexed ? db_text(r, 2) : "");
    return 1;
}

static os_err terms_of(store_conn *c, int64_t id, term_row *t) {
    t->found = false;
    os_err e = db_exec(c, "SELECT agreement_id, name, search FROM subscriptions WHERE id = ?1", DB_ARGS(DV_INT(id)),
                       read_term_row, t);
    return e ? e : t->found ? OS_OK : OS_ERR_NOT_FOUND;
}

static void fold(const char *name, const char *email, const char *reference, char *out) {
    const char *texts[] = {name, email, reference};
    search_terms(texts, 3, out, SEARCH_TERMS_MAX);
}

/* Adds (add) or removes the sub_terms entries of one subscription, and its share of the
 * terms' counts: two statements for up to TERMS_PER_STATEMENT terms (a bulk add writes
 * hundreds of thousands of rows; one statement per term was most of its time). */
#define TERMS_PER_STATEMENT 32
static os_err terms_write(store_conn *c, bool add, int64_t agreement_id, int64_t sub_id, const char *name,
                          const char *terms) {
    char mem[SEARCH_TERMS_MAX];
    snprintf(mem, sizeof mem, "%s", terms);
    size_t pos = 0, len;
    const char *t;
    os_err e = OS_OK;
    bool more = true;
    while (!e && more) {
        db_val args[3 + TERMS_PER_STATEMENT] = {DV_INT(agreement_id), DV_TEXT(name), DV_INT(sub_id)};
        int n = 0;
        while (n < TERMS_PER_STATEMENT && (more = search_next(terms, &pos, &t, &len))) {
            char *word = mem + (t - terms);   /* the same word in the copy, cut off there */
            word[len] = 0;
            args[3 + n++] = DV_TEXT(word);
        }
        if (!n) break;
        char rows_sql[4096], counts_sql[4096];
        buf rows, counts;
        buf_init_fixed(&rows, rows_sql, sizeof rows_sql);
        buf_init_fixed(&counts, counts_sql, sizeof counts_sql);
        if (add) {
            buf_puts(&rows, "INSERT INTO sub_terms (agreement_id, term, name, sub_id) VALUES ");
            buf_puts(&counts, "INSERT INTO sub_term_counts (agreement_id, term, n) VALUES ");
            for (int i = 0; i < n; i++) {
                buf_printf(&rows, "%s(?1, ?%d, ?2, ?3)", i ? ", " : "", 4 + i);
                buf_printf(&counts, "%s(?1, ?%d, 1)", i ? ", " : "", 2 + i);
            }
            buf_puts(&counts, " ON CONFLICT (agreement_id, term) DO UPDATE SET n = sub_term_counts.n + 1");
        } else {
            buf_puts(&rows, "DELETE FROM sub_terms WHERE agreement_id = ?1 AND name = ?2 AND sub_id = ?3 AND term IN (");
            buf_puts(&counts, "UPDATE sub_term_counts SET n = n - 1 WHERE agreement_id = ?1 AND term IN (");
            for (int i = 0; i < n; i++) {
                buf_printf(&rows, "%s?%d", i ? ", " : "", 4 + i);
                buf_printf(&counts, "%s?%d", i ? ", " : "", 2 + i);
            }
            buf_puts(&rows, ")");
            buf_puts(&counts, ")");
        }
        if (rows.overflow || counts.overflow) return OS_ERR_INTERNAL;
        e = db_exec(c, rows.data, args, 3 + n, NULL, NULL);
        /* The counts' statement binds the agreement and the terms only: a parameter the
         * text does not use has no type PostgreSQL could infer. */
        db_val cargs[1 + TERMS_PER_STATEMENT];
        cargs[0] = args[0];
        memcpy(cargs + 1, args + 3, sizeof *args * (size_t)n);
        if (!e) e = db_exec(c, counts.data, cargs, 1 + n, NULL, NULL);
    }
    return e;
}

os_err st_sub_insert(store_conn *c, const sub_rec *in, int64_t now, int64_t *id) {
    char mem[SEARCH_TERMS_MAX], *terms = mem;
    fold(in->name, in->sign_in_email, in->reference, terms);
    os_err e = db_scalar_int(c,
                             "INSERT INTO subscriptions (uuid, agreement_id, level_id, name, sign_in_email,"
                             " notification_email, country, language, downloads, reference, assigned_at, expires_on,"
                             " updated_at, search) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?11, ?13)"
                             " ON CONFLICT (agreement_id, level_id, sign_in_email) DO NOTHING RETURNING id",
                             DB_ARGS(DV_TEXT(in->uuid), DV_INT(in->agreement_id), DV_INT(in->level_id),
                                     DV_TEXT(in->name), DV_TEXT(in->sign_in_email), DV_TEXT(in->notification_email),
                                     DV_TEXT(in->country), DV_TEXT(in->language), DV_INT(in->downloads),
                                     DV_TEXT(in->reference ? in->reference : ""), DV_INT(now), DV_TEXT(in->expires_on),
                                     DV_TEXT(terms)),
                             id);
    if (e == OS_ERR_NOT_FOUND) return OS_ERR_CONFLICT;   /* refused without failing the transaction */
    if (e) return e;
    return terms_write(c, true, in->agreement_id, *id, in->name, terms);
}

/* ---- many rows at once (a bulk add) ----
 * Multi-row statements whose sizes are powers of two (st_batch): a few texts to prepare
 * whatever the count. A row is its subscription and about six sub_terms entries; the
 * terms' counts are summed first, so a term every row shares ("contoso") is one upsert per
 * call, not one per row. */
#define SUBS_PER_STATEMENT 64       /* 11 parameters each, and 2 for all */
#define ENTRIES_PER_STATEMENT 128   /* sub_terms entries (3 parameters), counts (2), and 1 for all */
#define VALUES_PER_QUERY 64         /* addresses in one IN (…) */
#define INSERT_ARGS (2 + 11 * SUBS_PER_STATEMENT)
_Static_assert(1 + 3 * ENTRIES_PER_STATEMENT <= INSERT_ARGS, "the rows' statement binds the most");

/* A multi-row statement's text and arguments, in memory sized for the largest and reused by
 * each: a chunk's memory does not grow with its statements. */
typedef struct multi {
    buf sql;
    db_val *args;
} multi;

static void multi_init(multi *m, arena *a, int max_args) {
    buf_init(&m->sql, a, 256 * 1024);
    m->args = arena_alloc(a, sizeof *m->args * (size_t)max_args);
}

/* The text of `rows` tuples (st_rows_sql) in place of the previous one; NULL if too long. */
static const char *multi_sql(multi *m, const char *head, const char *tuple, int first, int rows, const char *tail) {
    buf_reset(&m->sql);
    return st_rows_sql(&m->sql, head, tuple, first, rows, tail) ? m->sql.data : NULL;
}

typedef struct returned_ids {
    sub_rec *rows;
    int n, next, found;
} returned_ids;

/* RETURNING promises no order: each id goes to the row of its uuid (the row after the one
 * matched last is tried first, as SQLite returns them in order). */
static int read_returned_id(void *ud, db_row *r) {
    returned_ids *u = ud;
    const char *uuid = db_text(r, 1);
    int k = u->next < u->n && !strcmp(u->rows[u->next].uuid, uuid) ? u->next : -1;
    for (int i = 0; k < 0 && i < u->n; i++)
        if (!strcmp(u->rows[i].uuid, uuid)) k = i;
    if (k < 0) return 0;
    u->rows[k].id = db_int(r, 0);
    u->next = k + 1;
    u->found++;
    return 0;
}

/* rows[0..n) (n ≤ SUBS_PER_STATEMENT) with their terms, in one statement. */
static os_err insert_subs(store_conn *c, multi *m, sub_rec *rows, const char *const *terms, int n, int64_t now) {
    const char *sql = multi_sql(m,
                                "INSERT INTO subscriptions (uuid, agreement_id, level_id, name, sign_in_email,"
                                " notification_email, country, language, downloads, reference, assigned_at,"
                                " expires_on, updated_at, search) VALUES ",
                                "(#, ?1, #, #, #, #, #, #, #, #, ?2, #, ?2, #)", 3, n, " RETURNING id, uuid");
    if (!sql) return OS_ERR_INTERNAL;
    db_val *args = m->args;
    int k = 0;
    args[k++] = DV_INT(rows[0].agreement_id);
    args[k++] = DV_INT(now);
    for (int i = 0; i < n; i++) {
        const sub_rec *s = &rows[i];
        args[k++] = DV_TEXT(s->uuid);
        args[k++] = DV_INT(s->level_id);
        args[k++] = DV_TEXT(s->name);
        args[k++] = DV_TEXT(s->sign_in_email);
        args[k++] = DV_TEXT(s->notification_email);
        args[k++] = DV_TEXT(s->country);
        args[k++] = DV_TEXT(s->language);
        args[k++] = DV_INT(s->downloads);
        args[k++] = DV_TEXT(s->reference ? s->reference : "");
        args[k++] = DV_TEXT(s->expires_on);
        args[k++] = DV_TEXT(terms[i]);
    }
    returned_ids u = {rows, n, 0, 0};
    os_err e = db_exec(c, sql, args, k, read_returned_id, &u);
    return e ? e : u.found == n ? OS_OK : OS_ERR_INTERNAL;
}

/* One sub_terms entry: a term of a row. */
typedef struct term_entry {
    const char *term, *name;
    int64_t sub_id;
} term_entry;

/* The entries of rows[0..n) whose terms strings are terms[0..n): each term cut out of a copy. */
static term_entry *entries_of(arena *a, const sub_rec *rows, const char *const *terms, int n, int *count) {
    int total = 0;
    for (int i = 0; i < n; i++)
        for (const char *p = terms[i]; *p; p++) total += *p == ' ';   /* each term follows one space */
    term_entry *out = arena_alloc(a, sizeof *out * (size_t)(total ? total : 1));
    int k = 0;
    for (int i = 0; i < n; i++) {
        char *copy = arena_strdup(a, terms[i]);
        size_t pos = 0, len;
        const char *t;
        while (k < total && search_next(terms[i], &pos, &t, &len)) {
            char *word = copy + (t - terms[i]);
            word[len] = 0;
            out[k++] = (term_entry){word, rows[i].name, rows[i].id};
        }
    }
    *count = k;
    return out;
}

static os_err insert_entries(store_conn *c, multi *m, int64_t agreement_id, const term_entry *e, int n) {
    os_err err = OS_OK;
    for (int done = 0; !err && done < n;) {
        int k = st_batch(n - done, ENTRIES_PER_STATEMENT);
        const char *sql = multi_sql(m, "INSERT INTO sub_terms (agreement_id, term, name, sub_id) VALUES ",
                                    "(?1, #, #, #)", 2, k, "");
        if (!sql) return OS_ERR_INTERNAL;
        db_val *args = m->args;
        args[0] = DV_INT(agreement_id);
        for (int i = 0; i < k; i++) {
            args[1 + 3 * i] = DV_TEXT(e[done + i].term);
            args[2 + 3 * i] = DV_TEXT(e[done + i].name);
            args[3 + 3 * i] = DV_INT(e[done + i].sub_id);
        }
        err = db_exec(c, sql, args, 1 + 3 * k, NULL, NULL);
        done += k;
    }
    return err;
}

typedef struct term_count {
    const char *term;
    int64_t n;
} term_count;

/* The entries' terms with how many entries hold each: an arena hash table, then its filled
 * slots in front. */
static term_count *count_terms(arena *a, const term_entry *e, int n, int *distinct) {
    size_t cap = 16;
    while (cap < (size_t)n * 2) cap *= 2;
    term_count *slots = arena_alloc(a, sizeof *slots * cap);
    for (int i = 0; i < n; i++) {
        size_t h = 1469598103934665603u;
        for (const char *p = e[i].term; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211u;
        size_t k = h & (cap - 1);
        while (slots[k].term && strcmp(slots[k].term, e[i].term)) k = (k + 1) & (cap - 1);
        slots[k].term = e[i].term;
        slots[k].n++;
    }
    int m = 0;
    for (size_t k = 0; k < cap; k++)
        if (slots[k].term) slots[m++] = slots[k];
    *distinct = m;
    return slots;
}

static os_err add_counts(store_conn *c, multi *m, int64_t agreement_id, const term_count *t, int n) {
    os_err err = OS_OK;
    for (int done = 0; !err && done < n;) {
        int k = st_batch(n - done, ENTRIES_PER_STATEMENT);
        const char *sql = multi_sql(m, "INSERT INTO sub_term_counts (agreement_id, term, n) VALUES ", "(?1, #, #)", 2, k,
                                    " ON CONFLICT (agreement_id, term) DO UPDATE SET n = sub_term_counts.n + excluded.n");
        if (!sql) return OS_ERR_INTERNAL;
        db_val *args = m->args;
        args[0] = DV_INT(agreement_id);
        for (int i = 0; i < k; i++) {
            args[1 + 2 * i] = DV_TEXT(t[done + i].term);
            args[2 + 2 * i] = DV_INT(t[done + i].n);
        }
        err = db_exec(c, sql, args, 1 + 2 * k, NULL, NULL);
        done += k;
    }
    return err;
}

os_err st_sub_insert_many(store_conn *c, arena *a, sub_rec *rows, int n, int64_t now) {
    if (n <= 0) return OS_OK;
    const char **terms = arena_alloc(a, sizeof *terms * (size_t)n);
    for (int i = 0; i < n; i++) {
        char mem[SEARCH_TERMS_MAX];
        fold(rows[i].name, rows[i].sign_in_email, rows[i].reference, mem);
        terms[i] = arena_strdup(a, mem);
    }
    multi m;
    multi_init(&m, a, INSERT_ARGS);
    os_err e = OS_OK;
    for (int done = 0; !e && done < n;) {
        int k = st_batch(n - done, SUBS_PER_STATEMENT);
        e = insert_subs(c, &m, rows + done, terms + done, k, now);
        done += k;
    }
    if (e) return e;
    int nentries, nterms;
    term_entry *entries = entries_of(a, rows, terms, n, &nentries);
    term_count *counts = count_terms(a, entries, nentries, &nterms);
    e = insert_entries(c, &m, rows[0].agreement_id, entries, nentries);
    return e ? e : add_counts(c, &m, rows[0].agreement_id, counts, nterms);
}

/* Runs `head` — a query ending "IN (" whose first nfixed parameters are fixed — over
 * values[0..n) in batches, the rows collected in u. */
static os_err query_in(store_conn *c, arena *a, const char *head, const db_val *fixed, int nfixed,
                       const char *const *values, int n, rows_ud *u) {
    multi m;
    multi_init(&m, a, nfixed + VALUES_PER_QUERY);
    db_val *args = m.args;
    memcpy(args, fixed, sizeof *args * (size_t)nfixed);
    os_err e = OS_OK;
    for (int done = 0; !e && done < n;) {
        int k = st_batch(n - done, VALUES_PER_QUERY);
        const char *sql = multi_sql(&m, head, "#", nfixed + 1, k, ")");
        if (!sql) return OS_ERR_INTERNAL;
        for (int i = 0; i < k; i++) args[nfixed + i] = DV_TEXT(values[done + i]);
        e = db_exec(c, sql, args, nfixed + k, st_collect, u);
        done += k;
    }
    return e;
}

static void fill_held(arena *a, db_row *r, void *dst) {
    sub_held_rec *x = dst;
    x->sign_in_email = st_dup(a, r, 0);
    x->level_id = db_int(r, 1);
}

os_err st_sub_held(store_conn *c, arena *a, int64_t agreement_id, const char *const *emails, int n,
                   sub_held_rec **rows, int *nrows) {
    rows_ud u = {a, sizeof(sub_held_rec), fill_held, NULL, 0, 0};
    os_err e = query_in(c, a, "SELECT sign_in_email, level_id FROM subscriptions WHERE agreement_id = ?1"
                              " AND sign_in_email IN (",
                        DB_ARGS(DV_INT(agreement_id)), emails, n, &u);
    *rows = u.rows ? (void *)u.rows : arena_alloc(a, sizeof(sub_held_rec));
    *nrows = u.n;
    return e;
}

os_err st_sub_get(store_conn *c, arena *a, int64_t agreement_id, const char *uuid, sub_rec *out) {
    sub_rec *rows;
    int n;
    os_err e = st_list(c, a, "SELECT " SUB_COLS SUB_FROM " WHERE s.agreement_id = ?1 AND s.uuid = ?2",
                       DB_ARGS(DV_INT(agreement_id), DV_TEXT(uuid)), sizeof(sub_rec), fill_sub, (void **)&rows, &n);
    if (e) return e;
    if (!n) return OS_ERR_NOT_FOUND;
    *out = rows[0];
    return OS_OK;
}

os_err st_sub_by_email(store_conn *c, arena *a, int64_t agreement_id, const char *email, sub_rec **rows, int *n) {
    return st_list(c, a, "SELECT " SUB_COLS SUB_FROM " WHERE s.agreement_id = ?1 AND s.sign_in_email = ?2"
                         " ORDER BY l.sort, s.id",
                   DB_ARGS(DV_INT(agreement_id), DV_TEXT(email)), sizeof(sub_rec), fill_sub, (void **)rows, n);
}

os_err st_sub_update(store_conn *c, const sub_rec *in, int64_t expected_version, int64_t now) {
    term_row cur;
    os_err e = terms_of(c, in->id, &cur);
    if (e) return e;
    char mem[SEARCH_TERMS_MAX], *terms = mem;
    fold(in->name, in->sign_in_email, in->reference, terms);
    /* A duplicate address is found before writing: PostgreSQL would fail the whole
     * transaction on the unique index, and a bulk edit goes on after a refused row. */
    int64_t dup = 0;
    e = db_scalar_int(c,
                      "SELECT COUNT(*) FROM subscriptions o JOIN subscriptions s ON s.id = ?1"
                      " WHERE o.agreement_id = s.agreement_id AND o.level_id = s.level_id"
                      " AND o.sign_in_email = ?2 AND o.id <> ?1",
                      DB_ARGS(DV_INT(in->id), DV_TEXT(in->sign_in_email)), &dup);
    if (e) return e;
    if (dup) return OS_ERR_CONFLICT;
    int64_t changed = 0;
    e = db_exec_changes(c,
                        "UPDATE subscriptions SET name = ?3, sign_in_email = ?4, notification_email = ?5,"
                        " country = ?6, language = ?7, downloads = ?8, reference = ?9, version = version + 1,"
                        " updated_at = ?10, search = ?11 WHERE id = ?1 AND version = ?2",
                        DB_ARGS(DV_INT(in->id), DV_INT(expected_version), DV_TEXT(in->name),
                                DV_TEXT(in->sign_in_email), DV_TEXT(in->notification_email), DV_TEXT(in->country),
                                DV_TEXT(in->language), DV_INT(in->downloads),
                                DV_TEXT(in->reference ? in->reference : ""), DV_INT(now), DV_TEXT(terms)),
                        &changed);
    if (e) return e;
    if (!changed) return OS_ERR_PRECONDITION;
    if (cur.indexed && !strcmp(cur.name, in->name) && !strcmp(cur.search, terms)) return OS_OK;
    e = terms_write(c, false, cur.agreement_id, in->id, cur.name, cur.search);
    return e ? e : terms_write(c, true, cur.agreement_id, in->id, in->name, terms);
}

os_err st_sub_delete(store_conn *c, int64_t id) {
    term_row cur;
    os_err e = terms_of(c, id, &cur);
    if (e) return e;
    e = db_exec(c, "DELETE FROM subscriptions WHERE id = ?1", DB_ARGS(DV_INT(id)), NULL, NULL);
    return e ? e : terms_write(c, false, cur.agreement_id, id, cur.name, cur.search);
}

typedef struct sort_col {
    const char *sql;
    int pos;        /* its place in SUB_COLS, for ORDER BY over a compound select */
    bool integer;
} sort_col;

static const sort_col sort_cols[SUB_SORT_COUNT] = {
    [SUB_SORT_NAME] = {"s.name", 6, false},
    [SUB_SORT_EMAIL] = {"s.sign_in_email", 7, false},
    [SUB_SORT_LEVEL] = {"s.level_id", 4, true},   /* levels are created in display order */
    [SUB_SORT_ASSIGNED] = {"s.assigned_at", 13, true},
    [SUB_SORT_EXPIRES] = {"s.expires_on", 14, false},
    [SUB_SORT_REFERENCE] = {"s.reference", 12, false},
    [SUB_SORT_COUNTRY] = {"s.country", 9, false},
    [SUB_SORT_LANGUAGE] = {"s.language", 10, false},
    [SUB_SORT_DOWNLOADS] = {"s.downloads", 11, true},
};

bool st_sub_sort_key_valid(sub_sort sort, const char *key) {
    if ((int)sort < 0 || sort >= SUB_SORT_COUNT) return false;
    if (!sort_cols[sort].integer) return true;
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
static os_err page(store_conn *c, arena *a, const sub_query *q, const words *w, sub_rec **rows, int *n) {
    const sort_col *col = &sort_cols[q->sort < SUB_SORT_COUNT ? q->sort : SUB_SORT_NAME];
    qbuild b = {.n = 0};
    buf_init(&b.sql, a, 256 * 1024);
    int ag = qb_arg(&b, DV_INT(q->agreement_id));
    if (w->driver < 0) {
        buf_printf(&b.sql, "SELECT " SUB_COLS SUB_ROWS, ag);
        add_filters(&b, q, w, false, ag);
        add_page(&b, q, col->sql, "s.id", col->integer);
    } else {
        bool by_name = col == &sort_cols[SUB_SORT_NAME];
        int k = w->v[w->driver].k;
        for (int i = 0; i < k; i++) {
            if (k > 1) buf_puts(&b.sql, i ? " UNION SELECT * FROM (" : "SELECT * FROM (");
            buf_printf(&b.sql, "SELECT " SUB_COLS TERM_ROWS, ag);
            buf_printf(&b.sql, " AND t.term = ?%d", qb_arg(&b, DV_TEXT(w->v[w->driver].terms[i])));
            add_filters(&b, q, w, true, ag);
            add_page(&b, q, by_name ? "t.name" : col->sql, by_name ? "t.sub_id" : "s.id", col->integer);
            if (k > 1) buf_printf(&b.sql, ") AS p%d", i);
        }
        if (k > 1) {
            const char *dir = q->desc ? "DESC" : "ASC";
            buf_printf(&b.sql, " ORDER BY %d %s, 1 %s LIMIT ?%d", col->pos, dir, dir, qb_arg(&b, DV_INT(q->limit)));
        }
    }
    if (b.sql.overflow) return OS_ERR_INTERNAL;
    return st_list(c, a, b.sql.data, b.args, b.n, sizeof(sub_rec), fill_sub, (void **)rows, n);
}

static os_err count(store_conn *c, arena *a, const sub_query *q, const words *w, int64_t *total, bool *exact) {
    *exact = true;
    if (!w->n && !q->country && q->downloads < 0)   /* the pools count every seat taken */
        return db_scalar_int(c,
                             "SELECT COALESCE(SUM(p.assigned), 0) FROM pools p JOIN levels l ON l.id = p.level_id"
                             " WHERE p.agreement_id = ?1 AND (CAST(?2 AS TEXT) IS NULL OR l.code = ?2)",
                             DB_ARGS(DV_INT(q->agreement_id), DV_TEXT(q->level)), total);
    if (w->n == 1 && w->v[0].k == 1 && !filters_need_row(q, w))   /* one word, one term: kept counted */
        return db_scalar_int(c, "SELECT COALESCE(SUM(n), 0) FROM sub_term_counts WHERE agreement_id = ?1 AND term = ?2",
                             DB_ARGS(DV_INT(q->agreement_id), DV_TEXT(w->v[0].terms[0])), total);
    qbuild b = {.n = 0};
    buf_init(&b.sql, a, 64 * 1024);
    int ag = qb_arg(&b, DV_INT(q->agreement_id));
    if (w->driver >= 0) {
        /* One term: each subscription holds it once, so no duplicates to remove. */
        int k = w->v[w->driver].k;
        buf_printf(&b.sql, "SELECT COUNT(*) FROM (SELECT %s t.sub_id", k > 1 ? "DISTINCT" : "");
        if (filters_need_row(q, w)) buf_printf(&b.sql, TERM_ROWS, ag);
        else buf_printf(&b.sql, " FROM sub_terms t WHERE t.agreement_id = ?%d", ag);
        add_term_list(&b, "t.term", w->v[w->driver].terms, k);
        add_filters(&b, q, w, true, ag);
    } else {
        buf_printf(&b.sql, "SELECT COUNT(*) FROM (SELECT s.id" SUB_ROWS, ag);
        add_filters(&b, q, w, false, ag);
    }
    buf_printf(&b.sql, " LIMIT %d) AS c", SUB_COUNT_CAP + 1);
    if (b.sql.overflow) return OS_ERR_INTERNAL;
    os_err e = db_scalar_int(c, b.sql.data, b.args, b.n, total);
    if (!e && *total > SUB_COUNT_CAP) {
        *total = SUB_COUNT_CAP;
        *exact = false;
    }
    return e;
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
    e = page(c, a, q, w, rows, n);
    return e ? e : count(c, a, q, w, total, exact);
}

const char *st_sub_sort_key(arena *a, const sub_rec *r, sub_sort sort) {
    switch (sort) {
    case SUB_SORT_EMAIL: return r->sign_in_email;
    case SUB_SORT_LEVEL: return arena_printf(a, "%lld", (long long)r->level_id);
    case SUB_SORT_ASSIGNED: return arena_printf(a, "%lld", (long long)r->assigned_at);
    case SUB_SORT_EXPIRES: return r->expires_on;
    case SUB_SORT_REFERENCE: return r->reference;
    case SUB_SORT_COUNTRY: return r->country;
    case SUB_SORT_LANGUAGE: return r->language;
    case SUB_SORT_DOWNLOADS: return arena_printf(a, "%lld", (long long)r->downloads);
    default: return r->name;
    }
}

static void fill_my(arena *a, db_row *r, void *dst) {
    my_sub_rec *x = dst;
    x->license_number = st_dup(a, r, 0);
    x->customer_name = st_dup(a, r, 1);
    x->level_code = st_dup(a, r, 2);
    x->name_en = st_dup(a, r, 3);
    x->name_fr = st_dup(a, r, 4);
    x->expires_on = st_dup(a, r, 5);
    x->downloads = db_int(r, 6) != 0;
    x->agreement_end = st_dup(a, r, 7);
    x->disabled = db_int(r, 8) != 0;
    x->agreement_id = db_int(r, 9);
}

os_err st_my_subscriptions(store_conn *c, arena *a, const char *email, my_sub_rec **rows, int *n) {
    return st_list(c, a,
                   "SELECT g.license_number, co.name, l.code, l.name_en, l.name_fr, s.expires_on, s.downloads,"
                   " g.end_date, g.disabled, g.id FROM subscriptions s JOIN agreements g ON g.id = s.agreement_id"
                   " JOIN organizations co ON co.id = g.customer_org_id JOIN levels l ON l.id = s.level_id"
                   " WHERE s.sign_in_email = ?1 ORDER BY co.name, l.sort LIMIT 500",
                   DB_ARGS(DV_TEXT(email)), sizeof(my_sub_rec), fill_my, (void **)rows, n);
}

typedef struct usage_ud {
    usage_change_fn fn;
    void *ud;
    int stopped;
} usage_ud;

static int usage_row(void *ud, db_row *r) {
    usage_ud *u = ud;
    usage_change ch = {db_int(r, 0), db_int(r, 1), db_int(r, 2)};
    u->stopped = u->fn(u->ud, &ch);
    return u->stopped;
}

os_err st_usage_each(store_conn *c, int64_t agreement_id, int64_t level_id, usage_change_fn fn, void *ud) {
    usage_ud u = {fn, ud, 0};
    os_err e = db_exec(c,
                       "SELECT at, assigned_after, purchased FROM usage_changes"
                       " WHERE agreement_id = ?1 AND level_id = ?2 ORDER BY at, id",
                       DB_ARGS(DV_INT(agreement_id), DV_INT(level_id)), usage_row, &u);
    return e ? e : (os_err)u.stopped;
}

/* ---- seats ---- */

os_err st_pool_take(store_conn *c, int64_t agreement_id, int64_t level_id, bool *taken, int64_t *left) {
    int64_t changed = 0;
    os_err e = db_exec_changes(c,
                               "UPDATE pools SET assigned = assigned + 1"
                               " WHERE agreement_id = ?1 AND level_id = ?2 AND assigned < purchased",
                               DB_ARGS(DV_INT(agreement_id), DV_INT(level_id)), &changed);
    if (e) return e;
    *taken = changed > 0;
    e = db_scalar_int(c, "SELECT purchased - assigned FROM pools WHERE agreement_id = ?1 AND level_id = ?2",
                      DB_ARGS(DV_INT(agreement_id), DV_INT(level_id)), left);
    if (e == OS_ERR_NOT_FOUND) { *left = 0; e = OS_OK; }
    return e;
}

os_err st_pool_give_back(store_conn *c, int64_t agreement_id, int64_t level_id) {
    return db_exec(c,
                   "UPDATE pools SET assigned = assigned - 1 WHERE agreement_id = ?1 AND level_id = ?2 AND assigned > 0",
                   DB_ARGS(DV_INT(agreement_id), DV_INT(level_id)), NULL, NULL);
}

os_err st_usage_record(store_conn *c, int64_t agreement_id, int64_t level_id, int64_t now) {
    return db_exec(c,
                   "INSERT INTO usage_changes (agreement_id, level_id, at, assigned_after, purchased)"
                   " SELECT agreement_id, level_id, ?3, assigned, purchased FROM pools"
                   " WHERE agreement_id = ?1 AND level_id = ?2",
                   DB_ARGS(DV_INT(agreement_id), DV_INT(level_id), DV_INT(now)), NULL, NULL);
}

os_err st_seat_release_add(store_conn *c, int64_t agreement_id, int64_t level_id, const char *email,
                           int64_t assigned_at, int64_t now) {
    return db_exec(c,
                   "INSERT INTO seat_releases (agreement_id, level_id, sign_in_email, assigned_at, released_at)"
                   " VALUES (?1, ?2, ?3, ?4, ?5)",
                   DB_ARGS(DV_INT(agreement_id), DV_INT(level_id), DV_TEXT(email), DV_INT(assigned_at), DV_INT(now)),
                   NULL, NULL);
}

os_err st_seat_releases_free(store_conn *c, int64_t agreement_id, int64_t level_id, int64_t *n) {
    return db_scalar_int(c,
                         "SELECT COUNT(*) FROM seat_releases WHERE agreement_id = ?1 AND level_id = ?2"
                         " AND reused_at IS NULL",
                         DB_ARGS(DV_INT(agreement_id), DV_INT(level_id)), n);
}

os_err st_seat_release_reuse(store_conn *c, int64_t agreement_id, int64_t level_id, const char *email,
                             int64_t cutoff, int64_t now, int64_t *earliest) {
    int64_t id;
    /* The person's own freed seat first, then the one assigned longest ago. */
    os_err e = db_scalar_int(c,
                             "SELECT id FROM seat_releases WHERE agreement_id = ?1 AND level_id = ?2"
                             " AND reused_at IS NULL AND (sign_in_email = ?3 OR assigned_at <= ?4)"
                             " ORDER BY sign_in_email = ?3 DESC, assigned_at LIMIT 1",
                             DB_ARGS(DV_INT(agreement_id), DV_INT(level_id), DV_TEXT(email), DV_INT(cutoff)), &id);
    if (e == OS_ERR_NOT_FOUND) {
        *earliest = 0;
        e = db_scalar_int(c,
                          "SELECT MIN(assigned_at) FROM seat_releases WHERE agreement_id = ?1 AND level_id = ?2"
                          " AND reused_at IS NULL",
                          DB_ARGS(DV_INT(agreement_id), DV_INT(level_id)), earliest);
        return e && e != OS_ERR_NOT_FOUND ? e : OS_ERR_NOT_FOUND;
    }
    if (e) return e;
    return db_exec(c, "UPDATE seat_releases SET reused_at = ?2 WHERE id = ?1", DB_ARGS(DV_INT(id), DV_INT(now)), NULL,
                   NULL);
}

typedef struct pool_seats {
    int64_t purchased, assigned, freed;
    bool found;
} pool_seats;

static int read_pool_seats(void *ud, db_row *r) {
    pool_seats *p = ud;
    *p = (pool_seats){db_int(r, 0), db_int(r, 1), db_int(r, 2), true};
    return 1;
}

os_err st_pool_seats(store_conn *c, int64_t agreement_id, int64_t level_id, int64_t *purchased, int64_t *assigned,
                     int64_t *freed) {
    pool_seats p = {0, 0, 0, false};
    os_err e = db_exec(c,
                       "SELECT p.purchased, p.assigned, (SELECT COUNT(*) FROM seat_releases r"
                       " WHERE r.agreement_id = p.agreement_id AND r.level_id = p.level_id AND r.reused_at IS NULL)"
                       " FROM pools p WHERE p.agreement_id = ?1 AND p.level_id = ?2",
                       DB_ARGS(DV_INT(agreement_id), DV_INT(level_id)), read_pool_seats, &p);
    if (e) return e;
    if (!p.found) return OS_ERR_NOT_FOUND;
    *purchased = p.purchased;
    *assigned = p.assigned;
    *freed = p.freed;
    return OS_OK;
}

os_err st_pool_take_many(store_conn *c, int64_t agreement_id, int64_t level_id, int64_t n, bool *taken) {
    int64_t changed = 0;
    os_err e = db_exec_changes(c,
                               "UPDATE pools SET assigned = assigned + ?3"
                               " WHERE agreement_id = ?1 AND level_id = ?2 AND assigned + ?3 <= purchased",
                               DB_ARGS(DV_INT(agreement_id), DV_INT(level_id), DV_INT(n)), &changed);
    *taken = !e && changed == 1;
    return e;
}

os_err st_pool_give_back_many(store_conn *c, int64_t agreement_id, int64_t level_id, int64_t n) {
    return db_exec(c,
                   "UPDATE pools SET assigned = assigned - ?3 WHERE agreement_id = ?1 AND level_id = ?2"
                   " AND assigned >= ?3",
                   DB_ARGS(DV_INT(agreement_id), DV_INT(level_id), DV_INT(n)), NULL, NULL);
}

os_err st_seat_releases_of(store_conn *c, arena *a, int64_t agreement_id, int64_t level_id, const char *const *emails,
                           int n, const char ***found, int *nfound) {
    rows_ud u = {a, sizeof(const char *), st_fill_text, NULL, 0, 0};
    os_err e = query_in(c, a, "SELECT DISTINCT sign_in_email FROM seat_releases WHERE agreement_id = ?1"
                              " AND level_id = ?2 AND reused_at IS NULL AND sign_in_email IN (",
                        DB_ARGS(DV_INT(agreement_id), DV_INT(level_id)), emails, n, &u);
    *found = u.rows ? (void *)u.rows : arena_alloc(a, sizeof(const char *));
    *nfound = u.n;
    return e;
}

/* ---- search terms of older rows ---- */

typedef struct backfill_row {
    int64_t id, agreement_id;
    const char *name, *email, *reference;
} backfill_row;

static void fill_backfill(arena *a, db_row *r, void *dst) {
    backfill_row *x = dst;
    x->id = db_int(r, 0);
    x->agreement_id = db_int(r, 1);
    x->name = st_dup(a, r, 2);
    x->email = st_dup(a, r, 3);
    x->reference = st_dup(a, r, 4);
}

os_err st_sub_search_backfill(store_conn *c, int64_t *done) {
    arena a;
    arena_init(&a, 64 * 1024 * 1024);
    os_err e = OS_OK;
    *done = 0;
    for (;;) {   /* in batches, each its own transaction, so a big table does not hold the lock */
        backfill_row *rows;
        int n;
        if ((e = store_tx_begin(c))) break;
        e = st_list(c, &a, "SELECT id, agreement_id, name, sign_in_email, reference FROM subscriptions"
                           " WHERE search IS NULL LIMIT 20000", DB_NOARGS, sizeof(backfill_row), fill_backfill,
                    (void **)&rows, &n);
        for (int i = 0; !e && i < n; i++) {
            char mem[SEARCH_TERMS_MAX], *terms = mem;
            fold(rows[i].name, rows[i].email, rows[i].reference, terms);
            e = db_exec(c, "UPDATE subscriptions SET search = ?2 WHERE id = ?1",
                        DB_ARGS(DV_INT(rows[i].id), DV_TEXT(terms)), NULL, NULL);
            if (!e) e = terms_write(c, true, rows[i].agreement_id, rows[i].id, rows[i].name, terms);
        }
        e = store_tx_end(c, e);
        arena_free(&a);
        if (e || n == 0) break;
        *done += n;
    }
    arena_free(&a);
    return e;
}
