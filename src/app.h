/* app.h — the process-wide application context handed to every layer.
 *
 * Built once in main.c before serving; read-only afterwards except for the fields
 * that are themselves thread-safe (store connections are per thread, metrics are
 * atomic, the mail worker has its own lock).
 */
#ifndef OPENSEAT_APP_H
#define OPENSEAT_APP_H
#include <stdbool.h>
#include "core/config.h"
#include "store/store.h"

struct outbox_worker;
struct jobs_worker;
struct webhook_worker;
struct metrics;
struct sso_registry;

typedef struct app_keys {
    unsigned char authno_mac[32];   /* keyed hash of authorization numbers (lookup, compare) */
    unsigned char authno_seal[32];  /* sealing them for display to entitled parties */
    unsigned char handoff[32];      /* signing hand-off links */
    unsigned char webhook_seal[32]; /* sealing webhook signing secrets in the database */
} app_keys;

typedef struct app {
    const config *cfg;
    store *st;
    char base_url[512];          /* no trailing slash */
    bool cookie_secure;          /* Secure attribute on cookies */
    struct outbox_worker *mail;  /* NULL outside `serve` */
    struct jobs_worker *jobs;    /* background jobs; NULL outside `serve` */
    struct webhook_worker *hooks; /* webhook deliveries; NULL outside `serve` */
    struct metrics *metrics;     /* NULL outside `serve` */
    struct sso_registry *sso;    /* OpenID Connect providers (--sso-config); NULL: none */
    app_keys keys;
} app;

#endif
