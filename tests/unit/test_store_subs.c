/* test_store_subs.c — the subscriber rows through the store: every column written comes
 * back in its own field (single and bulk inserts, an update), and the subscribers list
 * sorts by each sortable column, both ways, on each of its plans (no words; a word that
 * starts one term; a word that starts several, whose runs are merged by column position),
 * and its keyset cursors walk the same order a row at a time. On SQLite, or on PostgreSQL
 * when OPENSEAT_TEST_PG names a cluster (a database of its own, dropped at the end). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ftw.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/arena.h"
#include "core/error.h"
#include "store/db.h"
#include "store/store.h"

#define NOW 1767225600   /* 2026-01-01T00:00:00Z */
#define NSUBS 5

static arena A;
static char DIR_[] = "/tmp/openseat-subs-XXXXXX";
static store *S;
static store_conn *C;
static int64_t AGREEMENT;
static sub_rec WRITTEN[NSUBS];   /* as written, ids filled in */
static char PG_DB[64];           /* the PostgreSQL database, when there is one */

/* One statement on the cluster's own database (creating or dropping ours). */
static bool pg_admin(const char *base, const char *sql) {
    char url[512];
    snprintf(url, sizeof url, "%s/postgres", base);
    PGconn *pc = PQconnectdb(url);
    bool ok = PQstatus(pc) == CONNECTION_OK;
    if (ok) {
        PGresult *res = PQexec(pc, sql);
        ok = PQresultStatus(res) == PGRES_COMMAND_OK;
        if (!ok) fprintf(stderr, "%s: %s", sql, PQerrorMessage(pc));
        PQclear(res);
    }
    PQfinish(pc);
    return ok;
}

static const char *pg_base(void) {
    const char *b = getenv("OPENSEAT_TEST_PG");
    return b && *b ? b : NULL;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int64_t level_id(const char *code) {
    level_rec *levels;
    int n;
    if (st_levels(C, &A, &levels, &n)) return 0;
    for (int i = 0; i < n; i++)
        if (!strcmp(levels[i].code, code)) return levels[i].id;
    return 0;
}

/* Values chosen so that no two rows tie on any column but downloads, and so that each
 * column's order differs from the others'. */
static int setup(void **state) {
    (void)state;
    arena_init(&A, 16 * 1024 * 1024);
    if (!mkdtemp(DIR_)) return -1;
    char err[512] = "", url[512] = "";
    if (pg_base()) {
        snprintf(PG_DB, sizeof PG_DB, "openseat_unit_subs_%ld", (long)getpid());
        char sql[128];
        snprintf(sql, sizeof sql, "CREATE DATABASE %s", PG_DB);
        if (!pg_admin(pg_base(), sql)) return -1;
        snprintf(url, sizeof url, "%s/%s", pg_base(), PG_DB);
    }
    if (store_open(DIR_, *url ? url : NULL, &S, err, sizeof err) || store_migrate(S, NULL, err, sizeof err)) {
        fprintf(stderr, "store: %s\n", err);
        return -1;
    }
    C = store_conn_get(S);
    int64_t customer, partner;
    if (!C || st_org_ensure(C, "customer", "Contoso", "FR", NOW, &customer, NULL) ||
        st_org_ensure(C, "partner", "Fabrikam", NULL, NOW, &partner, NULL))
        return -1;
    agreement_rec g = {.license_number = "40318275", .auth_hash = "h", .auth_sealed = "s",
                       .customer_email = "it@contoso.example", .program = "Open License",
                       .start_date = "2026-01-01", .end_date = "2028-12-31", .customer_org_id = customer,
                       .partner_org_id = partner};
    if (st_agreement_create(C, &g, NOW, &AGREEMENT)) return -1;
    int64_t ent = level_id("enterprise"), pro = level_id("professional"), test = level_id("test_professional");
    if (!ent || !pro || !test) return -1;
    const sub_rec rows[NSUBS] = {
        {.uuid = "u-1", .level_id = pro, .name = "Adam Smith", .sign_in_email = "zed@contoso.example",
         .notification_email = "n1@contoso.example", .country = "FR", .language = "fr", .downloads = 1,
         .reference = "R-300", .expires_on = "2027-03-01"},
        {.uuid = "u-2", .level_id = ent, .name = "Ada Lovelace", .sign_in_email = "mia@contoso.example",
         .notification_email = NULL, .country = "DE", .language = "en", .downloads = 0, .reference = "R-100",
         .expires_on = "2028-01-01"},
        {.uuid = "u-3", .level_id = test, .name = "Zoe Adele", .sign_in_email = "bob@contoso.example",
         .notification_email = "n3@contoso.example", .country = "US", .language = "de", .downloads = 1,
         .reference = "R-500", .expires_on = "2026-06-01"},
        {.uuid = "u-4", .level_id = ent, .name = "Bea Adams", .sign_in_email = "ann@contoso.example",
         .notification_email = "n4@contoso.example", .country = "BE", .language = "nl", .downloads = 0,
         .reference = "", .expires_on = "2027-12-31"},
        {.uuid = "u-5", .level_id = pro, .name = "Carl Young", .sign_in_email = "carl@contoso.example",
         .notification_email = NULL, .country = "CA", .language = "es", .downloads = 1, .reference = "R-200",
         .expires_on = "2026-12-31"},
    };
    /* Seats as the domain takes them: the unfiltered list's total is the pools' count. */
    if (st_pool_add(C, AGREEMENT, ent, 10) || st_pool_add(C, AGREEMENT, pro, 10) || st_pool_add(C, AGREEMENT, test, 10))
        return -1;
    for (int i = 0; i < NSUBS; i++) {
        bool taken = false;
        int64_t left;
        if (st_pool_take(C, AGREEMENT, rows[i].level_id, &taken, &left) || !taken) return -1;
    }
    /* Three one at a time (each its own assignment time), two in one bulk insert. */
    for (int i = 0; i < NSUBS; i++) {
        WRITTEN[i] = rows[i];
        WRITTEN[i].agreement_id = AGREEMENT;
        WRITTEN[i].version = 1;
    }
    int64_t at[] = {NOW + 300, NOW + 100, NOW + 500};
    for (int i = 0; i < 3; i++) {
        WRITTEN[i].assigned_at = at[i];
        if (st_sub_insert(C, &WRITTEN[i], at[i], &WRITTEN[i].id)) return -1;
    }
    WRITTEN[3].assigned_at = WRITTEN[4].assigned_at = NOW + 200;
    if (st_sub_insert_many(C, &A, &WRITTEN[3], 2, NOW + 200)) return -1;
    /* An edit: the version moves on, the search terms follow the new name. */
    WRITTEN[1].name = "Ada King";
    WRITTEN[1].version = 2;
    if (st_sub_update(C, &WRITTEN[1], 1, NOW + 600)) return -1;
    return 0;
}

static int teardown(void **state) {
    (void)state;
    store_close(S);
    if (*PG_DB) {
        char sql[128];
        snprintf(sql, sizeof sql, "DROP DATABASE %s", PG_DB);
        pg_admin(pg_base(), sql);
    }
    nftw(DIR_, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    arena_free(&A);
    return 0;
}

static void assert_text(const char *got, const char *want) {
    if (!want) assert_null(got);
    else assert_string_equal(got ? got : "(null)", want);
}

static void assert_same_sub(const sub_rec *got, const sub_rec *want, const char *level_code) {
    assert_int_equal(got->id, want->id);
    assert_string_equal(got->uuid, want->uuid);
    assert_int_equal(got->agreement_id, want->agreement_id);
    assert_int_equal(got->level_id, want->level_id);
    assert_string_equal(got->level_code, level_code);
    assert_string_equal(got->name, want->name);
    assert_string_equal(got->sign_in_email, want->sign_in_email);
    assert_text(got->notification_email, want->notification_email);
    assert_string_equal(got->country, want->country);
    assert_string_equal(got->language, want->language);
    assert_int_equal(got->downloads, want->downloads);
    assert_string_equal(got->reference, want->reference);
    assert_int_equal(got->assigned_at, want->assigned_at);
    assert_string_equal(got->expires_on, want->expires_on);
    assert_int_equal(got->version, want->version);
}

static const char *code_of(int64_t level) {
    level_rec *levels;
    int n;
    assert_int_equal(st_levels(C, &A, &levels, &n), OS_OK);
    for (int i = 0; i < n; i++)
        if (levels[i].id == level) return levels[i].code;
    fail_msg("no level %lld", (long long)level);
    return NULL;
}

static void test_every_column_reads_back(void **state) {
    (void)state;
    for (int i = 0; i < NSUBS; i++) {
        sub_rec got;
        assert_int_equal(st_sub_get(C, &A, AGREEMENT, WRITTEN[i].uuid, &got), OS_OK);
        assert_same_sub(&got, &WRITTEN[i], code_of(WRITTEN[i].level_id));
        sub_rec *by_email;
        int n;
        assert_int_equal(st_sub_by_email(C, &A, AGREEMENT, WRITTEN[i].sign_in_email, &by_email, &n), OS_OK);
        assert_int_equal(n, 1);
        assert_same_sub(&by_email[0], &WRITTEN[i], code_of(WRITTEN[i].level_id));
    }
    sub_rec none;
    assert_int_equal(st_sub_get(C, &A, AGREEMENT, "u-none", &none), OS_ERR_NOT_FOUND);
    assert_int_equal(st_sub_get(C, &A, AGREEMENT + 1, WRITTEN[0].uuid, &none), OS_ERR_NOT_FOUND);
}

/* The sort column's value, compared as the database does: numbers as numbers, text
 * byte by byte (every value here is ASCII). */
static int cmp_key(const sub_rec *x, const sub_rec *y, sub_sort sort) {
    int64_t a, b;
    switch (sort) {
    case SUB_SORT_LEVEL: a = x->level_id, b = y->level_id; break;
    case SUB_SORT_ASSIGNED: a = x->assigned_at, b = y->assigned_at; break;
    case SUB_SORT_DOWNLOADS: a = x->downloads, b = y->downloads; break;
    default: {
        arena t;
        arena_init(&t, 4096);
        int c = strcmp(st_sub_sort_key(&t, x, sort), st_sub_sort_key(&t, y, sort));
        arena_free(&t);
        return c;
    }
    }
    return a < b ? -1 : a > b;
}

/* The uuids of `in`, those accepted by keep, in (sort column, id) order. */
static int expected(sub_sort sort, bool desc, bool (*keep)(const sub_rec *), const char **uuids) {
    const sub_rec *v[NSUBS];
    int n = 0;
    for (int i = 0; i < NSUBS; i++)
        if (!keep || keep(&WRITTEN[i])) v[n++] = &WRITTEN[i];
    for (int i = 1; i < n; i++)   /* insertion sort: five rows */
        for (int j = i; j > 0; j--) {
            int c = cmp_key(v[j - 1], v[j], sort);
            if (!c) c = v[j - 1]->id < v[j]->id ? -1 : 1;
            if (desc) c = -c;
            if (c <= 0) break;
            const sub_rec *t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    for (int i = 0; i < n; i++) uuids[i] = v[i]->uuid;
    return n;
}

static bool has_ad_word(const sub_rec *r) {
    /* "ad" starts a term of: Adam Smith, Ada King, Zoe Adele, Bea Adams (not Carl Young). */
    return strcmp(r->uuid, "u-5") != 0;
}

static void check_order(const char *words, bool (*keep)(const sub_rec *)) {
    for (int s = 0; s < SUB_SORT_COUNT; s++) {
        for (int d = 0; d < 2; d++) {
            const char *want[NSUBS];
            int nwant = expected((sub_sort)s, d, keep, want);
            sub_query q = {.agreement_id = AGREEMENT, .q = words, .downloads = -1, .sort = (sub_sort)s,
                           .desc = d, .limit = 50};
            sub_rec *rows;
            int n;
            int64_t total;
            bool exact;
            assert_int_equal(st_sub_page(C, &A, &q, &rows, &n, &total, &exact), OS_OK);
            assert_int_equal(n, nwant);
            assert_int_equal(total, nwant);
            assert_true(exact);
            for (int i = 0; i < n; i++) {
                if (strcmp(rows[i].uuid, want[i]))
                    fail_msg("q=%s sort %d %s: row %d is %s, not %s", words ? words : "-", s, d ? "desc" : "asc", i,
                             rows[i].uuid, want[i]);
                sub_rec *w = NULL;
                for (int k = 0; k < NSUBS; k++)
                    if (!strcmp(WRITTEN[k].uuid, rows[i].uuid)) w = &WRITTEN[k];
                assert_same_sub(&rows[i], w, code_of(w->level_id));
            }
            /* A row a page, each page after the previous page's cursor. */
            q.limit = 1;
            for (int i = 0; i <= nwant; i++) {
                assert_int_equal(st_sub_page(C, &A, &q, &rows, &n, &total, &exact), OS_OK);
                if (i == nwant) {
                    assert_int_equal(n, 0);
                    break;
                }
                assert_int_equal(n, 1);
                assert_string_equal(rows[0].uuid, want[i]);
                q.after_key = st_sub_sort_key(&A, &rows[0], (sub_sort)s);
                assert_true(st_sub_sort_key_valid((sub_sort)s, q.after_key));
                q.after_id = rows[0].id;
            }
        }
    }
}

static void test_sorts_without_words(void **state) {
    (void)state;
    check_order(NULL, NULL);
}

/* "contoso" starts one stored term, every row's (their addresses'): one run of sub_terms. */
static void test_sorts_with_one_term(void **state) {
    (void)state;
    check_order("contoso", NULL);
}

/* "ad" starts ada, adam, adams, adele: one run per term, merged by the sort column's
 * position in the select list. */
static void test_sorts_with_merged_terms(void **state) {
    (void)state;
    check_order("ad", has_ad_word);
}

static void test_sort_key_validity(void **state) {
    (void)state;
    assert_true(st_sub_sort_key_valid(SUB_SORT_ASSIGNED, "1767225600"));
    assert_false(st_sub_sort_key_valid(SUB_SORT_ASSIGNED, "12x"));
    assert_false(st_sub_sort_key_valid(SUB_SORT_LEVEL, ""));
    assert_true(st_sub_sort_key_valid(SUB_SORT_NAME, "anything"));
    assert_false(st_sub_sort_key_valid(SUB_SORT_COUNT, "1"));
}

/* The list's total for one word that starts one term: read from the terms' counts. */
static int64_t counted(const char *word) {
    sub_query q = {.agreement_id = AGREEMENT, .q = word, .downloads = -1, .limit = 1};
    sub_rec *rows;
    int n;
    int64_t total = -1;
    bool exact;
    assert_int_equal(st_sub_page(C, &A, &q, &rows, &n, &total, &exact), OS_OK);
    return total;
}

/* Terms whose count is not the number of rows holding them. */
static int64_t miscounted(void) {
    int64_t n = -1;
    assert_int_equal(db_scalar_int(C,
                                   "SELECT COUNT(*) FROM sub_term_counts c WHERE c.n <> (SELECT COUNT(*) FROM sub_terms t"
                                   " WHERE t.agreement_id = c.agreement_id AND t.term = c.term)",
                                   DB_NOARGS, &n),
                     OS_OK);
    return n;
}

static sub_rec extra(int i, const char *name) {
    static char uuid[8][16], email[8][64];
    snprintf(uuid[i], sizeof uuid[i], "x-%d", i);
    snprintf(email[i], sizeof email[i], "extra%d@contoso.example", i);
    return (sub_rec){.uuid = uuid[i], .agreement_id = AGREEMENT, .level_id = level_id("enterprise"), .name = name,
                     .sign_in_email = email[i], .country = "FR", .language = "fr", .downloads = 1,
                     .reference = "", .expires_on = "2027-01-01", .version = 1};
}

/* A transaction's rows move the terms' counts once it commits: read inside it (nested
 * too), they count its rows; a rollback leaves them as they were; adds, an edit and a
 * removal in one transaction leave every count exact. */
static void test_counts_of_one_transaction(void **state) {
    (void)state;
    assert_int_equal(counted("contoso"), NSUBS);
    assert_int_equal(store_tx_begin_agreement(C, AGREEMENT), OS_OK);
    sub_rec r[4];
    for (int i = 0; i < 3; i++) {
        r[i] = extra(i, "Quill Rollback");
        assert_int_equal(st_sub_insert(C, &r[i], NOW + 700, &r[i].id), OS_OK);
    }
    assert_int_equal(counted("contoso"), NSUBS + 3);
    assert_int_equal(counted("quill"), 3);
    assert_int_equal(store_tx_begin_agreement(C, AGREEMENT), OS_OK);   /* nested: its end writes nothing */
    r[3] = extra(3, "Quill Rollback");
    assert_int_equal(st_sub_insert(C, &r[3], NOW + 700, &r[3].id), OS_OK);
    assert_int_equal(store_tx_end(C, OS_OK), OS_OK);
    assert_int_equal(counted("quill"), 4);
    assert_int_equal(store_tx_end(C, OS_ERR_INVALID), OS_ERR_INVALID);   /* rolled back */
    assert_int_equal(counted("contoso"), NSUBS);
    assert_int_equal(counted("quill"), 0);
    assert_int_equal(miscounted(), 0);

    assert_int_equal(store_tx_begin_agreement(C, AGREEMENT), OS_OK);
    for (int i = 0; i < 3; i++) {
        r[i] = extra(4 + i, "Wren Commit");
        assert_int_equal(st_sub_insert(C, &r[i], NOW + 800, &r[i].id), OS_OK);
    }
    r[0].name = "Wren Renamed";
    assert_int_equal(st_sub_update(C, &r[0], 1, NOW + 801), OS_OK);
    assert_int_equal(st_sub_delete(C, r[1].id), OS_OK);
    assert_int_equal(store_tx_end(C, OS_OK), OS_OK);
    assert_int_equal(counted("contoso"), NSUBS + 2);
    assert_int_equal(counted("wren"), 2);
    assert_int_equal(counted("renamed"), 1);
    assert_int_equal(counted("commit"), 1);
    assert_int_equal(miscounted(), 0);
    /* The rows go again (outside a transaction: written at once), for the tests after. */
    assert_int_equal(st_sub_delete(C, r[0].id), OS_OK);
    assert_int_equal(st_sub_delete(C, r[2].id), OS_OK);
    assert_int_equal(counted("contoso"), NSUBS);
    assert_int_equal(counted("wren"), 0);
    assert_int_equal(miscounted(), 0);
}

static int read_one(void *ud, db_row *r) {
    *(int64_t *)ud = db_int(r, 0);
    return 0;
}

/* Each statement of a batch runs as itself, even when two of them fall in one slot of the
 * driver's statements cache (PostgreSQL names its prepared statements by slot): thousands of
 * batches of four new statements, each with its own parameters and answer, make that happen
 * many times over. */
static void test_batch_statements_sharing_a_cache_slot(void **state) {
    (void)state;
    for (int i = 0; i < 1500; i++) {
        char sql[4][128];
        snprintf(sql[0], sizeof sql[0], "SELECT CAST(?1 AS INTEGER) + %d", i);
        snprintf(sql[1], sizeof sql[1], "SELECT CAST(?1 AS INTEGER) * 2 + CAST(?2 AS INTEGER) + %d", i);
        snprintf(sql[2], sizeof sql[2], "SELECT CAST(?1 AS INTEGER) + CAST(?2 AS INTEGER) * CAST(?3 AS INTEGER) - %d", i);
        snprintf(sql[3], sizeof sql[3], "SELECT CAST(?1 AS INTEGER) * 7 - %d", i);
        const db_val one[] = {DV_INT(1)}, two[] = {DV_INT(10), DV_INT(100)}, three[] = {DV_INT(5), DV_INT(6), DV_INT(7)},
                     seven[] = {DV_INT(3)};
        int64_t got[4] = {-1, -1, -1, -1};
        const db_stmt st[4] = {{sql[0], one, 1, read_one, &got[0]}, {sql[1], two, 2, read_one, &got[1]},
                               {sql[2], three, 3, read_one, &got[2]}, {sql[3], seven, 1, read_one, &got[3]}};
        assert_int_equal(db_batch(C, st, 4), OS_OK);
        assert_int_equal(got[0], 1 + i);
        assert_int_equal(got[1], 120 + i);
        assert_int_equal(got[2], 47 - i);
        assert_int_equal(got[3], 21 - i);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_column_reads_back),
        cmocka_unit_test(test_sorts_without_words),
        cmocka_unit_test(test_sorts_with_one_term),
        cmocka_unit_test(test_sorts_with_merged_terms),
        cmocka_unit_test(test_sort_key_validity),
        cmocka_unit_test(test_counts_of_one_transaction),
        cmocka_unit_test(test_batch_statements_sharing_a_cache_slot),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
