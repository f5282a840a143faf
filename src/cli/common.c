/* common.c — start-up shared by every subcommand that touches data. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "cli/cli.h"
#include "core/log.h"
#include "core/secret.h"
#include "domain/keys.h"
#include "store/store.h"

/* The settings key under which serve records the public URL it builds links from. */
#define BASE_URL_SETTING "base_url"

/* The URL this process's configuration gives: the flag (trailing slashes dropped), else
 * http://localhost:PORT. */
static void configured_base_url(app *a, const config *cfg) {
    if (cfg->base_url) {
        snprintf(a->base_url, sizeof a->base_url, "%s", cfg->base_url);
        size_t n = strlen(a->base_url);
        while (n && a->base_url[n - 1] == '/') a->base_url[--n] = 0;
    } else {
        snprintf(a->base_url, sizeof a->base_url, "http://localhost:%ld", cfg->port);
    }
    a->cookie_secure = !strcmp(cfg->cookie_secure, "always") ||
                       (!strcmp(cfg->cookie_secure, "auto") && !strncmp(a->base_url, "https://", 8));
}

/* A command given no --base-url builds its e-mail links from the URL the server last
 * started with, so mail queued by `openseat lifecycle` or `openseat demo` points where the
 * server's own mail does (not at localhost). With neither, the localhost default stays. */
static os_err base_url_from_settings(app *a) {
    store_conn *c = store_conn_get(a->st);
    if (!c) return OS_ERR_STORE;
    arena ar;
    arena_init(&ar, 64 * 1024);
    const char *v = NULL;
    os_err e = st_setting_get(c, &ar, BASE_URL_SETTING, &v);
    if (e == OS_OK && (!strncmp(v, "http://", 7) || !strncmp(v, "https://", 8)) && strlen(v) < sizeof a->base_url)
        snprintf(a->base_url, sizeof a->base_url, "%s", v);
    arena_free(&ar);
    return e == OS_ERR_NOT_FOUND ? OS_OK : e;
}

os_err cli_publish_base_url(app *a) {
    configured_base_url(a, a->cfg);
    store_conn *c = store_conn_get(a->st);
    if (!c) return OS_ERR_STORE;
    return st_setting_put(c, BASE_URL_SETTING, a->base_url);
}

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
    configured_base_url(a, cfg);
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
    if (!cfg->base_url && base_url_from_settings(a)) {
        fprintf(stderr, "openseat: cannot read the public URL from the database\n");
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
