/* licensing.c — operator commands for the licensing center: partner add, program set, import. */
#include <stdio.h>
#include <string.h>
#include "cli/cli.h"
#include "core/file.h"
#include "core/json_write.h"
#include "core/text.h"
#include "domain/licensing.h"
#include "io/csv.h"

#define IMPORT_MAX_BYTES (64 * 1024 * 1024)
#define IMPORT_MAX_ROWS 200000

/* partner add --org NAME --country CC --email EMAIL [--admin] */
int cmd_partner(int argc, char **argv) {
    const char *org = NULL, *country = "", *email_in = NULL;
    bool admin = false;
    /* Options of this command are taken out before the shared option parser sees argv. */
    static char empty[] = "";
    int sub = 0;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--org") && i + 1 < argc) { org = argv[i + 1]; argv[i] = argv[i + 1] = empty; i++; }
        else if (!strcmp(argv[i], "--country") && i + 1 < argc) { country = argv[i + 1]; argv[i] = argv[i + 1] = empty; i++; }
        else if (!strcmp(argv[i], "--email") && i + 1 < argc) { email_in = argv[i + 1]; argv[i] = argv[i + 1] = empty; i++; }
        else if (!strcmp(argv[i], "--admin")) { admin = true; argv[i] = empty; }
        else if (!strcmp(argv[i], "add") && !sub) { sub = i; argv[i] = empty; }
    }
    if (!sub || !org || !email_in) {
        fprintf(stderr, "usage: openseat partner add --org NAME --email EMAIL [--country CC] [--admin]\n");
        return 2;
    }
    config cfg;
    app a;
    char *rest[8];
    int rc = cli_open(&a, &cfg, argc, argv, rest, 8);
    if (rc) return rc;
    arena ar;
    arena_init(&ar, 1 << 20);
    op_ctx x;
    cli_ctx(&a, &ar, &x);
    const char *email = email_normalize(&ar, email_in);
    const char *name = text_trim(&ar, org);
    os_err e = OS_OK;
    if (!email) { fprintf(stderr, "openseat: --email \"%s\" is not an e-mail address\n", email_in); rc = 2; }
    else if (!*name || strlen(name) > 200) { fprintf(stderr, "openseat: --org must be 1 to 200 characters\n"); rc = 2; }
    else if (strlen(country) && (strlen(country) != 2 || country[0] < 'A' || country[0] > 'Z' || country[1] < 'A' ||
                                 country[1] > 'Z')) {
        fprintf(stderr, "openseat: --country must be a two-letter code in capitals, e.g. FR\n");
        rc = 2;
    } else if (!x.c) e = OS_ERR_STORE;
    else if (!(e = licensing_partner_add(&x, name, country, email, admin)))
        printf("%s is now a%s member of partner \"%s\"\n", email, admin ? "n admin" : "", name);
    if (e) { fprintf(stderr, "openseat: %s\n", os_err_name(e)); rc = 1; }
    arena_free(&ar);
    store_close(a.st);
    return rc;
}

/* Whole decimal number in [0, max], nothing else (no sign, spaces or trailing text). */
static bool parse_days(const char *s, int64_t max, int64_t *out) {
    int64_t v = 0;
    if (!*s) return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9') return false;
        v = v * 10 + (*s - '0');
        if (v > max) return false;
    }
    *out = v;
    return true;
}

/* program set --name NAME --reassign-days N */
int cmd_program(int argc, char **argv) {
    const char *name_in = NULL, *days_in = NULL;
    static char empty[] = "";
    int sub = 0;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--name") && i + 1 < argc) { name_in = argv[i + 1]; argv[i] = argv[i + 1] = empty; i++; }
        else if (!strcmp(argv[i], "--reassign-days") && i + 1 < argc) { days_in = argv[i + 1]; argv[i] = argv[i + 1] = empty; i++; }
        else if (!strcmp(argv[i], "set") && !sub) { sub = i; argv[i] = empty; }
    }
    if (!sub || !name_in || !days_in) {
        fprintf(stderr, "usage: openseat program set --name NAME --reassign-days N\n");
        return 2;
    }
    /* Checked before opening the store, so a typo changes nothing and names its option. */
    int64_t days = 0;
    if (!parse_days(days_in, PROGRAM_REASSIGN_DAYS_MAX, &days)) {
        fprintf(stderr, "openseat: --reassign-days \"%s\" must be a whole number of days from 0 to %d\n", days_in,
                PROGRAM_REASSIGN_DAYS_MAX);
        return 2;
    }
    arena ar;
    arena_init(&ar, 1 << 20);
    const char *name = text_trim(&ar, name_in);
    size_t len = strlen(name);
    if (!len || utf8_valid_prefix(name, len) != len || utf8_chars(name) > PROGRAM_NAME_MAX) {
        fprintf(stderr, "openseat: --name must be 1 to %d characters of UTF-8 text\n", PROGRAM_NAME_MAX);
        arena_free(&ar);
        return 2;
    }
    config cfg;
    app a;
    char *rest[8];
    int rc = cli_open(&a, &cfg, argc, argv, rest, 8);
    if (rc) { arena_free(&ar); return rc; }
    op_ctx x;
    cli_ctx(&a, &ar, &x);
    os_err e = x.c ? licensing_program_set(&x, name, days) : OS_ERR_STORE;
    if (e) {
        fprintf(stderr, "openseat: %s\n", os_err_name(e));
        rc = 1;
    } else if (days == 0) {
        printf("program \"%s\": reassign days 0 (a freed seat may go to a different person at once)\n", name);
    } else {
        printf("program \"%s\": reassign days %lld (a freed seat goes to a different person %lld day%s after its "
               "last assignment)\n", name, (long long)days, (long long)days, days == 1 ? "" : "s");
    }
    arena_free(&ar);
    store_close(a.st);
    return rc;
}

static const char *const import_columns[] = {"license_number", "authorization_number", "customer_name",
                                             "customer_country", "customer_email", "partner_name",
                                             "start_date", "end_date", "lines", NULL};

/* import agreements FILE.csv */
int cmd_import(int argc, char **argv) {
    config cfg;
    app a;
    char *rest[4];
    int rc = cli_open(&a, &cfg, argc, argv, rest, 4);
    if (rc) return rc;
    if (!rest[0] || strcmp(rest[0], "agreements") || !rest[1] || rest[2]) {
        fprintf(stderr, "usage: openseat import agreements FILE.csv\n");
        store_close(a.st);
        return 2;
    }
    arena ar;
    arena_init(&ar, 1u << 30);
    char err[512];
    size_t len = 0;
    io_table t;
    char *data = NULL;
    os_err e = file_read(&ar, rest[1], IMPORT_MAX_BYTES, &data, &len);
    if (e) snprintf(err, sizeof err, "cannot read %s: %s", rest[1],
                    e == OS_ERR_TOO_LARGE ? "larger than the import limit" : "no such file");
    else e = csv_read(&ar, data, len, IMPORT_MAX_ROWS, &t, err, sizeof err);
    int col[9];
    for (int i = 0; !e && import_columns[i]; i++)
        if ((col[i] = io_column(&t, import_columns[i])) < 0) {
            snprintf(err, sizeof err, "the header has no column \"%s\"", import_columns[i]);
            e = OS_ERR_INVALID;
        }
    if (e) {
        fprintf(stderr, "openseat: %s\n", err);
        arena_free(&ar);
        store_close(a.st);
        return 1;
    }
    int n = t.nrows - 1;
    import_row *rows = arena_alloc(&ar, sizeof *rows * (size_t)(n > 0 ? n : 1));
    for (int i = 0; i < n; i++) {
        const char *v[9];
        for (int k = 0; k < 9; k++) v[k] = col[k] < t.ncells[i + 1] ? t.rows[i + 1][col[k]] : NULL;
        rows[i] = (import_row){v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], t.rownum[i + 1]};
    }
    op_ctx x;
    cli_ctx(&a, &ar, &x);
    field_errors fe;
    fe_init(&fe, &ar);
    int imported = 0;
    e = x.c ? licensing_import(&x, rows, n, &fe, &imported) : OS_ERR_STORE;
    if (e == OS_ERR_INVALID) {
        for (field_error *f = fe.head; f; f = f->next) fprintf(stderr, "%s: %s\n", f->field, f->message);
        fprintf(stderr, "openseat: %d error(s); nothing was imported\n", fe.count);
        rc = 1;
    } else if (e) {
        fprintf(stderr, "openseat: import failed (%s); nothing was imported\n", os_err_name(e));
        rc = 1;
    } else {
        printf("imported %d agreement(s)\n", imported);
    }
    arena_free(&ar);
    store_close(a.st);
    return rc;
}
