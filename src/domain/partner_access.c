/* partner_access.c — see partner_access.h. */
#include "partner_access.h"
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "core/json_write.h"
#include "core/limits.h"
#include "core/secret.h"
#include "core/text.h"
#include "domain/access.h"
#include "domain/audit.h"
#include "domain/events.h"
#include "domain/handoff.h"
#include "domain/numbers.h"
#include "domain/throttle.h"
#include "mail/outbox.h"


const char *partner_when_text(arena *a, int64_t t) {
    char s[32];
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(s, sizeof s, "%Y-%m-%d %H:%M UTC", &tm);
    return arena_strdup(a, s);
}

const char *partner_caps_csv(arena *a, unsigned caps) {
    const char *names[CAP_COUNT];
    int n = cap_names(caps, names);
    const char *out = "";
    for (int i = 0; i < n; i++) out = i ? arena_printf(a, "%s,%s", out, names[i]) : names[i];
    return out;
}

/* How the partner came, in the recipient's language. */
static const char *route_text(const char *route, const char *lang) {
    bool fr = lang && !strcmp(lang, "fr");
    if (!strcmp(route, "new_license"))
        return fr ? "« Nouveau contrat Open License » dans le portail" : "\"New Open license\" in the portal";
    if (!strcmp(route, "handoff"))
        return fr ? "le lien du centre de gestion des licences" : "the link from the licensing service center";
    if (!strcmp(route, "registration"))
        return fr ? "l’enregistrement des partenaires Open License" : "the Open License partner registration";
    return fr ? "la commande" : "the order";
}

int64_t partner_period_end(const agreement_rec *g, int64_t period_days, int64_t from) {
    if (period_days > 0) return from + period_days * 86400;
    int64_t start;
    if (g->end_date && text_day_parse(g->end_date, &start)) return start + 86400;
    return from + 365 * 86400;   /* an agreement always has an end date; this is not reached */
}

const char *partner_caps_text(arena *a, unsigned caps, const char *lang) {
    static const char *const en[CAP_COUNT] = {"see subscribers and export lists", "assign, edit and remove subscriptions",
                                              "upload files", "see the maximum-usage report", "see the activity log"};
    static const char *const fr[CAP_COUNT] = {"consulter les abonnés et exporter les listes",
                                              "attribuer, modifier et retirer des abonnements", "importer des fichiers",
                                              "consulter le rapport d’utilisation maximale", "consulter le journal d’activité"};
    const char *const *w = lang && !strcmp(lang, "fr") ? fr : en;
    const char *out = "";
    for (int i = 0; i < CAP_COUNT; i++)
        if (caps & (1u << i)) out = *out ? arena_printf(a, "%s, %s", out, w[i]) : w[i];
    return out;
}

const char *partner_last_day(arena *a, int64_t ends_at) {
    char *d = arena_alloc(a, 11);
    text_day(ends_at - 1, d);
    return d;
}

os_err partner_mail(op_ctx *x, const recipient_rec *to, int n, const char *tpl, partner_mail_data_fn data, void *ud) {
    os_err e = OS_OK;
    for (int i = 0; !e && i < n; i++) {
        const char *lang = to[i].language ? to[i].language : "en";
        e = outbox_enqueue(x->app, x->c, x->a, to[i].email, tpl, lang, data(x, &to[i], lang, ud), x->now);
    }
    return e;
}

/* What every mail about one relationship says. */
typedef struct grant_mail {
    const agreement_rec *g;
    const char *org_name, *route;
    bool org_new;
    unsigned capabilities;
    int64_t ends_at, request_id;
} grant_mail;

static const char *grant_mail_data(op_ctx *x, const recipient_rec *to, const char *lang, void *ud) {
    const grant_mail *m = ud;
    (void)to;
    bool fr = !strcmp(lang, "fr");
    const char *base = arena_printf(x->a, "%s/agreements/%s/partners", x->app->base_url, m->g->license_number);
    return json_pairs(
        x->a, "partner_org", m->org_name, "partner_name", x->actor_name ? x->actor_name : "", "partner_email",
        x->actor_email, "license_number", m->g->license_number, "customer_name", m->g->customer_name, "route",
        route_text(m->route, lang), "when", partner_when_text(x->a, x->now), "capabilities",
        partner_caps_text(x->a, m->capabilities, lang), "last_day", partner_last_day(x->a, m->ends_at), "org_note",
        !m->org_new ? ""
        : fr        ? "Cette organisation partenaire est nouvelle dans openseat : elle s’y est enregistrée à cette occasion."
                    : "This partner organization is new to openseat: it registered on this occasion.",
        "partners_link", m->request_id ? arena_printf(x->a, "%s?request=%lld", base, (long long)m->request_id) : base,
        NULL);
}

const char *partner_rel_event_object(arena *a, const rel_rec *r) {
    jw_params p;
    jw *w = jw_params_begin(&p, a);
    jw_kint(w, "id", r->id);
    jw_key(w, "organization");
    jw_obj(w);
    jw_kint(w, "id", r->partner_org_id);
    jw_kstr(w, "name", r->org_name);
    jw_obj_end(w);
    const char *names[CAP_COUNT];
    int n = cap_names(r->capabilities, names);
    jw_key(w, "capabilities");
    jw_arr(w);
    for (int i = 0; i < n; i++) jw_str(w, names[i]);
    jw_arr_end(w);
    jw_kstr(w, "ends_on", r->ends_at ? partner_last_day(a, r->ends_at) : NULL);
    jw_kstr(w, "status", r->status);
    return jw_params_end(&p);
}

os_err partner_emit(op_ctx *x, int64_t agreement_id, int64_t relationship_id, const char *type,
                    const rel_rec *before) {
    rel_rec now;
    os_err e = st_rel_get(x->c, x->a, agreement_id, relationship_id, &now);
    if (e) return e;
    const char *rel = partner_rel_event_object(x->a, &now);
    if (!rel) return OS_ERR_INTERNAL;
    const char *changes = NULL;
    if (before) {
        changes = event_changes(x->a, partner_rel_event_object(x->a, before), rel, NULL);
        if (!changes) return OS_OK;   /* nothing an integrator sees changed */
    }
    const char *data = changes ? event_data(x->a, now.license_number, "relationship", rel, "changes", changes, NULL)
                               : event_data(x->a, now.license_number, "relationship", rel, NULL);
    return data ? event_emit_relationship(x, agreement_id, type, relationship_id, data) : OS_ERR_INTERNAL;
}

/* A new organization for someone who belongs to none: created with them as its first
 * admin, unless one of that name exists (*taken: its admins invite people). */
static os_err create_org(op_ctx *x, const char *name, org_rec *org, bool *taken) {
    int64_t id;
    bool created;
    *taken = false;
    os_err e = st_org_ensure(x->c, "partner", name, "", x->now, &id, &created);
    if (e) return e;
    if (!created) {
        *taken = true;
        return OS_OK;
    }
    *org = (org_rec){.id = id, .kind = "partner", .name = name, .country = ""};
    e = audit(x, "partner.created", "organization", audit_id(x, id), 0, json_pairs(x->a, "name", name, NULL));
    if (!e) e = st_partner_member_add(x->c, id, x->actor_email, "admin", x->now);
    if (!e) e = audit(x, "partner.member_added", "organization", audit_id(x, id), 0,
                      json_pairs(x->a, "email", x->actor_email, "role", "admin", NULL));
    return e;
}

/* A relationship exists: the person joins it when it names people (they proved the
 * customer's numbers, as its first person did), else it already covers them. */
static os_err join_live(op_ctx *x, const agreement_rec *g, const org_rec *org, const rel_rec *live,
                        registration_out *out) {
    out->relationship_id = live->id;
    out->license_number = g->license_number;
    if (!strcmp(live->status, "pending")) {
        out->outcome = REG_ALREADY_PENDING;
        out->request_id = live->request_id;
        return OS_OK;
    }
    out->outcome = REG_ALREADY;
    if (!live->named) return OS_OK;
    int64_t member;
    os_err e = st_partner_member_id(x->c, org->id, x->actor_email, &member);
    if (e) return e;
    role_rec role;
    e = st_agreement_role(x->c, x->a, g->id, x->actor_id, x->now, &role);
    if (e != OS_ERR_NOT_FOUND) return e;
    out->outcome = REG_GRANTED;
    x->relationship_id = live->id;
    e = st_rel_person_add(x->c, live->id, member);
    if (!e) e = audit(x, "partner.person_added", "partner_relationship", audit_id(x, live->id), g->id,
                      json_pairs(x->a, "partner_org", org->name, "email", x->actor_email, NULL));
    return e;
}

/* Opens the organization's relationship with the agreement in one transaction: block check,
 * then access at once (within the defaults, approval off) or a request that waits; audit and
 * e-mails. new_org_name: create the organization (someone who belongs to none). */
static os_err grant(op_ctx *x, const agreement_rec *g, const org_rec *org_in, const char *new_org_name,
                    const char *route, bool notify, const access_ask *ask, registration_out *out) {
    os_err e = store_tx_begin(x->c);
    if (e) return e;
    org_rec org = org_in ? *org_in : (org_rec){0};
    bool org_new = false;
    if (new_org_name) {
        bool taken;
        e = create_org(x, new_org_name, &org, &taken);
        if (!e && taken) {
            out->outcome = REG_ORG_EXISTS;
            e = store_tx_end(x->c, OS_ERR_CONFLICT);   /* nothing to keep */
            return e == OS_ERR_CONFLICT ? OS_OK : e;
        }
        org_new = true;
    }
    bool blocked = false;
    if (!e) e = st_partner_blocked(x->c, g->id, org.id, &blocked);
    if (!e && blocked) {
        out->outcome = REG_BLOCKED;
        e = audit(x, "partner.registration_blocked", "organization", audit_id(x, org.id), g->id,
                  json_pairs(x->a, "route", route, NULL));
        return store_tx_end(x->c, e);
    }
    rel_rec live;
    if (!e) e = st_rel_live(x->c, x->a, g->id, org.id, &live);
    if (!e) {
        e = join_live(x, g, &org, &live, out);
        return store_tx_end(x->c, e);
    }
    if (e != OS_ERR_NOT_FOUND) return store_tx_end(x->c, e);
    prefs_rec pr;
    e = st_prefs_get(x->c, x->a, g->id, &pr);
    if (e) return store_tx_end(x->c, e);
    /* The order that created the agreement comes before any preference can be set. */
    bool from_order = !strcmp(route, "order");
    int64_t default_end = partner_period_end(g, pr.partner_period_days, x->now);
    unsigned caps = ask && ask->capabilities ? ask->capabilities : pr.partner_capabilities;
    int64_t ends_at = ask && ask->ends_at ? ask->ends_at : default_end;
    bool wait = !from_order && (pr.partner_approval || (caps & ~pr.partner_capabilities) || ends_at > default_end);
    rel_new rn = {.agreement_id = g->id,
                  .partner_org_id = org.id,
                  .starts_at = wait ? 0 : x->now,
                  .ends_at = ends_at,
                  .period_days = pr.partner_period_days,
                  .requested_by = x->actor_id,
                  .capabilities = caps,
                  .status = wait ? "pending" : "active",
                  .route = route};
    int64_t rel_id = 0, req_id = 0;
    e = st_rel_create(x->c, &rn, x->now, &rel_id);
    if (e) return store_tx_end(x->c, e);
    x->relationship_id = rel_id;
    const char *details = json_pairs(x->a, "route", route, "partner_org", org.name, "capabilities",
                                     partner_caps_csv(x->a, caps),
                                     "last_day", partner_last_day(x->a, ends_at), NULL);
    if (wait) {
        partner_request_new q = {.relationship_id = rel_id,
                                 .ends_at = ends_at,
                                 .period_days = pr.partner_period_days,
                                 .requested_by = x->actor_id,
                                 .lapses_at = x->now + (int64_t)LIMIT_PARTNER_REQUEST_DAYS * 86400,
                                 .capabilities = caps,
                                 .kind = "access"};
        e = st_request_create(x->c, &q, x->now, &req_id);
        if (!e) e = audit(x, "partner.request_created", "partner_request", audit_id(x, req_id), g->id, details);
    } else {
        e = audit(x, "partner.access_granted", "partner_relationship", audit_id(x, rel_id), g->id, details);
    }
    if (!e) e = partner_emit(x, g->id, rel_id, wait ? "partner.access_requested" : "partner.access_granted", NULL);
    if (!e && (notify || wait)) {
        recipient_rec *to;
        int n;
        grant_mail m = {g, org.name, route, org_new, caps, ends_at, req_id};
        e = wait ? st_partner_deciders(x->c, x->a, g->id, &to, &n) : st_customer_recipients(x->c, x->a, g->id, &to, &n);
        if (!e) e = partner_mail(x, to, n, wait ? "partner_request" : "partner_added", grant_mail_data, &m);
    }
    e = store_tx_end(x->c, e);
    if (!e) {
        out->outcome = wait ? REG_PENDING : REG_GRANTED;
        out->license_number = g->license_number;
        out->relationship_id = rel_id;
        out->request_id = req_id;
        outbox_wake(x->app->mail);
    }
    return e;
}

/* The partner organization the user acts for; prefer one related to the agreement in the
 * licensing center when there are several. */
static bool pick_org(op_ctx *x, const org_rec *orgs, int n, int64_t prefer, org_rec *out) {
    if (n == 0) return false;
    *out = orgs[0];
    for (int i = 0; i < n; i++)
        if (orgs[i].id == prefer) *out = orgs[i];
    return true;
}

/* The three details match one agreement: license number, keyed hash of the
 * authorization number (constant-time), and the order's customer e-mail. *match says
 * whether they do; an error is the store's (never taken for "no match", which would
 * count against the partner). */
static os_err details_match(op_ctx *x, const registration_in *in, agreement_rec *g, bool *match) {
    *match = false;
    char lic[LICENSE_DIGITS + 1], auth[AUTHNO_CHARS + 1], h[SECRET_HASH_HEX];
    const char *email = email_normalize(x->a, in->customer_email ? in->customer_email : "");
    bool ok_shape = in->license_number && license_number_normalize(in->license_number, lic) &&
                    in->authorization_number && authno_normalize(in->authorization_number, auth) && email;
    if (!ok_shape) return OS_OK;
    os_err e = st_agreement_by_license(x->c, x->a, lic, g);
    if (e) return e == OS_ERR_NOT_FOUND ? OS_OK : e;
    secret_hmac_hex(x->app->keys.authno_mac, auth, strlen(auth), h);
    bool auth_ok = secret_equal(h, g->auth_hash);
    bool email_ok = secret_equal(email, g->customer_email);
    *match = auth_ok && email_ok;
    return OS_OK;
}

/* Failures the rules still allow (their smallest remainder), this one counted. */
static os_err tries_left(op_ctx *x, const throttle_rule *rules, int n, int64_t *left) {
    *left = INT64_MAX;
    for (int i = 0; i < n; i++) {
        if (!rules[i].key) continue;
        int64_t count, oldest;
        os_err e = st_auth_failures(x->c, rules[i].scope, rules[i].key, NULL, x->now - rules[i].window_s, &count,
                                    &oldest);
        if (!e && rules[i].limit - count < *left) *left = rules[i].limit - count;
        if (!e && rules[i].per_address) {
            e = st_auth_failures(x->c, rules[i].scope, rules[i].key, x->address ? x->address : "",
                                 x->now - rules[i].window_s, &count, &oldest);
            if (!e && rules[i].per_address - count < *left) *left = rules[i].per_address - count;
        }
        if (e) return e;
    }
    if (*left < 0 || *left == INT64_MAX) *left = 0;
    return OS_OK;
}

os_err partner_register(op_ctx *x, const registration_in *in, registration_out *out) {
    memset(out, 0, sizeof *out);
    org_rec *orgs;
    int norgs;
    os_err e = st_partner_orgs_of(x->c, x->a, x->actor_email, &orgs, &norgs);
    if (e) return e;
    if (norgs == 0 && !in->organization_name) {
        out->outcome = REG_NOT_PARTNER;
        return audit(x, "partner.registration_refused", "user", audit_id(x, x->actor_id), 0,
                     json_pairs(x->a, "reason", "not a partner user", "route", in->route, NULL));
    }
    char lic[LICENSE_DIGITS + 1] = "";
    const char *lic_key = in->license_number && license_number_normalize(in->license_number, lic)
                              ? lic
                              : text_trim(x->a, in->license_number ? in->license_number : "");
    const throttle_rule rules[] = {
        {"reg_user", audit_id(x, x->actor_id), 0, REG_LIMIT_PER_USER, REG_WINDOW_USER_S},
        {"reg_license", *lic_key ? arena_strndup(x->a, lic_key, 32) : NULL, REG_LIMIT_PER_LICENSE_ADDRESS,
         REG_LIMIT_PER_LICENSE, REG_WINDOW_LICENSE_S},
    };
    throttle_attempt at;
    e = throttle_reserve(x, rules, 2, &at, &out->retry_after);
    int64_t known_agreement = 0;
    os_err le = *lic ? st_agreement_id(x->c, lic, &known_agreement) : OS_OK;
    if (le && le != OS_ERR_NOT_FOUND) return le;
    if (e == OS_ERR_THROTTLED) {
        out->outcome = REG_THROTTLED;
        return audit(x, "partner.registration_throttled", "license", lic_key, known_agreement,
                     json_pairs(x->a, "route", in->route, NULL));
    }
    if (e) return e;
    agreement_rec g;
    bool match;
    if ((e = details_match(x, in, &g, &match))) return e;
    if (!match) {
        out->outcome = REG_NO_MATCH;
        if ((e = tries_left(x, rules, 2, &out->tries_left))) return e;
        /* Kept (not withdrawn): it counts towards both throttles. Visible to the
         * agreement's super admins when the license number was a real one. */
        return audit(x, "partner.registration_failed", "license", lic_key, known_agreement,
                     json_pairs(x->a, "route", in->route, NULL));
    }
    throttle_withdraw(x, &at);
    /* The real partner registered from here: this address's failures on the license are forgotten. */
    if ((e = st_auth_failures_clear(x->c, "reg_license", g.license_number, x->address ? x->address : ""))) return e;
    org_rec org;
    if (!pick_org(x, orgs, norgs, g.partner_org_id, &org))
        return grant(x, &g, NULL, in->organization_name, in->route, true, &in->ask, out);
    return grant(x, &g, &org, NULL, in->route, true, &in->ask, out);
}

os_err partner_handoff(op_ctx *x, const char *token, registration_out *out) {
    memset(out, 0, sizeof *out);
    handoff_claims cl;
    os_err e = handoff_verify(x->a, x->app->keys.handoff, token, x->now, &cl);
    if (e == OS_ERR_INVALID || e == OS_ERR_GONE) {
        out->outcome = REG_LINK_INVALID;
        return audit(x, "partner.handoff_refused", "user", audit_id(x, x->actor_id), 0,
                     json_pairs(x->a, "reason", e == OS_ERR_GONE ? "expired" : "invalid", NULL));
    }
    if (e) return e;
    /* Checked before the link is used up, so the partner can sign in with the right
     * address and follow the same link again. */
    if (!secret_equal(cl.email, x->actor_email)) {
        out->outcome = REG_WRONG_ACCOUNT;
        return audit(x, "partner.handoff_refused", "user", audit_id(x, x->actor_id), 0,
                     json_pairs(x->a, "reason", "signed in with another address", NULL));
    }
    agreement_rec g;
    if ((e = st_agreement_by_license(x->c, x->a, cl.license_number, &g))) {
        if (e == OS_ERR_NOT_FOUND) out->outcome = REG_LINK_INVALID;
        return e == OS_ERR_NOT_FOUND ? OS_OK : e;
    }
    org_rec *orgs;
    int norgs;
    if ((e = st_partner_orgs_of(x->c, x->a, x->actor_email, &orgs, &norgs))) return e;
    org_rec org;
    if (!pick_org(x, orgs, norgs, g.partner_org_id, &org)) {
        out->outcome = REG_NOT_PARTNER;
        return OS_OK;
    }
    e = handoff_consume(x->c, x->a, x->app->keys.handoff, token, x->now, &cl);
    if (e == OS_ERR_GONE || e == OS_ERR_INVALID) {
        out->outcome = REG_LINK_INVALID;
        return audit(x, "partner.handoff_refused", "agreement", g.license_number, g.id,
                     json_pairs(x->a, "reason", "link already used", NULL));
    }
    if (e) return e;
    return grant(x, &g, &org, NULL, "handoff", true, NULL, out);
}

os_err partner_grant_on_order(op_ctx *x, int64_t agreement_id, int64_t org_id) {
    registration_out out;
    agreement_rec g;
    os_err e = st_agreement_by_id(x->c, x->a, agreement_id, &g);
    if (e) return e;
    org_rec org = {.id = org_id, .kind = "partner", .name = g.partner_name};
    return grant(x, &g, &org, NULL, "order", false, NULL, &out);
}

os_err partner_list_read(op_ctx *x, int64_t agreement_id, partner_list *out) {
    *out = (partner_list){0};
    os_err e = st_rels_of_agreement(x->c, x->a, agreement_id, &out->rels, &out->nrels);
    if (!e) e = st_rel_people_of_agreement(x->c, x->a, agreement_id, &out->people, &out->npeople);
    if (!e) e = st_requests_open(x->c, x->a, agreement_id, &out->requests, &out->nrequests);
    if (!e) e = st_partner_blocks(x->c, x->a, agreement_id, &out->blocks, &out->nblocks);
    return e;
}

typedef struct removal_mail {
    const agreement_rec *g;
    const char *org_name;
} removal_mail;

static const char *removal_mail_data(op_ctx *x, const recipient_rec *to, const char *lang, void *ud) {
    const removal_mail *m = ud;
    (void)lang;
    return json_pairs(x->a, "name", to->name ? to->name : "", "partner_org", m->org_name, "license_number",
                      m->g->license_number, "customer_name", m->g->customer_name, NULL);
}

os_err partner_remove(op_ctx *x, int64_t agreement_id, int64_t relationship_id) {
    rel_rec rel;
    agreement_rec g;
    /* Whether the relationship is still live decides the removal: read in its transaction. */
    os_err e = store_tx_begin_agreement(x->c, agreement_id);
    if (e) return e;
    e = st_rel_get(x->c, x->a, agreement_id, relationship_id, &rel);
    if (!e && strcmp(rel.status, "active") && strcmp(rel.status, "pending")) e = OS_ERR_CONFLICT;
    if (!e) e = st_agreement_by_id(x->c, x->a, agreement_id, &g);
    if (e) return store_tx_end(x->c, e);
    /* Who hears of it is read before the relationship ends (its people are who it covers). */
    recipient_rec *to;
    int n = 0;
    e = st_rel_partner_recipients(x->c, x->a, relationship_id, &to, &n);
    if (!e) e = st_rel_finish(x->c, relationship_id, "removed", x->actor_id, x->now);
    /* An open request goes with it. */
    if (!e && rel.request_id) e = st_request_decide(x->c, rel.request_id, "denied", x->actor_id, NULL, x->now);
    if (!e) e = st_partner_block_add(x->c, agreement_id, rel.partner_org_id, x->actor_id, x->now);
    if (!e) e = audit(x, "partner.access_removed", "organization", audit_id(x, rel.partner_org_id), agreement_id,
                      json_pairs(x->a, "partner_org", rel.org_name, "relationship", audit_id(x, relationship_id), NULL));
    if (!e) e = partner_emit(x, agreement_id, relationship_id, "partner.access_removed", NULL);
    removal_mail m = {&g, rel.org_name};
    if (!e) e = partner_mail(x, to, n, "partner_removed", removal_mail_data, &m);
    e = store_tx_end(x->c, e);
    if (!e) outbox_wake(x->app->mail);
    return e;
}

os_err partner_lift_block(op_ctx *x, int64_t agreement_id, int64_t block_id) {
    os_err e = store_tx_begin_agreement(x->c, agreement_id);
    if (e) return e;
    int64_t org_id = 0;
    e = st_partner_block_lift(x->c, agreement_id, block_id, x->actor_id, x->now, &org_id);
    if (!e) e = audit(x, "partner.block_lifted", "organization", audit_id(x, org_id), agreement_id, NULL);
    return store_tx_end(x->c, e);
}

os_err partner_user_standing(op_ctx *x, user_standing *out) {
    return st_user_standing(x->c, x->actor_id, x->actor_email, x->now, out);
}

os_err partner_tx_begin_relationship(op_ctx *x, int64_t org_id, int64_t rel_id) {
    rel_rec rel;
    os_err e = st_rel_of_org(x->c, x->a, org_id, rel_id, &rel);
    if (e == OS_ERR_NOT_FOUND) return store_tx_begin(x->c);
    return e ? e : store_tx_begin_agreement(x->c, rel.agreement_id);
}
