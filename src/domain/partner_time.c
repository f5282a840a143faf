/* partner_time.c — see partner_time.h. */
#include "partner_time.h"
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "core/log.h"
#include "domain/audit.h"
#include "domain/partner_access.h"
#include "domain/partner_requests.h"
#include "domain/webhooks.h"
#include "mail/outbox.h"

/* Relationships and requests handled per run: the pass runs every minute, so a backlog
 * (a long-stopped service) is worked off over a few runs without one holding the store. */
#define TIME_BATCH 500
/* One relationship's or request's work: its rows, a few recipients, their mails. */
#define ITEM_ARENA (4u << 20)

typedef enum { SIDE_CUSTOMER, SIDE_PARTNER } mail_side;
typedef enum { MAIL_ENDING, MAIL_ENDED, MAIL_RENEWED } mail_kind;

static const char *const tpl_names[] = {"partner_ending", "partner_ended", "partner_renewed"};

/* The sentences that differ between the customer's side ("your agreement") and the
 * partner's ("your organization's access"); the rest is in the templates. [kind][side][fr] */
static const char *const intro_text[3][2][2] = {
    {{"The access of a partner to your Open License agreement in openseat ends soon.",
      "L’accès d’un partenaire à votre contrat Open License dans openseat prend bientôt fin."},
     {"Your organization's access to an Open License agreement in openseat ends soon.",
      "L’accès de votre organisation à un contrat Open License dans openseat prend bientôt fin."}},
    {{"The access of a partner to your Open License agreement in openseat has ended, as planned: the partner can no"
      " longer see or change the subscriptions of your agreement.",
      "L’accès d’un partenaire à votre contrat Open License dans openseat a pris fin comme prévu\u00a0: le partenaire"
      " ne peut plus consulter ni modifier les abonnements de votre contrat."},
     {"Your organization's access to an Open License agreement in openseat has ended, as planned: your organization"
      " can no longer see or change the subscriptions of this agreement.",
      "L’accès de votre organisation à un contrat Open License dans openseat a pris fin comme prévu\u00a0: votre"
      " organisation ne peut plus consulter ni modifier les abonnements de ce contrat."}},
    {{"The access of a partner to your Open License agreement in openseat has been renewed automatically, as its"
      " settings ask.",
      "L’accès d’un partenaire à votre contrat Open License dans openseat a été renouvelé automatiquement, comme le"
      " prévoient ses réglages."},
     {"Your organization's access to an Open License agreement in openseat has been renewed automatically.",
      "L’accès de votre organisation à un contrat Open License dans openseat a été renouvelé automatiquement."}},
};

static const char *const action_text[3][2][2] = {
    {{"To extend it, narrow it or end it sooner, go to the Partners page:",
      "Pour le prolonger, le restreindre ou y mettre fin plus tôt, rendez-vous sur la page Partenaires\u00a0:"},
     {"To keep it longer, ask the customer for more time from your organization's page:",
      "Pour le conserver plus longtemps, demandez une prolongation au client depuis la page de votre"
      " organisation\u00a0:"}},
    {{"If the partner should go on working on your agreement, it can register the partnership again; you will see it"
      " on the Partners page:",
      "Si le partenaire doit continuer à travailler sur votre contrat, il peut de nouveau enregistrer le"
      " partenariat\u00a0; vous le verrez sur la page Partenaires\u00a0:"},
     {"To work on this agreement again, register the partnership again with the agreement's details (the customer may"
      " have to approve it). Your organization's page:",
      "Pour travailler de nouveau sur ce contrat, enregistrez de nouveau le partenariat avec les informations du"
      " contrat (le client devra peut-être l’approuver). La page de votre organisation\u00a0:"}},
    {{"To narrow it, end it sooner or stop renewing it, go to the Partners page:",
      "Pour le restreindre, y mettre fin plus tôt ou arrêter son renouvellement, rendez-vous sur la page"
      " Partenaires\u00a0:"},
     {"Your organization's page:", "La page de votre organisation\u00a0:"}},
};

/* Whether the access renews, in the ending reminder. [auto_renew][side][fr] */
static const char *const renewal_text[2][2][2] = {
    {{"It does not renew automatically: after that day, the partner can no longer see or change the subscriptions of"
      " your agreement.",
      "Il n’est pas renouvelé automatiquement\u00a0: après ce jour, le partenaire ne peut plus consulter ni modifier"
      " les abonnements de votre contrat."},
     {"It does not renew automatically: after that day, your organization can no longer see or change the"
      " subscriptions of this agreement.",
      "Il n’est pas renouvelé automatiquement\u00a0: après ce jour, votre organisation ne peut plus consulter ni"
      " modifier les abonnements de ce contrat."}},
    {{"It renews automatically at its end, unless you change that on the Partners page before then.",
      "Il est renouvelé automatiquement à son terme, sauf si vous changez ce réglage d’ici là depuis la page"
      " Partenaires."},
     {"It renews automatically at its end, unless the customer changes that before then.",
      "Il est renouvelé automatiquement à son terme, sauf si le client change ce réglage d’ici là."}},
};

typedef struct time_mail {
    const rel_rec *rel;
    mail_kind kind;
    mail_side side;
    int64_t ends_at;
} time_mail;

static const char *time_mail_data(op_ctx *x, const recipient_rec *to, const char *lang, void *ud) {
    const time_mail *m = ud;
    (void)to;
    int fr = !strcmp(lang, "fr");
    const char *link =
        m->side == SIDE_CUSTOMER
            ? arena_printf(x->a, "%s/agreements/%s/partners", x->app->base_url, m->rel->license_number)
            : arena_printf(x->a, "%s/partner-organization", x->app->base_url);
    return json_pairs(x->a, "partner_org", m->rel->org_name, "license_number", m->rel->license_number,
                      "customer_name", m->rel->customer_name, "capabilities",
                      partner_caps_text(x->a, m->rel->capabilities, lang), "last_day",
                      partner_last_day(x->a, m->ends_at), "intro", intro_text[m->kind][m->side][fr], "renewal",
                      renewal_text[m->rel->auto_renew ? 1 : 0][m->side][fr], "action",
                      action_text[m->kind][m->side][fr], "link", link, NULL);
}

/* Both sides of one relationship hear of it; the partner's side is read while it still
 * covers them (before an end). *queued counts the mails. */
static os_err mail_both(op_ctx *x, const rel_rec *rel, mail_kind kind, int64_t ends_at, const recipient_rec *pto,
                        int npto, int *queued) {
    recipient_rec *cto;
    int ncto;
    os_err e = st_partner_deciders(x->c, x->a, rel->agreement_id, &cto, &ncto);
    time_mail cm = {rel, kind, SIDE_CUSTOMER, ends_at}, pm = {rel, kind, SIDE_PARTNER, ends_at};
    if (!e) e = partner_mail(x, cto, ncto, tpl_names[kind], time_mail_data, &cm);
    if (!e) e = partner_mail(x, pto, npto, tpl_names[kind], time_mail_data, &pm);
    if (!e) *queued += ncto + npto;
    return e;
}


/* Where an automatically renewing relationship's access goes next: by its period (as many
 * as it takes to pass `now`, should the pass have been stopped for long) or to the
 * agreement's end when it has none, never past the agreement's end. 0: nothing to renew to
 * (the agreement has ended). */
static int64_t renewed_end(const agreement_rec *g, const rel_rec *rel, int64_t now) {
    int64_t limit = partner_period_end(g, 0, rel->ends_at);
    int64_t end = limit;
    if (rel->period_days > 0) {
        int64_t step = rel->period_days * 86400;
        end = rel->ends_at + step * ((now - rel->ends_at) / step + 1);
        if (end > limit) end = limit;
    }
    return end > now ? end : 0;
}

/* An open amendment request goes with a relationship that ends. */
static os_err close_request(op_ctx *x, const rel_rec *rel) {
    if (!rel->request_id) return OS_OK;
    os_err e = st_request_decide(x->c, rel->request_id, "lapsed", 0, NULL, x->now);
    if (e == OS_ERR_CONFLICT) return OS_OK;   /* decided meanwhile */
    if (!e) e = audit(x, "partner.request_lapsed", "partner_request", audit_id(x, rel->request_id), rel->agreement_id,
                      json_pairs(x->a, "partner_org", rel->org_name, "relationship", audit_id(x, rel->id), NULL));
    return e;
}

/* One relationship: its reminder, renewal or end, in one transaction. */
static os_err relationship_step(op_ctx *x, const rel_due_rec *d, int64_t now, int *queued) {
    os_err e = store_tx_begin(x->c);
    if (e) return e;
    rel_rec rel;
    agreement_rec g;
    recipient_rec *pto;
    int npto = 0, sent = 0;
    bool claimed = false;
    e = st_rel_get(x->c, x->a, d->agreement_id, d->id, &rel);
    if (e || strcmp(rel.status, "active")) return store_tx_end(x->c, e == OS_ERR_NOT_FOUND ? OS_OK : e);
    e = st_rel_partner_recipients(x->c, x->a, rel.id, &pto, &npto);
    if (!e && rel.ends_at > now) {
        int days = rel.ends_at - now <= (int64_t)REL_REMIND_LAST_DAYS * 86400 ? REL_REMIND_LAST_DAYS
                                                                             : REL_REMIND_FIRST_DAYS;
        e = st_rel_remind_claim(x->c, rel.agreement_id, rel.id, rel.ends_at, days, x->now, &claimed);
        if (!e && claimed) e = mail_both(x, &rel, MAIL_ENDING, rel.ends_at, pto, npto, &sent);
        e = store_tx_end(x->c, e);
        if (!e) *queued += sent;
        return e;
    }
    if (!e) e = st_agreement_by_id(x->c, x->a, rel.agreement_id, &g);
    int64_t next = !e && rel.auto_renew ? renewed_end(&g, &rel, now) : 0;
    const char *org = rel.org_name, *last = partner_last_day(x->a, rel.ends_at);
    if (!e && next) {
        /* The renewal mail gives the new last day: a reminder already within reach of it
         * would only repeat it (a period of 30 days or less). */
        int passed = next - now <= (int64_t)REL_REMIND_LAST_DAYS * 86400    ? REL_REMIND_LAST_DAYS
                     : next - now <= (int64_t)REL_REMIND_FIRST_DAYS * 86400 ? REL_REMIND_FIRST_DAYS
                                                                            : 0;
        e = st_rel_renew(x->c, rel.agreement_id, rel.id, rel.ends_at, next, passed, x->now, &claimed);
        if (!e && claimed)
            e = audit(x, "partner.relationship_renewed", "partner_relationship", audit_id(x, rel.id), rel.agreement_id,
                      json_pairs(x->a, "partner_org", org, "last_day", partner_last_day(x->a, next),
                                 "previous_last_day", last, NULL));
        /* A renewal moves the last day: the relationship is amended as the customer would. */
        if (!e && claimed) e = partner_emit(x, rel.agreement_id, rel.id, "partner.access_amended", &rel);
        if (!e && claimed) e = mail_both(x, &rel, MAIL_RENEWED, next, pto, npto, &sent);
    } else if (!e) {
        e = st_rel_end(x->c, rel.agreement_id, rel.id, rel.ends_at, x->now, &claimed);
        if (!e && claimed)
            e = audit(x, "partner.relationship_ended", "partner_relationship", audit_id(x, rel.id), rel.agreement_id,
                      json_pairs(x->a, "partner_org", org, "last_day", last, NULL));
        if (!e && claimed) e = partner_emit(x, rel.agreement_id, rel.id, "partner.access_ended", NULL);
        if (!e && claimed) e = close_request(x, &rel);
        if (!e && claimed) e = mail_both(x, &rel, MAIL_ENDED, rel.ends_at, pto, npto, &sent);
    }
    e = store_tx_end(x->c, e);
    if (!e) *queued += sent;
    return e;
}

/* One request past its lapse date: lapsed, and an access request's relationship with it. */
static os_err request_step(op_ctx *x, const rel_due_rec *d) {
    os_err e = store_tx_begin(x->c);
    if (e) return e;
    partner_request_rec q;
    e = st_request_get(x->c, x->a, d->agreement_id, d->id, &q);
    if (!e && strcmp(q.status, "pending")) return store_tx_end(x->c, OS_OK);
    if (!e) e = partner_request_lapse_in_tx(x, &q);
    if (e == OS_ERR_NOT_FOUND) e = OS_OK;   /* gone meanwhile */
    return store_tx_end(x->c, e);
}

int partner_time_run(const app *a, int64_t now, int *failed) {
    *failed = 0;
    store_conn *c = store_conn_get(a->st);
    if (!c) return -1;
    arena list;
    arena_init(&list, 1u << 20);
    rel_due_rec *rels, *reqs;
    int nrels = 0, nreqs = 0, queued = 0;
    os_err e = st_rels_due(c, &list, now, TIME_BATCH, &rels, &nrels);
    if (!e) e = st_requests_lapsing(c, &list, now, TIME_BATCH, &reqs, &nreqs);
    if (e) {
        log_event(LOG_WARN, "partner relationships: listing failed", "error", os_err_name(e), NULL);
        arena_free(&list);
        return -1;
    }
    /* `now` decides what is due; what is recorded happens at the real time. */
    int64_t real = time(NULL);
    for (int i = 0; i < nrels + nreqs; i++) {
        arena ar;
        arena_init(&ar, ITEM_ARENA);
        op_ctx x = {.app = a, .c = c, .a = &ar, .now = real, .actor_email = "system"};
        const rel_due_rec *d = i < nrels ? &rels[i] : &reqs[i - nrels];
        e = i < nrels ? relationship_step(&x, d, now, &queued) : request_step(&x, d);
        webhooks_wake(&x);
        if (e) {
            /* Left as it was (the transaction rolled back): the next run tries again. */
            (*failed)++;
            char id[24];
            snprintf(id, sizeof id, "%lld", (long long)d->id);
            log_event(LOG_WARN, i < nrels ? "partner relationship: time step failed" : "partner request: lapse failed",
                      "id", id, "error", os_err_name(e), NULL);
        }
        arena_free(&ar);
    }
    arena_free(&list);
    if (queued) outbox_wake(a->mail);
    return queued;
}
