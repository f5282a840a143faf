/* test_buf.c — the bounded byte buffer every response and log line is written into.
 *
 * The hard maximum is the property that matters: writers append many pieces and check
 * once at the end, so a refused append must leave the contents untouched and every
 * later append must be refused too (sticky overflow), whichever append function is used.
 */
#include "unit.h"

#include "core/buf.h"

static void test_append_puts_printf(void **state) {
    buf b;
    buf_init(&b, &A, 1024);
    assert_true(buf_append(&b, "ab\0cd", 5));   /* binary-safe: the NUL is kept */
    assert_int_equal(b.len, 5);
    assert_memory_equal(b.data, "ab\0cd", 5);
    assert_int_equal(b.data[5], 0);               /* always terminated */
    buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_string_equal(b.data, "");
    assert_true(buf_puts(&b, "hello"));
    assert_true(buf_putc(&b, ' '));
    assert_true(buf_printf(&b, "%s #%d", "world", 7));
    assert_true(buf_append(&b, "", 0));
    assert_string_equal(b.data, "hello world #7");
    assert_int_equal(b.len, strlen("hello world #7"));
    assert_false(b.overflow);
}

static void test_empty_append_allocates_terminated_storage(void **state) {
    buf b;
    buf_init(&b, NULL, 100);
    assert_null(b.data);
    assert_true(buf_append(&b, "", 0));
    assert_non_null(b.data);
    assert_string_equal(b.data, "");
    buf_release(&b);
    assert_null(b.data);
}

static void test_max_enforced_and_sticky(void **state) {
    buf b;
    buf_init(&b, &A, 10);
    assert_true(buf_puts(&b, "0123456789"));      /* exactly max fits */
    assert_int_equal(b.len, 10);
    assert_false(b.overflow);
    assert_false(buf_putc(&b, 'x'));              /* one past max does not */
    assert_true(b.overflow);
    assert_string_equal(b.data, "0123456789");

    buf_init(&b, &A, 10);
    assert_true(buf_puts(&b, "abc"));
    assert_false(buf_puts(&b, "defghijk"));       /* 11 > 10: refused whole, not truncated */
    assert_true(b.overflow);
    assert_string_equal(b.data, "abc");
    /* Sticky: even appends that would fit are refused now. */
    assert_false(buf_putc(&b, 'd'));
    assert_false(buf_append(&b, "d", 1));
    assert_false(buf_printf(&b, "%d", 1));
    assert_string_equal(b.data, "abc");
    assert_int_equal(b.len, 3);
    assert_true(b.overflow);
    /* buf_reset starts over and clears the flag. */
    buf_reset(&b);
    assert_false(b.overflow);
    assert_true(buf_puts(&b, "xyz"));
    assert_string_equal(b.data, "xyz");
}

static void test_overflow_sticky_for_long_printf(void **state) {
    /* A printf longer than the internal stack buffer takes a separate path; it must
     * honour the sticky flag like every other append. */
    buf b;
    buf_init(&b, &A, 1000);
    assert_true(buf_puts(&b, "head"));
    assert_false(buf_append(&b, unit_repeat('z', 1000), 1000));
    assert_true(b.overflow);
    const char *long_text = unit_repeat('q', 300);
    assert_false(buf_printf(&b, "%s", long_text));
    assert_int_equal(b.len, 4);
    assert_string_equal(b.data, "head");
    assert_true(b.overflow);
}

static void test_long_printf(void **state) {
    buf b;
    buf_init(&b, &A, 100000);
    assert_true(buf_puts(&b, ">"));
    const char *s = unit_repeat('k', 5000);
    assert_true(buf_printf(&b, "%s|%d", s, 12345));
    assert_int_equal(b.len, 1 + 5000 + 6);
    assert_int_equal(b.data[0], '>');
    assert_int_equal(b.data[1], 'k');
    assert_int_equal(b.data[5000], 'k');
    assert_string_equal(b.data + 5001, "|12345");
    assert_int_equal(strlen(b.data), b.len);
    /* Appending after the long path keeps the buffer consistent. */
    assert_true(buf_puts(&b, "!"));
    assert_string_equal(b.data + 5001, "|12345!");
    assert_false(b.overflow);
}

static void test_long_printf_past_max(void **state) {
    buf b;
    buf_init(&b, &A, 1000);
    assert_true(buf_puts(&b, "keep"));
    assert_false(buf_printf(&b, "%s", unit_repeat('w', 997)));   /* 4 + 997 > 1000 */
    assert_true(b.overflow);
    assert_int_equal(b.len, 4);
    assert_string_equal(b.data, "keep");

    buf_init(&b, &A, 1000);
    assert_true(buf_puts(&b, "keep"));
    assert_true(buf_printf(&b, "%s", unit_repeat('w', 996)));    /* exactly max */
    assert_int_equal(b.len, 1000);
    assert_int_equal(strlen(b.data), 1000);
    assert_false(b.overflow);
}

static void test_heap_release_and_detach(void **state) {
    buf b;
    buf_init(&b, NULL, 1 << 20);
    for (int i = 0; i < 1000; i++) assert_true(buf_printf(&b, "%03d,", i));
    assert_int_equal(b.len, 4000);
    assert_memory_equal(b.data, "000,001,", 8);
    assert_memory_equal(b.data + 3996, "999,", 4);
    char *owned = buf_detach(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(strlen(owned), 4000);
    free(owned);

    /* Detach of a never-written buffer still hands back a string the caller can free. */
    buf_init(&b, NULL, 10);
    char *empty = buf_detach(&b);
    assert_non_null(empty);
    assert_string_equal(empty, "");
    free(empty);

    /* The buffer is reusable after release. */
    buf_init(&b, NULL, 50);
    assert_true(buf_puts(&b, "one"));
    buf_release(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_true(buf_puts(&b, "two"));
    assert_string_equal(b.data, "two");
    buf_release(&b);
}

static void test_arena_growth_keeps_content(void **state) {
    buf b;
    buf_init(&b, &A, 1 << 20);
    /* Many small appends force several reallocations out of the arena; each must
     * copy what was there before. */
    for (int i = 0; i < 20000; i++) assert_true(buf_putc(&b, (char)('a' + i % 26)));
    assert_int_equal(b.len, 20000);
    assert_true(b.cap > b.len);
    for (int i = 0; i < 20000; i++) assert_int_equal(b.data[i], 'a' + i % 26);
    assert_int_equal(b.data[20000], 0);
}

static void test_arena_exhaustion_is_overflow(void **state) {
    /* The buffer's own max is generous, but the arena behind it is not: running out of
     * arena must be reported as overflow, never crash or lose earlier content. */
    arena small;
    arena_init(&small, 2048);
    buf b;
    buf_init(&b, &small, 1 << 20);
    bool ok = true;
    size_t written = 0;
    for (int i = 0; i < 5000 && ok; i++) {
        ok = buf_putc(&b, 'm');
        if (ok) written++;
    }
    assert_false(ok);
    assert_true(b.overflow);
    assert_int_equal(b.len, written);
    assert_true(written > 0);
    for (size_t i = 0; i < written; i++) assert_int_equal(b.data[i], 'm');
    assert_int_equal(b.data[written], 0);
    arena_free(&small);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        T(test_append_puts_printf),
        T(test_empty_append_allocates_terminated_storage),
        T(test_max_enforced_and_sticky),
        T(test_overflow_sticky_for_long_printf),
        T(test_long_printf),
        T(test_long_printf_past_max),
        T(test_heap_release_and_detach),
        T(test_arena_growth_keeps_content),
        T(test_arena_exhaustion_is_overflow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
