/* common.c — start-up shared by every subcommand that touches data. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "cli/cli.h"
#include "core/log.h"
#include "core/secret.h"
#include "domain/keys.h"
#include "store/store.h"

int cli_open(app *a, config *cfg, int argc, char **argv, char **rest, size_t rest_max) {
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


void cli_ctx(app *a, arena *ar, op_ctx *x) {
    memset(x, 0, sizeof *x);
    x->app = a;
    x->c = store_conn_get(a->st);
    x->a = ar;
    x->now = time(NULL);
    x->actor_email = "operator";
    x->address = "cli";
}
