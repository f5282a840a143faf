/* test_text.c — e-mail normalisation, percent-decoding and query strings.
 *
 * These functions sit directly on untrusted input (sign-up forms, URLs), so each
 * rejection rule gets its own case, and decoding is checked to never yield a string
 * with an embedded NUL or invalid UTF-8, which later layers assume cannot happen.
 */
#include "unit.h"

#include <time.h>

#include "core/json_write.h"
#include "core/limits.h"
#include "core/text.h"

static void expect_email(const char *in, const char *want) {
    const char *got = email_normalize(&A, in);
    if (!got) fail_msg("email_normalize(\"%s\") refused, expected \"%s\"", in, want);
    if (strcmp(got, want) != 0) fail_msg("email_normalize(\"%s\") = \"%s\", expected \"%s\"", in, got, want);
}

static void expect_not_email(const char *in) {
    const char *got = email_normalize(&A, in);
    if (got) fail_msg("email_normalize(\"%s\") accepted as \"%s\"", in, got);
}

/* text_day against the C library's calendar, across leap rules and both sides of 1970. */
static void check_day(int64_t t) {
    char got[11], want[11];
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(want, sizeof want, "%Y-%m-%d", &tm);
    text_day(t, got);
    assert_string_equal(got, want);
}

static void test_text_day_matches_gmtime(void **state) {
    (void)state;
    static const int64_t fixed[] = {0, -1, 86399, 86400, 951782400 /* 2000-02-29 */, 4107542400 /* 2100-03-01 */,
                                    -2208988800 /* 1900-01-01 */, 253402300799 /* 9999-12-31 */};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) check_day(fixed[i]);
    for (int64_t t = -3000000000LL; t < 5000000000LL; t += 7777777) check_day(t);   /* every ~90 days */
}

static void test_trim(void **state) {
    assert_string_equal(text_trim(&A, "  a b \t\r\n"), "a b");
    assert_string_equal(text_trim(&A, "\f\vx\v"), "x");
    assert_string_equal(text_trim(&A, "   "), "");
    assert_string_equal(text_trim(&A, ""), "");
    assert_string_equal(text_trim(&A, "x"), "x");
}

static void test_utf8_chars(void **state) {
    assert_int_equal(utf8_chars(""), 0);
    assert_int_equal(utf8_chars("abc"), 3);
    assert_int_equal(utf8_chars("caf\xc3\xa9"), 4);
    assert_int_equal(utf8_chars("\xe2\x82\xac\xf0\x9f\x98\x80"), 2);   /* euro sign, emoji */
}

static void test_email_accepts_and_normalizes(void **state) {
    expect_email("  Alice@Example.COM \n", "alice@example.com");
    expect_email("a@b.co", "a@b.co");
    expect_email("first.last+tag@sub.example.org", "first.last+tag@sub.example.org");
    expect_email("x_y-z@ex-ample.io", "x_y-z@ex-ample.io");
    /* Non-ASCII is kept as is (only ASCII is lower-cased). */
    expect_email("J\xc3\xa9r\xc3\xb4me@Example.fr", "j\xc3\xa9r\xc3\xb4me@example.fr");
}

static void test_email_rejects(void **state) {
    expect_not_email("");
    expect_not_email("   ");
    expect_not_email("alice.example.com");          /* no @ */
    expect_not_email("a@b@example.com");            /* two @ */
    expect_not_email("@example.com");               /* empty local part */
    expect_not_email("alice@");                     /* empty domain */
    expect_not_email("alice@localhost");            /* no dot in domain */
    expect_not_email("alice@.example.com");         /* domain starts with a dot */
    expect_not_email("alice@example.com.");         /* domain ends with a dot */
    expect_not_email("alice@example..com");
    expect_not_email(".alice@example.com");         /* local part starts with a dot */
    expect_not_email("alice.@example.com");         /* local part ends with a dot */
    expect_not_email("al..ice@example.com");
    expect_not_email("al ice@example.com");         /* space inside */
    expect_not_email("alice@exa mple.com");
    expect_not_email("al\tice@example.com");
    expect_not_email("alice\x01@example.com");      /* control characters */
    expect_not_email("alice@example.com\x7f");
    expect_not_email("alice\n@example.com");
    expect_not_email("<alice@example.com>");
    expect_not_email("\"a\"@example.com");
    expect_not_email("alice@[127.0.0.1]");
    expect_not_email("al\xc3@example.com");         /* invalid UTF-8 */
    assert_null(email_normalize(&A, NULL));
}

/* "a@" followed by a dotted domain, len bytes in all; arena-owned. */
static char *address_of_length(size_t len) {
    char *s = arena_alloc(&A, len + 1);
    memcpy(s, "a@", 2);
    for (size_t i = 2; i < len; i++) s[i] = (i % 40 == 0 && i + 6 < len) ? '.' : 'd';
    memcpy(s + len - 4, ".com", 4);
    return s;
}

static void test_email_length_limits(void **state) {
    /* A 64-byte local part is the most RFC 5321 allows. */
    char local64[200];
    memset(local64, 'l', 64);
    snprintf(local64 + 64, sizeof local64 - 64, "@example.com");
    expect_email(local64, local64);
    char local65[200];
    memset(local65, 'l', 65);
    snprintf(local65 + 65, sizeof local65 - 65, "@example.com");
    expect_not_email(local65);

    /* Whole address: exactly LIMIT_EMAIL_BYTES is fine, one more is not. */
    char *max = address_of_length(LIMIT_EMAIL_BYTES);
    expect_email(max, max);
    expect_not_email(address_of_length(LIMIT_EMAIL_BYTES + 1));
    expect_not_email(address_of_length(1000));
    /* Surrounding white space does not count against the limit. */
    expect_email(arena_printf(&A, "  %s\t\n", max), max);
}

static void test_email_domain(void **state) {
    const char *e = email_normalize(&A, "Bob@Mail.Example.ORG");
    assert_non_null(e);
    assert_string_equal(email_domain(e), "mail.example.org");
    assert_ptr_equal(email_domain(e), strchr(e, '@') + 1);
    assert_string_equal(email_domain("no-at-sign"), "");
}

static void expect_decode(const char *in, bool form, const char *want) {
    const char *got = url_decode(&A, in, strlen(in), form);
    if (!got) fail_msg("url_decode(\"%s\", %d) failed, expected \"%s\"", in, form, want);
    if (strcmp(got, want) != 0) fail_msg("url_decode(\"%s\", %d) = \"%s\", expected \"%s\"", in, form, got, want);
}

static void expect_no_decode(const char *in, bool form) {
    const char *got = url_decode(&A, in, strlen(in), form);
    if (got) fail_msg("url_decode(\"%s\", %d) accepted as \"%s\"", in, form, got);
}

static void test_url_decode(void **state) {
    expect_decode("%41", false, "A");
    expect_decode("%41%62c", false, "Abc");
    expect_decode("a%2fb%2Fc", false, "a/b/c");          /* hex digits in either case */
    expect_decode("a+b", true, "a b");
    expect_decode("a+b", false, "a+b");                 /* '+' is literal in paths */
    expect_decode("%2B", true, "+");
    expect_decode("caf%C3%A9", false, "caf\xc3\xa9");
    expect_decode("", false, "");
    expect_decode("100%25", false, "100%");
    /* Only n bytes are read, not up to the NUL. */
    const char *got = url_decode(&A, "ab%41zz", 5, false);
    assert_non_null(got);
    assert_string_equal(got, "abA");
}

static void test_url_decode_rejects(void **state) {
    expect_no_decode("%4", false);
    expect_no_decode("%", false);
    expect_no_decode("abc%", false);
    expect_no_decode("%zz", false);
    expect_no_decode("%g1", false);
    expect_no_decode("%1g", false);
    expect_no_decode("%00", false);                    /* would truncate the string */
    expect_no_decode("a%00b", true);
    expect_no_decode("%C3", false);                    /* truncated UTF-8 after decoding */
    expect_no_decode("%C0%80", false);                 /* overlong NUL */
    expect_no_decode("%ED%A0%80", false);              /* surrogate */
    expect_no_decode("%FF", false);
    expect_no_decode("\xc3", false);                   /* raw invalid byte, no escape */
    /* A raw NUL inside the n bytes is refused too. */
    assert_null(url_decode(&A, "a\0b", 3, false));
    /* The escape must be complete within n, even if more bytes follow in memory. */
    assert_null(url_decode(&A, "%41", 2, false));
}

static void test_url_encode_round_trip(void **state) {
    static const char *const samples[] = {
        "plain", "", "a b+c&d=e?f#g/h%i", "caf\xc3\xa9 \xf0\x9f\x98\x80", "-_.~", "\"'<>\\^`{|}",
        "\x01\x1f\x7f",
    };
    for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
        const char *enc = url_encode(&A, samples[i]);
        /* Only unreserved characters and escapes appear in the output. */
        for (const char *p = enc; *p; p++)
            if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~%", *p))
                fail_msg("url_encode(\"%s\") left '%c' unescaped", samples[i], *p);
        const char *dec = url_decode(&A, enc, strlen(enc), true);
        assert_non_null(dec);
        assert_string_equal(dec, samples[i]);
        dec = url_decode(&A, enc, strlen(enc), false);
        assert_non_null(dec);
        assert_string_equal(dec, samples[i]);
    }
    assert_string_equal(url_encode(&A, "a b"), "a%20b");
    assert_string_equal(url_encode(&A, "\xc3\xa9"), "%C3%A9");
}

static void test_qs_parse(void **state) {
    qs q;
    const char *s = "a=1&b=two+words&c=&d&e=%C3%A9&a=second";
    assert_true(qs_parse(&A, s, strlen(s), 10, &q));
    assert_int_equal(q.count, 6);
    assert_string_equal(q.items[0].name, "a");
    assert_string_equal(q.items[0].value, "1");
    assert_string_equal(q.items[1].value, "two words");
    assert_string_equal(q.items[2].name, "c");
    assert_string_equal(q.items[2].value, "");       /* empty value */
    assert_string_equal(q.items[3].name, "d");
    assert_string_equal(q.items[3].value, "");       /* missing '=' */
    assert_string_equal(q.items[4].value, "\xc3\xa9");
    assert_string_equal(q.items[5].value, "second");
    /* qs_get returns the first of repeated names. */
    assert_string_equal(qs_get(&q, "a"), "1");
    assert_string_equal(qs_get(&q, "d"), "");
    assert_null(qs_get(&q, "zzz"));
    assert_null(qs_get(&q, "A"));                    /* names are case-sensitive */

    /* Value may contain '='; only the first one separates. */
    s = "k=x=y";
    assert_true(qs_parse(&A, s, strlen(s), 10, &q));
    assert_int_equal(q.count, 1);
    assert_string_equal(q.items[0].value, "x=y");

    /* Names are decoded too. */
    s = "a%20b=1";
    assert_true(qs_parse(&A, s, strlen(s), 10, &q));
    assert_string_equal(qs_get(&q, "a b"), "1");
}

static void test_qs_empty_and_separators(void **state) {
    qs q;
    assert_true(qs_parse(&A, NULL, 0, 10, &q));
    assert_int_equal(q.count, 0);
    assert_null(qs_get(&q, "a"));
    assert_true(qs_parse(&A, "", 0, 10, &q));
    assert_int_equal(q.count, 0);
    const char *s = "&a=1&&b=2&";
    assert_true(qs_parse(&A, s, strlen(s), 10, &q));
    assert_int_equal(q.count, 2);
    assert_string_equal(qs_get(&q, "b"), "2");
    /* Only len bytes are considered. */
    s = "a=1&b=2";
    assert_true(qs_parse(&A, s, 3, 10, &q));
    assert_int_equal(q.count, 1);
    assert_null(qs_get(&q, "b"));
}

static void test_qs_limits_and_errors(void **state) {
    qs q;
    const char *s = "a=1&b=2&c=3";
    assert_true(qs_parse(&A, s, strlen(s), 3, &q));   /* exactly max */
    assert_int_equal(q.count, 3);
    assert_false(qs_parse(&A, s, strlen(s), 2, &q));  /* one more than max */

    char many[LIMIT_QUERY_PARAMS * 8];
    size_t o = 0;
    for (int i = 0; i <= LIMIT_QUERY_PARAMS; i++) o += (size_t)snprintf(many + o, sizeof many - o, "%sp%d=1", i ? "&" : "", i);
    assert_false(qs_parse(&A, many, o, LIMIT_QUERY_PARAMS, &q));

    s = "a=%zz";
    assert_false(qs_parse(&A, s, strlen(s), 10, &q));
    s = "a=1&b=%4";
    assert_false(qs_parse(&A, s, strlen(s), 10, &q));
    s = "%zz=1";
    assert_false(qs_parse(&A, s, strlen(s), 10, &q));
    s = "a=%00";
    assert_false(qs_parse(&A, s, strlen(s), 10, &q));
    s = "a=%FF";
    assert_false(qs_parse(&A, s, strlen(s), 10, &q));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        T(test_text_day_matches_gmtime),
        T(test_trim),
        T(test_utf8_chars),
        T(test_email_accepts_and_normalizes),
        T(test_email_rejects),
        T(test_email_length_limits),
        T(test_email_domain),
        T(test_url_decode),
        T(test_url_decode_rejects),
        T(test_url_encode_round_trip),
        T(test_qs_parse),
        T(test_qs_empty_and_separators),
        T(test_qs_limits_and_errors),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
