/* test_json_write.c — the streaming JSON writer behind every response body.
 *
 * Exact-text checks pin the comma and escaping rules; jansson then re-parses the output,
 * because the contract that matters to clients is "jw_ok() true implies valid JSON with
 * the values that were written". Misuse (bad UTF-8, unbalanced nesting, keys in the
 * wrong place) must surface as jw_ok() false rather than as malformed output.
 */
#define UNIT_SETUP writer_setup
#include "unit.h"

#include <jansson.h>

#include "core/buf.h"
#include "core/json_write.h"
#include "core/limits.h"

static buf B;
static jw W;

/* The arena, and a writer W into buffer B. */
static int writer_setup(void **state) {
    unit_setup(state);
    buf_init(&B, &A, 1 << 20);
    jw_init(&W, &B);
    return 0;
}

/* Output so far as a C string (empty when nothing was written). */
static const char *out(void) { return B.data ? B.data : ""; }

/* Parses the output with jansson, failing the test when it is not JSON. */
static json_t *parse_out(void) {
    json_error_t je;
    json_t *j = json_loadb(out(), B.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
    if (!j) fail_msg("writer output is not JSON (%s at column %d): %s", je.text, je.column, out());
    return j;
}

static void test_nesting_and_commas(void **state) {
    jw_obj(&W);
    jw_kint(&W, "a", 1);
    jw_key(&W, "b");
    jw_arr(&W);
    jw_int(&W, 1);
    jw_int(&W, 2);
    jw_obj(&W);
    jw_kbool(&W, "c", true);
    jw_kbool(&W, "f", false);
    jw_obj_end(&W);
    jw_arr(&W);
    jw_arr_end(&W);
    jw_obj(&W);
    jw_obj_end(&W);
    jw_arr_end(&W);
    jw_knull(&W, "d");
    jw_kstr(&W, "e", "x");
    jw_kstr(&W, "n", NULL);
    jw_key(&W, "r");
    jw_raw(&W, "{\"pre\":[1]}");
    jw_obj_end(&W);
    assert_true(jw_ok(&W));
    assert_string_equal(out(), "{\"a\":1,\"b\":[1,2,{\"c\":true,\"f\":false},[],{}],\"d\":null,\"e\":\"x\","
                               "\"n\":null,\"r\":{\"pre\":[1]}}");
    json_t *j = parse_out();
    assert_int_equal(json_integer_value(json_object_get(j, "a")), 1);
    assert_int_equal(json_array_size(json_object_get(j, "b")), 5);
    assert_true(json_is_null(json_object_get(j, "n")));
    json_decref(j);
}

static void test_escaping(void **state) {
    jw_arr(&W);
    jw_str(&W, "say \"hi\"");
    jw_str(&W, "back\\slash");
    jw_str(&W, "a\nb\rc\td");
    jw_str(&W, "\x01\x1f\x08\x0c");
    jw_str(&W, "del\x7f");   /* DEL needs no escape in JSON */
    jw_str(&W, "");
    jw_arr_end(&W);
    assert_true(jw_ok(&W));
    assert_string_equal(out(), "[\"say \\\"hi\\\"\",\"back\\\\slash\",\"a\\nb\\rc\\td\","
                               "\"\\u0001\\u001f\\u0008\\u000c\",\"del\x7f\",\"\"]");
    json_t *j = parse_out();
    assert_string_equal(json_string_value(json_array_get(j, 0)), "say \"hi\"");
    assert_string_equal(json_string_value(json_array_get(j, 1)), "back\\slash");
    assert_string_equal(json_string_value(json_array_get(j, 2)), "a\nb\rc\td");
    assert_string_equal(json_string_value(json_array_get(j, 3)), "\x01\x1f\x08\x0c");
    json_decref(j);
}

static void test_escaped_keys(void **state) {
    jw_obj(&W);
    jw_kstr(&W, "k\"\n", "v");
    jw_obj_end(&W);
    assert_true(jw_ok(&W));
    assert_string_equal(out(), "{\"k\\\"\\n\":\"v\"}");
}

static void test_embedded_nul_with_strn(void **state) {
    jw_strn(&W, "a\0b", 3);
    assert_true(jw_ok(&W));
    assert_string_equal(out(), "\"a\\u0000b\"");
    json_t *j = parse_out();
    assert_int_equal(json_string_length(j), 3);
    assert_memory_equal(json_string_value(j), "a\0b", 3);
    json_decref(j);
}

static void test_utf8_passthrough(void **state) {
    const char *s = "caf\xc3\xa9 \xf0\x9f\x98\x80 \xe2\x82\xac \xf4\x8f\xbf\xbf";  /* é 😀 € U+10FFFF */
    jw_str(&W, s);
    assert_true(jw_ok(&W));
    assert_int_equal(B.len, strlen(s) + 2);
    assert_memory_equal(out() + 1, s, strlen(s));
    json_t *j = parse_out();
    assert_string_equal(json_string_value(j), s);
    json_decref(j);
}

/* Each invalid sequence on its own writer, so one rejection cannot mask another. */
static void expect_rejected(const char *s, size_t n) {
    arena a;
    arena_init(&a, 1 << 20);
    buf b;
    buf_init(&b, &a, 4096);
    jw w;
    jw_init(&w, &b);
    jw_arr(&w);
    jw_strn(&w, s, n);
    jw_arr_end(&w);
    bool ok = jw_ok(&w);
    arena_free(&a);
    if (ok) {
        char hex[64] = "";
        for (size_t i = 0; i < n && i < 16; i++) snprintf(hex + 3 * i, 4, "%02x ", (unsigned char)s[i]);
        fail_msg("invalid UTF-8 accepted: %s", hex);
    }
}

static void test_invalid_utf8_rejected(void **state) {
    expect_rejected("\x80", 1);                      /* lone continuation byte */
    expect_rejected("a\xbf" "b", 3);
    expect_rejected("\xc0\x80", 2);                  /* overlong NUL */
    expect_rejected("\xc1\xbf", 2);                  /* overlong 2-byte */
    expect_rejected("\xe0\x80\xaf", 3);              /* overlong 3-byte '/' */
    expect_rejected("\xf0\x80\x80\xaf", 4);          /* overlong 4-byte '/' */
    expect_rejected("\xed\xa0\x80", 3);              /* surrogate U+D800 */
    expect_rejected("\xed\xbf\xbf", 3);              /* surrogate U+DFFF */
    expect_rejected("\xf4\x90\x80\x80", 4);          /* U+110000 */
    expect_rejected("\xf5\x80\x80\x80", 4);
    expect_rejected("\xff", 1);
    expect_rejected("\xc3", 1);                      /* truncated 2-byte */
    expect_rejected("\xe2\x82", 2);                  /* truncated 3-byte */
    expect_rejected("\xf0\x9f\x98", 3);              /* truncated 4-byte */
    expect_rejected("\xe2\x28\xa1", 3);              /* bad continuation */
    /* The same through jw_str and in a key. */
    jw_obj(&W);
    jw_kstr(&W, "k", "ok\xc3");
    jw_obj_end(&W);
    assert_false(jw_ok(&W));

    buf_init(&B, &A, 4096);
    jw_init(&W, &B);
    jw_obj(&W);
    jw_kint(&W, "\xed\xa0\x80", 1);
    jw_obj_end(&W);
    assert_false(jw_ok(&W));
}

static void test_utf8_valid_prefix(void **state) {
    assert_int_equal(utf8_valid_prefix("", 0), 0);
    assert_int_equal(utf8_valid_prefix("abc", 3), 3);
    assert_int_equal(utf8_valid_prefix("ab\xc3\xa9", 4), 4);
    assert_int_equal(utf8_valid_prefix("ab\xc3", 3), 2);
    assert_int_equal(utf8_valid_prefix("ab\x80z", 4), 2);
    assert_int_equal(utf8_valid_prefix("\xf0\x9f\x98\x80\xed\xa0\x80", 7), 4);
    assert_int_equal(utf8_valid_prefix("\xef\xbf\xbf", 3), 3);   /* U+FFFF is a valid scalar */
}

static void test_error_makes_later_calls_noops(void **state) {
    jw_arr(&W);
    jw_str(&W, "\x80");
    size_t len = B.len;
    jw_int(&W, 5);
    jw_str(&W, "more");
    jw_arr_end(&W);
    assert_false(jw_ok(&W));
    assert_int_equal(B.len, len);
}

static void test_depth_limit(void **state) {
    for (int i = 0; i < LIMIT_JSON_DEPTH; i++) jw_arr(&W);
    for (int i = 0; i < LIMIT_JSON_DEPTH; i++) jw_arr_end(&W);
    assert_true(jw_ok(&W));
    json_t *j = parse_out();
    json_decref(j);

    buf_init(&B, &A, 4096);
    jw_init(&W, &B);
    for (int i = 0; i < LIMIT_JSON_DEPTH + 1; i++) jw_arr(&W);
    for (int i = 0; i < LIMIT_JSON_DEPTH + 1; i++) jw_arr_end(&W);
    assert_false(jw_ok(&W));

    buf_init(&B, &A, 4096);
    jw_init(&W, &B);
    for (int i = 0; i < LIMIT_JSON_DEPTH; i++) {
        jw_obj(&W);
        jw_key(&W, "k");
    }
    jw_obj(&W);   /* one past the limit, mixed with objects */
    assert_false(jw_ok(&W));
}

static void test_key_at_top_level_is_error(void **state) {
    jw_key(&W, "k");
    jw_int(&W, 1);
    assert_false(jw_ok(&W));
}

static void test_key_inside_array_is_error(void **state) {
    /* ["k":1] is not JSON; the writer must not report success for it. */
    jw_arr(&W);
    jw_key(&W, "k");
    jw_int(&W, 1);
    jw_arr_end(&W);
    assert_false(jw_ok(&W));
}

static void test_value_without_key_in_object_is_error(void **state) {
    /* {1} is not JSON either. */
    jw_obj(&W);
    jw_int(&W, 1);
    jw_obj_end(&W);
    assert_false(jw_ok(&W));
}

static void test_mismatched_close_is_error(void **state) {
    jw_obj(&W);
    jw_arr_end(&W);
    assert_false(jw_ok(&W));
}

static void test_second_top_level_value_is_error(void **state) {
    /* A document holds one value; "1,2" is not JSON. */
    jw_int(&W, 1);
    jw_int(&W, 2);
    assert_false(jw_ok(&W));
}

static void test_unbalanced(void **state) {
    jw_arr_end(&W);   /* closes nothing */
    assert_false(jw_ok(&W));

    buf_init(&B, &A, 4096);
    jw_init(&W, &B);
    jw_obj(&W);       /* never closed */
    assert_false(jw_ok(&W));

    buf_init(&B, &A, 4096);
    jw_init(&W, &B);
    jw_obj(&W);
    jw_key(&W, "dangling");
    jw_obj_end(&W);   /* key without a value */
    assert_false(jw_ok(&W));

    buf_init(&B, &A, 4096);
    jw_init(&W, &B);
    jw_obj(&W);
    jw_key(&W, "a");
    jw_key(&W, "b");  /* two keys in a row */
    jw_int(&W, 1);
    jw_obj_end(&W);
    assert_false(jw_ok(&W));
}

static void test_int_extremes(void **state) {
    jw_arr(&W);
    jw_int(&W, INT64_MIN);
    jw_int(&W, INT64_MAX);
    jw_int(&W, 0);
    jw_int(&W, -1);
    jw_arr_end(&W);
    assert_true(jw_ok(&W));
    assert_string_equal(out(), "[-9223372036854775808,9223372036854775807,0,-1]");
    json_t *j = parse_out();
    assert_true(json_integer_value(json_array_get(j, 0)) == INT64_MIN);
    assert_true(json_integer_value(json_array_get(j, 1)) == INT64_MAX);
    assert_int_equal(json_integer_value(json_array_get(j, 3)), -1);
    json_decref(j);
}

static void test_overflow_makes_not_ok(void **state) {
    buf_init(&B, &A, 16);
    jw_init(&W, &B);
    jw_arr(&W);
    for (int i = 0; i < 10; i++) jw_str(&W, "abcdef");
    jw_arr_end(&W);
    assert_false(jw_ok(&W));
    assert_true(B.len <= 16);
}

static void test_round_trip_through_jansson(void **state) {
    static const char *const values[] = {
        "plain", "", "tab\there", "quote\"back\\slash/solidus", "\x01\x02\x03\x1e\x1f",
        "\xc3\xa9t\xc3\xa9", "\xf0\x9f\x98\x80", "line1\r\nline2", "<script>&amp;</script>",
    };
    size_t nv = sizeof values / sizeof values[0];
    jw_obj(&W);
    for (size_t i = 0; i < nv; i++) {
        char key[16];
        snprintf(key, sizeof key, "k%zu", i);
        jw_kstr(&W, key, values[i]);
    }
    jw_key(&W, "list");
    jw_arr(&W);
    for (size_t i = 0; i < nv; i++) jw_str(&W, values[i]);
    jw_arr_end(&W);
    jw_kint(&W, "min", INT64_MIN);
    jw_kbool(&W, "t", true);
    jw_obj_end(&W);
    assert_true(jw_ok(&W));

    json_error_t je;
    json_t *j = json_loads(out(), JSON_REJECT_DUPLICATES, &je);
    assert_non_null(j);
    assert_int_equal(json_object_size(j), nv + 3);
    for (size_t i = 0; i < nv; i++) {
        char key[16];
        snprintf(key, sizeof key, "k%zu", i);
        assert_string_equal(json_string_value(json_object_get(j, key)), values[i]);
        assert_string_equal(json_string_value(json_array_get(json_object_get(j, "list"), i)), values[i]);
    }
    assert_true(json_integer_value(json_object_get(j, "min")) == INT64_MIN);
    assert_true(json_is_true(json_object_get(j, "t")));
    json_decref(j);
}

/* A field error's params: the object as text, or NULL when a value could not be written, so
 * an error never carries half an object. */
static void test_params(void **state) {
    jw_params p;
    jw *w = jw_params_begin(&p, &A);
    jw_kstr(w, "field", "level");
    jw_kint(w, "left", 0);
    assert_string_equal(jw_params_end(&p), "{\"field\":\"level\",\"left\":0}");
    w = jw_params_begin(&p, &A);
    jw_kstr(w, "allowed", "bad \xff utf-8");
    assert_null(jw_params_end(&p));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        T(test_nesting_and_commas),
        T(test_escaping),
        T(test_escaped_keys),
        T(test_embedded_nul_with_strn),
        T(test_utf8_passthrough),
        T(test_invalid_utf8_rejected),
        T(test_utf8_valid_prefix),
        T(test_error_makes_later_calls_noops),
        T(test_depth_limit),
        T(test_key_at_top_level_is_error),
        T(test_key_inside_array_is_error),
        T(test_value_without_key_in_object_is_error),
        T(test_mismatched_close_is_error),
        T(test_second_top_level_value_is_error),
        T(test_unbalanced),
        T(test_int_extremes),
        T(test_overflow_makes_not_ok),
        T(test_round_trip_through_jansson),
        T(test_params),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
