/* serve.c — the web server, the mail, job and webhook workers, the audit log and housekeeping,
 * until SIGTERM/SIGINT (SIGHUP: the audit log file is opened again). */
#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>
#include "api/api.h"
#include "cli/cli.h"
#include "core/log.h"
#include "domain/audit_log.h"
#include "domain/housekeeping.h"
#include "domain/jobs.h"
#include "domain/sso.h"
#include "http/metrics.h"
#include "http/server.h"
#include "mail/outbox.h"
#include "webhook/worker.h"

int cmd_serve(int argc, char **argv) {
    config cfg;
    app a;
    int rc = cli_open(&a, &cfg, argc, argv, NULL, 0);
    if (rc) return rc;
    if (cli_publish_base_url(&a)) {
        fprintf(stderr, "openseat: cannot record the public URL in the database\n");
        store_close(a.st);
        return 1;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (cfg.sso_config) {
        char serr[512];
        if (!(a.sso = sso_load(cfg.sso_config, cfg.sso_allow_private, serr, sizeof serr))) {
            fprintf(stderr, "openseat: --sso-config %s\n", serr);
            store_close(a.st);
            return 1;
        }
    }
    /* Block the stop signals in every thread; the main thread waits for them below. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    a.metrics = metrics_new(api_routes, api_route_count);
    /* The workers exist before the first request that may wake them. */
    a.mail = outbox_start(&a);
    a.jobs = jobs_start(&a, api_job_exec);
    a.hooks = webhook_worker_start(&a);
    char err[512];
    audit_log *alog = NULL;
    if (cfg.audit_log && !(alog = audit_log_start(&a, err, sizeof err))) {
        fprintf(stderr, "openseat: %s\n", err);
        webhook_worker_stop(a.hooks);
        jobs_stop(a.jobs);
        outbox_stop(a.mail);
        store_close(a.st);
        return 1;
    }
    server *srv = server_start(&a, api_routes, api_route_count, &api_hooks, err, sizeof err);
    if (!srv) {
        fprintf(stderr, "openseat: %s\n", err);
        audit_log_stop(alog);
        webhook_worker_stop(a.hooks);
        jobs_stop(a.jobs);
        outbox_stop(a.mail);
        store_close(a.st);
        return 1;
    }
    char port[16], threads[24];
    snprintf(port, sizeof port, "%d", server_port(srv));
    snprintf(threads, sizeof threads, "%ld", cfg.threads);
    log_event(LOG_INFO, "listening", "address", cfg.bind, "port", port, "url", a.base_url, "database",
              store_describe(a.st), "mail", cfg.smtp_url ? "smtp" : "maildir", "threads", threads, NULL);
    /* The main thread waits for a stop signal and does housekeeping once a minute; SIGHUP
     * (logrotate's postrotate) opens the audit log file again, the minute running on. */
    int sig;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    time_t next_housekeeping = now.tv_sec + 60;
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        struct timespec wait = {next_housekeeping > now.tv_sec ? next_housekeeping - now.tv_sec : 0, 0};
        sig = sigtimedwait(&set, NULL, &wait);
        if (sig == SIGHUP) {
            audit_log_reopen(alog);
            continue;
        }
        if (sig >= 0) break;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec >= next_housekeeping) {
            housekeeping_run(&a);
            next_housekeeping = now.tv_sec + 60;
        }
    }
    log_event(LOG_INFO, "stopping", "signal", sig == SIGINT ? "SIGINT" : "SIGTERM", NULL);
    server_stop(srv);
    audit_log_stop(alog);
    webhook_worker_stop(a.hooks);
    jobs_stop(a.jobs);
    outbox_stop(a.mail);
    metrics_free(a.metrics);
    store_close(a.st);
    sso_free(a.sso);
    curl_global_cleanup();
    log_event(LOG_INFO, "stopped", NULL);
    return 0;
}

