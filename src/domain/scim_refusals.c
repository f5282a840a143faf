/* scim_refusals.c — see scim_refusals.h. */
#include "scim_refusals.h"
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "core/buf.h"
#include "core/log.h"
#include "core/text.h"
#include "domain/audit.h"
#include "domain/partner_access.h"
#include "mail/outbox.h"

/* Agreements summarised per run: the pass runs every minute, a backlog goes over a few. */
#define REFUSAL_BATCH 200
#define ITEM_ARENA (4u << 20)

static bool is_fr(const char *lang) { return lang && !strcmp(lang, "fr"); }

static const char *reason_text(const char *reason, bool fr) {
    if (!strcmp(reason, "reassignment_too_soon"))
        return fr ? "la place libérée ne peut pas encore être réattribuée (règle de réattribution)"
                  : "the seat freed cannot be given again yet (the reassignment rule)";
    return fr ? "plus aucune place libre à ce niveau" : "no seat left at this level";
}

/* "1 person" / "3 people", "1 personne" / "3 personnes". */
static const char *people_text(arena *a, int n, bool fr) {
    if (fr) return arena_printf(a, "%d personne%s", n, n > 1 ? "s" : "");
    return arena_printf(a, "%d %s", n, n == 1 ? "person" : "people");
}

static const char *people_sentence(arena *a, int n, bool fr) {
    if (fr) return n == 1 ? "Cette personne n’a pas encore d’abonnement\u00a0:"
                          : arena_printf(a, "Ces %d personnes n’ont pas encore d’abonnement\u00a0:", n);
    return n == 1 ? "This person has no seat yet:" : arena_printf(a, "These %d people have no seat yet:", n);
}

/* One line per person and level: who, the level, the group, why, how many times. */
static const char *list_text(arena *a, const scim_refusal_rec *r, int n, bool fr) {
    buf b;
    buf_init(&b, a, 256 * 1024);
    for (int i = 0; i < n; i++) {
        const char *who = r[i].display_name ? r[i].display_name : r[i].user_name;
        const char *email = r[i].email ? r[i].email : r[i].user_name;
        long long t = (long long)r[i].times;
        if (fr)
            buf_printf(&b, "%s- %s <%s> — %s, groupe %s\u00a0: %s (%lld refus)", i ? "\n" : "", who, email,
                       r[i].level_fr, r[i].group_name, reason_text(r[i].reason, true), t);
        else
            buf_printf(&b, "%s- %s <%s> — %s, group %s: %s (%lld refusal%s)", i ? "\n" : "", who, email,
                       r[i].level_en, r[i].group_name, reason_text(r[i].reason, false), t, t > 1 ? "s" : "");
    }
    return b.data ? b.data : "";
}

/* How many people (a person refused two levels is one). */
static int people_count(const scim_refusal_rec *r, int n) {
    int people = 0;
    for (int i = 0; i < n; i++) people += !i || strcmp(r[i].user_name, r[i - 1].user_name);
    return people;
}

/* One agreement: claims its summary of `day`, then mails the refusals since the last one
 * (and within the last day) to its customer side. *queued counts the mails. */
static os_err summarize(op_ctx *x, int64_t agreement_id, const char *day, int *queued) {
    os_err e = store_tx_begin_agreement(x->c, agreement_id);
    if (e) return e;
    int64_t previous = 0, since = x->now - 86400;
    bool claimed = false;
    agreement_rec g;
    scim_refusal_rec *rows = NULL;
    recipient_rec *to = NULL;
    int n = 0, nto = 0, sent = 0;
    e = st_scim_refusal_summary_claim(x->c, agreement_id, day, x->now, &previous, &claimed);
    if (!e && claimed)
        e = st_scim_refusals_since(x->c, x->a, agreement_id, previous > since ? previous : since,
                                   SCIM_REFUSAL_LIST_MAX, &rows, &n);
    /* Nothing to say after all (the person got the seat meanwhile): the day stays unclaimed. */
    if (!e && (!claimed || !n)) {
        e = store_tx_end(x->c, claimed ? OS_ERR_NOT_FOUND : OS_OK);
        return e == OS_ERR_NOT_FOUND ? OS_OK : e;
    }
    if (!e) e = st_agreement_by_id(x->c, x->a, agreement_id, &g);
    if (!e) e = st_customer_recipients(x->c, x->a, agreement_id, &to, &nto);
    int people = people_count(rows, n);
    const char *link = arena_printf(x->a, "%s/agreements/%s", x->app->base_url, g.license_number);
    const char *from = partner_when_text(x->a, previous > since ? previous : since);
    for (int k = 0; !e && k < nto; k++) {
        bool fr = is_fr(to[k].language);
        e = outbox_enqueue(x->app, x->c, x->a, to[k].email, "scim_refusals", to[k].language ? to[k].language : "en",
                           json_pairs(x->a, "license_number", g.license_number,
                                      "customer_name", g.customer_name, "since", from, "people",
                                      people_text(x->a, people, fr), "people_sentence",
                                      people_sentence(x->a, people, fr), "list", list_text(x->a, rows, n, fr),
                                      "link", link, NULL),
                           x->now);
        if (!e) sent++;
    }
    if (!e) e = audit(x, "provisioning.refusals_summarized", "agreement", g.license_number, agreement_id,
                      json_pairs(x->a, "people", arena_printf(x->a, "%d", people), "recipients",
                                 arena_printf(x->a, "%d", nto), NULL));
    e = store_tx_end(x->c, e);
    if (!e) *queued += sent;
    return e;
}

int scim_refusals_run(const app *a, int64_t now, int *failed) {
    *failed = 0;
    store_conn *c = store_conn_get(a->st);
    if (!c) return -1;
    /* `now` decides the day; what is recorded and read happens at the real time. */
    int64_t real = time(NULL);
    char day[11];
    text_day(now, day);
    arena list;
    arena_init(&list, 1u << 20);
    int64_t *ids = NULL;
    int n = 0, queued = 0;
    os_err e = st_scim_refusals_prune(c, real - (int64_t)SCIM_REFUSAL_KEEP_DAYS * 86400);
    if (!e) e = st_scim_refusal_agreements(c, &list, real - 86400, day, REFUSAL_BATCH, &ids, &n);
    if (e) {
        log_event(LOG_WARN, "provisioning refusals: listing failed", "error", os_err_name(e), NULL);
        arena_free(&list);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        arena ar;
        arena_init(&ar, ITEM_ARENA);
        op_ctx x = {.app = a, .c = c, .a = &ar, .now = real, .actor_email = "system"};
        if ((e = summarize(&x, ids[i], day, &queued))) {
            (*failed)++;
            char id[24];
            snprintf(id, sizeof id, "%lld", (long long)ids[i]);
            log_event(LOG_WARN, "provisioning refusals: summary failed", "agreement", id, "error", os_err_name(e), NULL);
        }
        arena_free(&ar);
    }
    arena_free(&list);
    if (queued) outbox_wake(a->mail);
    return queued;
}
