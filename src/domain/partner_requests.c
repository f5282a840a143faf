/* partner_requests.c — see partner_requests.h. */
#include "partner_requests.h"
#include <string.h>
#include <time.h>
#include "core/limits.h"
#include "domain/access.h"
#include "domain/audit.h"
#include "domain/partner_access.h"
#include "mail/outbox.h"



static bool is_fr(const char *lang) { return lang && !strcmp(lang, "fr"); }

static os_err read_view(op_ctx *x, int64_t agreement_id, int64_t relationship_id, partner_rel_view *out) {
    *out = (partner_rel_view){0};
    os_err e = st_rel_get(x->c, x->a, agreement_id, relationship_id, &out->rel);
    if (!e && out->rel.named) e = st_rel_people_of_agreement(x->c, x->a, agreement_id, &out->people, &out->npeople);
    return e;
}

/* ---- lapse ---- */


/* The request as the decision finds it, in the caller's transaction: OS_ERR_CONFLICT when it
 * is no longer pending; *lapsed when its time ran out (the caller records the lapse). */
static os_err read_open_request(op_ctx *x, int64_t agreement_id, int64_t request_id, partner_request_rec *q,
                                bool *lapsed) {
    *lapsed = false;
    os_err e = st_request_get(x->c, x->a, agreement_id, request_id, q);
    if (e) return e;
    if (strcmp(q->status, "pending")) return OS_ERR_CONFLICT;
    *lapsed = q->lapses_at <= x->now;
    return OS_OK;
}

/* Ends a decision's transaction on a lapsed request: the lapse is kept, the answer is GONE. */
static os_err end_lapsed(op_ctx *x, const partner_request_rec *q) {
    os_err e = store_tx_end(x->c, partner_request_lapse_in_tx(x, q));
    return e ? e : OS_ERR_GONE;
}

/* Ends the answer's transaction; the mail it queued goes out once it is committed. */
static os_err commit_and_wake(op_ctx *x, os_err e) {
    e = store_tx_end(x->c, e);
    if (!e) outbox_wake(x->app->mail);
    return e;
}

/* ---- mail to the partner side about a decision ---- */

typedef struct decision_mail {
    const agreement_rec *g;
    const partner_request_rec *q;
    unsigned capabilities;   /* granted */
    int64_t ends_at;         /* granted */
    const char *reason;
} decision_mail;

static const char *decision_mail_data(op_ctx *x, const recipient_rec *to, const char *lang, void *ud) {
    const decision_mail *m = ud;
    bool fr = is_fr(lang), access = !strcmp(m->q->kind, "access");
    const char *request = access ? (fr ? arena_printf(x->a, "l’accès demandé pour %s", m->q->org_name)
                                       : arena_printf(x->a, "the access requested for %s", m->q->org_name))
                                 : (fr ? arena_printf(x->a, "la modification de l’accès demandée pour %s", m->q->org_name)
                                       : arena_printf(x->a, "the change of access requested for %s", m->q->org_name));
    const char *outcome = access ? (fr ? "Votre organisation n’a pas accès à ce contrat."
                                       : "Your organization has no access to this agreement.")
                                 : (fr ? "L’accès de votre organisation reste tel qu’il était."
                                       : "Your organization's access stays as it was.");
    const char *reason_note =
        m->reason ? (fr ? arena_printf(x->a, "Motif donné par le client\u00a0: %s", m->reason)
                        : arena_printf(x->a, "The customer's reason: %s", m->reason))
                  : (fr ? "Le client n’a pas donné de motif." : "The customer gave no reason.");
    return json_pairs(x->a, "name", to->name ? to->name : "", "partner_org", m->q->org_name, "license_number",
                      m->g->license_number, "customer_name", m->g->customer_name, "request", request, "outcome",
                      outcome, "reason_note", reason_note, "capabilities",
                      partner_caps_text(x->a, m->capabilities, lang), "last_day", partner_last_day(x->a, m->ends_at),
                      "asked_capabilities", partner_caps_text(x->a, m->q->capabilities, lang), "asked_last_day",
                      partner_last_day(x->a, m->q->ends_at), "agreement_link",
                      arena_printf(x->a, "%s/agreements/%s", x->app->base_url, m->g->license_number), NULL);
}

static os_err mail_decision(op_ctx *x, const char *tpl, decision_mail *m) {
    recipient_rec *to;
    int n;
    os_err e = st_request_recipients(x->c, x->a, m->q->id, &to, &n);
    if (!e) e = partner_mail(x, to, n, tpl, decision_mail_data, m);
    return e;
}

os_err partner_request_lapse_in_tx(op_ctx *x, const partner_request_rec *q) {
    /* Time closed it, not whoever happened to find it closed. */
    op_ctx sys = *x;
    sys.actor_id = 0;
    sys.actor_email = NULL;
    sys.actor_name = NULL;
    sys.relationship_id = q->relationship_id;
    agreement_rec g;
    os_err e = st_request_decide(x->c, q->id, "lapsed", 0, NULL, x->now);
    /* An access request's relationship lapses with it (unless it ended meanwhile). */
    if (!e && !strcmp(q->kind, "access")) {
        e = st_rel_finish(x->c, q->relationship_id, "lapsed", 0, x->now);
        if (e == OS_ERR_CONFLICT) e = OS_OK;
    }
    if (!e) e = audit(&sys, "partner.request_lapsed", "partner_request", audit_id(x, q->id), q->agreement_id,
                      json_pairs(x->a, "partner_org", q->org_name, "kind", q->kind, NULL));
    if (!e) e = st_agreement_by_id(x->c, x->a, q->agreement_id, &g);
    decision_mail m = {&g, q, q->capabilities, q->ends_at, NULL};
    if (!e) e = mail_decision(x, "partner_request_lapsed", &m);
    return e;
}

/* ---- approve ---- */

os_err partner_request_approve(op_ctx *x, field_errors *fe, int64_t agreement_id, int64_t request_id,
                               const request_answer *ans, partner_rel_view *out) {
    os_err e = store_tx_begin_agreement(x->c, agreement_id);
    if (e) return e;
    partner_request_rec q;
    bool lapsed;
    e = read_open_request(x, agreement_id, request_id, &q, &lapsed);
    if (e) return store_tx_end(x->c, e);
    x->relationship_id = q.relationship_id;
    if (lapsed) return end_lapsed(x, &q);
    unsigned caps = ans->capabilities ? ans->capabilities : q.capabilities;
    int64_t ends_at = ans->ends_at ? ans->ends_at : q.ends_at;
    /* A request ends at an instant of its last day; an answer names a day. The day asked for
     * is the request as asked, not a later end. */
    if (ends_at > q.ends_at && ends_at - 86400 < q.ends_at) ends_at = q.ends_at;
    if (caps & ~q.capabilities)
        fe_add(fe, "capabilities", "beyond_request", "Grant at most the capabilities the partner asked for");
    if (ends_at > q.ends_at) fe_add(fe, "ends_on", "beyond_request", "Grant access until the day asked for at the latest");
    if (fe_any(fe)) return store_tx_end(x->c, OS_ERR_INVALID);
    bool narrowed = caps != q.capabilities || ends_at != q.ends_at;
    agreement_rec g;
    e = st_agreement_by_id(x->c, x->a, agreement_id, &g);
    bool access = !strcmp(q.kind, "access");
    rel_rec rel;
    if (!e && access) {
        e = st_rel_activate(x->c, q.relationship_id, caps, ends_at, q.period_days, x->now);
        if (!e) e = partner_emit(x, agreement_id, q.relationship_id, "partner.access_granted", NULL);
    } else if (!e) {
        /* An amendment changes the relationship the partner already works under: same id,
         * same people, its renewal setting kept. */
        e = st_rel_get(x->c, x->a, agreement_id, q.relationship_id, &rel);
        if (!e && (strcmp(rel.status, "active") || rel.ends_at <= x->now)) e = OS_ERR_CONFLICT;
        if (!e) e = st_rel_amend(x->c, rel.id, caps, ends_at, rel.period_days, rel.auto_renew);
        if (!e) e = partner_emit(x, agreement_id, rel.id, "partner.access_amended", &rel);
    }
    const char *status = narrowed ? "narrowed" : "approved";
    if (!e) e = st_request_decide(x->c, q.id, status, x->actor_id, NULL, x->now);
    if (!e) {
        const char *details =
            narrowed ? json_pairs(x->a, "partner_org", q.org_name, "kind", q.kind, "capabilities", partner_caps_csv(x->a, caps),
                                  "last_day", partner_last_day(x->a, ends_at), "asked_capabilities",
                                  partner_caps_csv(x->a, q.capabilities), "asked_last_day", partner_last_day(x->a, q.ends_at),
                                  NULL)
                     : json_pairs(x->a, "partner_org", q.org_name, "kind", q.kind, "capabilities", partner_caps_csv(x->a, caps),
                                  "last_day", partner_last_day(x->a, ends_at), NULL);
        e = audit(x, narrowed ? "partner.request_narrowed" : "partner.request_approved", "partner_request",
                  audit_id(x, q.id), agreement_id, details);
    }
    decision_mail m = {&g, &q, caps, ends_at, NULL};
    if (!e) e = mail_decision(x, narrowed ? "partner_request_narrowed" : "partner_request_approved", &m);
    if (!e) e = read_view(x, agreement_id, q.relationship_id, out);
    return commit_and_wake(x, e);
}

/* ---- deny ---- */

os_err partner_request_deny(op_ctx *x, int64_t agreement_id, int64_t request_id, const char *reason,
                            partner_request_rec *out) {
    os_err e = store_tx_begin_agreement(x->c, agreement_id);
    if (e) return e;
    partner_request_rec q;
    bool lapsed;
    e = read_open_request(x, agreement_id, request_id, &q, &lapsed);
    if (e) return store_tx_end(x->c, e);
    x->relationship_id = q.relationship_id;
    if (lapsed) return end_lapsed(x, &q);
    agreement_rec g;
    e = st_agreement_by_id(x->c, x->a, agreement_id, &g);
    if (!e) e = st_request_decide(x->c, q.id, "denied", x->actor_id, reason, x->now);
    /* A relationship that never started ends with its request; an active one is untouched. */
    if (!e && !strcmp(q.kind, "access")) e = st_rel_finish(x->c, q.relationship_id, "denied", x->actor_id, x->now);
    if (!e) e = audit(x, "partner.request_denied", "partner_request", audit_id(x, q.id), agreement_id,
                      json_pairs(x->a, "partner_org", q.org_name, "kind", q.kind, "reason", reason, NULL));
    decision_mail m = {&g, &q, q.capabilities, q.ends_at, reason};
    if (!e) e = mail_decision(x, "partner_request_denied", &m);
    if (!e) e = st_request_get(x->c, x->a, agreement_id, q.id, out);
    return commit_and_wake(x, e);
}

/* ---- the customer's own change ---- */

typedef struct amended_mail {
    const agreement_rec *g;
    const rel_rec *rel;
    unsigned capabilities;
    int64_t ends_at;
    bool auto_renew;
} amended_mail;

static const char *amended_mail_data(op_ctx *x, const recipient_rec *to, const char *lang, void *ud) {
    const amended_mail *m = ud;
    bool fr = is_fr(lang);
    const char *renewal = m->auto_renew ? (fr ? "automatique à l’échéance" : "automatic at the end")
                                        : (fr ? "aucun renouvellement\u00a0: l’accès s’arrête à l’échéance"
                                              : "none: access stops at the end");
    return json_pairs(x->a, "name", to->name ? to->name : "", "partner_org", m->rel->org_name, "license_number",
                      m->g->license_number, "customer_name", m->g->customer_name, "capabilities",
                      partner_caps_text(x->a, m->capabilities, lang), "last_day", partner_last_day(x->a, m->ends_at),
                      "renewal", renewal, "agreement_link",
                      arena_printf(x->a, "%s/agreements/%s", x->app->base_url, m->g->license_number), NULL);
}

os_err partner_rel_amend(op_ctx *x, int64_t agreement_id, int64_t relationship_id, const rel_change *in,
                         partner_rel_view *out) {
    os_err e = store_tx_begin_agreement(x->c, agreement_id);
    if (e) return e;
    rel_rec rel;
    e = st_rel_get(x->c, x->a, agreement_id, relationship_id, &rel);
    /* Past its end it is over for the access rule, whatever the housekeeping has written. */
    if (!e && (strcmp(rel.status, "active") || rel.ends_at <= x->now)) e = OS_ERR_CONFLICT;
    if (e) return store_tx_end(x->c, e);
    x->relationship_id = rel.id;
    unsigned caps = in->capabilities ? in->capabilities : rel.capabilities;
    int64_t ends_at = in->ends_at ? in->ends_at : rel.ends_at;
    bool renew = in->auto_renew ? *in->auto_renew : rel.auto_renew;
    if (caps == rel.capabilities && ends_at == rel.ends_at && renew == rel.auto_renew) {
        /* Nothing to change: nothing to record or announce. */
        e = read_view(x, agreement_id, rel.id, out);
        return store_tx_end(x->c, e);
    }
    agreement_rec g;
    e = st_agreement_by_id(x->c, x->a, agreement_id, &g);
    if (!e) e = st_rel_amend(x->c, rel.id, caps, ends_at, rel.period_days, renew);
    if (!e) e = audit(x, "partner.relationship_amended", "partner_relationship", audit_id(x, rel.id), agreement_id,
                      json_pairs(x->a, "partner_org", rel.org_name, "capabilities", partner_caps_csv(x->a, caps), "last_day",
                                 partner_last_day(x->a, ends_at), "auto_renew", renew ? "true" : "false",
                                 "previous_capabilities", partner_caps_csv(x->a, rel.capabilities), "previous_last_day",
                                 partner_last_day(x->a, rel.ends_at), NULL));
    if (!e) e = partner_emit(x, agreement_id, rel.id, "partner.access_amended", &rel);
    recipient_rec *to;
    int n = 0;
    if (!e) e = st_rel_partner_recipients(x->c, x->a, rel.id, &to, &n);
    amended_mail m = {&g, &rel, caps, ends_at, renew};
    if (!e) e = partner_mail(x, to, n, "partner_amended", amended_mail_data, &m);
    if (!e) e = read_view(x, agreement_id, rel.id, out);
    return commit_and_wake(x, e);
}

/* ---- the partner asks for a change ---- */

typedef struct ask_mail {
    const agreement_rec *g;
    const rel_rec *rel;
    unsigned capabilities;
    int64_t ends_at, request_id;
} ask_mail;

static const char *ask_mail_data(op_ctx *x, const recipient_rec *to, const char *lang, void *ud) {
    const ask_mail *m = ud;
    (void)to;
    return json_pairs(
        x->a, "partner_org", m->rel->org_name, "partner_name", x->actor_name ? x->actor_name : "", "partner_email",
        x->actor_email, "license_number", m->g->license_number, "customer_name", m->g->customer_name, "when",
        partner_when_text(x->a, x->now), "current_capabilities", partner_caps_text(x->a, m->rel->capabilities, lang),
        "current_last_day", partner_last_day(x->a, m->rel->ends_at), "capabilities",
        partner_caps_text(x->a, m->capabilities, lang), "last_day", partner_last_day(x->a, m->ends_at), "partners_link",
        arena_printf(x->a, "%s/agreements/%s/partners?request=%lld", x->app->base_url, m->g->license_number,
                     (long long)m->request_id),
        NULL);
}

os_err partner_amendment_request(op_ctx *x, int64_t org_id, int64_t relationship_id, unsigned capabilities,
                                 int64_t ends_at, amendment_outcome *outcome, partner_request_rec *out) {
    *outcome = AMEND_NOT_FOUND;
    os_err e = store_tx_begin(x->c);
    if (e) return e;
    int64_t member_id;
    const char *role;
    rel_rec rel;
    e = st_partner_membership(x->c, x->a, org_id, x->actor_email, &member_id, &role);
    if (!e) e = st_rel_of_org(x->c, x->a, org_id, relationship_id, &rel);
    if (e) return store_tx_end(x->c, e == OS_ERR_NOT_FOUND ? OS_OK : e);
    /* An admin speaks for the organization; a member only for access they act under. */
    bool covered = !strcmp(role, "admin") || !rel.named;
    if (!covered && (e = st_rel_names_member(x->c, rel.id, member_id, &covered))) return store_tx_end(x->c, e);
    if (!covered) {
        *outcome = AMEND_NOT_ALLOWED;
        return store_tx_end(x->c, OS_OK);
    }
    if (strcmp(rel.status, "active") || rel.ends_at <= x->now) {
        *outcome = AMEND_ENDED;
        return store_tx_end(x->c, OS_OK);
    }
    x->relationship_id = rel.id;
    partner_request_new q = {.relationship_id = rel.id,
                             .ends_at = ends_at,
                             .period_days = rel.period_days,
                             .requested_by = x->actor_id,
                             .lapses_at = x->now + (int64_t)LIMIT_PARTNER_REQUEST_DAYS * 86400,
                             .capabilities = capabilities,
                             .kind = "amendment"};
    int64_t req_id = 0;
    e = st_request_create(x->c, &q, x->now, &req_id);
    if (e == OS_ERR_CONFLICT) {
        *outcome = AMEND_OPEN;
        return store_tx_end(x->c, OS_OK);
    }
    agreement_rec g;
    if (!e) e = st_agreement_by_id(x->c, x->a, rel.agreement_id, &g);
    if (!e) e = audit(x, "partner.request_created", "partner_request", audit_id(x, req_id), rel.agreement_id,
                      json_pairs(x->a, "kind", "amendment", "partner_org", rel.org_name, "capabilities",
                                 partner_caps_csv(x->a, capabilities), "last_day", partner_last_day(x->a, ends_at), NULL));
    recipient_rec *to;
    int n = 0;
    if (!e) e = st_partner_deciders(x->c, x->a, rel.agreement_id, &to, &n);
    ask_mail m = {&g, &rel, capabilities, ends_at, req_id};
    if (!e) e = partner_mail(x, to, n, "partner_amendment_request", ask_mail_data, &m);
    if (!e) e = st_request_get(x->c, x->a, rel.agreement_id, req_id, out);
    e = store_tx_end(x->c, e);
    if (!e) {
        *outcome = AMEND_CREATED;
        outbox_wake(x->app->mail);
    }
    return e;
}
