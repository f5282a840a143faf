/* unit.h — what every unit test file starts from.
 *
 * cmocka's headers in the order it needs them, the C library headers nearly every file
 * uses, and the usual fixture: an arena A, fresh before each test and freed after it, so a
 * test allocates without bookkeeping and the sanitizers see whatever it leaks beyond the
 * arena. List tests with T(test_name) to run each with the fixture.
 *
 * A file that needs more, or another, fixture says so before including this header:
 *   #define UNIT_ARENA_BYTES (16 * 1024 * 1024)   the arena's limit (default 64 MiB)
 *   #define UNIT_SETUP my_setup                    T() runs these instead of unit_setup and
 *   #define UNIT_TEARDOWN my_teardown              unit_teardown (which they may call)
 * and defines my_setup / my_teardown (int f(void **state), 0 on success) after it.
 */
#ifndef OPENSEAT_TESTS_UNIT_H
#define OPENSEAT_TESTS_UNIT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"

#ifndef UNIT_ARENA_BYTES
#define UNIT_ARENA_BYTES (64 * 1024 * 1024)
#endif
#ifndef UNIT_SETUP
#define UNIT_SETUP unit_setup
#endif
#ifndef UNIT_TEARDOWN
#define UNIT_TEARDOWN unit_teardown
#endif

/* One test, run between UNIT_SETUP and UNIT_TEARDOWN. */
#define T(f) cmocka_unit_test_setup_teardown(f, UNIT_SETUP, UNIT_TEARDOWN)

/* The test's arena (static: each test file has its own). */
static arena A;

static inline int unit_setup(void **state) {
    (void)state;
    arena_init(&A, UNIT_ARENA_BYTES);
    return 0;
}

static inline int unit_teardown(void **state) {
    (void)state;
    arena_free(&A);
    return 0;
}

/* Frees everything the test allocated so far and starts A afresh: for loops that would
 * otherwise reach the arena's limit. */
static inline void unit_arena_renew(void) {
    arena_free(&A);
    arena_init(&A, UNIT_ARENA_BYTES);
}

/* n copies of c, NUL-terminated, in A. */
static inline char *unit_repeat(char c, size_t n) {
    char *s = arena_alloc(&A, n + 1);
    memset(s, c, n);
    return s;
}

#endif
