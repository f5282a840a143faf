/* store_sub_rows.c — subscription rows and their search terms: one added, many added at
 * once (multi-row statements), read, edited, removed; the terms every write keeps in step
 * (the row's `search`, sub_terms and their counts) and the backfill of older rows; the
 * subscriber's own view across agreements. Contract in store.h (subscriptions: rows and
 * terms); the list that reads these terms is store_sub_page.c. Multi-row statements are
 * assembled from fixed fragments: every value bound. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/buf.h"
#include "core/limits.h"
#include "core/search.h"
#include "store.h"
#include "store_sub.h"
#include "store_util.h"

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

/* sub_terms entries (3 parameters) or terms' counts (2) in one statement, and 1 for all. */
#define ENTRIES_PER_STATEMENT 128
/* Up to this many terms (one row's) go in one statement of their exact size; more, in
 * statements whose sizes are powers of two (a few texts to prepare whatever the count). */
#define TERMS_PER_STATEMENT 32
static int entries_batch(int left) {
    return left <= TERMS_PER_STATEMENT ? left : st_batch(left, ENTRIES_PER_STATEMENT);
}

typedef struct term_count {
    const char *term;
    int64_t n;
} term_count;

/* Adds t[i].n to the count of each term t[0..n) of the agreement. */
static os_err add_counts(store_conn *c, st_multi *m, int64_t agreement_id, const term_count *t, int n) {
    os_err err = OS_OK;
    for (int done = 0; !err && done < n;) {
        int k = entries_batch(n - done);
        const char *sql = st_multi_sql(m, "INSERT INTO sub_term_counts (agreement_id, term, n) VALUES ", "(?1, #, #)",
                                       2, k,
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

/* ---- the terms' counts of one transaction ----
 * Each add, edit or removal of a subscription moves the count of each of its terms by one.
 * Written at once, a transaction that writes many rows one by one (a group rule over ten
 * thousand people) updates the common terms (the shared e-mail domain) once per row: on
 * PostgreSQL every update of a row leaves a version that the next update in the same
 * transaction walks past, and the transaction grew quadratic (15 s of 67 for 10,000 adds).
 * Inside a transaction the moves are summed here instead, per agreement and term, and
 * written once before the outermost commit (st_term_counts_flush from store_tx_end); a
 * rollback drops them with the rest. The list's count reads them in the same transaction
 * only after writing them (st_sub_page). Outside a transaction a move is written at once. */
struct term_counts {
    struct tc_slot {
        int64_t agreement_id, n;
        char *term;                     /* malloc'd; NULL: a free slot */
    } *slots;
    size_t cap, used;
};

/* Distinct (agreement, term) pairs held before they are written anyway, mid-transaction:
 * bounds the memory a transaction of any size holds (a few MiB). */
#define TC_HELD_MAX 65536

static size_t tc_hash(int64_t agreement_id, const char *term) {
    size_t h = 1469598103934665603u ^ (size_t)agreement_id;
    for (const char *p = term; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211u;
    return h;
}

void st_term_counts_drop(store_conn *c) {
    term_counts *t = c->term_counts;
    if (!t) return;
    for (size_t i = 0; i < t->cap; i++) free(t->slots[i].term);
    free(t->slots);
    free(t);
    c->term_counts = NULL;
}

/* Adds delta to the held count of (agreement_id, term). */
static os_err tc_move(store_conn *c, int64_t agreement_id, const char *term, int64_t delta) {
    term_counts *t = c->term_counts;
    if (!t) {
        if (!(t = calloc(1, sizeof *t))) return OS_ERR_NOMEM;
        c->term_counts = t;
    }
    if ((t->used + 1) * 2 > t->cap) {   /* at most half full: short probes */
        size_t cap = t->cap ? t->cap * 2 : 64;
        struct tc_slot *slots = calloc(cap, sizeof *slots);
        if (!slots) return OS_ERR_NOMEM;
        for (size_t i = 0; i < t->cap; i++) {
            if (!t->slots[i].term) continue;
            size_t k = tc_hash(t->slots[i].agreement_id, t->slots[i].term) & (cap - 1);
            while (slots[k].term) k = (k + 1) & (cap - 1);
            slots[k] = t->slots[i];
        }
        free(t->slots);
        t->slots = slots;
        t->cap = cap;
    }
    size_t k = tc_hash(agreement_id, term) & (t->cap - 1);
    while (t->slots[k].term && (t->slots[k].agreement_id != agreement_id || strcmp(t->slots[k].term, term)))
        k = (k + 1) & (t->cap - 1);
    if (!t->slots[k].term) {
        if (!(t->slots[k].term = strdup(term))) return OS_ERR_NOMEM;
        t->slots[k].agreement_id = agreement_id;
        t->used++;
    }
    t->slots[k].n += delta;
    return OS_OK;
}

/* Orders the held counts by agreement, then the added before the removed, the removed by
 * how many (one statement per agreement and amount removed), then by term. */
static int cmp_tc(const void *a, const void *b) {
    const struct tc_slot *x = a, *y = b;
    if (x->agreement_id != y->agreement_id) return x->agreement_id < y->agreement_id ? -1 : 1;
    bool xa = x->n > 0, ya = y->n > 0;
    if (xa != ya) return xa ? -1 : 1;
    if (!xa && x->n != y->n) return x->n > y->n ? -1 : 1;
    return strcmp(x->term, y->term);
}

/* Removes `by` from the counts of terms[0..n) of the agreement. */
static os_err remove_counts(store_conn *c, st_multi *m, int64_t agreement_id, int64_t by, const char *const *terms,
                            int n) {
    os_err err = OS_OK;
    for (int done = 0; !err && done < n;) {
        int k = entries_batch(n - done);
        const char *sql = st_multi_sql(m, "UPDATE sub_term_counts SET n = n - ?2 WHERE agreement_id = ?1 AND term IN (",
                                       "#", 3, k, ")");
        if (!sql) return OS_ERR_INTERNAL;
        db_val *args = m->args;
        args[0] = DV_INT(agreement_id);
        args[1] = DV_INT(by);
        for (int i = 0; i < k; i++) args[2 + i] = DV_TEXT(terms[done + i]);
        err = db_exec(c, sql, args, 2 + k, NULL, NULL);
        done += k;
    }
    return err;
}

os_err st_term_counts_flush(store_conn *c) {
    term_counts *t = c->term_counts;
    if (!t || !t->used) return OS_OK;
    int n = 0;
    for (size_t i = 0; i < t->cap; i++)   /* the moves that did not cancel out, in front */
        if (t->slots[i].term && t->slots[i].n) t->slots[n++] = t->slots[i];
        else if (t->slots[i].term) free(t->slots[i].term);
    qsort(t->slots, (size_t)n, sizeof *t->slots, cmp_tc);
    arena a;
    arena_init(&a, 16 * 1024 * 1024);
    st_multi m;
    st_multi_init(&m, &a, 2 + 2 * ENTRIES_PER_STATEMENT);
    term_count *added = arena_alloc(&a, sizeof *added * (size_t)(n ? n : 1));
    const char **removed = arena_alloc(&a, sizeof *removed * (size_t)(n ? n : 1));
    os_err e = OS_OK;
    for (int i = 0; !e && i < n;) {
        const struct tc_slot *s = &t->slots[i];
        int j = i, k = 0;
        if (s->n > 0) {
            for (; j < n && t->slots[j].agreement_id == s->agreement_id && t->slots[j].n > 0; j++, k++)
                added[k] = (term_count){t->slots[j].term, t->slots[j].n};
            e = add_counts(c, &m, s->agreement_id, added, k);
        } else {
            for (; j < n && t->slots[j].agreement_id == s->agreement_id && t->slots[j].n == s->n; j++, k++)
                removed[k] = t->slots[j].term;
            e = remove_counts(c, &m, s->agreement_id, -s->n, removed, k);
        }
        i = j;
    }
    arena_free(&a);
    for (int i = 0; i < n; i++) free(t->slots[i].term);
    memset(t->slots, 0, sizeof *t->slots * t->cap);
    t->used = 0;
    return e;
}

/* Adds (add) or removes the sub_terms entries of one subscription, and its share of the
 * terms' counts (held until the transaction ends, above): one statement for up to
 * TERMS_PER_STATEMENT terms (a bulk add writes hundreds of thousands of rows; one statement
 * per term was most of its time). */
static os_err terms_write(store_conn *c, bool add, int64_t agreement_id, int64_t sub_id, const char *name,
                          const char *terms) {
    char mem[SEARCH_TERMS_MAX];
    snprintf(mem, sizeof mem, "%s", terms);
    size_t pos = 0, len;
    const char *t;
    os_err e = OS_OK;
    bool more = true, held = c->tx_depth > 0;
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
        if (held) {
            for (int i = 0; !e && i < n; i++) e = tc_move(c, agreement_id, args[3 + i].s, add ? 1 : -1);
            continue;
        }
        /* The counts' statement binds the agreement and the terms only: a parameter the
         * text does not use has no type PostgreSQL could infer. */
        db_val cargs[1 + TERMS_PER_STATEMENT];
        cargs[0] = args[0];
        memcpy(cargs + 1, args + 3, sizeof *args * (size_t)n);
        if (!e) e = db_exec(c, counts.data, cargs, 1 + n, NULL, NULL);
    }
    if (!e && held && c->term_counts && c->term_counts->used >= TC_HELD_MAX) e = st_term_counts_flush(c);
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
#define INSERT_ARGS (2 + 11 * SUBS_PER_STATEMENT)
_Static_assert(1 + 3 * ENTRIES_PER_STATEMENT <= INSERT_ARGS, "the rows' statement binds the most");

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
static os_err insert_subs(store_conn *c, st_multi *m, sub_rec *rows, const char *const *terms, int n, int64_t now) {
    const char *sql = st_multi_sql(m,
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

static os_err insert_entries(store_conn *c, st_multi *m, int64_t agreement_id, const term_entry *e, int n) {
    os_err err = OS_OK;
    for (int done = 0; !err && done < n;) {
        int k = st_batch(n - done, ENTRIES_PER_STATEMENT);
        const char *sql = st_multi_sql(m, "INSERT INTO sub_terms (agreement_id, term, name, sub_id) VALUES ",
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

os_err st_sub_insert_many(store_conn *c, arena *a, sub_rec *rows, int n, int64_t now) {
    if (n <= 0) return OS_OK;
    const char **terms = arena_alloc(a, sizeof *terms * (size_t)n);
    for (int i = 0; i < n; i++) {
        char mem[SEARCH_TERMS_MAX];
        fold(rows[i].name, rows[i].sign_in_email, rows[i].reference, mem);
        terms[i] = arena_strdup(a, mem);
    }
    st_multi m;
    st_multi_init(&m, a, INSERT_ARGS);
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

static void fill_held(arena *a, db_row *r, void *dst) {
    sub_held_rec *x = dst;
    x->sign_in_email = st_dup(a, r, 0);
    x->level_id = db_int(r, 1);
}

os_err st_sub_held(store_conn *c, arena *a, int64_t agreement_id, const char *const *emails, int n,
                   sub_held_rec **rows, int *nrows) {
    rows_ud u = {a, sizeof(sub_held_rec), fill_held, NULL, 0, 0};
    os_err e = st_query_in(c, a, "SELECT sign_in_email, level_id FROM subscriptions WHERE agreement_id = ?1"
                                 " AND sign_in_email IN (",
                           DB_ARGS(DV_INT(agreement_id)), emails, n, &u);
    *rows = u.rows ? (void *)u.rows : arena_alloc(a, sizeof(sub_held_rec));
    *nrows = u.n;
    return e;
}

os_err st_sub_get(store_conn *c, arena *a, int64_t agreement_id, const char *uuid, sub_rec *out) {
    sub_rec *rows;
    int n;
    /* `+s.agreement_id` (the same number, not an indexed column) keeps PostgreSQL on the
     * uuid's index: its one plan for a statement (pg.c), made while the table was empty,
     * costed the agreement's indexes the same and walked all of the agreement's rows. */
    os_err e = st_list(c, a, "SELECT " SUB_COLS SUB_FROM " WHERE s.uuid = ?2 AND +s.agreement_id = ?1",
                       DB_ARGS(DV_INT(agreement_id), DV_TEXT(uuid)), sizeof(sub_rec), fill_sub, (void **)&rows, &n);
    if (e) return e;
    if (!n) return OS_ERR_NOT_FOUND;
    *out = rows[0];
    return OS_OK;
}

os_err st_sub_by_email(store_conn *c, arena *a, int64_t agreement_id, const char *email, sub_rec **rows, int *n) {
    /* PostgreSQL: through the address's own index (subscriptions_user: its few rows in every
     * agreement), whatever the statistics; with the agreement as an indexed column, its one
     * plan (made while the table was empty) scanned the agreement's rows by level for each
     * lookup, and a group rule over 10,000 people spent 12 s on this statement. SQLite plans
     * each statement with the table as it is and was measured faster on the agreement's
     * unique index (a 10,000-person rule: 3.6 s against 5.2 s), so it keeps that form. */
    return st_list(c, a,
                   c->drv->dialect == DIALECT_PG
                       ? "SELECT " SUB_COLS SUB_FROM " WHERE s.sign_in_email = ?2 AND +s.agreement_id = ?1"
                         " ORDER BY l.sort, s.id"
                       : "SELECT " SUB_COLS SUB_FROM " WHERE s.agreement_id = ?1 AND s.sign_in_email = ?2"
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
            /* The row can now be found by the filter box: its agreement's list changed. */
            if (!e && (i == 0 || rows[i].agreement_id != rows[i - 1].agreement_id))
                e = st_agreement_data_changed(c, rows[i].agreement_id);
        }
        e = store_tx_end(c, e);
        arena_free(&a);
        if (e || n == 0) break;
        *done += n;
    }
    arena_free(&a);
    return e;
}

/* ---- the subscriber's own view ---- */

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
