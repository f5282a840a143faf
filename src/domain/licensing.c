/* licensing.c — see licensing.h. */
#include "licensing.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "core/json_write.h"
#include "core/secret.h"
#include "core/text.h"
#include "domain/admins.h"
#include "domain/audit.h"
#include "domain/handoff.h"
#include "domain/partner_access.h"
#include "mail/outbox.h"

#define AGREEMENT_YEARS 3
#define LIST_MAX 1000

/* ---- helpers ---- */


/* The day before the same date AGREEMENT_YEARS later. */
static void end_date_from(int64_t start, char out[11]) {
    time_t tt = (time_t)start;
    struct tm tm;
    gmtime_r(&tt, &tm);
    tm.tm_year += AGREEMENT_YEARS;
    tm.tm_mday -= 1;
    tm.tm_isdst = 0;
    time_t end = timegm(&tm);
    text_day(end, out);
}

const char *licensing_status(const char *end_date, bool disabled, int64_t now) {
    if (disabled) return "disabled";
    char today[11];
    text_day(now, today);
    return strcmp(end_date, today) < 0 ? "expired" : "active";
}

/* Invitation language: the one chosen, else French for French-speaking countries. */
static const char *invitation_language(const char *chosen, const char *country) {
    if (chosen) return chosen;
    static const char *const fr[] = {"FR", "BE", "LU", "MC", "CH", "SN", "CI", "MA", "TN", "DZ", "CM", NULL};
    for (int i = 0; country && fr[i]; i++)
        if (!strcmp(country, fr[i])) return "fr";
    return "en";
}

static const char *authno_hash(op_ctx *x, const char *norm) {
    char *h = arena_alloc(x->a, SECRET_HASH_HEX);
    secret_hmac_hex(x->app->keys.authno_mac, norm, strlen(norm), h);
    return h;
}

static const char *authno_seal(op_ctx *x, const char *norm) {
    size_t n = secret_seal_len(strlen(norm));
    char *s = arena_alloc(x->a, n);
    secret_seal(x->app->keys.authno_seal, norm, s, n);
    return s;
}

/* Grouped display form, or NULL when the sealed copy cannot be opened (wrong key). */
static const char *authno_display(op_ctx *x, const char *sealed) {
    char norm[64];
    if (!secret_open(x->app->keys.authno_seal, sealed, norm, sizeof norm) || strlen(norm) != AUTHNO_CHARS)
        return NULL;
    char *out = arena_alloc(x->a, AUTHNO_CHARS + 3);
    authno_format(norm, out);
    return out;
}

static os_err level_id(const level_rec *levels, int nlevels, const char *code, int64_t *id) {
    for (int i = 0; i < nlevels; i++)
        if (!strcmp(levels[i].code, code)) { *id = levels[i].id; return OS_OK; }
    return OS_ERR_NOT_FOUND;
}

/* ---- F1: orders ---- */

static os_err queue_invitation(op_ctx *x, const agreement_rec *g, const char *partner_name, const char *lang) {
    user_rec u;
    os_err e = st_user_by_email(x->c, x->a, g->customer_email, &u);
    if (e && e != OS_ERR_NOT_FOUND) return e;
    bool has_account = e == OS_OK;
    const char *data = json_pairs(x->a, "customer_name", g->customer_name, "partner_name", partner_name,
                                  "license_number", g->license_number, "email", g->customer_email, "signin_link",
                                  arena_printf(x->a, "%s/signin", x->app->base_url), "signup_link",
                                  arena_printf(x->a, "%s/signup", x->app->base_url), NULL);
    return outbox_enqueue(x->app, x->c, x->a, g->customer_email,
                          has_account ? "customer_invitation_existing" : "customer_invitation", lang, data, x->now);
}

/* Creates the agreement for a new order with fresh, unique numbers. */
static os_err create_agreement(op_ctx *x, const order_in *in, int64_t partner_org_id, agreement_rec *g) {
    int64_t customer_org;
    os_err e = st_org_ensure(x->c, "customer", in->customer_name, in->customer_country, x->now, &customer_org, NULL);
    if (e) return e;
    char start[11], end[11];
    text_day(x->now, start);
    end_date_from(x->now, end);
    char lic[LICENSE_DIGITS + 1], authno[AUTHNO_CHARS + 1];
    /* Collisions are rare (9·10^7 numbers); check first rather than rely on a failed
     * INSERT, which would abort a PostgreSQL transaction. */
    for (int tries = 0;; tries++) {
        license_number_new(lic);
        agreement_rec other;
        e = st_agreement_by_license(x->c, x->a, lic, &other);
        if (e == OS_ERR_NOT_FOUND) break;
        if (e) return e;
        if (tries > 20) return OS_ERR_CONFLICT;
    }
    for (int tries = 0;; tries++) {
        bool taken = false;
        authno_new(authno);
        if ((e = st_authno_taken(x->c, authno_hash(x, authno), &taken))) return e;
        if (!taken) break;
        if (tries > 20) return OS_ERR_CONFLICT;
    }
    *g = (agreement_rec){
        .license_number = arena_strdup(x->a, lic),
        .auth_hash = authno_hash(x, authno),
        .auth_sealed = authno_seal(x, authno),
        .customer_org_id = customer_org,
        .customer_email = in->customer_email,
        .partner_org_id = partner_org_id,
        .program = "Open License",
        .start_date = arena_strdup(x->a, start),
        .end_date = arena_strdup(x->a, end),
        .customer_name = in->customer_name,
        .customer_country = in->customer_country,
    };
    e = st_agreement_create(x->c, g, x->now, &g->id);
    if (!e) e = st_lsc_relation_add(x->c, g->id, partner_org_id, x->now);
    if (!e) e = audit(x, "agreement.created", "agreement", g->license_number, g->id,
                      json_pairs(x->a, "customer", in->customer_name, "customer_email", in->customer_email, NULL));
    return e;
}

static void validate_order(op_ctx *x, const order_in *in, const level_rec *levels, int nlevels, field_errors *fe) {
    if (!in->license_number) {
        if (!in->customer_name && !fe_has(fe, "customer_name"))
            fe_add(fe, "customer_name", "required", "Enter the customer's organization name");
        if (!in->customer_email && !fe_has(fe, "customer_email"))
            fe_add(fe, "customer_email", "required", "Enter the customer's work e-mail");
    }
    if (in->nlines == 0) fe_add(fe, "lines", "required", "Add at least one subscription line");
    if (in->nlines > ORDER_MAX_LINES)
        fe_add(fe, "lines", "too_long", arena_printf(x->a, "At most %d lines", ORDER_MAX_LINES));
    for (int i = 0; i < in->nlines && i < ORDER_MAX_LINES; i++) {
        int64_t lid;
        if (!in->lines[i].level)
            fe_add(fe, arena_printf(x->a, "lines[%d].level", i), "required", "Choose a subscription level");
        else if (level_id(levels, nlevels, in->lines[i].level, &lid))
            fe_add(fe, arena_printf(x->a, "lines[%d].level", i), "invalid_value", "Unknown subscription level");
        else
            for (int k = 0; k < i; k++)
                if (in->lines[k].level && !strcmp(in->lines[k].level, in->lines[i].level)) {
                    fe_add(fe, arena_printf(x->a, "lines[%d].level", i), "duplicate",
                           "This level is already on another line");
                    break;
                }
        const char *qf = arena_printf(x->a, "lines[%d].quantity", i);
        if (!fe_has(fe, qf) && (in->lines[i].quantity < 1 || in->lines[i].quantity > ORDER_MAX_QUANTITY))
            fe_add(fe, qf, "out_of_range",
                   arena_printf(x->a, "Enter a whole number from 1 to %d", ORDER_MAX_QUANTITY));
    }
}

os_err licensing_place_order(op_ctx *x, const order_in *in, field_errors *fe, order_out *out) {
    memset(out, 0, sizeof *out);
    /* The placing user's organizations (whether they may order, whom the order credits) and
     * the levels decide the order: read in its transaction. */
    os_err e = store_tx_begin(x->c);
    if (e) return e;
    org_rec *orgs;
    int norgs;
    level_rec *levels;
    int nlevels;
    e = st_partner_orgs_of(x->c, x->a, x->actor_email, &orgs, &norgs);
    if (!e && norgs == 0) e = OS_ERR_FORBIDDEN;
    if (!e) e = st_levels(x->c, x->a, &levels, &nlevels);
    if (!e) validate_order(x, in, levels, nlevels, fe);
    if (!e && fe_any(fe)) e = OS_ERR_INVALID;
    if (e) return store_tx_end(x->c, e);
    if (in->idempotency_key) {
        const char *seen_hash;
        int64_t seen_order;
        e = st_idem_get(x->c, x->a, x->actor_id, in->idempotency_key, &seen_hash, &seen_order);
        if (e == OS_OK) {
            if (strcmp(seen_hash, in->request_hash)) e = OS_ERR_CONFLICT;
            else {
                out->order_id = seen_order;
                out->replayed = true;
                e = st_order_license(x->c, x->a, seen_order, &out->license_number);
            }
            return store_tx_end(x->c, e == OS_OK ? OS_OK : e);
        }
        if (e != OS_ERR_NOT_FOUND) return store_tx_end(x->c, e);
        e = OS_OK;
    }
    agreement_rec g = {0};
    int64_t partner_org = orgs[0].id;
    const char *partner_name = orgs[0].name;
    bool new_agreement = !in->license_number;
    if (new_agreement) {
        e = create_agreement(x, in, partner_org, &g);
    } else {
        e = st_agreement_by_license(x->c, x->a, in->license_number, &g);
        bool is_partner = false, is_customer = false;
        if (!e) e = st_lsc_relation_of(x->c, g.id, x->actor_id, x->actor_email, &is_partner, &is_customer);
        if (!e && !is_partner) e = OS_ERR_NOT_FOUND;
        /* Credit the re-order to the placing organization when the user belongs to it. */
        for (int i = 0; !e && i < norgs; i++)
            if (orgs[i].id == g.partner_org_id) {
                partner_org = orgs[i].id;
                partner_name = orgs[i].name;
                break;
            }
    }
    const char *lang = e ? "en" : invitation_language(in->language, new_agreement ? in->customer_country : g.customer_country);
    int64_t order_id = 0;
    if (!e) e = st_order_create(x->c, g.id, partner_org, x->actor_id, g.customer_email, in->po_reference, lang, x->now,
                                &order_id);
    for (int i = 0; !e && i < in->nlines; i++) {
        int64_t lid = 0;
        level_id(levels, nlevels, in->lines[i].level, &lid);
        e = st_order_line_add(x->c, order_id, lid, in->lines[i].quantity);
        if (!e) e = st_pool_add(x->c, g.id, lid, in->lines[i].quantity);
    }
    /* A reorder adds seats to an existing agreement's pools: its overview changes. */
    if (!e && !new_agreement) e = st_agreement_data_changed(x->c, g.id);
    if (!e && new_agreement) e = queue_invitation(x, &g, partner_name, lang);
    /* The person who placed the order may manage its subscriptions from the start. */
    if (!e && new_agreement) e = partner_grant_on_order(x, g.id, partner_org);
    if (!e && in->idempotency_key) e = st_idem_put(x->c, x->actor_id, in->idempotency_key, in->request_hash, order_id, x->now);
    if (!e) e = audit(x, new_agreement ? "order.placed" : "order.reorder", "order", audit_id(x, order_id), g.id,
                      json_pairs(x->a, "license_number", g.license_number, "po_reference", in->po_reference, NULL));
    e = store_tx_end(x->c, e);
    if (e) return e;
    outbox_wake(x->app->mail);
    out->order_id = order_id;
    out->license_number = g.license_number;
    return OS_OK;
}

/* ---- reading ---- */

os_err licensing_license(op_ctx *x, const char *license_number, license_detail *out) {
    *out = (license_detail){0};
    os_err e = st_agreement_by_license(x->c, x->a, license_number, &out->g);
    if (e) return e;
    bool is_customer;
    if ((e = st_lsc_relation_of(x->c, out->g.id, x->actor_id, x->actor_email, &out->is_partner, &is_customer)))
        return e;
    if (!out->is_partner && !is_customer) return OS_ERR_NOT_FOUND;
    if ((e = st_pools(x->c, x->a, out->g.id, &out->pools, &out->npools))) return e;
    if ((e = st_orders(x->c, x->a, out->g.id, LIST_MAX, &out->orders, &out->norders))) return e;
    if ((e = st_order_lines(x->c, x->a, out->g.id, &out->lines, &out->nlines))) return e;
    if ((e = st_agreement_contacts(x->c, x->a, out->g.id, &out->contacts, &out->ncontacts))) return e;
    user_rec me;
    /* No such person (a system actor): English. A store error is an error, not English. */
    e = st_user_by_id(x->c, x->a, x->actor_id, &me);
    if (e && e != OS_ERR_NOT_FOUND) return e;
    out->language = e ? "en" : me.language;
    /* Both relations are entitled to the number: the placing partner and the customer. */
    out->authorization_number = authno_display(x, out->g.auth_sealed);
    return OS_OK;
}

os_err licensing_relationships(op_ctx *x, agreement_summary_rec **rows, int *n) {
    return st_lsc_relationships(x->c, x->a, x->actor_id, x->actor_email, LIST_MAX, rows, n);
}

os_err licensing_portal_agreements(op_ctx *x, agreement_summary_rec **rows, int *n) {
    /* Through a token named to one agreement, that one only: the picker lists where the
     * request may act. */
    return st_portal_agreements(x->c, x->a, x->actor_id, x->token_id ? x->token_agreement_id : 0, LIST_MAX, x->now,
                                rows, n);
}

os_err licensing_levels(op_ctx *x, level_rec **rows, int *n) { return st_levels(x->c, x->a, rows, n); }

os_err licensing_handoff_url(op_ctx *x, const char *license_number, const char **url) {
    agreement_rec g;
    os_err e = st_agreement_by_license(x->c, x->a, license_number, &g);
    if (e) return e;
    bool is_partner, is_customer;
    if ((e = st_lsc_relation_of(x->c, g.id, x->actor_id, x->actor_email, &is_partner, &is_customer))) return e;
    if (!is_partner) return OS_ERR_NOT_FOUND;
    const char *token = handoff_issue(x->a, x->app->keys.handoff, g.license_number, x->actor_email, x->now);
    *url = arena_printf(x->a, "%s/handoff?token=%s", x->app->base_url, token);
    return audit(x, "handoff.issued", "agreement", g.license_number, g.id, NULL);
}

/* ---- F2 ---- */

os_err licensing_on_signin(op_ctx *x, int64_t user_id, const char *email) {
    os_err e = store_tx_begin(x->c);
    if (e) return e;
    const char **licenses;
    int n;
    e = st_admin_claim_customer(x->c, x->a, user_id, email, x->now, &licenses, &n);
    for (int i = 0; !e && i < n; i++) {
        agreement_rec g;
        e = st_agreement_by_license(x->c, x->a, licenses[i], &g);
        if (!e) e = audit(x, "admin.super_admin_granted", "user", audit_id(x, user_id), g.id,
                          json_pairs(x->a, "reason", "customer e-mail on the order", "email", email, NULL));
        if (!e) e = admins_emit_added(x, g.id, user_id);
    }
    return store_tx_end(x->c, e);
}

/* ---- operator tools ---- */

os_err licensing_partner_add(op_ctx *x, const char *org, const char *country, const char *email, bool admin) {
    os_err e = store_tx_begin(x->c);
    if (e) return e;
    int64_t org_id;
    bool created;
    e = st_org_ensure(x->c, "partner", org, country, x->now, &org_id, &created);
    if (!e && created) e = audit(x, "partner.created", "organization", audit_id(x, org_id), 0,
                                 json_pairs(x->a, "name", org, NULL));
    if (!e) e = st_partner_member_add(x->c, org_id, email, admin ? "admin" : "member", x->now);
    if (!e) e = audit(x, "partner.member_added", "organization", audit_id(x, org_id), 0,
                      json_pairs(x->a, "email", email, "role", admin ? "admin" : "member", NULL));
    return store_tx_end(x->c, e);
}

os_err licensing_program_set(op_ctx *x, const char *name, int64_t reassign_days) {
    os_err e = store_tx_begin(x->c);
    if (e) return e;
    e = st_program_set(x->c, name, reassign_days, x->now);
    if (!e) e = audit(x, "program.updated", "program", name, 0,
                      json_pairs(x->a, "reassign_days", arena_printf(x->a, "%lld", (long long)reassign_days), NULL));
    return store_tx_end(x->c, e);
}

static bool valid_date(const char *s) {
    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-') return false;
    struct tm tm = {0};
    const char *end = strptime(s, "%Y-%m-%d", &tm);
    if (!end || *end) return false;
    char back[11];
    strftime(back, sizeof back, "%Y-%m-%d", &tm);   /* rejects 2026-02-30 */
    tm.tm_isdst = 0;
    time_t t = timegm(&tm);
    text_day(t, back);
    return !strcmp(back, s);
}

/* "enterprise:10;professional:5" → lines; false (and a field error) when malformed. */
static bool parse_lines(op_ctx *x, const char *spec, const level_rec *levels, int nlevels, int64_t *qty,
                        field_errors *fe, const char *where) {
    memset(qty, 0, sizeof(int64_t) * (size_t)nlevels);
    char *copy = arena_strdup(x->a, spec ? spec : "");
    int count = 0;
    char *save = NULL;
    for (char *part = strtok_r(copy, ";", &save); part; part = strtok_r(NULL, ";", &save)) {
        char *colon = strchr(part, ':');
        if (!colon) { fe_add(fe, where, "invalid_value", "Write lines as level:quantity;level:quantity"); return false; }
        *colon = 0;
        const char *code = text_trim(x->a, part);
        char *end;
        long long q = strtoll(colon + 1, &end, 10);
        int li = -1;
        for (int i = 0; i < nlevels; i++)
            if (!strcmp(levels[i].code, code)) li = i;
        if (li < 0) { fe_add(fe, where, "invalid_value", arena_printf(x->a, "Unknown level \"%s\"", code)); return false; }
        if (*text_trim(x->a, end) || q < 1 || q > ORDER_MAX_QUANTITY) {
            fe_add(fe, where, "out_of_range", arena_printf(x->a, "Quantity for %s must be 1 to %d", code, ORDER_MAX_QUANTITY));
            return false;
        }
        qty[li] += q;
        count++;
    }
    if (!count) { fe_add(fe, where, "required", "At least one line is required"); return false; }
    return true;
}

os_err licensing_import(op_ctx *x, const import_row *rows, int n, field_errors *fe, int *imported) {
    *imported = 0;
    level_rec *levels;
    int nlevels;
    os_err e = st_levels(x->c, x->a, &levels, &nlevels);
    if (e) return e;
    int64_t *qty = arena_alloc(x->a, sizeof(int64_t) * (size_t)nlevels * (size_t)(n > 0 ? n : 1));
    const char **norm_auth = arena_alloc(x->a, sizeof(char *) * (size_t)(n > 0 ? n : 1));
    const char **emails = arena_alloc(x->a, sizeof(char *) * (size_t)(n > 0 ? n : 1));
    /* Pass 1: validate everything, so the report lists every bad row. */
    for (int i = 0; i < n; i++) {
        const import_row *r = &rows[i];
        int row = rows[i].row;
#define WHERE(col) arena_printf(x->a, "row %d, column %s", row, col)
        char lic[LICENSE_DIGITS + 1], auth[AUTHNO_CHARS + 1];
        if (!r->license_number || !license_number_normalize(r->license_number, lic))
            fe_add(fe, WHERE("license_number"), "invalid_value", "must be 8 digits");
        else {
            agreement_rec other;
            os_err le = st_agreement_by_license(x->c, x->a, lic, &other);
            if (le == OS_OK) fe_add(fe, WHERE("license_number"), "conflict", "this license already exists");
            else if (le != OS_ERR_NOT_FOUND) return le;
            for (int k = 0; k < i; k++)
                if (rows[k].license_number && !strcmp(text_trim(x->a, rows[k].license_number), lic))
                    fe_add(fe, WHERE("license_number"), "duplicate", arena_printf(x->a, "repeats row %d", rows[k].row));
        }
        if (!r->authorization_number || !authno_normalize(r->authorization_number, auth))
            fe_add(fe, WHERE("authorization_number"), "invalid_value",
                   "must be 14 characters from " AUTHNO_ALPHABET);
        else {
            norm_auth[i] = arena_strdup(x->a, auth);
            bool taken = false;
            if ((e = st_authno_taken(x->c, authno_hash(x, auth), &taken))) return e;
            if (taken) fe_add(fe, WHERE("authorization_number"), "conflict", "this authorization number already exists");
            for (int k = 0; k < i; k++)
                if (norm_auth[k] && !strcmp(norm_auth[k], auth))
                    fe_add(fe, WHERE("authorization_number"), "duplicate", arena_printf(x->a, "repeats row %d", rows[k].row));
        }
        if (!r->customer_name || !*text_trim(x->a, r->customer_name))
            fe_add(fe, WHERE("customer_name"), "required", "is required");
        if (!r->partner_name || !*text_trim(x->a, r->partner_name))
            fe_add(fe, WHERE("partner_name"), "required", "is required");
        emails[i] = email_normalize(x->a, r->customer_email);
        if (!emails[i]) fe_add(fe, WHERE("customer_email"), "invalid_email", "is not a valid e-mail address");
        const char *cc = r->customer_country ? text_trim(x->a, r->customer_country) : "";
        if (strlen(cc) != 2 || cc[0] < 'A' || cc[0] > 'Z' || cc[1] < 'A' || cc[1] > 'Z')
            fe_add(fe, WHERE("customer_country"), "invalid_value", "must be a two-letter country code (e.g. FR)");
        if (!valid_date(r->start_date)) fe_add(fe, WHERE("start_date"), "invalid_value", "must be a date YYYY-MM-DD");
        if (!valid_date(r->end_date)) fe_add(fe, WHERE("end_date"), "invalid_value", "must be a date YYYY-MM-DD");
        else if (valid_date(r->start_date) && strcmp(r->end_date, r->start_date) < 0)
            fe_add(fe, WHERE("end_date"), "invalid_value", "is before the start date");
        parse_lines(x, r->lines, levels, nlevels, qty + (size_t)i * (size_t)nlevels, fe, WHERE("lines"));
#undef WHERE
    }
    if (fe_any(fe)) return OS_ERR_INVALID;
    /* Pass 2: all rows in one transaction. */
    if ((e = store_tx_begin(x->c))) return e;
    for (int i = 0; !e && i < n; i++) {
        const import_row *r = &rows[i];
        int64_t cust, partner;
        e = st_org_ensure(x->c, "customer", text_trim(x->a, r->customer_name), text_trim(x->a, r->customer_country),
                          x->now, &cust, NULL);
        if (!e) e = st_org_ensure(x->c, "partner", text_trim(x->a, r->partner_name), "", x->now, &partner, NULL);
        agreement_rec g = {
            .license_number = text_trim(x->a, r->license_number),
            .auth_hash = authno_hash(x, norm_auth[i]),
            .auth_sealed = authno_seal(x, norm_auth[i]),
            .customer_org_id = cust,
            .customer_email = emails[i],
            .partner_org_id = partner,
            .program = "Open License",
            .start_date = r->start_date,
            .end_date = r->end_date,
        };
        if (!e) e = st_agreement_create(x->c, &g, x->now, &g.id);
        if (!e) e = st_lsc_relation_add(x->c, g.id, partner, x->now);
        for (int l = 0; !e && l < nlevels; l++)
            if (qty[(size_t)i * (size_t)nlevels + (size_t)l])
                e = st_pool_add(x->c, g.id, levels[l].id, qty[(size_t)i * (size_t)nlevels + (size_t)l]);
        if (!e) e = audit(x, "agreement.imported", "agreement", g.license_number, g.id, NULL);
    }
    e = store_tx_end(x->c, e);
    if (!e) *imported = n;
    return e;
}
