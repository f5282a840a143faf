/* test_route.c — route lookup: literal paths, {param} captures and trailing wildcards.
 *
 * The matcher decides which handler and which access rule apply to a URL, so a loose
 * match (a prefix, a capture spanning '/') would route requests to the wrong place.
 * The distinction between "no such path" (404) and "path exists, wrong method" (405)
 * is checked through path_matched.
 */
#include "unit.h"

#include "http/server.h"

/* Only method and pattern matter to the matcher. */
static const route ROUTES[] = {
    {"GET", "/api/v1/session", ACCESS_PUBLIC, BODY_NONE, NULL, "session_get", CTX_NONE, 0, false},          /* 0 */
    {"POST", "/api/v1/session", ACCESS_PUBLIC, BODY_JSON, NULL, "session_create", CTX_NONE, 0, false},      /* 1 */
    {"DELETE", "/api/v1/session", ACCESS_USER, BODY_NONE, NULL, "session_delete", CTX_NONE, 0, false},      /* 2 */
    {"GET", "/api/v1/accounts/{id}", ACCESS_USER, BODY_NONE, NULL, "account_get", CTX_NONE, 0, false},      /* 3 */
    {"PUT", "/api/v1/accounts/{id}/members/{member}", ACCESS_USER, BODY_JSON, NULL, "member_put", CTX_NONE, 0, false}, /* 4 */
    {"GET", "/api/v1/accounts/me", ACCESS_USER, BODY_NONE, NULL, "account_me", CTX_NONE, 0, false},         /* 5 */
    {"GET", "/static/*", ACCESS_PUBLIC, BODY_NONE, NULL, "static", CTX_NONE, 0, false},                     /* 6 */
    {"POST", "/api/v1/signup", ACCESS_PUBLIC, BODY_JSON, NULL, "signup", CTX_NONE, 0, false},               /* 7 */
    {"GET", "/", ACCESS_PUBLIC, BODY_NONE, NULL, "index", CTX_NONE, 0, false},                              /* 8 */
};
#define NROUTES ((int)(sizeof ROUTES / sizeof ROUTES[0]))

static const char *P[MAX_PATH_PARAMS];
static int NP;
static bool PM;

/* path_matched starts out true, so a matcher that forgot to clear it is caught. */
static int match(const char *method, const char *path) {
    memset(P, 0, sizeof P);
    NP = -1;
    PM = true;
    return route_match(ROUTES, NROUTES, method, path, P, &NP, &PM);
}

/* The path exists but not for this method: -1 with path_matched set (from false). */
static void expect_wrong_method(const char *method, const char *path) {
    NP = -1;
    PM = false;
    int i = route_match(ROUTES, NROUTES, method, path, P, &NP, &PM);
    if (i != -1) fail_msg("%s %s matched route %d", method, path, i);
    if (!PM) fail_msg("%s %s: path_matched not set", method, path);
}

/* A capture points into the path; its extent is up to the next '/'. */
static void expect_param(int i, const char *want) {
    assert_non_null(P[i]);
    size_t n = strcspn(P[i], "/");
    if (n != strlen(want) || strncmp(P[i], want, n) != 0)
        fail_msg("param %d is \"%.*s\", expected \"%s\"", i, (int)n, P[i], want);
}

static void expect_no_path(const char *method, const char *path) {
    int i = match(method, path);
    if (i != -1) fail_msg("%s %s matched route %d", method, path, i);
    if (PM) fail_msg("%s %s: path_matched set for a path no route has", method, path);
}

static void test_exact_match(void **state) {
    assert_int_equal(match("GET", "/api/v1/session"), 0);
    assert_true(PM);
    assert_int_equal(NP, 0);
    assert_int_equal(match("POST", "/api/v1/session"), 1);
    assert_int_equal(match("DELETE", "/api/v1/session"), 2);
    assert_int_equal(match("POST", "/api/v1/signup"), 7);
    assert_int_equal(match("GET", "/"), 8);
    assert_int_equal(NP, 0);
}

static void test_param_capture(void **state) {
    assert_int_equal(match("GET", "/api/v1/accounts/42"), 3);
    assert_int_equal(NP, 1);
    expect_param(0, "42");
    assert_int_equal(match("PUT", "/api/v1/accounts/7/members/abc%20d"), 4);
    assert_int_equal(NP, 2);
    expect_param(0, "7");
    expect_param(1, "abc%20d");   /* raw: decoding is the pipeline's job */
}

static void test_param_needs_one_whole_segment(void **state) {
    expect_no_path("GET", "/api/v1/accounts/");            /* empty capture */
    expect_no_path("GET", "/api/v1/accounts");
    expect_no_path("GET", "/api/v1/accounts/42/extra");    /* a capture never spans '/' */
    expect_no_path("PUT", "/api/v1/accounts/7/members/");
    expect_no_path("PUT", "/api/v1/accounts//members/x");
}

static void test_first_route_in_table_order_wins(void **state) {
    /* "me" also fits {id}; the earlier entry decides. */
    assert_int_equal(match("GET", "/api/v1/accounts/me"), 3);
    expect_param(0, "me");
}

static void test_wildcard(void **state) {
    assert_int_equal(match("GET", "/static/app.js"), 6);
    assert_int_equal(match("GET", "/static/js/pages/account.js"), 6);
    assert_int_equal(match("GET", "/static/"), 6);          /* the rest may be empty */
    assert_int_equal(NP, 0);
    expect_no_path("GET", "/static");                      /* but the literal part may not be cut */
    expect_no_path("GET", "/staticx/app.js");
}

static void test_method_mismatch(void **state) {
    expect_wrong_method("PATCH", "/api/v1/session");
    expect_wrong_method("POST", "/api/v1/accounts/9");
    expect_wrong_method("DELETE", "/static/x.css");
    expect_wrong_method("get", "/api/v1/session");      /* methods are case-sensitive */
}

static void test_head_matches_get(void **state) {
    assert_int_equal(match("HEAD", "/api/v1/session"), 0);
    assert_int_equal(match("HEAD", "/api/v1/accounts/5"), 3);
    expect_param(0, "5");
    assert_int_equal(match("HEAD", "/static/a.png"), 6);
    /* Only GET routes answer HEAD. */
    expect_wrong_method("HEAD", "/api/v1/signup");
}

static void test_unknown_path(void **state) {
    expect_no_path("GET", "/nope");
    expect_no_path("GET", "");
    expect_no_path("POST", "/api/v2/session");
    expect_no_path("GET", "//");
}

static void test_no_partial_prefix_matches(void **state) {
    expect_no_path("GET", "/api/v1/sessionX");
    expect_no_path("GET", "/api/v1/session/");
    expect_no_path("GET", "/api/v1/session/extra");
    expect_no_path("GET", "/api/v1/sessio");
    expect_no_path("POST", "/api/v1/signups");
    expect_no_path("GET", "/x");                           /* "/" is exact, not a prefix */
}

static void test_null_outputs_allowed(void **state) {
    bool pm = false;
    assert_int_equal(route_match(ROUTES, NROUTES, "GET", "/api/v1/accounts/1", NULL, NULL, &pm), 3);
    assert_true(pm);
    assert_int_equal(route_match(ROUTES, 0, "GET", "/", NULL, NULL, &pm), -1);
    assert_false(pm);
}

static void test_too_many_params_never_overflow(void **state) {
    /* A pattern with more captures than MAX_PATH_PARAMS cannot be served without
     * writing past the caller's array, so it must not match. */
    static const route wide[] = {
        {"GET", "/{a}/{b}/{c}/{d}/{e}", ACCESS_PUBLIC, BODY_NONE, NULL, "wide", CTX_NONE, 0, false},
        {"GET", "/{a}/{b}/{c}/{d}", ACCESS_PUBLIC, BODY_NONE, NULL, "four", CTX_NONE, 0, false},
    };
    const char *params[MAX_PATH_PARAMS];
    int np = 0;
    bool pm = false;
    assert_int_equal(route_match(wide, 2, "GET", "/1/2/3/4/5", params, &np, &pm), -1);
    assert_false(pm);
    assert_int_equal(route_match(wide, 2, "GET", "/1/2/3/4", params, &np, &pm), 1);
    assert_int_equal(np, MAX_PATH_PARAMS);
    assert_int_equal(params[3][0], '4');
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_match),
        cmocka_unit_test(test_param_capture),
        cmocka_unit_test(test_param_needs_one_whole_segment),
        cmocka_unit_test(test_first_route_in_table_order_wins),
        cmocka_unit_test(test_wildcard),
        cmocka_unit_test(test_method_mismatch),
        cmocka_unit_test(test_head_matches_get),
        cmocka_unit_test(test_unknown_path),
        cmocka_unit_test(test_no_partial_prefix_matches),
        cmocka_unit_test(test_null_outputs_allowed),
        cmocka_unit_test(test_too_many_params_never_overflow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
