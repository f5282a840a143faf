/* lifecycle.c — see lifecycle.h. */
#include "lifecycle.h"
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "core/log.h"
#include "core/text.h"
#include "domain/audit.h"
#include "domain/events.h"
#include "domain/partner_time.h"
#include "domain/scim_refusals.h"
#include "domain/webhooks.h"
#include "mail/outbox.h"

static const int notice_days[] = {120, 60, 30, 7};
#define NNOTICES ((int)(sizeof notice_days / sizeof notice_days[0]))
/* The claim (in expiry_notices) that an agreement's end has passed and agreement.expired
 * was emitted: 0 days left, a key no reminder uses. */
#define EXPIRED_NOTICE 0
/* How far back the pass looks for ends it has not announced yet (a pass stopped for a
 * while catches up; agreements that ended long before events existed are left alone). */
#define EXPIRED_CATCH_UP_DAYS 30

/* agreement.expired, once per agreement, for those that ended before today. */
static os_err announce_expired(op_ctx *x, int64_t now) {
    char from[11], yesterday[11];
    text_day(now - (int64_t)EXPIRED_CATCH_UP_DAYS * 86400, from);
    text_day(now - 86400, yesterday);
    agreement_rec *rows;
    int n;
    os_err e = st_agreements_ending(x->c, x->a, from, yesterday, &rows, &n);
    for (int i = 0; !e && i < n; i++) {
        if ((e = store_tx_begin(x->c))) break;
        bool claimed = false;
        e = st_expiry_notice_claim(x->c, rows[i].id, EXPIRED_NOTICE, x->now, &claimed);
                if (!e && claimed)
            e = event_emit(x, rows[i].id, "agreement.expired",
                           event_data(x->a, rows[i].license_number, "end_date", event_str(x->a, rows[i].end_date), NULL));
        e = store_tx_end(x->c, e);
    }
    return e;
}

bool lifecycle_writable(const char *end_date, bool disabled, int64_t now, long grace_days) {
    if (disabled) return false;
    char last[11];
    text_day(now - (int64_t)grace_days * 86400, last);
    return strcmp(end_date, last) >= 0;   /* still within the grace period after the end */
}

/* Days from today to the end date (both UTC days). */
static int days_left(const char *end_date, int64_t now) {
    struct tm tm = {0};
    if (!strptime(end_date, "%Y-%m-%d", &tm)) return 9999;
    int64_t end = (int64_t)timegm(&tm);
    return (int)((end - (now - now % 86400)) / 86400);
}

int lifecycle_run(const app *a, int64_t now, int *partner_mails) {
    if (partner_mails) *partner_mails = 0;
    store_conn *c = store_conn_get(a->st);
    if (!c) return -1;
    arena ar;
    arena_init(&ar, 16u << 20);
    char today[11], horizon[11];
    text_day(now, today);
    text_day(now + (int64_t)notice_days[0] * 86400, horizon);
    agreement_rec *rows;
    int n, queued = 0;
    os_err e = st_agreements_ending(c, &ar, today, horizon, &rows, &n);
    /* `now` only decides which reminders are due (it may be a simulated day); what is
     * recorded and queued happens at the real time, so mail goes out at once. */
    int64_t real = time(NULL);
    op_ctx x = {.app = a, .c = c, .a = &ar, .now = real, .actor_email = "system"};
    for (int i = 0; !e && i < n; i++) {
        int left = days_left(rows[i].end_date, now);
        /* Only the nearest reminder due; the earlier ones are marked as passed. */
        int due = -1;
        for (int k = 0; k < NNOTICES; k++)
            if (left <= notice_days[k]) due = k;
        if (due < 0) continue;
        if ((e = store_tx_begin(c))) break;
        bool claimed = false;
        e = st_expiry_notice_claim(c, rows[i].id, notice_days[due], real, &claimed);
        for (int k = 0; !e && k < due; k++) {
            bool older;
            e = st_expiry_notice_claim(c, rows[i].id, notice_days[k], real, &older);
        }
        if (!e && claimed) {
            recipient_rec *to;
            int nto;
            e = st_admin_recipients(c, &ar, rows[i].id, &to, &nto);
            char days[16];
            snprintf(days, sizeof days, "%d", left);
            for (int k = 0; !e && k < nto; k++) {
                e = outbox_enqueue(a, c, &ar, to[k].email, "agreement_expiring", to[k].language,
                                   json_pairs(&ar, "name", to[k].name, "license_number", rows[i].license_number,
                                              "customer_name", rows[i].customer_name, "end_date", rows[i].end_date,
                                              "days", days, "link",
                                              arena_printf(&ar, "%s/agreements/%s", a->base_url, rows[i].license_number),
                                              NULL),
                                   real);
                if (!e) queued++;
            }
            if (!e) e = audit(&x, "agreement.expiry_reminder", "agreement", rows[i].license_number, rows[i].id,
                              json_pairs(&ar, "days", days, NULL));
            if (!e)
                e = event_emit(&x, rows[i].id, "agreement.expiring",
                               event_data(&ar, rows[i].license_number, "end_date",
                                          event_str(&ar, rows[i].end_date), "days", days, NULL));
        }
        e = store_tx_end(c, e);
    }
    if (!e) e = announce_expired(&x, now);
    webhooks_wake(&x);
    arena_free(&ar);
    if (e) log_event(LOG_WARN, "expiry reminders failed", "error", os_err_name(e), NULL);
    else if (queued) outbox_wake(a->mail);
    /* Partner relationships move on whether or not the agreements' reminders went well. */
    int failed = 0, partner = partner_time_run(a, now, &failed);
    if (partner_mails && partner > 0) *partner_mails = partner;
    /* So do the super admins' summaries of the seats provisioning could not give. */
    int refused_failed = 0, refusals = scim_refusals_run(a, now, &refused_failed);
    if (e || partner < 0 || failed || refusals < 0 || refused_failed) return -1;
    return queued;
}
