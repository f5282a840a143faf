/* test_query.c — the bounded query-string readers handlers use (http/query.c).
 *
 * Each reader is run against a bare request holding only the arena, the field-error list
 * and a query string parsed the way the pipeline parses it; what matters is the value it
 * returns and the problem (field, code, message) it records, which API clients and tests
 * compare byte for byte.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/limits.h"
#include "http/http.h"

static req R;

static int setup(void **state) {
    memset(&R, 0, sizeof R);
    arena_init(&R.a, LIMIT_ARENA_BYTES);
    fe_init(&R.fe, &R.a);
    return 0;
}

static int teardown(void **state) {
    arena_free(&R.a);
    return 0;
}

/* Parses s as the request's query string (without '?') and forgets earlier problems. */
static void use_query(const char *s) {
    if (!qs_parse(&R.a, s, strlen(s), LIMIT_QUERY_PARAMS, &R.query)) fail_msg("query %s refused", s);
    fe_init(&R.fe, &R.a);
}

/* The one problem recorded must be (field, code, message); message NULL: not compared. */
static void expect_problem(const char *field, const char *code, const char *message) {
    if (R.fe.count != 1) fail_msg("%d problems recorded, expected 1 (%s %s)", R.fe.count, field, code);
    assert_string_equal(R.fe.head->field, field);
    assert_string_equal(R.fe.head->code, code);
    if (message) assert_string_equal(R.fe.head->message, message);
}

static void expect_no_problem(void) {
    if (R.fe.count) fail_msg("unexpected problem: %s %s %s", R.fe.head->field, R.fe.head->code, R.fe.head->message);
}

/* ---- query_str ------------------------------------------------------------------------ */

static void test_str(void **state) {
    use_query("q=caf%C3%A9+bar&empty=");
    assert_string_equal(query_str(&R, "q", 20), "café bar");
    assert_null(query_str(&R, "absent", 20));
    assert_null(query_str(&R, "empty", 20));   /* a cleared filter box */
    expect_no_problem();
}

static void test_str_too_long_counts_characters(void **state) {
    use_query("q=%C3%A9%C3%A9%C3%A9");   /* three characters, six bytes */
    assert_string_equal(query_str(&R, "q", 3), "ééé");
    expect_no_problem();
    const char *v = query_str(&R, "q", 2);
    assert_string_equal(v, "ééé");   /* still returned, for the caller's own checks */
    expect_problem("q", "too_long", "At most 2 characters");
}

/* ---- query_token ---------------------------------------------------------------------- */

static void test_token(void **state) {
    use_query("cursor=abc&blank=&long=abcdef");
    assert_string_equal(query_token(&R, "cursor", 10), "abc");
    assert_string_equal(query_token(&R, "blank", 10), "");   /* sent empty: refused by the caller */
    assert_null(query_token(&R, "absent", 10));
    expect_no_problem();
    assert_null(query_token(&R, "long", 5));
    expect_problem("long", "too_long", "At most 5 characters");
}

/* ---- query_int ------------------------------------------------------------------------ */

static void test_int(void **state) {
    use_query("limit=25&low=1&high=500");
    assert_int_equal(query_int(&R, "limit", 1, 500, 50), 25);
    assert_int_equal(query_int(&R, "low", 1, 500, 50), 1);
    assert_int_equal(query_int(&R, "high", 1, 500, 50), 500);
    assert_int_equal(query_int(&R, "absent", 1, 500, 50), 50);
    expect_no_problem();
}

static void test_int_refusals(void **state) {
    const char *bad[] = {"limit=0", "limit=501", "limit=-3", "limit=abc", "limit=12abc", "limit=",
                         "limit=1.5", "limit=99999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        use_query(bad[i]);
        assert_int_equal(query_int(&R, "limit", 1, 500, 50), 50);
        expect_problem("limit", "out_of_range", "From 1 to 500");
    }
}

static void test_int_reads_as_strtoll(void **state) {
    use_query("a=%2B7&b=+8");   /* a sign, and a leading blank ('+' is a space in a query) */
    assert_int_equal(query_int(&R, "a", 1, 10, 0), 7);
    assert_int_equal(query_int(&R, "b", 1, 10, 0), 8);
    expect_no_problem();
}

/* ---- query_id ------------------------------------------------------------------------- */

static void test_id(void **state) {
    use_query("before=9007199254740993");
    assert_true(query_id(&R, "before", "hint") == INT64_C(9007199254740993));
    assert_int_equal(query_id(&R, "absent", "hint"), 0);
    expect_no_problem();
    use_query("before=9223372036854775807");
    assert_true(query_id(&R, "before", "hint") == INT64_MAX);
    expect_no_problem();
    /* Beyond int64_t: strtoll clamps it to the largest, which must not pass for that id. */
    const char *bad[] = {"before=0", "before=-1", "before=x", "before=", "before=5x", "before=9223372036854775808",
                         "before=99999999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        use_query(bad[i]);
        assert_int_equal(query_id(&R, "before", "Use the next_before value of the previous page"), 0);
        expect_problem("before", "invalid_value", "Use the next_before value of the previous page");
    }
}

/* ---- query_enum ----------------------------------------------------------------------- */

static const char *const ORDER[] = {"asc", "desc", NULL};
static const char *const ANY_NO_YES[] = {"", "false", "true", NULL};

static void test_enum(void **state) {
    use_query("order=desc&first=asc");
    assert_int_equal(query_enum(&R, "order", ORDER, 0, "hint"), 1);
    assert_int_equal(query_enum(&R, "first", ORDER, 1, "hint"), 0);
    assert_int_equal(query_enum(&R, "absent", ORDER, 1, "hint"), 1);
    expect_no_problem();
}

static void test_enum_refusals(void **state) {
    const char *bad[] = {"order=DESC", "order=", "order=descending", "order=%20desc"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        use_query(bad[i]);
        assert_int_equal(query_enum(&R, "order", ORDER, 0, "Use asc or desc"), -1);
        expect_problem("order", "invalid_value", "Use asc or desc");
    }
}

static void test_enum_empty_name(void **state) {
    use_query("downloads=");
    assert_int_equal(query_enum(&R, "downloads", ANY_NO_YES, 2, "hint"), 0);
    expect_no_problem();
}

/* ---- query_bool ----------------------------------------------------------------------- */

static void test_bool(void **state) {
    use_query("a=true&b=false");
    assert_true(query_bool(&R, "a", false));
    assert_false(query_bool(&R, "b", true));
    assert_true(query_bool(&R, "absent", true));
    assert_false(query_bool(&R, "absent", false));
    expect_no_problem();
    const char *bad[] = {"a=TRUE", "a=1", "a=", "a=yes"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        use_query(bad[i]);
        assert_true(query_bool(&R, "a", true));
        expect_problem("a", "invalid_value", "Use true or false");
    }
}

/* ---- query_date ----------------------------------------------------------------------- */

static void test_date(void **state) {
    use_query("from=2024-03-01&to=2024-03-01&empty=");
    assert_int_equal(query_date(&R, "from", false), 1709251200);
    assert_int_equal(query_date(&R, "to", true), 1709251200 + 86399);
    assert_int_equal(query_date(&R, "empty", false), 0);
    assert_int_equal(query_date(&R, "absent", true), 0);
    expect_no_problem();
    const char *bad[] = {"from=2024-03-01T00:00", "from=yesterday", "from=01/03/2024"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        use_query(bad[i]);
        assert_int_equal(query_date(&R, "from", false), 0);
        expect_problem("from", "invalid_value", "Use a date YYYY-MM-DD");
    }
}

/* ---- all readers ---------------------------------------------------------------------- */

static void test_first_of_repeated_name_counts(void **state) {
    use_query("limit=5&limit=abc&order=desc&order=asc");
    assert_int_equal(query_int(&R, "limit", 1, 500, 50), 5);
    assert_int_equal(query_enum(&R, "order", ORDER, 0, "hint"), 1);
    expect_no_problem();
}

static void test_problems_accumulate_in_order(void **state) {
    use_query("limit=0&order=up&check_only=maybe");
    query_int(&R, "limit", 1, 500, 50);
    query_enum(&R, "order", ORDER, 0, "Use asc or desc");
    query_bool(&R, "check_only", false);
    assert_int_equal(R.fe.count, 3);
    assert_string_equal(R.fe.head->field, "limit");
    assert_string_equal(R.fe.head->next->field, "order");
    assert_string_equal(R.fe.tail->field, "check_only");
}

int main(void) {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_str),
        T(test_str_too_long_counts_characters),
        T(test_token),
        T(test_int),
        T(test_int_refusals),
        T(test_int_reads_as_strtoll),
        T(test_id),
        T(test_enum),
        T(test_enum_refusals),
        T(test_enum_empty_name),
        T(test_bool),
        T(test_date),
        T(test_first_of_repeated_name_counts),
        T(test_problems_accumulate_in_order),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
