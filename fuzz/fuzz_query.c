/* fuzz_query.c — query strings through qs_parse, and raw bytes through url_decode.
 *
 * Every decoded name and value must be valid UTF-8 and exactly as long as the escapes
 * imply: a shorter strlen would mean a NUL slipped through and truncated the string,
 * which later code (SQL parameters, comparisons) would silently act on. The results are
 * also compared with a small independent decoder, so a wrongly accepted or wrongly
 * refused input is caught, not just a crash.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/json_write.h"
#include "core/limits.h"
#include "core/text.h"

#include "fuzz_check.h"
#include "fuzz_decode.h"

/* A decoded string must be valid UTF-8 with no NUL before its expected end. */
static void check_clean(const char *s, long want_len) {
    CHECK(s != NULL);
    size_t n = strlen(s);
    CHECK((long)n == want_len);
    CHECK(utf8_valid_prefix(s, n) == n);
}

static void check_url_decode(arena *a, const char *s, size_t n, bool form) {
    char *ref = arena_alloc(a, n + 1);
    long want = fuzz_ref_decode(s, n, form, ref);
    char *got = url_decode(a, s, n, form);
    if (want < 0) {
        CHECK(got == NULL);
        return;
    }
    check_clean(got, want);
    CHECK(memcmp(got, ref, (size_t)want) == 0);
    /* Encoding the result and decoding again gives it back, in either mode. */
    char *enc = url_encode(a, got);
    for (const char *p = enc; *p; p++) CHECK(*p != '+' && *p != ' ' && *p != '&' && *p != '=');
    char *back = url_decode(a, enc, strlen(enc), !form);
    CHECK(back && strcmp(back, got) == 0);
}

typedef struct ref_param {
    char *name, *value;
    long nlen, vlen;
} ref_param;

static void check_qs(arena *a, const char *s, size_t n, int max) {
    qs q;
    bool ok = qs_parse(a, s, n, max, &q);

    /* Reference: split on '&', decode every non-empty piece. */
    int pieces = 1;
    for (size_t i = 0; i < n; i++)
        if (s[i] == '&') pieces++;
    ref_param *ref = arena_alloc(a, sizeof *ref * (size_t)pieces);
    int params = 0;
    bool decodes = true;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && s[j] != '&') j++;
        if (j > i) {
            size_t eq = i;
            while (eq < j && s[eq] != '=') eq++;
            ref_param *p = &ref[params++];
            p->name = arena_alloc(a, eq - i + 1);
            p->value = arena_alloc(a, j - eq + 1);
            p->nlen = fuzz_ref_decode(s + i, eq - i, true, p->name);
            p->vlen = eq < j ? fuzz_ref_decode(s + eq + 1, j - eq - 1, true, p->value) : 0;
            if (p->nlen < 0 || p->vlen < 0) decodes = false;
        }
        i = j + 1;
    }

    /* More parameters than max must fail, and with no more separators than max the
     * outcome is exactly "every piece decodes". In between (empty pieces such as "&&"
     * pushing the separator count past max) either answer is tolerated. */
    if (params > max) {
        CHECK(!ok);
    } else if (pieces <= max || n == 0) {
        if (ok != decodes)
            fprintf(stderr, "qs_parse returned %d, reference %d, for %zu bytes (max %d)\n", ok, decodes, n, max);
        CHECK(ok == decodes);
    } else if (ok) {
        CHECK(decodes);
    }
    if (!ok) return;

    CHECK(q.count == params && q.count <= max);
    for (int k = 0; k < q.count; k++) {
        check_clean(q.items[k].name, ref[k].nlen);
        check_clean(q.items[k].value, ref[k].vlen);
        CHECK(memcmp(q.items[k].name, ref[k].name, (size_t)ref[k].nlen) == 0);
        CHECK(memcmp(q.items[k].value, ref[k].value, (size_t)ref[k].vlen) == 0);
        /* qs_get answers with the first parameter of that name. */
        const char *first = qs_get(&q, q.items[k].name);
        int f = 0;
        while (strcmp(q.items[f].name, q.items[k].name) != 0) f++;
        CHECK(first == q.items[f].value);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *s = (const char *)data;
    arena a;
    arena_init(&a, LIMIT_ARENA_BYTES);
    check_qs(&a, s, size, LIMIT_QUERY_PARAMS);
    check_qs(&a, s, size, 3);   /* a small maximum, so the limit path is reached often */
    check_url_decode(&a, s, size, true);
    check_url_decode(&a, s, size, false);
    arena_free(&a);
    return 0;
}
