/* test_audit_cursor.c — the activity stream's cursor: what audit_cursor_format writes,
 * audit_cursor_parse reads back, and nothing else. */
#include "unit.h"

#include "domain/audit.h"

static void test_round_trip(void **state) {
    (void)state;
    const audit_pos cases[] = {{0, 0}, {0, 1}, {3, 17}, {744, 123456789}, {INT64_MAX, INT64_MAX}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[AUDIT_CURSOR_LEN + 1];
        audit_cursor_format(cases[i], text);
        assert_int_equal(strlen(text), AUDIT_CURSOR_LEN);
        audit_pos back = {-1, -1};
        assert_true(audit_cursor_parse(text, &back));
        assert_true(back.tx == cases[i].tx && back.id == cases[i].id);
    }
}

static void test_fixed_shape(void **state) {
    (void)state;
    char text[AUDIT_CURSOR_LEN + 1];
    audit_cursor_format((audit_pos){0x2f1, 0x137}, text);
    assert_string_equal(text, "00000000000002f10000000000000137");
}

static void test_refuses_what_it_did_not_write(void **state) {
    (void)state;
    const char *bad[] = {
        "",
        "end",
        "0000000000000000000000000000000",     /* 31 digits */
        "000000000000000000000000000000000",   /* 33 */
        "0000000000000000000000000000000g",
        "00000000000002F10000000000000137",     /* upper case: not written */
        "80000000000000000000000000000000",     /* tx past int64 */
        "00000000000000008000000000000000",     /* id past int64 */
        " 0000000000000000000000000000000",
        "-000000000000001000000000000000",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        audit_pos p = {42, 42};
        bool ok = audit_cursor_parse(bad[i], &p);
        assert_false(ok);
        assert_true(p.tx == 42 && p.id == 42);
    }
    audit_pos p;
    assert_false(audit_cursor_parse(NULL, &p));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_fixed_shape),
        cmocka_unit_test(test_refuses_what_it_did_not_write),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
