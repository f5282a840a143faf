/* demo.c — demo data for `make run`: idempotent, prints the sign-ins.
 *
 * A partner organization with a user, two customers with agreements that partner
 * ordered, and an agreement placed by another partner that has no portal user yet, so
 * the partner registration with its numbers can be tried.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "cli/cli.h"
#include "core/text.h"
#include "domain/account.h"
#include "domain/licensing.h"

#define DEMO_PASSWORD "demo-password-1"

static const struct { const char *name, *email, *lang, *role; } people[] = {
    {"Camille Martin", "camille@contoso.example", "fr", "customer super admin of Contoso (after first sign-in)"},
    {"Alex Morgan", "alex@fabrikam-partner.example", "en", "partner user at Fabrikam Partners"},
    {"Olivia Brown", "olivia@northwind.example", "en", "customer super admin of Northwind Traders"},
};

static os_err order(op_ctx *x, const char *customer, const char *email, const char *country, const order_line_in *lines,
                    int n) {
    order_in in = {.customer_name = customer, .customer_email = email, .customer_country = country,
                   .lines = lines, .nlines = n, .po_reference = "DEMO"};
    field_errors fe;
    fe_init(&fe, x->a);
    order_out out;
    return licensing_place_order(x, &in, &fe, &out);
}

static os_err seed(app *a, arena *ar, const char **tailspin) {
    op_ctx x;
    cli_ctx(a, ar, &x);
    if (!x.c) return OS_ERR_STORE;
    os_err e = OS_OK;
    for (size_t i = 0; !e && i < sizeof people / sizeof people[0]; i++)
        e = account_ensure_verified(&x, people[i].name, people[i].email, DEMO_PASSWORD, people[i].lang);
    if (e) return e;
    if (st_setting_get(x.c, ar, "demo_tailspin", tailspin) == OS_OK) return OS_OK;   /* seeded before */

    if ((e = licensing_partner_add(&x, "Fabrikam Partners", "FR", "alex@fabrikam-partner.example", true))) return e;
    user_rec alex;
    if ((e = st_user_by_email(x.c, ar, "alex@fabrikam-partner.example", &alex))) return e;
    x.actor_id = alex.id;
    x.actor_email = alex.email;
    const order_line_in contoso[] = {{"enterprise", 25}, {"professional", 50}};
    const order_line_in northwind[] = {{"professional", 10}, {"test_professional", 5}};
    if ((e = order(&x, "Contoso", "camille@contoso.example", "FR", contoso, 2))) return e;
    if ((e = order(&x, "Northwind Traders", "olivia@northwind.example", "GB", northwind, 2))) return e;

    /* Placed upstream by a partner with nobody in the portal yet. */
    char lic[LICENSE_DIGITS + 1], auth[AUTHNO_CHARS + 1], shown[AUTHNO_CHARS + 3], start[11], end[11];
    license_number_new(lic);
    authno_new(auth);
    authno_format(auth, shown);
    time_t now = time(NULL), later = now + 3 * 365 * 86400;
    text_day(now, start);
    text_day(later, end);
    import_row row = {lic, auth, "Tailspin Toys", "BE", "it@tailspin.example", "Litware Reseller", start, end,
                      "enterprise:10;platforms:3", 2};
    field_errors fe;
    fe_init(&fe, ar);
    int imported;
    x.actor_id = 0;
    x.actor_email = "operator";
    if ((e = licensing_import(&x, &row, 1, &fe, &imported))) return e;
    const char *summary = arena_printf(ar, "license %s, authorization %s, customer e-mail it@tailspin.example", lic, shown);
    return st_setting_init(x.c, ar, "demo_tailspin", summary, tailspin);
}

int cmd_demo(int argc, char **argv) {
    config cfg;
    app a;
    int rc = cli_open(&a, &cfg, argc, argv, NULL, 0);
    if (rc) return rc;
    arena ar;
    arena_init(&ar, 16u << 20);
    const char *tailspin = NULL;
    os_err e = seed(&a, &ar, &tailspin);
    store_close(a.st);
    if (e) {
        fprintf(stderr, "openseat: demo data failed: %s\n", os_err_name(e));
        arena_free(&ar);
        return 1;
    }
    printf("Demo sign-ins (password for each: " DEMO_PASSWORD "):\n");
    for (size_t i = 0; i < sizeof people / sizeof people[0]; i++)
        printf("  %-32s %s\n", people[i].email, people[i].role);
    printf("An Open License whose partner (Litware Reseller) is not in the portal yet:\n  %s\n", tailspin);
    arena_free(&ar);
    return 0;
}
