/* test_webhook_store.c — webhook rows through the store (SQLite, in a temporary directory):
 * the fan-out writes one delivery per enabled endpoint of the agreement that takes the
 * type, and none for another agreement's endpoints or when there is no endpoint; pruning
 * forgets finished deliveries and events past the cut-off and keeps what is pending.
 */
#include "unit.h"

#include <ftw.h>
#include <unistd.h>

#include "store/db.h"
#include "store/store.h"

#define NOW 1767225600   /* 2026-01-01T00:00:00Z */

static char DIR_[] = "/tmp/openseat-hooks-XXXXXX";
static store *S;
static store_conn *C;
static int64_t AG1, AG2;

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static int64_t agreement(const char *license, int64_t customer, int64_t partner) {
    agreement_rec g = {.license_number = license, .auth_hash = license, .auth_sealed = "s",
                       .customer_email = "it@contoso.example", .program = "Open License", .start_date = "2026-01-01",
                       .end_date = "2028-12-31", .customer_org_id = customer, .partner_org_id = partner};
    int64_t id = 0;
    return st_agreement_create(C, &g, NOW, &id) ? 0 : id;
}

static int group_setup(void **state) {
    if (!mkdtemp(DIR_)) return -1;
    char err[512] = "";
    if (store_open(DIR_, NULL, &S, err, sizeof err) || store_migrate(S, NULL, err, sizeof err)) {
        fprintf(stderr, "store: %s\n", err);
        return -1;
    }
    C = store_conn_get(S);
    int64_t customer, partner;
    if (!C || st_org_ensure(C, "customer", "Contoso", "FR", NOW, &customer, NULL) ||
        st_org_ensure(C, "partner", "Fabrikam", NULL, NOW, &partner, NULL))
        return -1;
    AG1 = agreement("40318275", customer, partner);
    AG2 = agreement("40318276", customer, partner);
    return AG1 && AG2 ? 0 : -1;
}

static int group_teardown(void **state) {
    store_close(S);
    nftw(DIR_, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}

static int64_t endpoint(int64_t agreement_id, const char *types, bool enabled) {
    webhook_rec w = {.owner = {.agreement_id = agreement_id}, .url = "https://example.com/hook",
                     .description = "", .event_types = types, .enabled = enabled,
                     .disabled_reason = enabled ? NULL : "owner", .secret = "sealed", .created_at = NOW};
    int64_t id = 0;
    assert_int_equal(st_webhook_add(C, &w, &id), OS_OK);
    return id;
}

static int64_t event(int64_t agreement_id, const char *type, int64_t at) {
    event_rec r = {.agreement_id = agreement_id, .type = type, .at = at, .data_json = "{}"};
    int64_t id = 0;
    assert_int_equal(st_event_add(C, &r, &id), OS_OK);
    assert_int_equal(st_webhook_fanout(C, id, agreement_id, type, 1, 0, at), OS_OK);
    return id;
}

/* The endpoint's deliveries (what names it, for the reader). */
static int64_t count(const char *what, int64_t endpoint_id) {
    webhook_delivery_rec *rows;
    int n = 0;
    (void)what;
    assert_int_equal(st_webhook_deliveries(C, &A, endpoint_id, 0, 1000, &rows, &n), OS_OK);
    return n;
}

static bool event_kept(int64_t id) {
    int64_t n = 0;
    assert_int_equal(db_scalar_int(C, "SELECT COUNT(*) FROM events WHERE id = ?1", DB_ARGS(DV_INT(id)), &n), OS_OK);
    return n == 1;
}

static void test_fanout_follows_endpoints_and_their_filters(void **state) {
    event(AG2, "subscription.added", NOW);   /* no endpoint anywhere yet: nothing */
    int64_t all = endpoint(AG1, "", true);
    int64_t removed_only = endpoint(AG1, ",subscription.removed,", true);
    int64_t off = endpoint(AG1, "", false);
    int64_t other = endpoint(AG2, ",subscription.added,", true);
    event(AG1, "subscription.added", NOW);
    event(AG1, "subscription.removed", NOW);
    assert_int_equal(count("all", all), 2);
    assert_int_equal(count("removed only", removed_only), 1);
    assert_int_equal(count("disabled", off), 0);
    assert_int_equal(count("another agreement's", other), 0);
    event(AG2, "subscription.added", NOW);
    assert_int_equal(count("another agreement's", other), 1);
    assert_int_equal(count("all", all), 2);
    /* A filter names whole types: another partner.access_* type does not match it. */
    int64_t granted = endpoint(AG2, ",partner.access_granted,", true);
    assert_int_equal(st_webhook_fanout(C, 1, AG2, "partner.access_requested", 0, 0, NOW), OS_OK);
    assert_int_equal(count("granted only", granted), 0);
}

static void test_prune_keeps_what_is_pending(void **state) {
    /* On the agreement whose other endpoints do not take this type: these are the events' only deliveries. */
    int64_t ep = endpoint(AG2, ",agreement.expiring,", true);
    int64_t old_done = event(AG2, "agreement.expiring", NOW - 40 * 86400);
    int64_t old_pending = event(AG2, "agreement.expiring", NOW - 40 * 86400);
    int64_t recent = event(AG2, "agreement.expiring", NOW - 86400);
    webhook_delivery_rec *rows;
    int n = 0;
    assert_int_equal(st_webhook_deliveries(C, &A, ep, 0, 10, &rows, &n), OS_OK);
    assert_int_equal(n, 3);
    /* The oldest is delivered: claimed, then done. */
    int64_t *ids;
    int k = 0;
    assert_int_equal(st_webhook_claim(C, &A, "w1", NOW, NOW + 60, 100, &ids, &k), OS_OK);
    int64_t changed = 0;
    assert_int_equal(st_webhook_delivery_done(C, rows[2].id, "w1", "delivered", NOW, NOW, &changed), OS_OK);
    assert_int_equal(changed, 1);
    assert_int_equal(st_webhook_delivery_done(C, rows[2].id, "w2", "failed", NOW, NOW, &changed), OS_OK);
    assert_int_equal(changed, 0);   /* not w2's claim */
    assert_int_equal(st_webhook_prune(C, NOW - 30 * 86400), OS_OK);
    assert_int_equal(st_webhook_deliveries(C, &A, ep, 0, 10, &rows, &n), OS_OK);
    assert_int_equal(n, 2);   /* the delivered one is gone; the pending old one and the recent one stay */
    assert_false(event_kept(old_done));
    assert_true(event_kept(old_pending));
    assert_true(event_kept(recent));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        T(test_fanout_follows_endpoints_and_their_filters),
        T(test_prune_keeps_what_is_pending),
    };
#undef T
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
