/* test_config.c — flags, OPENSEAT_* variables and defaults.
 *
 * Precedence (flag > environment > default) and the error messages are what an operator
 * sees, so both are checked. Every test starts from an environment without OPENSEAT_*
 * variables, since the developer's shell or a CI job may export some.
 */
#define UNIT_SETUP env_setup
#define UNIT_TEARDOWN env_teardown
#include "unit.h"

#include <sched.h>
#include <unistd.h>

#include "core/config.h"

#define ARGC(v) ((int)(sizeof(v) / sizeof((v)[0])))

static config C;
static char E[256];

static void clear_openseat_env(void) {
    /* Collect first: unsetenv while walking environ would skip entries. */
    char names[64][128];
    int n = 0;
    for (char **e = environ; *e && n < 64; e++) {
        if (strncmp(*e, "OPENSEAT_", 9) != 0) continue;
        const char *eq = strchr(*e, '=');
        size_t len = eq ? (size_t)(eq - *e) : strlen(*e);
        if (len >= sizeof names[0]) continue;
        memcpy(names[n], *e, len);
        names[n][len] = 0;
        n++;
    }
    for (int i = 0; i < n; i++) unsetenv(names[i]);
}

static int env_setup(void **state) {
    clear_openseat_env();
    memset(&C, 0, sizeof C);
    E[0] = 0;
    return 0;
}

static int env_teardown(void **state) {
    clear_openseat_env();
    return 0;
}

/* Loads argv (argv[0] is the program name and skipped); no positional arguments allowed. */
static int load(int argc, char **argv) { return config_load(&C, argc, argv, 1, NULL, 0, E, sizeof E); }

static void expect_error(int argc, char **argv, const char *needle) {
    E[0] = 0;
    int rc = load(argc, argv);
    if (rc != -1) fail_msg("expected an error mentioning \"%s\", got rc %d", needle, rc);
    if (!strstr(E, needle)) fail_msg("error \"%s\" does not mention \"%s\"", E, needle);
}

static void test_defaults(void **state) {
    char *argv[] = {"openseat"};
    assert_int_equal(load(ARGC(argv), argv), 0);
    assert_int_equal(C.port, 8080);
    assert_string_equal(C.data_dir, "./data");
    assert_string_equal(C.bind, "127.0.0.1");
    assert_null(C.smtp_url);
    assert_null(C.base_url);
    assert_null(C.database_url);
    assert_string_equal(C.smtp_tls, "try");
    assert_string_equal(C.cookie_secure, "auto");
    assert_string_equal(C.log_level, "info");
    /* Fitted to the CPUs this process may run on (at least 2): more threads than CPUs only
     * queue runnable threads behind each other and lengthen the tail. */
    cpu_set_t cpus;
    long n = sched_getaffinity(0, sizeof cpus, &cpus) == 0 ? CPU_COUNT(&cpus) : sysconf(_SC_NPROCESSORS_ONLN);
    assert_int_equal(C.threads, n < 2 ? 2 : n > 256 ? 256 : n);
    assert_int_equal(config_default_threads(), C.threads);
    assert_int_equal(C.max_body, 65536);
    assert_false(C.trust_proxy);
}

static void test_environment_applied(void **state) {
    setenv("OPENSEAT_PORT", "9090", 1);
    setenv("OPENSEAT_DATA", "/tmp/os-data", 1);
    setenv("OPENSEAT_TRUST_PROXY", "yes", 1);
    char *argv[] = {"openseat"};
    assert_int_equal(load(ARGC(argv), argv), 0);
    assert_int_equal(C.port, 9090);
    assert_string_equal(C.data_dir, "/tmp/os-data");
    assert_true(C.trust_proxy);
}

static void test_environment_error_names_variable(void **state) {
    setenv("OPENSEAT_PORT", "eighty", 1);
    char *argv[] = {"openseat"};
    expect_error(ARGC(argv), argv, "OPENSEAT_PORT");
    assert_non_null(strstr(E, "--port"));
}

static void test_flag_beats_environment(void **state) {
    setenv("OPENSEAT_PORT", "9090", 1);
    setenv("OPENSEAT_DATA", "/from/env", 1);
    char *argv[] = {"openseat", "--port=9000", "--data", "/from/flag"};
    assert_int_equal(load(ARGC(argv), argv), 0);
    assert_int_equal(C.port, 9000);
    assert_string_equal(C.data_dir, "/from/flag");
}

static void test_equals_and_separate_forms(void **state) {
    char *a1[] = {"openseat", "--port=9000"};
    assert_int_equal(load(ARGC(a1), a1), 0);
    assert_int_equal(C.port, 9000);
    char *a2[] = {"openseat", "--port", "9001"};
    assert_int_equal(load(ARGC(a2), a2), 0);
    assert_int_equal(C.port, 9001);
    /* Bounds are inclusive. */
    char *a3[] = {"openseat", "--port=0"};
    assert_int_equal(load(ARGC(a3), a3), 0);
    assert_int_equal(C.port, 0);
    char *a4[] = {"openseat", "--port", "65535"};
    assert_int_equal(load(ARGC(a4), a4), 0);
    assert_int_equal(C.port, 65535);
    /* The last occurrence wins. */
    char *a5[] = {"openseat", "--port=1", "--port=2"};
    assert_int_equal(load(ARGC(a5), a5), 0);
    assert_int_equal(C.port, 2);
}

static void test_port_out_of_range(void **state) {
    char *a1[] = {"openseat", "--port=65536"};
    expect_error(ARGC(a1), a1, "--port");
    char *a2[] = {"openseat", "--port", "-1"};
    expect_error(ARGC(a2), a2, "--port");
    char *a3[] = {"openseat", "--port=99999999999999999999"};   /* overflows long */
    expect_error(ARGC(a3), a3, "--port");
}

static void test_port_not_numeric(void **state) {
    char *a1[] = {"openseat", "--port=abc"};
    expect_error(ARGC(a1), a1, "--port");
    char *a2[] = {"openseat", "--port=80x"};
    expect_error(ARGC(a2), a2, "--port");
    char *a3[] = {"openseat", "--port="};
    expect_error(ARGC(a3), a3, "--port");
    char *a5[] = {"openseat", "--threads", "3"};
    assert_int_equal(load(ARGC(a5), a5), 0);
    assert_int_equal(C.threads, 3);   /* an explicit count wins */
    char *a4[] = {"openseat", "--threads=1.5"};
    expect_error(ARGC(a4), a4, "--threads");
}

static void test_unknown_flag(void **state) {
    char *a1[] = {"openseat", "--prot=80"};
    expect_error(ARGC(a1), a1, "--prot");
    char *a2[] = {"openseat", "--po"};   /* prefixes are not abbreviations */
    expect_error(ARGC(a2), a2, "--po");
    char *a3[] = {"openseat", "--port-number", "80"};
    expect_error(ARGC(a3), a3, "--port-number");
}

static void test_missing_value(void **state) {
    char *a1[] = {"openseat", "--port"};
    expect_error(ARGC(a1), a1, "--port");
    char *a2[] = {"openseat", "--data"};
    expect_error(ARGC(a2), a2, "--data");
}

static void test_bool_flags(void **state) {
    char *a1[] = {"openseat", "--trust-proxy"};
    assert_int_equal(load(ARGC(a1), a1), 0);
    assert_true(C.trust_proxy);
    char *a2[] = {"openseat", "--trust-proxy=false"};
    assert_int_equal(load(ARGC(a2), a2), 0);
    assert_false(C.trust_proxy);
    setenv("OPENSEAT_TRUST_PROXY", "true", 1);
    char *a3[] = {"openseat", "--trust-proxy=off"};
    assert_int_equal(load(ARGC(a3), a3), 0);
    assert_false(C.trust_proxy);
    char *a4[] = {"openseat", "--trust-proxy=maybe"};
    expect_error(ARGC(a4), a4, "--trust-proxy");
    /* A bare bool flag does not swallow the next argument as its value. */
    unsetenv("OPENSEAT_TRUST_PROXY");
    char *a5[] = {"openseat", "--trust-proxy", "--port=81"};
    assert_int_equal(load(ARGC(a5), a5), 0);
    assert_true(C.trust_proxy);
    assert_int_equal(C.port, 81);
}

static void test_smtp_url_scheme(void **state) {
    char *a1[] = {"openseat", "--smtp-url=http://relay:25"};
    expect_error(ARGC(a1), a1, "--smtp-url");
    char *a2[] = {"openseat", "--smtp-url", "smtps://relay:465"};
    assert_int_equal(load(ARGC(a2), a2), 0);
    assert_string_equal(C.smtp_url, "smtps://relay:465");
    char *a3[] = {"openseat", "--smtp-url=smtp://u:p@relay:587"};
    assert_int_equal(load(ARGC(a3), a3), 0);
    assert_string_equal(C.smtp_url, "smtp://u:p@relay:587");
    setenv("OPENSEAT_SMTP_URL", "ftp://relay", 1);
    char *a4[] = {"openseat"};
    expect_error(ARGC(a4), a4, "smtp");
}

static void test_base_url_scheme(void **state) {
    char *a1[] = {"openseat", "--base-url=ftp://x"};
    expect_error(ARGC(a1), a1, "--base-url");
    char *a2[] = {"openseat", "--base-url=https://seats.example"};
    assert_int_equal(load(ARGC(a2), a2), 0);
    assert_string_equal(C.base_url, "https://seats.example");
}

static void test_choices(void **state) {
    char *a1[] = {"openseat", "--smtp-tls=sometimes"};
    expect_error(ARGC(a1), a1, "--smtp-tls");
    char *a2[] = {"openseat", "--smtp-tls", "required"};
    assert_int_equal(load(ARGC(a2), a2), 0);
    assert_string_equal(C.smtp_tls, "required");
    char *a3[] = {"openseat", "--cookie-secure=maybe"};
    expect_error(ARGC(a3), a3, "--cookie-secure");
    char *a4[] = {"openseat", "--log-level=verbose"};
    expect_error(ARGC(a4), a4, "--log-level");
    setenv("OPENSEAT_SMTP_TLS", "TRY", 1);   /* choices are case-sensitive */
    char *a5[] = {"openseat"};
    expect_error(ARGC(a5), a5, "--smtp-tls");
}

static void test_empty_data_refused(void **state) {
    char *a1[] = {"openseat", "--data="};
    expect_error(ARGC(a1), a1, "--data");
}

static void test_positional_args(void **state) {
    char *argv[] = {"openseat", "serve", "--port=7000", "extra", "--trust-proxy", "last"};
    char *rest[8];
    memset(rest, 0x55, sizeof rest);
    /* argv[0] and argv[1] (the program and its command) are skipped. */
    int rc = config_load(&C, ARGC(argv), argv, 2, rest, 8, E, sizeof E);
    assert_int_equal(rc, 0);
    assert_int_equal(C.port, 7000);
    assert_true(C.trust_proxy);
    assert_string_equal(rest[0], "extra");
    assert_string_equal(rest[1], "last");
    assert_null(rest[2]);

    /* Without a rest array, positional arguments are errors. */
    char *a2[] = {"openseat", "stray"};
    expect_error(ARGC(a2), a2, "stray");

    /* The array holds rest_max entries including the terminator. */
    char *a3[] = {"openseat", "a", "b", "c"};
    char *small[3];
    assert_int_equal(config_load(&C, ARGC(a3), a3, 1, small, 3, E, sizeof E), -1);
    assert_non_null(strstr(E, "\"c\""));
    char *a4[] = {"openseat", "a", "b"};
    assert_int_equal(config_load(&C, ARGC(a4), a4, 1, small, 3, E, sizeof E), 0);
    assert_string_equal(small[0], "a");
    assert_string_equal(small[1], "b");
    assert_null(small[2]);
}

static void test_first_skips_arguments(void **state) {
    /* Arguments before `first` are not parsed, even when they look like bad flags. */
    char *argv[] = {"openseat", "--bogus", "--port=8181"};
    assert_int_equal(config_load(&C, ARGC(argv), argv, 2, NULL, 0, E, sizeof E), 0);
    assert_int_equal(C.port, 8181);
}

static void test_blank_arguments_skipped(void **state) {
    /* A command that consumed its own options blanks them out of argv; the blanks are
     * neither positional arguments nor errors. */
    char blank1[] = "", blank2[] = "";
    char *argv[] = {"openseat", blank1, "--port=8282", blank2};
    assert_int_equal(load(ARGC(argv), argv), 0);
    assert_int_equal(C.port, 8282);
}

static void test_usage_lists_every_flag(void **state) {
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    config_usage(f);
    fclose(f);
    assert_non_null(strstr(text, "--port"));
    assert_non_null(strstr(text, "OPENSEAT_PORT"));
    assert_non_null(strstr(text, "--trust-proxy"));
    assert_non_null(strstr(text, "--smtp-tls"));
    free(text);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        T(test_defaults),
        T(test_environment_applied),
        T(test_environment_error_names_variable),
        T(test_flag_beats_environment),
        T(test_equals_and_separate_forms),
        T(test_port_out_of_range),
        T(test_port_not_numeric),
        T(test_unknown_flag),
        T(test_missing_value),
        T(test_bool_flags),
        T(test_smtp_url_scheme),
        T(test_base_url_scheme),
        T(test_choices),
        T(test_empty_data_refused),
        T(test_positional_args),
        T(test_first_skips_arguments),
        T(test_blank_arguments_skipped),
        T(test_usage_lists_every_flag),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
