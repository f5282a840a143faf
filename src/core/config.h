/* config.h — run-time configuration from flags and OPENSEAT_* environment variables.
 *
 * One table in config.c lists every option with its flag, variable, default and help
 * text; `openseat --help` prints that table, so the documentation cannot drift from
 * the parser. Precedence: flag > environment > default. Strings point into argv,
 * environ or static defaults and live for the whole process.
 */
#ifndef OPENSEAT_CONFIG_H
#define OPENSEAT_CONFIG_H
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef struct config {
    long port;
    const char *bind;
    const char *data_dir;
    const char *database_url;     /* NULL: sqlite file in data_dir */
    const char *base_url;         /* public URL used in e-mail links; NULL: http://localhost:port */
    const char *web_dir;          /* NULL: embedded UI */
    long threads;                 /* 0 given: config_default_threads() */
    const char *smtp_url;         /* NULL: Maildir beside the database */
    const char *smtp_from;
    const char *smtp_tls;         /* "try" | "required" | "none" */
    long mail_poll_ms;
    long job_lease_s;
    long mail_lease_s;            /* seconds a claimed e-mail stays with its instance */
    long mail_per_recipient;      /* requests per hour that may e-mail one unproven address */
    long mail_per_address;        /* the same, per requesting client address */
    long argon2_ops;
    long argon2_mem_kib;
    long session_idle_s;
    long session_max_s;
    const char *cookie_secure;    /* "auto" | "always" | "never" */
    long max_body;
    long max_upload;
    long request_memory;          /* bytes one request may allocate (upload routes: more) */
    long head_timeout_s;          /* a request's line and headers, from its first byte */
    long body_min_rate;           /* bytes/s a body must keep up per window; 0: none */
    long body_rate_window_s;
    long max_connections;         /* all clients */
    long max_connections_per_address;   /* 0: no cap */
    const char *log_level;
    bool trust_proxy;             /* believe X-Forwarded-For / X-Forwarded-Proto */
    const char *secret_key;       /* 64 hex chars; NULL: DATA/secret.key, created on first start */
    long grace_days;              /* an expired agreement stays editable this long */
    long token_rate;              /* requests a minute one API token may make, per instance */
    const char *handoff_key;      /* 64 hex chars; NULL: generated once and kept in the database */
    const char *audit_log;        /* "syslog" or a file for every audit entry; NULL: none */
    bool webhooks_allow_private;  /* deliver to http:// and private addresses (tests, closed networks) */
    long webhook_lease_s;         /* seconds a claimed webhook delivery stays with its instance */
    long webhook_threads;         /* threads sending webhook deliveries, 1-32 */
    const char *sso_config;       /* JSON file listing OpenID Connect providers; NULL: none */
    bool sso_allow_private;       /* providers on http:// and private addresses (tests, closed networks) */
    bool fault_injection;         /* tests only: honour X-Openseat-Fault (test build only) */
} config;

/* Fill defaults, then environment, then flags from argv[first..argc).
 * On error writes a message naming the option to err and returns -1.
 * Unknown flags are errors. Positional arguments are stored in *rest (NULL-terminated,
 * pointing into argv) when rest is non-NULL, otherwise they are errors. */
int config_load(config *c, int argc, char **argv, int first, char **rest, size_t rest_max,
                char *err, size_t errlen);
void config_usage(FILE *out);
/* The worker threads --threads 0 (the default) stands for: one per CPU this process may run
 * on (its affinity mask, so a container's CPU set counts, not the host's), at least 2 so
 * one long request never holds every thread, at most 256. */
long config_default_threads(void);

#endif
