/* main.c — subcommand dispatch only. Each command sets up what it needs and calls into
 * the layers; no business logic lives here. */
#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "api/api.h"
#include "app.h"
#include "core/config.h"
#include "core/log.h"
#include "core/secret.h"
#include "domain/account.h"
#include "domain/housekeeping.h"
#include "domain/keys.h"
#include "http/metrics.h"
#include "http/server.h"
#include "mail/outbox.h"
#include "store/store.h"

#define VERSION "0.1.0"

static void usage(FILE *out) {
    fprintf(out,
            "openseat " VERSION " — subscription administration portal\n\n"
            "usage: openseat COMMAND [options]\n\n"
            "commands:\n"
            "  serve                 run the web server and the mail worker\n"
            "  migrate               apply pending database migrations and exit\n"
            "  backup FILE           write an online, consistent copy of the database to FILE\n"
            "  demo                  create demo accounts (idempotent) and print the sign-ins\n"
            "  outbox [list]         show queued and recent e-mails with attempts and last error\n"
            "  outbox retry ID|--all make one or every undelivered e-mail due now\n"
            "  version               print the version\n\n");
    config_usage(out);
}

/* Shared start-up of every command that touches data: config, crypto, store, schema. */
static int open_app(app *a, config *cfg, int argc, char **argv, char **rest, size_t rest_max) {
    char err[512];
    if (config_load(cfg, argc, argv, 2, rest, rest_max, err, sizeof err)) {
        fprintf(stderr, "openseat: %s\n", err);
        return 2;
    }
    log_level lvl;
    if (!log_level_parse(cfg->log_level, &lvl)) log_set_level(lvl);
    if (secret_init()) {
        fprintf(stderr, "openseat: libsodium failed to initialise\n");
        return 1;
    }
    secret_pw_limits((unsigned long long)cfg->argon2_ops, (size_t)cfg->argon2_mem_kib * 1024);
    memset(a, 0, sizeof *a);
    a->cfg = cfg;
    if (cfg->base_url) {
        snprintf(a->base_url, sizeof a->base_url, "%s", cfg->base_url);
        size_t n = strlen(a->base_url);
        while (n && a->base_url[n - 1] == '/') a->base_url[--n] = 0;
    } else {
        snprintf(a->base_url, sizeof a->base_url, "http://localhost:%ld", cfg->port);
    }
    a->cookie_secure = !strcmp(cfg->cookie_secure, "always") ||
                       (!strcmp(cfg->cookie_secure, "auto") && !strncmp(a->base_url, "https://", 8));
    if (store_open(cfg->data_dir, cfg->database_url, &a->st, err, sizeof err)) {
        fprintf(stderr, "openseat: %s\n", err);
        return 1;
    }
    int applied = 0;
    if (store_migrate(a->st, &applied, err, sizeof err)) {
        fprintf(stderr, "openseat: %s\n", err);
        store_close(a->st);
        return 1;
    }
    if (keys_load(a, err, sizeof err)) {
        fprintf(stderr, "openseat: %s\n", err);
        store_close(a->st);
        return 1;
    }
    if (applied) {
        char n[16];
        snprintf(n, sizeof n, "%d", applied);
        log_event(LOG_INFO, "migrations applied", "count", n, "database", store_describe(a->st), NULL);
    }
    return 0;
}

static int cmd_serve(int argc, char **argv) {
    config cfg;
    app a;
    int rc = open_app(&a, &cfg, argc, argv, NULL, 0);
    if (rc) return rc;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    /* Block the stop signals in every thread; the main thread waits for them below. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    a.metrics = metrics_new(api_routes, api_route_count);
    char err[512];
    server *srv = server_start(&a, api_routes, api_route_count, &api_hooks, err, sizeof err);
    if (!srv) {
        fprintf(stderr, "openseat: %s\n", err);
        store_close(a.st);
        return 1;
    }
    a.mail = outbox_start(&a);
    char port[16];
    snprintf(port, sizeof port, "%d", server_port(srv));
    log_event(LOG_INFO, "listening", "address", cfg.bind, "port", port, "url", a.base_url, "database",
              store_describe(a.st), "mail", cfg.smtp_url ? "smtp" : "maildir", NULL);
    /* The main thread waits for a stop signal and does housekeeping once a minute. */
    int sig;
    struct timespec minute = {60, 0};
    while ((sig = sigtimedwait(&set, NULL, &minute)) < 0) housekeeping_run(&a);
    log_event(LOG_INFO, "stopping", "signal", sig == SIGINT ? "SIGINT" : "SIGTERM", NULL);
    server_stop(srv);
    outbox_stop(a.mail);
    metrics_free(a.metrics);
    store_close(a.st);
    curl_global_cleanup();
    log_event(LOG_INFO, "stopped", NULL);
    return 0;
}

static int cmd_migrate(int argc, char **argv) {
    config cfg;
    app a;
    int rc = open_app(&a, &cfg, argc, argv, NULL, 0);
    if (rc) return rc;
    store_conn *c = store_conn_get(a.st);
    printf("schema version %d (%s)\n", c ? store_schema_version(c) : -1, store_describe(a.st));
    store_close(a.st);
    return 0;
}

static int cmd_backup(int argc, char **argv) {
    config cfg;
    app a;
    char *rest[4];
    int rc = open_app(&a, &cfg, argc, argv, rest, 4);
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

static int cmd_demo(int argc, char **argv) {
    config cfg;
    app a;
    int rc = open_app(&a, &cfg, argc, argv, NULL, 0);
    if (rc) return rc;
    static const struct { const char *name, *email, *password, *lang; } people[] = {
        {"Camille Martin", "camille@contoso.example", "demo-password-1", "fr"},
        {"Alex Morgan", "alex@fabrikam-partner.example", "demo-password-1", "en"},
    };
    arena ar;
    arena_init(&ar, 1 << 20);
    op_ctx x = {.app = &a, .c = store_conn_get(a.st), .a = &ar, .now = time(NULL), .address = "cli"};
    os_err e = x.c ? OS_OK : OS_ERR_STORE;
    for (size_t i = 0; !e && i < sizeof people / sizeof people[0]; i++)
        e = account_ensure_verified(&x, people[i].name, people[i].email, people[i].password, people[i].lang);
    arena_free(&ar);
    store_close(a.st);
    if (e) {
        fprintf(stderr, "openseat: demo data failed: %s\n", os_err_name(e));
        return 1;
    }
    printf("Demo sign-ins (password for each: demo-password-1):\n");
    for (size_t i = 0; i < sizeof people / sizeof people[0]; i++)
        printf("  %-32s %s\n", people[i].email, people[i].name);
    return 0;
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

static int cmd_outbox(int argc, char **argv) {
    /* "--all" belongs to the retry sub-command, not to the shared option parser. */
    static char all[] = "all";
    for (int i = 2; i < argc; i++)
        if (!strcmp(argv[i], "--all")) argv[i] = all;
    config cfg;
    app a;
    char *rest[4];
    int rc = open_app(&a, &cfg, argc, argv, rest, 4);
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

int main(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *cmd = argv[1];
    for (int i = 2; i < argc; i++)
        if (!strcmp(argv[i], "--help")) { usage(stdout); return 0; }
    if (!strcmp(cmd, "serve")) return cmd_serve(argc, argv);
    if (!strcmp(cmd, "migrate")) return cmd_migrate(argc, argv);
    if (!strcmp(cmd, "backup")) return cmd_backup(argc, argv);
    if (!strcmp(cmd, "demo")) return cmd_demo(argc, argv);
    if (!strcmp(cmd, "outbox")) return cmd_outbox(argc, argv);
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) { printf("openseat %s\n", VERSION); return 0; }
    fprintf(stderr, "openseat: unknown command \"%s\" (see openseat --help)\n", cmd);
    return 2;
}
