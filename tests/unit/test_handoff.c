/* test_handoff.c — signed hand-off tokens: issue and verify, tampering, other keys,
 * expiry, malformed input, and single use through the store. */
#define UNIT_ARENA_BYTES (16 * 1024 * 1024)
#include "unit.h"

#include <ftw.h>
#include <unistd.h>

#include "core/error.h"
#include "core/secret.h"
#include "domain/handoff.h"
#include "store/store.h"

#define NOW 1767225600   /* 2026-01-01T00:00:00Z */
#define LIC "40318275"
#define EMAIL "alex@fabrikam.example"

static unsigned char KEY[32], OTHER[32];

static int group_setup(void **state) {
    (void)state;
    if (secret_init() < 0) return -1;
    secret_random(KEY, sizeof KEY);
    secret_random(OTHER, sizeof OTHER);
    return 0;
}

static const char *issue(void) {
    const char *t = handoff_issue(&A, KEY, LIC, EMAIL, NOW);
    assert_non_null(t);
    return t;
}

static char *copy(const char *s) { return arena_strdup(&A, s); }

/* A base64url character other than c. */
static char other_b64(char c) { return c == 'A' ? 'B' : 'A'; }

/* A token with a correct MAC (under key) over an arbitrary payload text. */
static const char *signed_payload(const unsigned char key[32], const char *json) {
    size_t plen = secret_b64_len(strlen(json));
    char *payload = arena_alloc(&A, plen);
    secret_b64(json, strlen(json), payload, plen);
    unsigned char mac[32];
    secret_hmac(key, payload, strlen(payload), mac);
    char macs[64];
    secret_b64(mac, sizeof mac, macs, sizeof macs);
    return arena_printf(&A, "%s.%s", payload, macs);
}

/* ---- issue and verify ------------------------------------------------------------- */

static void test_round_trip(void **state) {
    const char *t = issue();
    /* base64url(JSON) "." base64url(MAC): URL-safe, one dot. */
    const char *dot = strchr(t, '.');
    assert_non_null(dot);
    assert_null(strchr(dot + 1, '.'));
    for (const char *p = t; *p; p++)
        if (!(*p == '.' || *p == '-' || *p == '_' || (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') ||
              (*p >= 'A' && *p <= 'Z')))
            fail_msg("token has a character that is not URL-safe: '%c' in %s", *p, t);

    handoff_claims c;
    assert_int_equal(handoff_verify(&A, KEY, t, NOW, &c), OS_OK);
    assert_string_equal(c.license_number, LIC);
    assert_string_equal(c.email, EMAIL);
    assert_int_equal(c.expires_at, NOW + HANDOFF_TTL_S);
    assert_non_null(c.nonce);
    assert_true(strlen(c.nonce) >= 16);
    /* Still good just before the expiry. */
    assert_int_equal(handoff_verify(&A, KEY, t, NOW + HANDOFF_TTL_S - 1, &c), OS_OK);
    assert_string_equal(c.license_number, LIC);
}

static void test_each_token_has_its_own_nonce(void **state) {
    handoff_claims a, b;
    const char *t1 = issue(), *t2 = issue();
    assert_string_not_equal(t1, t2);
    assert_int_equal(handoff_verify(&A, KEY, t1, NOW, &a), OS_OK);
    assert_int_equal(handoff_verify(&A, KEY, t2, NOW, &b), OS_OK);
    assert_string_not_equal(a.nonce, b.nonce);
}

static void test_tampered_payload(void **state) {
    const char *t = issue();
    size_t plen = (size_t)(strchr(t, '.') - t);
    /* Every position of the first part: a changed character breaks the signature. */
    for (size_t i = 0; i < plen; i++) {
        char *bad = copy(t);
        bad[i] = other_b64(bad[i]);
        handoff_claims c;
        os_err e = handoff_verify(&A, KEY, bad, NOW, &c);
        if (e != OS_ERR_INVALID) fail_msg("payload changed at %zu: got %s, want invalid", i, os_err_name(e));
    }
}

static void test_tampered_signature(void **state) {
    const char *t = issue();
    const char *sig = strchr(t, '.') + 1;
    size_t off = (size_t)(sig - t), slen = strlen(sig);
    for (size_t i = 0; i < slen; i++) {
        char *bad = copy(t);
        bad[off + i] = other_b64(bad[off + i]);
        handoff_claims c;
        os_err e = handoff_verify(&A, KEY, bad, NOW, &c);
        if (e != OS_ERR_INVALID) fail_msg("signature changed at %zu: got %s, want invalid", i, os_err_name(e));
    }
    /* Shortened, lengthened, or missing signature. */
    handoff_claims c;
    char *cut = copy(t);
    cut[strlen(cut) - 1] = 0;
    assert_int_equal(handoff_verify(&A, KEY, cut, NOW, &c), OS_ERR_INVALID);
    assert_int_equal(handoff_verify(&A, KEY, arena_printf(&A, "%sA", t), NOW, &c), OS_ERR_INVALID);
    char *nosig = copy(t);
    nosig[off] = 0;
    assert_int_equal(handoff_verify(&A, KEY, nosig, NOW, &c), OS_ERR_INVALID);
}

static void test_wrong_key(void **state) {
    const char *t = issue();
    handoff_claims c;
    assert_int_equal(handoff_verify(&A, OTHER, t, NOW, &c), OS_ERR_INVALID);
    /* Also when the token is expired: an invalid signature is not "gone". */
    assert_int_equal(handoff_verify(&A, OTHER, t, NOW + 10 * HANDOFF_TTL_S, &c), OS_ERR_INVALID);
    /* And a token made with another key does not verify under ours. */
    const char *theirs = handoff_issue(&A, OTHER, LIC, EMAIL, NOW);
    assert_int_equal(handoff_verify(&A, KEY, theirs, NOW, &c), OS_ERR_INVALID);
}

static void test_expired(void **state) {
    const char *t = issue();
    handoff_claims c;
    assert_int_equal(handoff_verify(&A, KEY, t, NOW + HANDOFF_TTL_S, &c), OS_ERR_GONE);
    assert_int_equal(handoff_verify(&A, KEY, t, NOW + HANDOFF_TTL_S + 1, &c), OS_ERR_GONE);
    assert_int_equal(handoff_verify(&A, KEY, t, NOW + 86400 * 365, &c), OS_ERR_GONE);
}

static void test_garbage(void **state) {
    const char *t = issue();
    const char *dot = strchr(t, '.');
    const char *bad[] = {
        "",
        "garbage",
        ".",
        "..",
        "a.b",
        "abc.def",
        "a.b.c",
        "!!!!.????",
        "eyJsaWMiOiIxIn0",                                  /* a payload, no dot */
        arena_printf(&A, "%s.", t),                          /* two dots */
        arena_printf(&A, "%s.%s", t, dot + 1),               /* payload.sig.sig */
        arena_printf(&A, ".%s", t),                          /* leading dot */
        arena_strndup(&A, t, (size_t)(dot - t)),             /* payload only */
        arena_printf(&A, ".%s", dot + 1),                    /* signature only */
        arena_printf(&A, "%s %s", arena_strndup(&A, t, (size_t)(dot - t)), dot + 1),
        NULL,
    };
    for (int i = 0; bad[i]; i++) {
        handoff_claims c;
        os_err e = handoff_verify(&A, KEY, bad[i], NOW, &c);
        if (e != OS_ERR_INVALID) fail_msg("\"%s\": got %s, want invalid", bad[i], os_err_name(e));
    }
    handoff_claims c;
    assert_int_equal(handoff_verify(&A, KEY, NULL, NOW, &c), OS_ERR_INVALID);
    /* Very long input. */
    char *huge = unit_repeat('A', 100000);
    huge[50000] = '.';
    assert_int_equal(handoff_verify(&A, KEY, huge, NOW, &c), OS_ERR_INVALID);
}

static void test_signed_but_malformed_payload(void **state) {
    /* A correct signature does not make any payload acceptable. */
    const char *bad[] = {
        "not json",
        "[]",
        "{}",
        "{\"lic\":\"" LIC "\",\"email\":\"" EMAIL "\",\"nonce\":\"n\"}",                 /* no exp */
        "{\"lic\":\"" LIC "\",\"email\":\"" EMAIL "\",\"exp\":\"9999999999\",\"nonce\":\"n\"}", /* exp as text */
        "{\"lic\":\"" LIC "\",\"exp\":9999999999,\"nonce\":\"n\"}",                        /* no email */
        "{\"email\":\"" EMAIL "\",\"exp\":9999999999,\"nonce\":\"n\"}",                    /* no lic */
        "{\"lic\":\"" LIC "\",\"email\":\"" EMAIL "\",\"exp\":9999999999}",                /* no nonce */
        "{\"lic\":12345678,\"email\":\"" EMAIL "\",\"exp\":9999999999,\"nonce\":\"n\"}",   /* lic as number */
        NULL,
    };
    for (int i = 0; bad[i]; i++) {
        handoff_claims c;
        os_err e = handoff_verify(&A, KEY, signed_payload(KEY, bad[i]), NOW, &c);
        if (e != OS_ERR_INVALID) fail_msg("payload %s: got %s, want invalid", bad[i], os_err_name(e));
    }
    /* The helper itself makes acceptable tokens from a good payload. */
    handoff_claims c;
    const char *good = signed_payload(KEY, "{\"lic\":\"" LIC "\",\"email\":\"" EMAIL "\",\"exp\":" "1767226200"
                                           ",\"nonce\":\"abcdefghijklmnop\"}");
    assert_int_equal(handoff_verify(&A, KEY, good, NOW, &c), OS_OK);
    assert_string_equal(c.nonce, "abcdefghijklmnop");
}

/* ---- single use ------------------------------------------------------------------- */

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void test_consume_once(void **state) {
    char dir[] = "/tmp/openseat-handoff-XXXXXX";
    assert_non_null(mkdtemp(dir));
    store *s = NULL;
    char err[512] = "";
    if (store_open(dir, NULL, &s, err, sizeof err) != OS_OK) fail_msg("store_open: %s", err);
    if (store_migrate(s, NULL, err, sizeof err) != OS_OK) fail_msg("store_migrate: %s", err);
    store_conn *c = store_conn_get(s);
    assert_non_null(c);

    const char *t = issue();
    handoff_claims cl;
    assert_int_equal(handoff_consume(c, &A, KEY, t, NOW, &cl), OS_OK);
    assert_string_equal(cl.license_number, LIC);
    assert_string_equal(cl.email, EMAIL);
    /* The same link again: used. */
    assert_int_equal(handoff_consume(c, &A, KEY, t, NOW + 1, &cl), OS_ERR_GONE);
    assert_int_equal(handoff_consume(c, &A, KEY, t, NOW, &cl), OS_ERR_GONE);
    /* A fresh link for the same license and user still works once. */
    const char *t2 = issue();
    assert_int_equal(handoff_consume(c, &A, KEY, t2, NOW, &cl), OS_OK);
    assert_int_equal(handoff_consume(c, &A, KEY, t2, NOW, &cl), OS_ERR_GONE);
    /* Invalid and expired links are refused without being spent. */
    const char *t3 = issue();
    char *bad = copy(t3);
    bad[0] = other_b64(bad[0]);
    assert_int_equal(handoff_consume(c, &A, KEY, bad, NOW, &cl), OS_ERR_INVALID);
    assert_int_equal(handoff_consume(c, &A, OTHER, t3, NOW, &cl), OS_ERR_INVALID);
    assert_int_equal(handoff_consume(c, &A, KEY, t3, NOW + HANDOFF_TTL_S, &cl), OS_ERR_GONE);
    assert_int_equal(handoff_consume(c, &A, KEY, t3, NOW, &cl), OS_OK);

    /* Another connection to the same database (another instance) sees the nonce used. */
    store *s2 = NULL;
    if (store_open(dir, NULL, &s2, err, sizeof err) != OS_OK) fail_msg("second store_open: %s", err);
    store_conn *c2 = store_conn_get(s2);
    assert_non_null(c2);
    assert_int_equal(handoff_consume(c2, &A, KEY, t, NOW, &cl), OS_ERR_GONE);
    assert_int_equal(handoff_consume(c2, &A, KEY, t3, NOW, &cl), OS_ERR_GONE);
    store_close(s2);

    store_close(s);
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        T(test_round_trip),
        T(test_each_token_has_its_own_nonce),
        T(test_tampered_payload),
        T(test_tampered_signature),
        T(test_wrong_key),
        T(test_expired),
        T(test_garbage),
        T(test_signed_but_malformed_payload),
        T(test_consume_once),
    };
#undef T
    return cmocka_run_group_tests(tests, group_setup, NULL);
}
