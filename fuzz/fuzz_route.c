/* fuzz_route.c — raw request-target paths through the router (route_request).
 *
 * Input: the first byte picks the method, the rest is the path exactly as a client could
 * send it (any bytes, NUL included — the server counts a raw NUL in the length). The
 * router must refuse exactly the paths a small independent decoder refuses (a NUL, a
 * malformed escape, not UTF-8 once decoded), give back the decoded path unshortened,
 * pick the same route as an independent segment-by-segment matcher (first in table
 * order; 405 versus 404 told apart the same way), and hand over parameters that are
 * whole segments as sent, decoded once. The table has the real table's shapes: literal
 * paths, {param} segments, routes sharing a prefix, trailing wildcards, GET and others.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/json_write.h"
#include "http/http.h"

#include "fuzz_check.h"
#include "fuzz_decode.h"

static const route ROUTES[] = {
    {"GET", "/api/v1/session", ACCESS_PUBLIC, BODY_NONE, NULL, "a", CTX_NONE, 0, false},
    {"POST", "/api/v1/session", ACCESS_PUBLIC, BODY_JSON, NULL, "b", CTX_NONE, 0, false},
    {"DELETE", "/api/v1/session", ACCESS_USER, BODY_NONE, NULL, "c", CTX_NONE, 0, false},
    {"GET", "/api/v1/lsc/licenses/{license}", ACCESS_USER, BODY_NONE, NULL, "d", CTX_NONE, 0, false},
    {"GET", "/api/v1/lsc/licenses/{license}/handoff", ACCESS_USER, BODY_NONE, NULL, "e", CTX_NONE, 0, false},
    {"GET", "/api/v1/agreements/{license}", ACCESS_AGREEMENT, BODY_NONE, NULL, "f", CTX_NONE, 0, false},
    {"GET", "/api/v1/agreements/{license}/overview", ACCESS_AGREEMENT, BODY_NONE, NULL, "g", CTX_NONE, 0, false},
    {"POST", "/api/v1/agreements/{license}/subscriptions/bulk", ACCESS_AGREEMENT, BODY_UPLOAD, NULL, "h", CTX_NONE, 0, false},
    {"GET", "/api/v1/agreements/{license}/subscriptions/export", ACCESS_AGREEMENT, BODY_NONE, NULL, "i", CTX_NONE, 0, false},
    {"GET", "/api/v1/agreements/{license}/subscriptions/{id}", ACCESS_AGREEMENT, BODY_NONE, NULL, "j", CTX_NONE, 0, false},
    {"PATCH", "/api/v1/agreements/{license}/subscriptions/{id}", ACCESS_AGREEMENT, BODY_JSON, NULL, "k", CTX_NONE, 0, false},
    {"DELETE", "/api/v1/agreements/{license}/jobs/{job}", ACCESS_AGREEMENT, BODY_NONE, NULL, "l", CTX_NONE, 0, false},
    {"GET", "/api/v1/agreements/{license}/activity.csv", ACCESS_AGREEMENT, BODY_NONE, NULL, "m", CTX_NONE, 0, false},
    {"GET", "/healthz", ACCESS_PUBLIC, BODY_NONE, NULL, "n", CTX_NONE, 0, false},
    {"GET", "/", ACCESS_PUBLIC, BODY_NONE, NULL, "o", CTX_NONE, 0, false},
    {"GET", "/agreements/*", ACCESS_PUBLIC, BODY_NONE, NULL, "p", CTX_NONE, 0, false},
    {"GET", "/css/*", ACCESS_PUBLIC, BODY_NONE, NULL, "q", CTX_NONE, 0, false},
};
#define NROUTES ((int)(sizeof ROUTES / sizeof ROUTES[0]))

static const char *const METHODS[] = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"};

/* Splits s[0..n) at every '/' into at most max segments; -1 when there are more. */
typedef struct seg {
    const char *p;
    size_t n;
} seg;

static int split(const char *s, size_t n, seg *out, int max) {
    int k = 0;
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || s[i] == '/') {
            if (k == max) return -1;
            out[k++] = (seg){s + start, i - start};
            start = i + 1;
        }
    }
    return k;
}

/* Segment-by-segment reference: a literal segment equals, a {param} segment is any
 * non-empty one, a final "*" takes whatever follows (the segments before it match). */
static bool ref_match(const char *pattern, const char *path, size_t n) {
    seg ps[32], us[1100];
    int np = split(pattern, strlen(pattern), ps, 32);
    int nu = split(path, n, us, 1100);
    CHECK(np > 0 && nu > 0);
    bool wild = ps[np - 1].n == 1 && ps[np - 1].p[0] == '*';
    if (wild ? nu < np : nu != np) return false;
    for (int i = 0; i < (wild ? np - 1 : np); i++) {
        if (ps[i].n && ps[i].p[0] == '{') {
            if (us[i].n == 0) return false;
        } else if (ps[i].n != us[i].n || memcmp(ps[i].p, us[i].p, us[i].n) != 0) {
            return false;
        }
    }
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1 || size > 2048) return 0;
    const char *method = METHODS[data[0] % (sizeof METHODS / sizeof METHODS[0])];
    const char *raw = (const char *)data + 1;
    size_t n = size - 1;

    arena a;
    arena_init(&a, 1u << 20);
    route_result rr;
    route_outcome ro = route_request(&a, ROUTES, NROUTES, method, raw, n, &rr);

    char *ref = arena_alloc(&a, n + 1);
    long want = fuzz_ref_decode(raw, n, false, ref);
    if (want < 0) {
        CHECK(ro == ROUTE_BAD_PATH);
        arena_free(&a);
        return 0;
    }
    CHECK(ro != ROUTE_BAD_PATH);
    CHECK(rr.path && (long)strlen(rr.path) == want && memcmp(rr.path, ref, (size_t)want) == 0);

    /* No NUL in raw from here on (the decoder refused it), so raw[0..n) is a string. */
    int want_index = -1;
    bool want_path = false;
    for (int i = 0; i < NROUTES && want_index < 0; i++) {
        if (!ref_match(ROUTES[i].pattern, raw, n)) continue;
        want_path = true;
        if (!strcmp(ROUTES[i].method, method) || (!strcmp(method, "HEAD") && !strcmp(ROUTES[i].method, "GET")))
            want_index = i;
    }
    if (want_index >= 0) {
        CHECK(ro == ROUTE_FOUND && rr.index == want_index);
    } else {
        CHECK(rr.index == -1);
        CHECK(ro == (want_path ? ROUTE_WRONG_METHOD : ROUTE_NO_PATH));
        arena_free(&a);
        return 0;
    }

    /* Parameters: one per {…} of the pattern, each a whole non-empty segment as sent,
     * decoded exactly once; putting them back into the pattern gives the path. */
    const char *pat = ROUTES[rr.index].pattern;
    int braces = 0;
    for (const char *p = pat; *p; p++) braces += *p == '{';
    CHECK(rr.nparams == braces);
    char *back = arena_alloc(&a, n + strlen(pat) + 1);
    size_t o = 0;
    int k = 0;
    for (const char *p = pat; *p;) {
        if (*p == '{') {
            CHECK(k < rr.nparams);
            size_t len = rr.raw_param_len[k];
            CHECK(len > 0 && memchr(rr.raw_params[k], '/', len) == NULL);
            char *dec = arena_alloc(&a, len + 1);
            long dl = fuzz_ref_decode(rr.raw_params[k], len, false, dec);
            CHECK(dl >= 0 && rr.params[k] && (long)strlen(rr.params[k]) == dl && !memcmp(rr.params[k], dec, (size_t)dl));
            memcpy(back + o, rr.raw_params[k], len);
            o += len;
            k++;
            p = strchr(p, '}') + 1;
        } else if (*p == '*' && p[1] == 0) {
            size_t rest = n - o;
            memcpy(back + o, raw + o, rest);   /* the wildcard's part is the path's own tail */
            o += rest;
            p++;
        } else {
            back[o++] = *p++;
        }
    }
    CHECK(o == n && memcmp(back, raw, n) == 0);
    arena_free(&a);
    return 0;
}
