/* partner_access.c — see partner_access.h. */
#include "partner_access.h"
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "core/secret.h"
#include "core/text.h"
#include "domain/audit.h"
#include "domain/handoff.h"
#include "domain/numbers.h"
#include "domain/throttle.h"
#include "mail/outbox.h"

static const char *id_text(op_ctx *x, int64_t id) { return arena_printf(x->a, "%lld", (long long)id); }

static const char *when_text(op_ctx *x, int64_t t) {
    char s[32];
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(s, sizeof s, "%Y-%m-%d %H:%M UTC", &tm);
    return arena_strdup(x->a, s);
}

/* How the partner came, in the recipient's language. */
static const char *route_text(const char *route, const char *lang) {
    bool fr = lang && !strcmp(lang, "fr");
    if (!strcmp(route, "new_license"))
        return fr ? "« Nouveau contrat Open License » dans le portail" : "\"New Open license\" in the portal";
    if (!strcmp(route, "handoff"))
        return fr ? "le lien du centre de gestion des licences" : "the link from the licensing service center";
    if (!strcmp(route, "registration"))
        return fr ? "l’enregistrement des partenaires Open License" : "the Open License partner registration";
    return fr ? "la commande" : "the order";
}

/* The customer side hears of every grant, with the way to remove it. */
static os_err notify_customer(op_ctx *x, const agreement_rec *g, const char *org_name, const char *route) {
    recipient_rec *to;
    int n;
    os_err e = st_customer_recipients(x->c, x->a, g->id, &to, &n);
    const char *link = arena_printf(x->a, "%s/agreements/%s/partners", x->app->base_url, g->license_number);
    for (int i = 0; !e && i < n; i++) {
        const char *lang = to[i].language ? to[i].language : "en";
        const char *data = json_pairs(x->a, "partner_org", org_name, "partner_name", x->actor_name ? x->actor_name : "",
                                      "partner_email", x->actor_email, "license_number", g->license_number,
                                      "customer_name", g->customer_name, "route", route_text(route, lang), "when",
                                      when_text(x, x->now), "partners_link", link, NULL);
        e = outbox_enqueue(x->app, x->c, x->a, to[i].email, "partner_added", lang, data, x->now);
    }
    return e;
}

/* Grants access to the acting user in one transaction: block check, grant, audit, F6. */
static os_err grant(op_ctx *x, const agreement_rec *g, const org_rec *org, const char *route, bool notify,
                    registration_out *out) {
    os_err e = store_tx_begin(x->c);
    if (e) return e;
    bool blocked = false;
    int64_t grant_id = 0;
    e = st_partner_blocked(x->c, g->id, org->id, &blocked);
    if (!e && blocked) {
        out->outcome = REG_BLOCKED;
        e = audit(x, "partner.registration_blocked", "organization", id_text(x, org->id), g->id,
                  json_pairs(x->a, "route", route, NULL));
        return store_tx_end(x->c, e);
    }
    if (!e) e = st_partner_grant(x->c, g->id, x->actor_id, org->id, route, !strcmp(route, "order") ? 0 : x->now,
                                 x->now, &grant_id);
    if (e == OS_ERR_CONFLICT) {
        out->outcome = REG_ALREADY;
        out->license_number = g->license_number;
        return store_tx_end(x->c, OS_OK);
    }
    if (!e) e = audit(x, "partner.access_granted", "partner_access", id_text(x, grant_id), g->id,
                      json_pairs(x->a, "route", route, "partner_org", org->name, NULL));
    if (!e && notify) e = notify_customer(x, g, org->name, route);
    e = store_tx_end(x->c, e);
    if (!e) {
        out->outcome = REG_GRANTED;
        out->license_number = g->license_number;
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
    if (norgs == 0) {
        out->outcome = REG_NOT_PARTNER;
        return audit(x, "partner.registration_refused", "user", id_text(x, x->actor_id), 0,
                     json_pairs(x->a, "reason", "not a partner user", "route", in->route, NULL));
    }
    char lic[LICENSE_DIGITS + 1] = "";
    const char *lic_key = in->license_number && license_number_normalize(in->license_number, lic)
                              ? lic
                              : text_trim(x->a, in->license_number ? in->license_number : "");
    const throttle_rule rules[] = {
        {"reg_user", id_text(x, x->actor_id), 0, REG_LIMIT_PER_USER, REG_WINDOW_USER_S},
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
    pick_org(x, orgs, norgs, g.partner_org_id, &org);
    return grant(x, &g, &org, in->route, true, out);
}

os_err partner_handoff(op_ctx *x, const char *token, registration_out *out) {
    memset(out, 0, sizeof *out);
    handoff_claims cl;
    os_err e = handoff_verify(x->a, x->app->keys.handoff, token, x->now, &cl);
    if (e == OS_ERR_INVALID || e == OS_ERR_GONE) {
        out->outcome = REG_LINK_INVALID;
        return audit(x, "partner.handoff_refused", "user", id_text(x, x->actor_id), 0,
                     json_pairs(x->a, "reason", e == OS_ERR_GONE ? "expired" : "invalid", NULL));
    }
    if (e) return e;
    /* Checked before the link is used up, so the partner can sign in with the right
     * address and follow the same link again. */
    if (!secret_equal(cl.email, x->actor_email)) {
        out->outcome = REG_WRONG_ACCOUNT;
        return audit(x, "partner.handoff_refused", "user", id_text(x, x->actor_id), 0,
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
    return grant(x, &g, &org, "handoff", true, out);
}

os_err partner_grant_on_order(op_ctx *x, int64_t agreement_id, int64_t org_id) {
    registration_out out;
    agreement_rec g = {.id = agreement_id};
    org_rec org = {.id = org_id};
    return grant(x, &g, &org, "order", false, &out);
}

os_err partner_list_read(op_ctx *x, int64_t agreement_id, partner_list *out) {
    *out = (partner_list){0};
    os_err e = st_partner_grants(x->c, x->a, agreement_id, &out->grants, &out->ngrants);
    if (!e) e = st_partner_blocks(x->c, x->a, agreement_id, &out->blocks, &out->nblocks);
    return e;
}

os_err partner_remove(op_ctx *x, int64_t agreement_id, int64_t grant_id) {
    partner_grant_rec pg;
    agreement_rec g;
    /* Whether the grant is still there decides the removal: read in its transaction. */
    os_err e = store_tx_begin(x->c);
    if (e) return e;
    e = st_partner_grant_get(x->c, x->a, agreement_id, grant_id, &pg);
    if (!e && pg.removed_at) e = OS_ERR_CONFLICT;
    if (!e) e = st_agreement_by_id(x->c, x->a, agreement_id, &g);
    if (e) return store_tx_end(x->c, e);
    partner_grant_rec *removed;
    int n = 0;
    e = st_partner_remove_org(x->c, x->a, agreement_id, pg.partner_org_id, x->actor_id, x->now, &removed, &n);
    if (!e) e = st_partner_block_add(x->c, agreement_id, pg.partner_org_id, x->actor_id, x->now);
    if (!e) e = audit(x, "partner.access_removed", "organization", id_text(x, pg.partner_org_id), agreement_id,
                      json_pairs(x->a, "partner_org", pg.org_name, NULL));
    /* Tell each person who lost access, in their own language. */
    for (int i = 0; !e && i < n; i++)
        e = outbox_enqueue(x->app, x->c, x->a, removed[i].user_email, "partner_removed", removed[i].user_language,
                           json_pairs(x->a, "name", removed[i].user_name, "partner_org", removed[i].org_name,
                                      "license_number", g.license_number, "customer_name", g.customer_name, NULL),
                           x->now);
    e = store_tx_end(x->c, e);
    if (!e) outbox_wake(x->app->mail);
    return e;
}

os_err partner_lift_block(op_ctx *x, int64_t agreement_id, int64_t block_id) {
    os_err e = store_tx_begin(x->c);
    if (e) return e;
    int64_t org_id = 0;
    e = st_partner_block_lift(x->c, agreement_id, block_id, x->actor_id, x->now, &org_id);
    if (!e) e = audit(x, "partner.block_lifted", "organization", id_text(x, org_id), agreement_id, NULL);
    return store_tx_end(x->c, e);
}

os_err partner_user_recognized(op_ctx *x, bool *recognized, bool *is_partner) {
    return st_user_recognized(x->c, x->actor_id, x->actor_email, recognized, is_partner);
}
