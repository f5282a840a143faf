/* admin.c — operator commands: migrate, backup, copy, outbox. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cli/cli.h"
#include "core/log.h"
#include "domain/lifecycle.h"
#include "store/store.h"

int cmd_migrate(int argc, char **argv) {
    config cfg;
    app a;
    int rc = cli_open(&a, &cfg, argc, argv, NULL, 0);
    if (rc) return rc;
    store_conn *c = store_conn_get(a.st);
    printf("schema version %d (%s)\n", c ? store_schema_version(c) : -1, store_describe(a.st));
    store_close(a.st);
    return 0;
}

int cmd_backup(int argc, char **argv) {
    config cfg;
    app a;
    char *rest[4];
    int rc = cli_open(&a, &cfg, argc, argv, rest, 4);
    if (rc) return rc;
    if (!rest[0] || rest[1]) {
        fprintf(stderr, "usage: openseat backup FILE [options]\n");
        store_close(a.st);
        return 2;
    }
    char err[512];
    os_err e = store_backup(a.st, rest[0], err, sizeof err);
    if (e) fprintf(stderr, "openseat: %s\n", err);
    else printf("backup written to %s\n", rest[0]);
    store_close(a.st);
    return e ? 1 : 0;
}

static void copy_report(void *ud, const char *table, int64_t rows) {
    (void)ud;
    printf("  %-24s %lld rows\n", table, (long long)rows);
}

/* Opens a store at url and brings it to this version's schema. */
static store *copy_open(const config *cfg, const char *url, const char *which) {
    char err[512];
    store *s;
    if (store_open(cfg->data_dir, url, &s, err, sizeof err)) {
        fprintf(stderr, "openseat: --%s: %s\n", which, err);
        return NULL;
    }
    if (store_migrate(s, NULL, err, sizeof err)) {
        fprintf(stderr, "openseat: --%s: %s\n", which, err);
        store_close(s);
        return NULL;
    }
    return s;
}

int cmd_copy(int argc, char **argv) {
    const char *from = NULL, *to = NULL;
    static char empty[] = "";
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--from") && i + 1 < argc) { from = argv[i + 1]; argv[i] = argv[i + 1] = empty; i++; }
        else if (!strcmp(argv[i], "--to") && i + 1 < argc) { to = argv[i + 1]; argv[i] = argv[i + 1] = empty; i++; }
    }
    if (!from || !to) {
        fprintf(stderr, "usage: openseat copy --from sqlite:FILE --to postgres://USER@HOST/DB\n");
        return 2;
    }
    config cfg;
    char err[512];
    if (config_load(&cfg, argc, argv, 2, NULL, 0, err, sizeof err)) {
        fprintf(stderr, "openseat: %s\n", err);
        return 2;
    }
    log_level lvl;
    if (!log_level_parse(cfg.log_level, &lvl)) log_set_level(lvl);
    store *src = copy_open(&cfg, from, "from");
    if (!src) return 1;
    store *dst = copy_open(&cfg, to, "to");
    if (!dst) { store_close(src); return 1; }
    printf("copying %s to %s\n", store_describe(src), store_describe(dst));
    os_err e = store_copy(src, dst, copy_report, NULL, err, sizeof err);
    if (e) fprintf(stderr, "openseat: %s; the target is unchanged\n", err);
    else printf("done: start openseat with --database-url on the new database (and the same secret key)\n");
    store_close(dst);
    store_close(src);
    return e ? 1 : 0;
}

static void print_time(int64_t t) {
    if (!t) { printf("%-20s", "-"); return; }
    char s[32];
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(s, sizeof s, "%Y-%m-%dT%H:%M:%SZ", &tm);
    printf("%-20s", s);
}

int cmd_outbox(int argc, char **argv) {
    /* "--all" belongs to the retry sub-command, not to the shared option parser. */
    static char all[] = "all";
    for (int i = 2; i < argc; i++)
        if (!strcmp(argv[i], "--all")) argv[i] = all;
    config cfg;
    app a;
    char *rest[4];
    int rc = cli_open(&a, &cfg, argc, argv, rest, 4);
    if (rc) return rc;
    store_conn *c = store_conn_get(a.st);
    arena ar;
    arena_init(&ar, 16u << 20);
    os_err e = c ? OS_OK : OS_ERR_STORE;
    if (!e && (!rest[0] || !strcmp(rest[0], "list"))) {
        outbox_rec *rows;
        int n = 0;
        e = st_outbox_list(c, &ar, false, 200, &rows, &n);
        printf("%-6s %-32s %-18s %-3s %-8s %-20s %-20s %s\n", "id", "recipient", "template", "lng", "attempts",
               "next attempt", "sent", "last error");
        for (int i = 0; !e && i < n; i++) {
            printf("%-6lld %-32s %-18s %-3s %-8lld ", (long long)rows[i].id, rows[i].recipient,
                   rows[i].template_name, rows[i].language, (long long)rows[i].attempts);
            print_time(rows[i].sent_at ? 0 : rows[i].next_attempt_at);
            printf(" ");
            print_time(rows[i].sent_at);
            printf(" %s\n", rows[i].last_error ? rows[i].last_error : "");
        }
    } else if (!e && !strcmp(rest[0], "retry")) {
        int64_t id = 0, changed = 0;
        if (rest[1] && !strcmp(rest[1], "all")) id = 0;
        else if (rest[1]) {
            char *end;
            id = strtoll(rest[1], &end, 10);
            if (*end || id <= 0) { fprintf(stderr, "openseat: outbox retry: \"%s\" is not an id\n", rest[1]); rc = 2; }
        } else {
            fprintf(stderr, "usage: openseat outbox retry ID|--all\n");
            rc = 2;
        }
        if (!rc) {
            e = st_outbox_retry(c, id, time(NULL), &changed);
            if (!e) printf("%lld e-mail(s) due now\n", (long long)changed);
        }
    } else if (!e) {
        fprintf(stderr, "usage: openseat outbox [list | retry ID | retry --all]\n");
        rc = 2;
    }
    arena_free(&ar);
    store_close(a.st);
    if (e) {
        fprintf(stderr, "openseat: %s\n", os_err_name(e));
        return 1;
    }
    return rc;
}


/* lifecycle [--today YYYY-MM-DD]: queue the expiry reminders due (on that day) and move
 * partner relationships on (reminders, ends, renewals, lapsed requests). */
int cmd_lifecycle(int argc, char **argv) {
    static char empty[] = "";
    const char *today = NULL;
    for (int i = 2; i + 1 < argc; i++)
        if (!strcmp(argv[i], "--today")) {
            today = argv[i + 1];
            argv[i] = argv[i + 1] = empty;
        }
    int64_t now = time(NULL);
    if (today) {
        struct tm tm = {0};
        const char *rest = strptime(today, "%Y-%m-%d", &tm);
        if (!rest || *rest) {
            fprintf(stderr, "openseat: --today must be a date YYYY-MM-DD\n");
            return 2;
        }
        now = (int64_t)timegm(&tm) + 12 * 3600;
    }
    config cfg;
    app a;
    int rc = cli_open(&a, &cfg, argc, argv, NULL, 0);
    if (rc) return rc;
    int queued = lifecycle_run(&a, now);
    store_close(a.st);
    if (queued < 0) return 1;
    printf("%d reminder(s) and notice(s) queued\n", queued);
    return 0;
}
