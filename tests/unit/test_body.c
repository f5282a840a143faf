/* test_body.c — request-body parsing and the bounded field readers handlers use.
 *
 * body_parse_json is the gate between raw client bytes and jansson, so its refusals
 * (and the human-readable reason each one gives) are checked one by one. The field
 * readers are exercised against a bare request with only the arena, the field-error
 * list and the parsed body set, which is all they touch.
 */
#define UNIT_SETUP req_setup
#define UNIT_TEARDOWN req_teardown
#include "unit.h"

#include <jansson.h>

#include "core/limits.h"
#include "http/http.h"

static req R;
static char D[256];

static int req_setup(void **state) {
    memset(&R, 0, sizeof R);
    arena_init(&R.a, LIMIT_ARENA_BYTES);
    fe_init(&R.fe, &R.a);
    D[0] = 0;
    return 0;
}

static int req_teardown(void **state) {
    if (R.json) json_decref(R.json);
    R.json = NULL;
    arena_free(&R.a);
    return 0;
}

/* Parses s as the request body; fails the test on error. */
static void use_body(const char *s) {
    if (R.json) json_decref(R.json);
    R.json = NULL;
    os_err e = body_parse_json(s, strlen(s), &R.json, D, sizeof D);
    if (e != OS_OK) fail_msg("body %s refused: %s", s, D);
}

/* Expects body_parse_json to refuse data[0..n) with a reason containing needle. */
static void expect_refused(const char *data, size_t n, const char *needle) {
    json_t *j = (json_t *)&R;   /* any non-NULL value: the parser must reset it */
    D[0] = 0;
    os_err e = body_parse_json(data, n, &j, D, sizeof D);
    if (e != OS_ERR_INVALID) fail_msg("expected OS_ERR_INVALID, got %d for %.*s", e, (int)n, data);
    if (j != NULL) fail_msg("out not reset to NULL on refusal");
    if (!strstr(D, needle)) fail_msg("reason \"%s\" does not mention \"%s\"", D, needle);
}

/* For string literals: their length includes embedded NULs, excludes the terminator. */
#define REFUSE(lit, needle) expect_refused(lit, sizeof(lit) - 1, needle)

/* The code of the first field error recorded for field, or NULL. */
static const char *error_code(const char *field) {
    for (field_error *e = R.fe.head; e; e = e->next)
        if (strcmp(e->field, field) == 0) return e->code;
    return NULL;
}

static void expect_field_error(const char *field, const char *code) {
    const char *got = error_code(field);
    if (!got) fail_msg("no field error for \"%s\" (expected %s)", field, code);
    if (strcmp(got, code) != 0) fail_msg("field \"%s\": error %s, expected %s", field, got, code);
}

/* ---- body_parse_json ---------------------------------------------------------------- */

static void test_parse_valid_object(void **state) {
    const char *s = "{\"name\": \"Ann\", \"n\": 3, \"list\": [1, {\"x\": null}], \"caf\xc3\xa9\": true}";
    json_t *j = NULL;
    assert_int_equal(body_parse_json(s, strlen(s), &j, D, sizeof D), OS_OK);
    assert_non_null(j);
    assert_true(json_is_object(j));
    assert_string_equal(json_string_value(json_object_get(j, "name")), "Ann");
    assert_true(json_is_true(json_object_get(j, "caf\xc3\xa9")));
    json_decref(j);
    /* Only len bytes are parsed: trailing bytes beyond it are ignored. */
    s = "{}garbage";
    assert_int_equal(body_parse_json(s, 2, &j, D, sizeof D), OS_OK);
    json_decref(j);
}

static void test_parse_not_an_object(void **state) {
    REFUSE("[1,2]", "must be a JSON object");
    /* jansson itself refuses scalars at the top level, with its own wording. */
    REFUSE("\"text\"", "JSON");
    REFUSE("42", "JSON");
    REFUSE("null", "JSON");
}

static void test_parse_malformed_names_position(void **state) {
    REFUSE("{\"a\": }", "line 1");
    REFUSE("{\"a\": }", "column");
    const char *s = "{\n  \"a\": 1,\n  \"b\": tru\n}";
    expect_refused(s, strlen(s), "line 3");
    REFUSE("{\"a\":1,}", "malformed");
    REFUSE("{}x", "malformed");                 /* trailing data */
    REFUSE("{'a':1}", "malformed");
    REFUSE("   ", "malformed");
    REFUSE("{\"a\":\"\x01\"}", "malformed");    /* raw control char in a string */
    REFUSE("{\"a\":1}\0", "malformed");         /* NUL byte after the object */
    REFUSE("{\"a\":\"x\\u0000y\"}", "malformed");  /* escaped NUL inside a string */
}

static void test_parse_empty(void **state) { REFUSE("", "empty"); }

static void test_parse_invalid_utf8(void **state) {
    REFUSE("{\"a\":\"\xff\"}", "UTF-8");
    REFUSE("{\"a\":\"\xc0\x80\"}", "UTF-8");
    REFUSE("{\"a\":\"\xed\xa0\x80\"}", "UTF-8");
    REFUSE("{\"\xc3\":1}", "UTF-8");
}

/* An object holding depth-1 nested arrays: depth levels of nesting in all. */
static char *nested(int depth) {
    buf b;
    buf_init(&b, &R.a, 1 << 20);
    buf_puts(&b, "{\"a\":");
    for (int i = 1; i < depth; i++) buf_putc(&b, '[');
    for (int i = 1; i < depth; i++) buf_putc(&b, ']');
    buf_putc(&b, '}');
    return b.data;
}

static void test_parse_depth_limit(void **state) {
    use_body(nested(LIMIT_JSON_DEPTH));
    char *deep = nested(LIMIT_JSON_DEPTH + 1);
    expect_refused(deep, strlen(deep), "deeper");
    /* A hostile body of nothing but brackets is refused by the pre-scan. */
    static char brackets[100000];
    memset(brackets, '[', sizeof brackets);
    expect_refused(brackets, sizeof brackets, "deeper");
}

static void test_parse_brackets_in_strings_do_not_count(void **state) {
    char s[256];
    /* Brackets inside strings, including after an escaped quote, are text, not nesting. */
    snprintf(s, sizeof s, "{\"a\":\"%s\",\"b\":\"\\\"%s\",\"c\\\\\":\"]]]]\"}", "[[[[[[[[[[[[[[[[[[[[",
             "{{{{{{{{{{{{{{{{{{{{");
    use_body(s);
    assert_string_equal(json_string_value(json_object_get(R.json, "a")), "[[[[[[[[[[[[[[[[[[[[");
}

static void test_parse_duplicate_keys(void **state) {
    const char *s = "{\"email\":\"a@example.com\",\"email\":\"b@example.com\"}";
    expect_refused(s, strlen(s), "malformed");
    expect_refused(s, strlen(s), "duplicate");
}

/* ---- field readers -------------------------------------------------------------------- */

static void test_str_required_missing(void **state) {
    use_body("{\"other\": \"x\", \"nul\": null}");
    assert_null(body_str(&R, "name", 100, true));
    expect_field_error("name", "required");
    assert_null(body_str(&R, "nul", 100, true));     /* JSON null counts as absent */
    expect_field_error("nul", "required");
    assert_int_equal(R.fe.count, 2);
    /* Optional and absent: NULL without an error. */
    assert_null(body_str(&R, "name2", 100, false));
    assert_null(body_str(&R, "nul", 100, false));
    assert_int_equal(R.fe.count, 2);
}

static void test_str_without_body(void **state) {
    /* A route that received no JSON body at all. */
    assert_null(body_str(&R, "name", 100, true));
    expect_field_error("name", "required");
    assert_null(body_email(&R, "email", false));
    assert_int_equal(R.fe.count, 1);
}

static void test_str_wrong_type(void **state) {
    use_body("{\"n\": 5, \"b\": true, \"o\": {}, \"a\": [\"x\"]}");
    assert_null(body_str(&R, "n", 100, true));
    assert_null(body_str(&R, "b", 100, false));      /* wrong type is an error even when optional */
    assert_null(body_str_raw(&R, "o", 0, 100, true));
    assert_null(body_email(&R, "a", true));
    expect_field_error("n", "wrong_type");
    expect_field_error("b", "wrong_type");
    expect_field_error("o", "wrong_type");
    expect_field_error("a", "wrong_type");
    assert_int_equal(R.fe.count, 4);
}

static void test_str_too_long(void **state) {
    use_body("{\"ten\": \"0123456789\", \"eleven\": \"0123456789a\", \"padded\": \"  0123456789  \"}");
    assert_string_equal(body_str(&R, "ten", 10, true), "0123456789");   /* exactly max */
    assert_int_equal(R.fe.count, 0);
    assert_null(body_str(&R, "eleven", 10, true));
    expect_field_error("eleven", "too_long");
    assert_non_null(strstr(R.fe.head->message, "10"));
    /* The limit applies after trimming. */
    assert_string_equal(body_str(&R, "padded", 10, true), "0123456789");
    assert_int_equal(R.fe.count, 1);
}

static void test_limits_count_characters_not_bytes(void **state) {
    /* Ten accented letters are 20 bytes but ten characters, which is what a user sees. */
    use_body("{\"ten\": \"\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\","
             " \"eleven\": \"\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9x\","
             " \"emoji\": \"\\ud83d\\ude00\\ud83d\\ude00\"}");
    const char *v = body_str(&R, "ten", 10, true);
    assert_non_null(v);
    assert_int_equal(strlen(v), 20);
    assert_null(body_str(&R, "eleven", 10, true));
    expect_field_error("eleven", "too_long");
    assert_non_null(body_str_raw(&R, "ten", 10, 10, true));
    assert_int_equal(R.fe.count, 1);
    /* Two emoji are 8 bytes, two characters: within [2, 2], outside [3, ...]. */
    assert_non_null(body_str_raw(&R, "emoji", 2, 2, true));
    assert_null(body_str_raw(&R, "emoji", 3, 10, true));
    expect_field_error("emoji", "too_short");
    assert_int_equal(R.fe.count, 2);
}

static void test_str_trims_whitespace(void **state) {
    use_body("{\"name\": \" \\t Ann Lee \\n \", \"blank\": \"  \\t \", \"tab\": \"a\\tb\"}");
    assert_string_equal(body_str(&R, "name", 100, true), "Ann Lee");
    assert_string_equal(body_str(&R, "tab", 100, true), "a\tb");   /* inner tab is allowed */
    assert_int_equal(R.fe.count, 0);
    assert_null(body_str(&R, "blank", 100, false));
    assert_int_equal(R.fe.count, 0);
    assert_null(body_str(&R, "blank", 100, true));
    expect_field_error("blank", "required");
}

static void test_str_control_characters(void **state) {
    use_body("{\"a\": \"x\\u0001y\", \"b\": \"line\\nbreak\", \"c\": \"x\\u001fy\"}");
    assert_null(body_str(&R, "a", 100, true));
    assert_null(body_str(&R, "b", 100, true));
    assert_null(body_str(&R, "c", 100, true));
    expect_field_error("a", "invalid_value");
    expect_field_error("b", "invalid_value");
    expect_field_error("c", "invalid_value");
    assert_int_equal(R.fe.count, 3);
}

static void test_str_embedded_nul(void **state) {
    /* body_parse_json refuses \u0000, but the readers also guard against a string with
     * an embedded NUL (a body built some other way), which would otherwise truncate. */
    R.json = json_object();
    json_object_set_new(R.json, "z", json_stringn("a\0b", 3));
    assert_null(body_str(&R, "z", 100, true));
    expect_field_error("z", "invalid_value");
    assert_null(body_str_raw(&R, "z", 0, 100, true));
    assert_null(body_email(&R, "z", true));
    assert_int_equal(R.fe.count, 3);
}

static void test_str_raw(void **state) {
    use_body("{\"pw\": \"  secret pass  \", \"short\": \"abc\", \"long\": \"abcdefghijk\", \"empty\": \"\"}");
    /* Raw: white space is significant (passwords). */
    assert_string_equal(body_str_raw(&R, "pw", 10, 100, true), "  secret pass  ");
    assert_null(body_str_raw(&R, "short", 4, 100, true));
    expect_field_error("short", "too_short");
    assert_null(body_str_raw(&R, "long", 0, 10, true));
    expect_field_error("long", "too_long");
    assert_null(body_str_raw(&R, "empty", 0, 10, true));
    expect_field_error("empty", "required");
    assert_null(body_str_raw(&R, "missing", 0, 10, true));
    expect_field_error("missing", "required");
    assert_int_equal(R.fe.count, 4);
    assert_string_equal(body_str_raw(&R, "short", 3, 3, true), "abc");   /* inclusive bounds */
    assert_int_equal(R.fe.count, 4);
}

static void test_email(void **state) {
    use_body("{\"good\": \"  Ann@Example.COM \", \"bad\": \"not-an-address\", \"blank\": \"  \","
             " \"two\": \"a@b@example.com\"}");
    assert_string_equal(body_email(&R, "good", true), "ann@example.com");
    assert_int_equal(R.fe.count, 0);
    assert_null(body_email(&R, "bad", true));
    expect_field_error("bad", "invalid_email");
    assert_null(body_email(&R, "two", false));       /* present but invalid: error even if optional */
    expect_field_error("two", "invalid_email");
    assert_null(body_email(&R, "blank", true));
    expect_field_error("blank", "required");
    assert_null(body_email(&R, "missing", true));
    expect_field_error("missing", "required");
    assert_int_equal(R.fe.count, 4);
}

static void test_enum(void **state) {
    static const char *const langs[] = {"en", "fr", NULL};
    use_body("{\"lang\": \"fr\", \"bad\": \"de\", \"upper\": \"EN\", \"num\": 1}");
    const char *v = body_enum(&R, "lang", langs, true);
    assert_ptr_equal(v, langs[1]);                   /* the table's own string, not a copy */
    assert_int_equal(R.fe.count, 0);
    assert_null(body_enum(&R, "bad", langs, true));
    expect_field_error("bad", "invalid_value");
    assert_null(body_enum(&R, "upper", langs, false));   /* values are case-sensitive */
    expect_field_error("upper", "invalid_value");
    assert_null(body_enum(&R, "num", langs, false));
    expect_field_error("num", "wrong_type");
    assert_null(body_enum(&R, "missing", langs, false));
    assert_int_equal(R.fe.count, 3);
    assert_null(body_enum(&R, "missing", langs, true));
    expect_field_error("missing", "required");
}

static void test_errors_accumulate_in_order(void **state) {
    static const char *const roles[] = {"admin", "member", NULL};
    use_body("{\"name\": 7, \"email\": \"nope\", \"role\": \"owner\", \"ok\": \"fine\"}");
    assert_null(body_str(&R, "name", 50, true));
    assert_null(body_email(&R, "email", true));
    assert_null(body_enum(&R, "role", roles, true));
    assert_string_equal(body_str(&R, "ok", 50, true), "fine");
    assert_null(body_str_raw(&R, "password", 10, 100, true));
    assert_int_equal(R.fe.count, 4);
    assert_true(fe_any(&R.fe));
    static const char *const want[][2] = {
        {"name", "wrong_type"}, {"email", "invalid_email"}, {"role", "invalid_value"}, {"password", "required"}};
    int i = 0;
    for (field_error *e = R.fe.head; e; e = e->next, i++) {
        assert_true(i < 4);
        assert_string_equal(e->field, want[i][0]);
        assert_string_equal(e->code, want[i][1]);
        assert_non_null(e->message);
        assert_true(strlen(e->message) > 0);
    }
    assert_int_equal(i, 4);
    assert_ptr_equal(R.fe.tail->next, NULL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        T(test_parse_valid_object),
        T(test_parse_not_an_object),
        T(test_parse_malformed_names_position),
        T(test_parse_empty),
        T(test_parse_invalid_utf8),
        T(test_parse_depth_limit),
        T(test_parse_brackets_in_strings_do_not_count),
        T(test_parse_duplicate_keys),
        T(test_str_required_missing),
        T(test_str_without_body),
        T(test_str_wrong_type),
        T(test_str_too_long),
        T(test_limits_count_characters_not_bytes),
        T(test_str_trims_whitespace),
        T(test_str_control_characters),
        T(test_str_embedded_nul),
        T(test_str_raw),
        T(test_email),
        T(test_enum),
        T(test_errors_accumulate_in_order),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
