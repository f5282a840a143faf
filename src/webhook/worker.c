/* worker.c — see worker.h. */
#include "worker.h"
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include "core/json_write.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/secret.h"
#include "core/text.h"
#include "core/worker.h"
#include "domain/audit.h"
#include "domain/events.h"
#include "domain/webhooks.h"
#include "mail/outbox.h"

#define CLAIM_BATCH 16

/* One delivery thread: its own curl handle, database connection and lease name. */
typedef struct sender {
    struct webhook_worker *pool;
    const app *app;
    pthread_t th;
    char name[WORKER_NAME_MAX];
} sender;

struct webhook_worker {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
    unsigned long wakes;     /* counts webhook_worker_wake: a busy thread sees one it missed */
    int size;                /* threads asked for, set before any starts */
    int n;                   /* threads started: read by the stopping thread only */
    sender threads[];
};

static bool stopping(webhook_worker *w) {
    pthread_mutex_lock(&w->mu);
    bool stop = w->stop;
    pthread_mutex_unlock(&w->mu);
    return stop;
}

/* ---- one HTTP try ------------------------------------------------------------------- */

typedef struct try_state {
    bool allow_private;
    bool refused;            /* the socket's address was not a public one */
    char response[LIMIT_WEBHOOK_RESPONSE_BYTES + 1];
    size_t len;
} try_state;

static curl_socket_t open_socket(void *ud, curlsocktype purpose, struct curl_sockaddr *addr) {
    try_state *t = ud;
    if (purpose != CURLSOCKTYPE_IPCXN || !webhooks_address_allowed(&addr->addr, t->allow_private)) {
        t->refused = true;
        return CURL_SOCKET_BAD;
    }
    return socket(addr->family, addr->socktype, addr->protocol);
}

static size_t keep_head(char *p, size_t size, size_t n, void *ud) {
    try_state *t = ud;
    size_t len = size * n, room = LIMIT_WEBHOOK_RESPONSE_BYTES - t->len;
    size_t k = len < room ? len : room;
    memcpy(t->response + t->len, p, k);
    t->len += k;
    return len;   /* the rest is read and dropped */
}

/* The answer's head as text: cut at the last whole UTF-8 character, NULs and other bytes
 * that are not text made '?'. */
static const char *response_text(arena *a, try_state *t) {
    if (t->len == 0) return NULL;
    char *s = arena_strndup(a, t->response, t->len);
    size_t n = t->len;
    for (size_t i = 0; i < n;) {
        size_t ok = utf8_valid_prefix(s + i, n - i);
        i += ok;
        if (i < n) {
            if (n - i < 4) { s[i] = 0; n = i; break; }   /* a character cut by the limit */
            s[i++] = '?';
        }
    }
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 && s[i] != '\n' && s[i] != '\r' && s[i] != '\t') s[i] = '?';
    return s;
}

/* "v1,<base64 HMAC-SHA256(key, id.timestamp.body)>" for a secret in clear; NULL when it is
 * not one. */
static const char *signature(arena *a, const char *secret, const char *signed_text) {
    size_t p = strlen(WEBHOOK_SECRET_PREFIX);
    unsigned char key[48];
    if (strncmp(secret, WEBHOOK_SECRET_PREFIX, p) || secret_unb64std(secret + p, key, sizeof key) != 32) return NULL;
    unsigned char mac[32];
    secret_hmac(key, signed_text, strlen(signed_text), mac);
    char b64[64];
    secret_b64std(mac, sizeof mac, b64, sizeof b64);
    return arena_printf(a, "v1,%s", b64);
}

typedef struct try_result {
    long status;               /* 0: no answer */
    const char *error;         /* NULL: an answer came */
    const char *response;
    int64_t duration_ms;
} try_result;

/* One POST of body, signed sigs for the timestamp ts. */
static void post(const app *a, arena *ar, CURL *h, const webhook_job_rec *j, const char *body, const char *sigs,
                 int64_t timestamp, try_result *out) {
    try_state t = {.allow_private = a->cfg->webhooks_allow_private};
    char ts[24];
    snprintf(ts, sizeof ts, "%lld", (long long)timestamp);
    struct curl_slist *hd = NULL;
    hd = curl_slist_append(hd, "Content-Type: application/json");
    hd = curl_slist_append(hd, "User-Agent: openseat-webhooks");
    hd = curl_slist_append(hd, arena_printf(ar, "webhook-id: msg_%lld", (long long)j->delivery_id));
    hd = curl_slist_append(hd, arena_printf(ar, "webhook-timestamp: %s", ts));
    hd = curl_slist_append(hd, arena_printf(ar, "webhook-signature: %s", sigs));
    hd = curl_slist_append(hd, "Expect:");
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, j->url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, a->cfg->webhooks_allow_private ? "http,https" : "https");
    curl_easy_setopt(h, CURLOPT_PROXY, "");    /* never through a proxy the environment names */
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)LIMIT_WEBHOOK_TIMEOUT_S);
    curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, open_socket);
    curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, &t);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, keep_head);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CURLcode rc = curl_easy_perform(h);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    curl_slist_free_all(hd);
    out->duration_ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    out->status = 0;
    out->error = NULL;
    if (rc == CURLE_OK) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->status);
    else if (t.refused) out->error = "address_refused: the address is not a public one";
    else out->error = arena_printf(ar, "%s", curl_easy_strerror(rc));
    out->response = response_text(ar, &t);
}

/* ---- one delivery -------------------------------------------------------------------- */

/* The owners told that their endpoint was turned off, and the system's audit entry. In the
 * caller's transaction. */
static os_err tell_disabled(const app *a, store_conn *c, arena *ar, const webhook_job_rec *j, int64_t now) {
    op_ctx x = {.app = a, .c = c, .a = ar, .now = now};
    recipient_rec *to;
    int n;
    os_err e = st_webhook_owners(c, ar, j->owner, &to, &n);
    const char *license = NULL, *link = NULL;
    if (!e && j->owner.agreement_id) {
        agreement_rec g;
        e = st_agreement_by_id(c, ar, j->owner.agreement_id, &g);
        if (!e) {
            license = g.license_number;
            link = arena_printf(ar, "%s/agreements/%s", a->base_url, g.license_number);
        }
    } else if (!e) {
        link = arena_printf(ar, "%s/partner-organization", a->base_url);
    }
    const char *since = text_iso_time(ar, now - (int64_t)LIMIT_WEBHOOK_FAILING_DAYS * 86400);
    for (int i = 0; !e && i < n; i++) {
        bool fr = to[i].language && !strcmp(to[i].language, "fr");
        const char *owner = license ? arena_printf(ar, fr ? "du contrat Open License %s" : "of the Open License agreement %s",
                                                   license)
                                    : fr ? "de votre organisation partenaire" : "of your partner organization";
        e = outbox_enqueue(a, c, ar, to[i].email, "webhook_disabled", to[i].language,
                           json_pairs(ar, "name", to[i].name, "url", j->url, "owner", owner, "since", since, "link", link,
                                      NULL),
                           now);
    }
    if (!e)
        e = audit(&x, "webhook.disabled", "webhook", audit_id(&x, j->endpoint_id), j->owner.agreement_id,
                  json_pairs(ar, "url", j->url, "reason", "failing", NULL));
    return e;
}

/* Records a try's outcome: the log line, the delivery's state and the endpoint's. */
static void record(sender *w, store_conn *c, arena *ar, const webhook_job_rec *j, const try_result *r,
                   const char *status, int64_t next) {
    int64_t now = time(NULL);
    webhook_attempt_rec t = {.delivery_id = j->delivery_id, .at = now, .http_status = r->status, .error = r->error,
                             .response = r->response, .duration_ms = r->duration_ms};
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long)j->delivery_id);
    bool ok = !strcmp(status, "delivered");
    bool dropped = !strcmp(status, "dropped");
    bool disabled = false;
    int64_t changed = 0;
    os_err e = store_tx_begin(c);
    if (!e) e = st_webhook_attempt_add(c, &t);
    if (!e) e = st_webhook_delivery_done(c, j->delivery_id, w->name, status, next, now, &changed);
    if (!e && !dropped)
        e = st_webhook_endpoint_result(c, j->endpoint_id, ok, now, now - (int64_t)LIMIT_WEBHOOK_FAILING_DAYS * 86400,
                                       &disabled);
    if (!e && disabled) e = tell_disabled(w->app, c, ar, j, now);
    e = store_tx_end(c, e);
    if (e) {
        /* Unrecorded, the delivery is tried again when its lease ends: at least once. */
        log_event(LOG_ERROR, "webhook try not recorded; it is tried again when its lease ends", "delivery_id", id,
                  "error", os_err_name(e), NULL);
        return;
    }
    if (disabled) {
        outbox_wake(w->app->mail);
        log_event(LOG_WARN, "webhook endpoint disabled after days of failures", "delivery_id", id, NULL);
    }
    log_event(ok ? LOG_INFO : LOG_WARN, dropped ? "webhook delivery dropped" : ok ? "webhook delivered"
                                                                                  : "webhook try failed",
              "delivery_id", id, "status", status, "error", r->error ? r->error : "", NULL);
}

static void deliver(sender *w, store_conn *c, CURL *h, int64_t delivery_id) {
    const app *a = w->app;
    arena ar;
    arena_init(&ar, 4u * 1024 * 1024);
    webhook_job_rec j;
    os_err e = st_webhook_job(c, &ar, delivery_id, &j);
    if (e) {
        arena_free(&ar);
        return;   /* deleted with its endpoint meanwhile, or unreadable now: its lease ends */
    }
    int64_t now = time(NULL);
    try_result r = {0};
    /* A partner organization's endpoint gets the event only while its relationship still
     * qualifies: tenant isolation holds for the worker as for a request. */
    if (j.owner.org_id && j.event_id) {
        const event_type *t = event_type_find(j.type);
        bool may = false;
        e = t ? st_webhook_partner_may(c, j.owner.org_id, j.agreement_id, t->partner_capability, j.relationship_id,
                                       now, &may)
              : OS_OK;
        if (e) { arena_free(&ar); return; }
        if (!may) {
            r.error = "dropped: the partner organization may no longer receive this agreement's events";
            record(w, c, &ar, &j, &r, "dropped", now);
            arena_free(&ar);
            return;
        }
    }
    char secret[WEBHOOK_SECRET_MAX], previous[WEBHOOK_SECRET_MAX] = "";
    if (!webhooks_secret_open(a, j.secret, secret)) {
        r.error = "the endpoint's secret cannot be opened with this server's key";
        int64_t after = webhooks_backoff(j.attempts + 1);
        record(w, c, &ar, &j, &r, after ? "pending" : "failed", now + after);
        arena_free(&ar);
        return;
    }
    const char *data = j.data ? j.data : arena_printf(&ar, "{\"endpoint_id\":%lld}", (long long)j.endpoint_id);
    const char *body = arena_printf(&ar, "{\"type\":\"%s\",\"timestamp\":\"%s\",\"data\":%s}", j.type,
                                    text_iso_time(&ar, j.at), data);
    int64_t ts = time(NULL);
    const char *signed_text = arena_printf(&ar, "msg_%lld.%lld.%s", (long long)j.delivery_id, (long long)ts, body);
    const char *sigs = signature(&ar, secret, signed_text);
    if (j.previous_secret && j.previous_until > ts && webhooks_secret_open(a, j.previous_secret, previous)) {
        const char *old = signature(&ar, previous, signed_text);
        if (old) sigs = arena_printf(&ar, "%s %s", sigs, old);
    }
    post(a, &ar, h, &j, body, sigs ? sigs : "", ts, &r);
    bool ok = r.status >= 200 && r.status < 300;
    if (!r.error && !ok) r.error = r.status >= 300 && r.status < 400 ? "redirect not followed" : NULL;
    int64_t after = ok ? 0 : webhooks_backoff(j.attempts + 1);
    record(w, c, &ar, &j, &r, ok ? "delivered" : after ? "pending" : "failed", time(NULL) + after);
    arena_free(&ar);
}

/* Delivers every due delivery, one endpoint's claimed batch at a time, until no endpoint
 * is free and due or the worker is asked to stop. A batch is left between deliveries when
 * the worker stops or when the lease would run out during the next try (a slow endpoint's
 * batch outlasts it: 16 tries of 10 s); what is left is handed back, due again at once. */
static void run_batches(sender *s, CURL *h) {
    const app *a = s->app;
    webhook_worker *w = s->pool;
    store_conn *c = store_conn_get(a->st);
    if (!c) return;
    bool told = w->size == 1;
    while (!stopping(w)) {
        arena ar;
        arena_init(&ar, 1024 * 1024);
        int64_t *ids;
        int n = 0, i = 0;
        int64_t now = time(NULL), lease_until = now + a->cfg->webhook_lease_s;
        os_err e = st_webhook_claim(c, &ar, s->name, now, lease_until, CLAIM_BATCH, &ids, &n);
        /* Another endpoint may be due too: one more thread looks (it passes the word on
         * when it finds one, and the chain stops at one that finds none). Once a run: the
         * next batches of this endpoint would only wake threads to find it held. */
        if (!e && n > 0 && !told) {
            told = true;
            pthread_mutex_lock(&w->mu);
            pthread_cond_signal(&w->cv);
            pthread_mutex_unlock(&w->mu);
        }
        for (; !e && i < n && !stopping(w); i++) {
            if (i > 0 && time(NULL) + LIMIT_WEBHOOK_TIMEOUT_S >= lease_until) break;
            deliver(s, c, h, ids[i]);
        }
        if (!e && i < n && st_webhook_release(c, s->name))
            log_event(LOG_WARN, "webhook claims not handed back; they are taken up when their lease ends", NULL);
        arena_free(&ar);
        if (e || n == 0 || stopping(w)) break;
    }
}

static void *worker_main(void *p) {
    sender *s = p;
    webhook_worker *w = s->pool;
    CURL *h = curl_easy_init();   /* one handle for the thread's life: connections are reused */
    pthread_mutex_lock(&w->mu);
    while (!w->stop) {
        unsigned long seen = w->wakes;
        pthread_mutex_unlock(&w->mu);
        if (h) run_batches(s, h);
        pthread_mutex_lock(&w->mu);
        if (w->stop) break;
        /* A wake while this thread was sending is not lost: it looks again at once. */
        if (w->wakes == seen) worker_wait(&w->cv, &w->mu, s->app->cfg->mail_poll_ms);
    }
    pthread_mutex_unlock(&w->mu);
    if (h) curl_easy_cleanup(h);
    return NULL;
}

webhook_worker *webhook_worker_start(const app *a) {
    int n = (int)a->cfg->webhook_threads;
    if (n < 1) n = 1;
    webhook_worker *w = calloc(1, sizeof *w + (size_t)n * sizeof(sender));
    if (!w) return NULL;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    w->size = n;
    for (int i = 0; i < n; i++) {
        sender *s = &w->threads[i];
        s->pool = w;
        s->app = a;
        worker_name(s->name);   /* a lease name per thread: one never ends another's claim */
        if (pthread_create(&s->th, NULL, worker_main, s)) break;
        w->n = i + 1;
    }
    if (w->n == 0) {
        pthread_mutex_destroy(&w->mu);
        pthread_cond_destroy(&w->cv);
        free(w);
        return NULL;
    }
    if (w->n < n) log_event(LOG_WARN, "fewer webhook delivery threads started than asked", NULL);
    return w;
}

void webhook_worker_wake(webhook_worker *w) {
    if (!w) return;
    pthread_mutex_lock(&w->mu);
    w->wakes++;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

void webhook_worker_stop(webhook_worker *w) {
    if (!w) return;
    pthread_mutex_lock(&w->mu);
    w->stop = true;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    for (int i = 0; i < w->n; i++) pthread_join(w->threads[i].th, NULL);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    free(w);
}
