/* test_numbers.c — license and authorization numbers: generation, normalisation and
 * the grouped display form. */
#include "unit.h"

#include "core/secret.h"
#include "domain/numbers.h"

#define RUNS 1000

static int group_setup(void **state) {
    (void)state;
    return secret_init() < 0 ? -1 : 0;
}

static bool all_digits(const char *s) {
    for (; *s; s++)
        if (*s < '0' || *s > '9') return false;
    return true;
}

static bool in_alphabet(const char *s) {
    for (; *s; s++)
        if (!strchr(AUTHNO_ALPHABET, *s)) return false;
    return true;
}

static int cmp_str(const void *a, const void *b) { return strcmp((const char *)a, (const char *)b); }

/* How many different values among n fixed-size strings (sorts them). */
static int distinct(char *base, size_t n, size_t width) {
    qsort(base, n, width, cmp_str);
    int d = n ? 1 : 0;
    for (size_t i = 1; i < n; i++)
        if (strcmp(base + i * width, base + (i - 1) * width)) d++;
    return d;
}

/* ---- license numbers -------------------------------------------------------------- */

static void test_license_new_shape(void **state) {
    static char all[RUNS][LICENSE_DIGITS + 1];
    bool first_seen[10] = {false};
    for (int i = 0; i < RUNS; i++) {
        char lic[LICENSE_DIGITS + 1];
        memset(lic, 'x', sizeof lic);
        license_number_new(lic);
        assert_int_equal(strlen(lic), LICENSE_DIGITS);
        assert_true(all_digits(lic));
        assert_true(lic[0] != '0');
        first_seen[lic[0] - '0'] = true;
        /* What it makes, it accepts. */
        char norm[LICENSE_DIGITS + 1];
        assert_true(license_number_normalize(lic, norm));
        assert_string_equal(norm, lic);
        memcpy(all[i], lic, sizeof lic);
    }
    assert_false(first_seen[0]);
    int firsts = 0;
    for (int d = 1; d <= 9; d++) firsts += first_seen[d];
    assert_true(firsts >= 8);   /* every leading digit 1–9 is possible */
    /* 9·10^7 values: a thousand draws should (almost) never repeat. */
    assert_true(distinct(&all[0][0], RUNS, LICENSE_DIGITS + 1) >= RUNS - 2);
}

static void test_license_normalize_accepts(void **state) {
    char out[LICENSE_DIGITS + 1];
    assert_true(license_number_normalize("12345678", out));
    assert_string_equal(out, "12345678");
    memset(out, 0, sizeof out);
    assert_true(license_number_normalize(" 12345678 ", out));
    assert_string_equal(out, "12345678");
    assert_true(license_number_normalize("\t40318275  ", out));
    assert_string_equal(out, "40318275");
}

static void test_license_normalize_rejects(void **state) {
    const char *bad[] = {
        "",          "        ",  "1234567",   "123456789", " 1234567 ", "1234567a",  "a2345678",
        "1234 5678", "1234-5678", "12345678x", "+1234567",  "-1234567",  "１２３４５６７８",
        "12345678\n", "0x123456", NULL,
    };
    for (int i = 0; bad[i]; i++) {
        char out[LICENSE_DIGITS + 1];
        if (license_number_normalize(bad[i], out)) fail_msg("accepted \"%s\" as a license number", bad[i]);
    }
}

/* ---- authorization numbers -------------------------------------------------------- */

static void test_authno_new_alphabet(void **state) {
    static char all[RUNS][AUTHNO_CHARS + 1];
    bool used[256] = {false};
    for (int i = 0; i < RUNS; i++) {
        char a[AUTHNO_CHARS + 1];
        memset(a, 'x', sizeof a);
        authno_new(a);
        assert_int_equal(strlen(a), AUTHNO_CHARS);
        if (!in_alphabet(a)) fail_msg("authno_new gave \"%s\", outside " AUTHNO_ALPHABET, a);
        for (const char *p = a; *p; p++) used[(unsigned char)*p] = true;
        memcpy(all[i], a, sizeof a);
    }
    /* No look-alikes ever, and (over 14 000 draws) every allowed character shows up. */
    const char *never = "01ILO";
    for (const char *p = never; *p; p++) assert_false(used[(unsigned char)*p]);
    for (const char *p = AUTHNO_ALPHABET; *p; p++)
        if (!used[(unsigned char)*p]) fail_msg("'%c' never appeared in %d numbers", *p, RUNS);
    assert_int_equal(distinct(&all[0][0], RUNS, AUTHNO_CHARS + 1), RUNS);
}

static void test_authno_normalize_accepts(void **state) {
    static const struct { const char *in, *want; } ok[] = {
        {"ABCDEFGHJKMNPQ", "ABCDEFGHJKMNPQ"},
        {"abcdefghjkmnpq", "ABCDEFGHJKMNPQ"},
        {"abcde-fghj-kmnpq", "ABCDEFGHJKMNPQ"},
        {"ABCDE-FGHJ-KMNPQ", "ABCDEFGHJKMNPQ"},
        {"AbCdE FgHj KmNpQ", "ABCDEFGHJKMNPQ"},
        {"abcde.fghj.kmnpq", "ABCDEFGHJKMNPQ"},
        {"  abcde - fghj . kmnpq  ", "ABCDEFGHJKMNPQ"},
        {"23456-789R-STUVW", "23456789RSTUVW"},
        {"Z-Y-X-W-V-U-T-S-R-Q-P-N-M-K", "ZYXWVUTSRQPNMK"},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        char out[AUTHNO_CHARS + 1];
        memset(out, 0, sizeof out);
        if (!authno_normalize(ok[i].in, out)) fail_msg("rejected \"%s\"", ok[i].in);
        assert_string_equal(out, ok[i].want);
    }
}

static void test_authno_normalize_rejects(void **state) {
    const char *bad[] = {
        /* look-alikes, either case */
        "ABCDE-FGHJ-KMNP0", "ABCDE-FGHJ-KMNPO", "ABCDE-FGHJ-KMNPo", "ABCDE-FGHJ-KMNP1", "ABCDE-FGHJ-KMNPI",
        "ABCDE-FGHJ-KMNPi", "ABCDE-FGHJ-KMNPL", "ABCDE-FGHJ-KMNPl", "0BCDEFGHJKMNPQ",
        /* wrong lengths */
        "", "-", " - . ", "ABCDEFGHJKMNP", "ABCDEFGHJKMNPQR", "ABCDE-FGHJ-KMNP", "ABCDE-FGHJ-KMNPQ2", "23456-789RS-TUVWXYZ", "A",
        /* other characters */
        "ABCDE_FGHJ_KMNPQ", "ABCDE/FGHJ/KMNPQ", "ABCDE,FGHJ,KMNPQ", "ABCDEFGHJKMNP!", "ÀBCDEFGHJKMNPQ",
        "ABCDEFGHJKMNP\xc3", NULL,
    };
    for (int i = 0; bad[i]; i++) {
        char out[AUTHNO_CHARS + 1];
        if (authno_normalize(bad[i], out)) fail_msg("accepted \"%s\" as an authorization number", bad[i]);
    }
}

static void test_authno_format_groups(void **state) {
    char out[AUTHNO_CHARS + 3];
    memset(out, 'x', sizeof out);
    authno_format("ABCDEFGHJKMNPQ", out);
    assert_string_equal(out, "ABCDE-FGHJ-KMNPQ");
    authno_format("23456789ABCDEF", out);
    assert_string_equal(out, "23456-789A-BCDEF");
    assert_int_equal(strlen(out), AUTHNO_CHARS + 2);
}

static void test_authno_round_trip(void **state) {
    for (int i = 0; i < RUNS; i++) {
        char a[AUTHNO_CHARS + 1], shown[AUTHNO_CHARS + 3], back[AUTHNO_CHARS + 1];
        authno_new(a);
        authno_format(a, shown);
        assert_int_equal(strlen(shown), 16);
        assert_true(shown[5] == '-' && shown[10] == '-');
        assert_true(authno_normalize(shown, back));
        assert_string_equal(back, a);
        /* Typed in lower case with other separators: the same number. */
        char typed[32];
        size_t k = 0;
        for (const char *p = shown; *p; p++) {
            char c = *p;
            if (c == '-') c = (i % 2) ? ' ' : '.';
            else if (c >= 'A' && c <= 'Z') c = (char)(c + 32);
            typed[k++] = c;
        }
        typed[k] = 0;
        memset(back, 0, sizeof back);
        assert_true(authno_normalize(typed, back));
        assert_string_equal(back, a);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_license_new_shape),
        cmocka_unit_test(test_license_normalize_accepts),
        cmocka_unit_test(test_license_normalize_rejects),
        cmocka_unit_test(test_authno_new_alphabet),
        cmocka_unit_test(test_authno_normalize_accepts),
        cmocka_unit_test(test_authno_normalize_rejects),
        cmocka_unit_test(test_authno_format_groups),
        cmocka_unit_test(test_authno_round_trip),
    };
    return cmocka_run_group_tests(tests, group_setup, NULL);
}
