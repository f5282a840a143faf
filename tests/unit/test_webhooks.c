/* test_webhooks.c — the rules of webhook delivery that need no server: which addresses the
 * worker may connect to (every socket address it is about to use goes through
 * webhooks_address_allowed), the retry schedule (about a day, then failed), and the stored
 * event-type filter read back as names.
 */
#include "unit.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include "domain/webhooks.h"

static bool v4(const char *ip, bool allow_private) {
    struct sockaddr_in s = {.sin_family = AF_INET};
    assert_int_equal(inet_pton(AF_INET, ip, &s.sin_addr), 1);
    return webhooks_address_allowed((const struct sockaddr *)&s, allow_private);
}

static bool v6(const char *ip, bool allow_private) {
    struct sockaddr_in6 s = {.sin6_family = AF_INET6};
    assert_int_equal(inet_pton(AF_INET6, ip, &s.sin6_addr), 1);
    return webhooks_address_allowed((const struct sockaddr *)&s, allow_private);
}

static void test_non_public_ipv4_is_refused(void **state) {
    const char *refused[] = {"127.0.0.1", "127.255.0.9", "10.0.0.1", "172.16.0.1", "172.31.255.255",
                             "192.168.1.1", "169.254.169.254", "100.64.0.1", "100.127.255.254", "0.0.0.0",
                             "0.1.2.3", "224.0.0.1", "239.255.255.250", "240.0.0.1", "255.255.255.255",
                             "192.0.0.8", "198.18.0.1", "198.19.255.255"};
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        if (v4(refused[i], false)) fail_msg("%s allowed", refused[i]);
        assert_true(v4(refused[i], true));   /* --webhooks-allow-private */
    }
    const char *allowed[] = {"93.184.215.14", "8.8.8.8", "172.15.255.255", "172.32.0.1", "100.63.255.255",
                             "100.128.0.1", "192.0.2.1", "169.253.0.1", "198.20.0.1", "223.255.255.255"};
    for (size_t i = 0; i < sizeof allowed / sizeof *allowed; i++)
        if (!v4(allowed[i], false)) fail_msg("%s refused", allowed[i]);
}

static void test_non_public_ipv6_is_refused(void **state) {
    const char *refused[] = {"::1", "::", "fe80::1", "febf::1", "fc00::1", "fd12:3456::1", "ff02::1",
                             "::ffff:127.0.0.1", "::ffff:10.1.2.3", "::ffff:169.254.169.254", "64:ff9b::a00:1",
                             "::127.0.0.1", "fec0::1"};
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++)
        if (v6(refused[i], false)) fail_msg("%s allowed", refused[i]);
    const char *allowed[] = {"2606:2800:220:1::1", "2001:4860:4860::8888", "::ffff:93.184.215.14",
                             "64:ff9b::5db8:d70e", "fe00::1"};
    for (size_t i = 0; i < sizeof allowed / sizeof *allowed; i++)
        if (!v6(allowed[i], false)) fail_msg("%s refused", allowed[i]);
}

static void test_other_families_are_refused(void **state) {
    struct sockaddr s = {.sa_family = AF_UNIX};
    assert_false(webhooks_address_allowed(&s, false));
}

static void test_retries_last_about_a_day_then_stop(void **state) {
    int64_t total = 0, n = 0;
    for (int64_t a = 1; webhooks_backoff(a); a++, n++) {
        assert_true(webhooks_backoff(a) >= webhooks_backoff(a > 1 ? a - 1 : 1));
        total += webhooks_backoff(a);
    }
    assert_int_equal(webhooks_backoff(1), 5);
    assert_int_equal(n, 7);
    assert_true(total > 20 * 3600 && total < 36 * 3600);
    assert_int_equal(webhooks_backoff(0), 0);
    assert_int_equal(webhooks_backoff(8), 0);
}

static void test_stored_types_read_back(void **state) {
    const char **t;
    assert_int_equal(webhooks_types(&A, "", &t), 0);
    assert_int_equal(webhooks_types(&A, ",subscription.added,", &t), 1);
    assert_string_equal(t[0], "subscription.added");
    assert_int_equal(webhooks_types(&A, ",subscription.added,partner.access_granted,job.finished,", &t), 3);
    assert_string_equal(t[1], "partner.access_granted");
    assert_string_equal(t[2], "job.finished");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        T(test_non_public_ipv4_is_refused),
        T(test_non_public_ipv6_is_refused),
        T(test_other_families_are_refused),
        T(test_retries_last_about_a_day_then_stop),
        T(test_stored_types_read_back),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
