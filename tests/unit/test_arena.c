/* test_arena.c — the per-request region allocator.
 *
 * Every request's memory comes from here, so the properties that callers silently rely
 * on are pinned down: zeroed memory, max_align_t alignment (structs with doubles and
 * int64 fields are carved out of it), growth across blocks without corrupting earlier
 * allocations, and the byte limit that bounds what one hostile request can consume —
 * and what happens when it is reached: an armed arena jumps to its request's escape, the
 * cleanups registered on it run when it is freed, child arenas count against their parent
 * and go with it, and a buf growing in an armed arena jumps too.
 */
#include "unit.h"

#include "core/buf.h"

#define ALIGN _Alignof(max_align_t)

static bool all_zero(const unsigned char *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (p[i]) return false;
    return true;
}

static void test_alloc_is_zeroed(void **state) {
    arena a;
    arena_init(&a, 1 << 20);
    /* Dirty a first allocation, free the arena and allocate again: a fresh block from
     * malloc may reuse the dirty memory, and callers still expect zeroes. */
    unsigned char *p = arena_alloc(&a, 4000);
    memset(p, 0xAB, 4000);
    arena_free(&a);
    for (int round = 0; round < 8; round++) {
        unsigned char *q = arena_alloc(&a, 1000);
        assert_non_null(q);
        assert_true(all_zero(q, 1000));
        memset(q, 0xCD, 1000);
    }
    arena_free(&a);
}

static void test_alignment(void **state) {
    arena a;
    arena_init(&a, 1 << 20);
    /* Odd sizes would misalign the next pointer if the arena rounded nothing up. */
    static const size_t sizes[] = {1, 3, 7, 8, 9, 15, 17, 31, 33, 100, 0, 5, 4095, 1};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        void *p = arena_alloc(&a, sizes[i]);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % ALIGN, 0);
    }
    arena_free(&a);
}

static void test_many_allocations_span_blocks(void **state) {
    arena a;
    arena_init(&a, 64 << 20);
    enum { N = 5000, SZ = 37 };
    static unsigned char *ptrs[N];
    /* 5000 * 48 bytes is far beyond the first block, so several blocks are chained.
     * Each allocation carries its own pattern; any overlap between blocks or between
     * neighbours shows up as a wrong byte later. */
    for (int i = 0; i < N; i++) {
        ptrs[i] = arena_alloc(&a, SZ);
        assert_int_equal((uintptr_t)ptrs[i] % ALIGN, 0);
        memset(ptrs[i], (unsigned char)(i * 7 + 1), SZ);
    }
    for (int i = 0; i < N; i++)
        for (int k = 0; k < SZ; k++)
            assert_int_equal(ptrs[i][k], (unsigned char)(i * 7 + 1));
    assert_int_equal(a.used_total, (size_t)N * SZ);
    arena_free(&a);
}

static void test_large_allocation_bigger_than_a_block(void **state) {
    arena a;
    arena_init(&a, 64 << 20);
    char *small = arena_strdup(&a, "before");
    size_t big = 10u << 20;   /* larger than the biggest regular block */
    unsigned char *p = arena_alloc(&a, big);
    assert_non_null(p);
    assert_int_equal((uintptr_t)p % ALIGN, 0);
    assert_true(all_zero(p, big));
    memset(p, 0x5A, big);
    char *after = arena_strdup(&a, "after");
    assert_string_equal(small, "before");
    assert_string_equal(after, "after");
    assert_int_equal(p[0], 0x5A);
    assert_int_equal(p[big - 1], 0x5A);
    arena_free(&a);
}

static void test_try_alloc_enforces_limit(void **state) {
    arena a;
    arena_init(&a, 1000);
    assert_non_null(arena_try_alloc(&a, 600));
    assert_non_null(arena_try_alloc(&a, 400));     /* exactly at the limit is allowed */
    assert_int_equal(a.used_total, 1000);
    assert_null(arena_try_alloc(&a, 1));           /* one byte past it is not */
    assert_int_equal(a.used_total, 1000);          /* a refusal consumes nothing */
    arena_free(&a);

    arena_init(&a, 1000);
    assert_null(arena_try_alloc(&a, 1001));
    /* Sizes near SIZE_MAX must not wrap around the limit arithmetic. */
    assert_null(arena_try_alloc(&a, SIZE_MAX));
    assert_null(arena_try_alloc(&a, SIZE_MAX - 8));
    assert_non_null(arena_try_alloc(&a, 10));
    assert_null(arena_try_alloc(&a, SIZE_MAX - 5));
    assert_int_equal(a.used_total, 10);
    arena_free(&a);
}

static void test_strdup_strndup(void **state) {
    arena a;
    arena_init(&a, 1 << 20);
    const char *src = "hello, world";
    char *d = arena_strdup(&a, src);
    assert_ptr_not_equal(d, src);
    assert_string_equal(d, src);
    char *n = arena_strndup(&a, src, 5);
    assert_string_equal(n, "hello");
    char *e = arena_strdup(&a, "");
    assert_string_equal(e, "");
    arena_free(&a);
}

static void test_printf(void **state) {
    arena a;
    arena_init(&a, 1 << 20);
    char *s = arena_printf(&a, "%s-%d-%05.1f", "id", 42, 3.14159);
    assert_string_equal(s, "id-42-003.1");
    /* Longer than any plausible internal scratch buffer. */
    char big[3000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    char *t = arena_printf(&a, "[%s]", big);
    assert_int_equal(strlen(t), sizeof big + 1);
    assert_int_equal(t[0], '[');
    assert_int_equal(t[sizeof big], ']');
    assert_int_equal(t[1500], 'x');
    char *e = arena_printf(&a, "%s", "");
    assert_string_equal(e, "");
    arena_free(&a);
}

static void test_free_then_reuse(void **state) {
    arena a;
    arena_init(&a, 4096);
    for (int round = 0; round < 3; round++) {
        /* Fill the arena to its limit each round: if arena_free did not reset the
         * byte count, the second round would be refused. */
        assert_non_null(arena_try_alloc(&a, 4000));
        assert_null(arena_try_alloc(&a, 200));
        char *s = arena_printf(&a, "round %d", round);
        char expect[16];
        snprintf(expect, sizeof expect, "round %d", round);
        assert_string_equal(s, expect);
        arena_free(&a);
        assert_null(a.head);
        assert_int_equal(a.used_total, 0);
        assert_int_equal(a.limit, 4096);
    }
    arena_free(&a);   /* freeing an empty arena is harmless */
}

/* ---- exhaustion, cleanups, children ---- */

static int cleaned[8], ncleaned;
static void note(void *ud) { cleaned[ncleaned++] = (int)(intptr_t)ud; }

static void test_armed_arena_jumps_instead_of_aborting(void **state) {
    (void)state;
    arena a;
    arena_init(&a, 64 * 1024);
    jmp_buf escape;
    volatile int allocations = 0;
    ncleaned = 0;
    if (setjmp(escape) == 0) {
        arena_arm(&a, &escape);
        arena_defer(&a, note, (void *)(intptr_t)1);
        for (;;) {             /* would abort() when unarmed */
            arena_alloc(&a, 1000);
            allocations++;
        }
    }
    arena_arm(&a, NULL);
    assert_false(arena_armed(&a));
    assert_true(allocations >= 60 && allocations < 66);
    assert_true(a.used_total <= a.limit);
    assert_int_equal(ncleaned, 0);       /* cleanups wait for arena_free */
    arena_free(&a);
    assert_int_equal(ncleaned, 1);
    assert_int_equal(cleaned[0], 1);
}

static void test_cleanups_run_newest_first_once_unless_cancelled(void **state) {
    (void)state;
    arena a;
    arena_init(&a, 1 << 20);
    ncleaned = 0;
    arena_defer(&a, note, (void *)(intptr_t)1);
    arena_cleanup *c = arena_defer(&a, note, (void *)(intptr_t)2);
    arena_defer(&a, note, (void *)(intptr_t)3);
    arena_undefer(c);
    arena_undefer(NULL);
    arena_free(&a);
    assert_int_equal(ncleaned, 2);
    assert_int_equal(cleaned[0], 3);
    assert_int_equal(cleaned[1], 1);
    arena_free(&a);                      /* ran once: the list went with the first free */
    assert_int_equal(ncleaned, 2);
}

static void test_child_counts_against_parent_and_goes_with_it(void **state) {
    (void)state;
    arena a;
    arena_init(&a, 256 * 1024);
    arena *child = arena_child(&a, 1 << 20);
    size_t before = a.used_total;
    assert_non_null(arena_try_alloc(child, 100 * 1024));
    assert_true(a.used_total >= before + 100 * 1024);
    /* The child's own limit is larger, the parent's is not: refused. */
    assert_null(arena_try_alloc(child, 200 * 1024));
    arena_free(child);                   /* emptied: its share given back */
    assert_int_equal(a.used_total, before);
    assert_non_null(arena_try_alloc(child, 200 * 1024));
    /* Armed through its parent; a jump from it lands at the parent's escape. */
    jmp_buf escape;
    volatile bool jumped = false;
    ncleaned = 0;
    arena_defer(child, note, (void *)(intptr_t)7);
    if (setjmp(escape) == 0) {
        arena_arm(&a, &escape);
        assert_true(arena_armed(child));
        arena_alloc(child, 100 * 1024);
    } else {
        jumped = true;
    }
    arena_arm(&a, NULL);
    assert_true(jumped);
    arena_free(&a);                      /* frees the child's blocks and runs its cleanups */
    assert_int_equal(ncleaned, 1);
    assert_int_equal(cleaned[0], 7);
    assert_int_equal(a.used_total, 0);
}

static void test_buf_in_armed_arena_jumps_past_the_arena_not_past_its_max(void **state) {
    (void)state;
    arena a;
    arena_init(&a, 64 * 1024);
    buf small;
    buf_init(&small, &a, 600);
    jmp_buf escape;
    volatile bool jumped = false;
    if (setjmp(escape) == 0) {
        arena_arm(&a, &escape);
        /* Its own maximum: overflow, as always. */
        char chunk[512] = {0};
        memset(chunk, 'x', sizeof chunk - 1);
        assert_true(buf_puts(&small, chunk));
        assert_false(buf_puts(&small, chunk));
        assert_true(small.overflow);
        /* The arena's: a jump. */
        buf big;
        buf_init(&big, &a, 1 << 20);
        for (int i = 0; i < 1000; i++) buf_puts(&big, chunk);
    } else {
        jumped = true;
    }
    arena_arm(&a, NULL);
    assert_true(jumped);
    /* Unarmed, the same growth is an overflow again. */
    buf big;
    buf_init(&big, &a, 1 << 20);
    char chunk[512] = {0};
    memset(chunk, 'y', sizeof chunk - 1);
    bool ok = true;
    for (int i = 0; i < 1000 && ok; i++) ok = buf_puts(&big, chunk);
    assert_false(ok);
    assert_true(big.overflow);
    arena_free(&a);
}

typedef struct sink_out {
    char data[8192];
    size_t len;
    int calls;
} sink_out;

static bool to_out(void *ud, const char *p, size_t n) {
    sink_out *o = ud;
    if (o->len + n > sizeof o->data) return false;
    memcpy(o->data + o->len, p, n);
    o->len += n;
    o->calls++;
    return true;
}

static void test_sink_buffer_hands_on_chunks(void **state) {
    (void)state;
    arena a;
    arena_init(&a, 1 << 20);
    sink_out o = {.len = 0};
    buf b;
    buf_init_sink(&b, &a, 64, 256, to_out, &o);
    for (int i = 0; i < 100; i++) buf_printf(&b, "%03d,", i);
    assert_true(b.len <= 64);
    assert_true(buf_flush(&b));
    assert_int_equal(o.len, 400);
    assert_true(o.calls >= 6);
    assert_memory_equal(o.data, "000,001,002,", 12);
    assert_memory_equal(o.data + 396, "099,", 4);
    /* A piece larger than the chunk but within max goes through whole. */
    char piece[200];
    memset(piece, 'z', sizeof piece);
    assert_true(buf_append(&b, piece, sizeof piece));
    assert_true(buf_flush(&b));
    assert_int_equal(o.len, 600);
    /* Past max: overflow. */
    char huge[300] = {0};
    assert_false(buf_append(&b, huge, sizeof huge));
    assert_true(b.overflow);
    arena_free(&a);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alloc_is_zeroed),
        cmocka_unit_test(test_alignment),
        cmocka_unit_test(test_many_allocations_span_blocks),
        cmocka_unit_test(test_large_allocation_bigger_than_a_block),
        cmocka_unit_test(test_try_alloc_enforces_limit),
        cmocka_unit_test(test_strdup_strndup),
        cmocka_unit_test(test_printf),
        cmocka_unit_test(test_free_then_reuse),
        cmocka_unit_test(test_armed_arena_jumps_instead_of_aborting),
        cmocka_unit_test(test_cleanups_run_newest_first_once_unless_cancelled),
        cmocka_unit_test(test_child_counts_against_parent_and_goes_with_it),
        cmocka_unit_test(test_buf_in_armed_arena_jumps_past_the_arena_not_past_its_max),
        cmocka_unit_test(test_sink_buffer_hands_on_chunks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
