/* outbox.c — see outbox.h. */
#include "outbox.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "core/log.h"
#include "core/worker.h"
#include "mail/maildir.h"
#include "mail/message.h"
#include "mail/smtp.h"
#include "mail/template.h"

#define CLAIM_BATCH 16

struct outbox_worker {
    const app *app;
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop, woken;
    char name[WORKER_NAME_MAX];
};

os_err outbox_enqueue(const app *a, store_conn *c, arena *ar, const char *to, const char *template_name,
                      const char *language, const char *data_json, int64_t now) {
    return outbox_enqueue_reply(a, c, ar, to, NULL, template_name, language, data_json, now);
}

os_err outbox_enqueue_reply(const app *a, store_conn *c, arena *ar, const char *to, const char *reply_to,
                            const char *template_name, const char *language, const char *data_json, int64_t now) {
    /* Checked here, while the caller can still roll back, rather than failing delivery for
     * ever: an address mail_compose would refuse is not queued. */
    if (reply_to && (!mail_addr_spec(ar, reply_to) || strpbrk(reply_to, "\r\n"))) return OS_ERR_INVALID;
    const char *mid = mail_new_message_id(ar, a->cfg->smtp_from);
    return st_outbox_add(c, to, reply_to, template_name, language, data_json, mid, now, NULL);
}

os_err outbox_enqueue_many(const app *a, store_conn *c, arena *ar, outbox_rec *m, int n, int64_t now) {
    for (int i = 0; i < n; i++) m[i].message_id = mail_new_message_id(ar, a->cfg->smtp_from);
    return st_outbox_add_many(c, m, n, now);
}

int64_t outbox_backoff(int64_t attempts) {
    int64_t s = 30;
    for (int64_t i = 1; i < attempts && s < 3600; i++) s *= 2;
    return s > 3600 ? 3600 : s;
}

static os_err deliver(const app *a, smtp_session *smtp, arena *ar, const outbox_rec *m, char *err, size_t errlen) {
    mail_rendered r;
    os_err e = mail_render(ar, m->template_name, m->language, m->data, &r);
    if (e) {
        snprintf(err, errlen, "cannot render template %s: %s", m->template_name, os_err_name(e));
        return e;
    }
    buf msg;
    buf_init(&msg, ar, 4u * 1024 * 1024);
    if ((e = mail_compose_reply(ar, a->cfg->smtp_from, m->recipient, m->reply_to, m->message_id, time(NULL), &r,
                                &msg))) {
        snprintf(err, errlen, "cannot compose message: %s", os_err_name(e));
        return e;
    }
    if (a->cfg->smtp_url) {
        smtp_conf sc = {.url = a->cfg->smtp_url, .tls = a->cfg->smtp_tls, .timeout_s = 30};
        const char *from = mail_addr_spec(ar, a->cfg->smtp_from);
        from = from ? from : a->cfg->smtp_from;
        if (smtp) return smtp_session_send(smtp, &sc, from, m->recipient, msg.data, msg.len, err, errlen);
        return smtp_send(&sc, from, m->recipient, msg.data, msg.len, err, errlen);
    }
    const char *dir = arena_printf(ar, "%s/maildir", a->cfg->data_dir);
    return maildir_deliver(dir, msg.data, msg.len, err, errlen);
}

static bool stopping(outbox_worker *w) {
    pthread_mutex_lock(&w->mu);
    bool stop = w->stop;
    pthread_mutex_unlock(&w->mu);
    return stop;
}

/* Delivers every due message, a claimed batch at a time, until none is due or the worker
 * is asked to stop (then after the batch in hand: a long queue — a bulk change's mail —
 * is left to the next start or another instance, not worked through on the way out). */
static void run_batches(outbox_worker *w, smtp_session *smtp) {
    const app *a = w->app;
    const char *worker_name = w->name;
    store_conn *c = store_conn_get(a->st);
    if (!c) return;
    while (!stopping(w)) {
        arena ar;
        arena_init(&ar, 64u * 1024 * 1024);
        outbox_rec *rows;
        int n = 0;
        int64_t now = time(NULL);
        os_err e = st_outbox_claim(c, &ar, worker_name, now, now + a->cfg->mail_lease_s, CLAIM_BATCH, &rows, &n);
        if (e || n == 0) { arena_free(&ar); break; }
        for (int i = 0; i < n; i++) {
            char err[512] = "";
            e = deliver(a, smtp, &ar, &rows[i], err, sizeof err);
            int64_t t = time(NULL);
            char id[24];
            snprintf(id, sizeof id, "%lld", (long long)rows[i].id);
            if (e == OS_OK) {
                if (st_outbox_mark_sent(c, rows[i].id, worker_name, t))
                    log_event(LOG_ERROR, "mail sent but not marked so; it is sent again when its lease ends",
                              "outbox_id", id, NULL);
                else
                    log_event(LOG_INFO, "mail sent", "outbox_id", id, "template", rows[i].template_name, NULL);
            } else {
                int64_t next = t + outbox_backoff(rows[i].attempts + 1);
                /* Unrecorded, the attempt is retried when its lease ends: the same outcome, sooner. */
                os_ignore(st_outbox_mark_failed(c, rows[i].id, worker_name, next, err));
                log_event(LOG_WARN, "mail delivery failed, will retry", "outbox_id", id, "error", err, NULL);
            }
        }
        arena_free(&ar);
        if (n < CLAIM_BATCH) break;
    }
}

static void *worker_main(void *p) {
    outbox_worker *w = p;
    /* One relay connection for the thread's life, reused message after message (none
     * kept: each message opens its own). */
    smtp_session *smtp = w->app->cfg->smtp_url ? smtp_session_new() : NULL;
    pthread_mutex_lock(&w->mu);
    while (!w->stop) {
        pthread_mutex_unlock(&w->mu);
        run_batches(w, smtp);
        pthread_mutex_lock(&w->mu);
        if (w->stop) break;
        if (!w->woken) worker_wait(&w->cv, &w->mu, w->app->cfg->mail_poll_ms);
        w->woken = false;
    }
    pthread_mutex_unlock(&w->mu);
    smtp_session_free(smtp);
    return NULL;
}

outbox_worker *outbox_start(const app *a) {
    outbox_worker *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    w->app = a;
    worker_name(w->name);
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    if (pthread_create(&w->th, NULL, worker_main, w)) {
        free(w);
        return NULL;
    }
    return w;
}

void outbox_wake(outbox_worker *w) {
    if (!w) return;
    pthread_mutex_lock(&w->mu);
    w->woken = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

void outbox_stop(outbox_worker *w) {
    if (!w) return;
    pthread_mutex_lock(&w->mu);
    w->stop = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->th, NULL);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    free(w);
}
