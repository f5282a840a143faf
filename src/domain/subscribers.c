/* subscribers.c — see subscribers.h. */
#include "subscribers.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "core/json_write.h"
#include "core/limits.h"
#include "core/secret.h"
#include "core/text.h"
#include "domain/audit.h"
#include "domain/events.h"
#include "domain/licensing.h"
#include "domain/prefs.h"
#include "mail/outbox.h"

const char *const subscriber_languages[] = {"en", "fr", "de", "es", "it", "nl", "pt", "ja", "zh", NULL};

static const char *level_name(const pool_rec *p, const char *lang) {
    return lang && !strcmp(lang, "fr") ? p->name_fr : p->name_en;
}

/* A random RFC 4122 version 4 UUID, arena-owned. */
static const char *new_uuid(arena *a) {
    unsigned char b[16];
    secret_random(b, sizeof b);
    b[6] = (unsigned char)((b[6] & 0x0F) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3F) | 0x80);
    /* Written out here rather than by printf, which was most of a bulk add's 100,000. */
    static const char hex[] = "0123456789abcdef";
    char *out = arena_alloc(a, 37), *p = out;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) *p++ = '-';
        *p++ = hex[b[i] >> 4];
        *p++ = hex[b[i] & 15];
    }
    return out;
}

void subscription_write(jw *w, const sub_rec *s) {
    char day[11];
    text_day(s->assigned_at, day);
    jw_obj(w);
    jw_kstr(w, "id", s->uuid);
    jw_kstr(w, "name", s->name);
    jw_kstr(w, "sign_in_email", s->sign_in_email);
    jw_kstr(w, "notification_email", s->notification_email);
    jw_kstr(w, "level", s->level_code);
    jw_kstr(w, "assigned", day);
    jw_kstr(w, "expires", s->expires_on);
    jw_kstr(w, "reference", s->reference);
    jw_kbool(w, "downloads", s->downloads != 0);
    jw_kstr(w, "country", s->country);
    jw_kstr(w, "language", s->language);
    jw_kint(w, "version", s->version);
    jw_obj_end(w);
}

/* subscription_write's object as text in a (NULL when it could not be written). */
static const char *subscription_text(arena *a, const sub_rec *s) {
    buf b;
    jw w;
    buf_init(&b, a, EVENT_DATA_MAX);
    jw_init(&w, &b);
    subscription_write(&w, s);
    return jw_ok(&w) && !b.overflow ? b.data : NULL;
}

/* subscription.added or subscription.removed: {agreement, subscription}. */
static os_err emit_subscription(op_ctx *x, const char *license, const char *type, const sub_rec *s) {
    const char *sub = subscription_text(x->a, s);
    if (!sub) return OS_ERR_INTERNAL;
    return event_emit(x, s->agreement_id, type, event_data(x->a, license, "subscription", sub, NULL));
}

os_err subscribers_emit(op_ctx *x, const char *license, const char *type, const sub_rec *s) {
    return emit_subscription(x, license, type, s);
}

const char *subscription_changes(arena *a, const sub_rec *before, const sub_rec *after) {
    /* The version moves with every write: bookkeeping, not a change of the subscription. */
    return event_changes(a, subscription_text(a, before), subscription_text(a, after), "version");
}

/* subscription.updated: {agreement, subscription (after), changes}; none when nothing changed. */
os_err subscribers_emit_updated(op_ctx *x, const char *license, const sub_rec *before, const sub_rec *after) {
    const char *changes = subscription_changes(x->a, before, after);
    if (!changes) return OS_OK;
    const char *sub = subscription_text(x->a, after);
    if (!sub) return OS_ERR_INTERNAL;
    return event_emit(x, after->agreement_id, "subscription.updated",
                      event_data(x->a, license, "subscription", sub, "changes", changes, NULL));
}

static const pool_rec *find_pool(const pool_rec *pools, int n, const char *code) {
    for (int i = 0; code && i < n; i++)
        if (!strcmp(pools[i].level_code, code)) return &pools[i];
    return NULL;
}

/* The assignment e-mail telling s's subscriber (recipient, template, language, data). Its
 * text says to ask the administrator, so replies go to the agreement's contact address
 * (reply_to, the preferences' contact_email) when there is one, not to the no-reply sender. */
static outbox_rec assignment_mail(op_ctx *x, const agreement_rec *g, const sub_rec *s, const pool_rec *p,
                                  const char *reply_to) {
    const char *data = json_pairs(x->a, "name", s->name, "level_name", level_name(p, s->language), "customer_name",
                                  g->customer_name, "sign_in_email", s->sign_in_email, "expires_on", s->expires_on,
                                  "signin_link", arena_printf(x->a, "%s/signin", x->app->base_url), NULL);
    return (outbox_rec){.recipient = s->notification_email ? s->notification_email : s->sign_in_email,
                        .template_name = "subscription_assigned", .language = s->language, .data = data,
                        .reply_to = reply_to};
}

static os_err queue_assignment(op_ctx *x, const agreement_rec *g, const sub_rec *s, const pool_rec *p,
                               const char *reply_to) {
    outbox_rec m = assignment_mail(x, g, s, p, reply_to);
    return outbox_enqueue_reply(x->app, x->c, x->a, m.recipient, m.reply_to, m.template_name, m.language, m.data,
                                x->now);
}

/* When the seats taken bring the pool from `before` to `after` assigned across the alert
 * threshold (below it before, at or above it after), tell the super admins: over-allocation
 * is refused, so they hear before they run out. One alert per crossing, however many seats. */
static os_err pool_alert(op_ctx *x, const agreement_rec *g, const pool_rec *p, int64_t before, int64_t after,
                         int64_t threshold) {
    if (p->purchased <= 0 || after * 100 < threshold * p->purchased || before * 100 >= threshold * p->purchased)
        return OS_OK;
    recipient_rec *to;
    int n;
    os_err e = st_customer_recipients(x->c, x->a, g->id, &to, &n);
    char used[24], total[24], pct[8];
    snprintf(used, sizeof used, "%lld", (long long)after);
    snprintf(total, sizeof total, "%lld", (long long)p->purchased);
    snprintf(pct, sizeof pct, "%lld", (long long)threshold);
    for (int i = 0; !e && i < n; i++)
        e = outbox_enqueue(x->app, x->c, x->a, to[i].email, "pool_alert", to[i].language ? to[i].language : "en",
                           json_pairs(x->a, "license_number", g->license_number, "customer_name", g->customer_name,
                                      "level_name", level_name(p, to[i].language), "assigned", used, "purchased",
                                      total, "threshold", pct, "link",
                                      arena_printf(x->a, "%s/agreements/%s", x->app->base_url, g->license_number),
                                      NULL),
                           x->now);
    return e;
}

const char *subscriber_choice_params(arena *a, const char *field, const char *allowed) {
    jw_params p;
    jw *w = jw_params_begin(&p, a);
    jw_kstr(w, "field", field);
    if (allowed) jw_kstr(w, "allowed", allowed);
    return jw_params_end(&p);
}

const char *subscriber_level_list(arena *a, const pool_rec *pools, int n) {
    buf list;
    buf_init(&list, a, LIMIT_PARAMS_BYTES);
    for (int k = 0; k < n; k++) buf_printf(&list, "%s%s", k ? ", " : "", pools[k].level_code);
    return list.data && !list.overflow ? list.data : "";
}

const char *subscriber_language_list(arena *a) {
    buf list;
    buf_init(&list, a, 256);
    for (int j = 0; subscriber_languages[j]; j++) buf_printf(&list, "%s%s", j ? ", " : "", subscriber_languages[j]);
    return list.data ? list.data : "";
}

/* Takes a seat for `email`, or explains why not (in fe, on field "level"). *assigned is the
 * pool's count of assigned seats right after this one was taken, as the update left it: what
 * the alert decides with, whatever another writer did before this transaction. */
static os_err take_seat(op_ctx *x, int64_t agreement_id, const pool_rec *p, const char *email, field_errors *fe,
                        int64_t *assigned) {
    bool taken;
    int64_t left;
    jw_params pp;
    os_err e = st_pool_take(x->c, agreement_id, p->level_id, &taken, &left);
    if (e) return e;
    *assigned = p->purchased - left;
    if (!taken) {
        jw *w = jw_params_begin(&pp, x->a);
        jw_kint(w, "purchased", p->purchased);
        jw_kint(w, "left", 0);
        fe_add_params(fe, "level", "no_seats_left",
                      arena_printf(x->a, "No %s seats left: all %lld are assigned", p->name_en,
                                   (long long)p->purchased),
                      jw_params_end(&pp));
        return OS_ERR_INVALID;
    }
    int64_t earliest = 0;
    /* The person's own freed seat comes back to them, whatever its age. */
    e = st_seat_release_reuse(x->c, agreement_id, p->level_id, email, -1, x->now, &earliest);
    if (e != OS_ERR_NOT_FOUND) return e;
    int64_t released;
    if ((e = st_seat_releases_free(x->c, agreement_id, p->level_id, &released))) return e;
    /* Free seats before this one were left + 1; released ones among them keep their history. */
    if (left + 1 > released) return OS_OK;   /* a never-assigned seat was free */
    /* Read here, in the caller's transaction, so the rule applied is the one in force when
     * the seat is taken. With 0 days every freed seat is past the cutoff (now). */
    int64_t days;
    if ((e = st_agreement_reassign_days(x->c, agreement_id, &days))) return e;
    e = st_seat_release_reuse(x->c, agreement_id, p->level_id, email, x->now - days * 86400, x->now, &earliest);
    if (e == OS_ERR_NOT_FOUND) {
        char day[11];
        text_day(earliest + days * 86400, day);
        jw *w = jw_params_begin(&pp, x->a);
        jw_kstr(w, "available_from", day);
        jw_kint(w, "days", days);
        fe_add_params(fe, "level", "reassignment_too_soon",
                      arena_printf(x->a, "The free %s seats were assigned less than %lld day%s ago; a different "
                                         "person can have one from %s", p->name_en, (long long)days,
                                   days == 1 ? "" : "s", day),
                      jw_params_end(&pp));
        return OS_ERR_INVALID;
    }
    return e;
}

os_err subscribers_target(op_ctx *x, int64_t agreement_id, sub_target *t) {
    os_err e = st_agreement_by_id(x->c, x->a, agreement_id, &t->g);
    if (!e) e = st_pools(x->c, x->a, agreement_id, &t->pools, &t->npools);
    if (!e) e = st_prefs_get(x->c, x->a, agreement_id, &t->pr);
    return e;
}

#define OUTSIDE_DOMAIN_MESSAGE "This agreement only accepts addresses of the customer's own e-mail domains"

/* subscribers_add_in_tx's checks, which read nothing: `own` says whether the address's domain
 * is the customer's. Problems go to fe (false); else *out is the subscription to write (its
 * uuid not chosen yet) and *pool its level's pool. */
static bool check_new(const sub_target *t, const sub_input *in, bool own, field_errors *fe, sub_rec *out,
                      pool_rec **pool) {
    arena *a = fe->a;
    /* Preferences fill what the admin left out, and decide about outside addresses. */
    sub_input d = *in;
    if (!d.level && !fe_has(fe, "level")) d.level = t->pr.default_level;
    if (!d.country && !fe_has(fe, "country")) d.country = t->pr.default_country;
    if (!d.language && !fe_has(fe, "language")) d.language = t->pr.default_language;
    if (d.downloads < 0) d.downloads = t->pr.default_downloads;
    in = &d;
    static const char *const needed[] = {"level", "country", "language"};
    const char *have[] = {in->level, in->country, in->language};
    for (int i = 0; i < 3; i++)
        if (!have[i] && !fe_has(fe, needed[i])) fe_add(fe, needed[i], "required", "This field is required");
    const pool_rec *found = find_pool(t->pools, t->npools, in->level);
    pool_rec *p = found ? &t->pools[found - t->pools] : NULL;
    if (in->level && !p && !fe_has(fe, "level")) {
        const char *allowed = subscriber_level_list(a, t->pools, t->npools);
        fe_add_params(fe, "level", "invalid_value", arena_printf(a, "Choose one of the agreement's levels: %s", allowed),
                      subscriber_choice_params(a, "level", allowed));
    }
    /* Refused when the preference forbids it; when allowed, the UI asks the admin to confirm
     * before sending (it knows the domains from the preferences). */
    if (in->sign_in_email && !own && !t->pr.allow_outside_domains)
        fe_add(fe, "sign_in_email", "outside_domain", OUTSIDE_DOMAIN_MESSAGE);
    if (fe_any(fe)) return false;
    *out = (sub_rec){
        .agreement_id = t->g.id, .level_id = p->level_id, .level_code = p->level_code, .name = in->name,
        .sign_in_email = in->sign_in_email, .notification_email = in->notification_email, .country = in->country,
        .language = in->language, .reference = in->reference ? in->reference : "",
        .downloads = in->downloads < 0 ? 1 : in->downloads, .expires_on = t->g.end_date, .version = 1,
    };
    *pool = p;
    return true;
}

os_err subscribers_add_in_tx(op_ctx *x, sub_target *t, const sub_input *in, field_errors *fe, sub_rec *out) {
    int64_t agreement_id = t->g.id;
    bool own = false;
    os_err e;
    if (in->sign_in_email && (e = prefs_domain_is_customers(x, agreement_id, in->sign_in_email, &own))) return e;
    sub_rec s;
    pool_rec *p;
    if (!check_new(t, in, own, fe, &s, &p)) return OS_ERR_INVALID;
    s.uuid = new_uuid(x->a);
    s.assigned_at = x->now;
    /* Insert first: a duplicate is reported as such even when the pool is full; a missing
     * seat then rolls the insert back with the rest of the transaction. */
    e = st_sub_insert(x->c, &s, x->now, &s.id);
    if (e == OS_ERR_CONFLICT) {
        fe_add(fe, "sign_in_email", "duplicate",
               arena_printf(x->a, "This address already holds a %s subscription on this agreement", p->name_en));
        e = OS_ERR_INVALID;
    }
    int64_t assigned = 0;
    if (!e) e = take_seat(x, agreement_id, p, s.sign_in_email, fe, &assigned);
    if (!e) e = st_usage_record(x->c, agreement_id, p->level_id, x->now);
    if (!e) e = pool_alert(x, &t->g, p, assigned - 1, assigned, t->pr.alert_threshold);
    if (!e) p->assigned = assigned;   /* the next row of a bulk add sees this seat taken */
    if (!e) e = audit(x, "subscription.added", "subscription", s.uuid, agreement_id,
                      json_pairs(x->a, "email", s.sign_in_email, "level", s.level_code, "name", s.name, NULL));
    if (!e && in->notify) e = queue_assignment(x, &t->g, &s, p, t->pr.contact_email);
    if (!e) *out = s;
    return e;
}

/* ---- adding many at once ---- */

os_err subscribers_target_refresh(op_ctx *x, sub_target *t) {
    t->freed = arena_alloc(x->a, sizeof *t->freed * (size_t)(t->npools ? t->npools : 1));
    os_err e = OS_OK;
    for (int k = 0; !e && k < t->npools; k++)
        e = st_pool_seats(x->c, t->g.id, t->pools[k].level_id, &t->pools[k].purchased, &t->pools[k].assigned,
                          &t->freed[k]);
    return e ? e : st_customer_domains(x->c, x->a, t->g.id, &t->domains, &t->ndomains);
}

int64_t subscribers_unassigned(const sub_target *t, int k) {
    return t->pools[k].purchased - t->pools[k].assigned - t->freed[k];
}

/* check_new for row `in`, its domain looked up in t's. */
static bool check_one_of_many(const sub_target *t, const sub_input *in, field_errors *fe, sub_rec *out,
                              pool_rec **pool) {
    bool own = in->sign_in_email && prefs_domain_in(t->domains, t->ndomains, in->sign_in_email);
    return check_new(t, in, own, fe, out, pool);
}

os_err subscribers_check_many(op_ctx *x, const sub_target *t, const sub_input *in, int n, field_errors *fe) {
    sub_rec s;
    pool_rec **pools = arena_alloc(x->a, sizeof *pools * (size_t)(n ? n : 1));
    const char **emails = arena_alloc(x->a, sizeof *emails * (size_t)(n ? n : 1));
    int m = 0;
    for (int i = 0; i < n; i++) {
        fe_init(&fe[i], x->a);
        if (check_one_of_many(t, &in[i], &fe[i], &s, &pools[i])) emails[m++] = in[i].sign_in_email;
        else pools[i] = NULL;
    }
    /* The addresses that already hold a level here: few, usually none. An address on two
     * rows (two levels) can come back from two of the queries. */
    sub_held_rec *held;
    int nheld;
    os_err e = st_sub_held(x->c, x->a, t->g.id, emails, m, &held, &nheld);
    for (int h = 0; !e && h < nheld; h++)
        for (int i = 0; i < n; i++)
            if (pools[i] && pools[i]->level_id == held[h].level_id && !fe_any(&fe[i]) &&
                !strcmp(in[i].sign_in_email, held[h].sign_in_email))
                fe_add(&fe[i], "sign_in_email", "duplicate",
                       arena_printf(x->a, "This address already holds a %s subscription on this agreement",
                                    pools[i]->name_en));
    return e;
}

os_err subscribers_take_seats(op_ctx *x, sub_target *t, const int64_t *need, bool *taken) {
    *taken = true;
    int k = 0;
    os_err e = OS_OK;
    for (; !e && k < t->npools; k++)
        if (need[k] && !(e = st_pool_take_many(x->c, t->g.id, t->pools[k].level_id, need[k], taken)) && !*taken) break;
    if (e) return e;
    if (!*taken) {
        /* Another writer took seats since t was read: the pools taken from get theirs back. */
        for (int j = 0; !e && j < k; j++)
            if (need[j]) e = st_pool_give_back_many(x->c, t->g.id, t->pools[j].level_id, need[j]);
        return e;
    }
    for (k = 0; !e && k < t->npools; k++) {
        pool_rec *p = &t->pools[k];
        if (!need[k]) continue;
        e = st_usage_record(x->c, t->g.id, p->level_id, x->now);
        if (!e) e = pool_alert(x, &t->g, p, p->assigned, p->assigned + need[k], t->pr.alert_threshold);
        if (!e) p->assigned += need[k];
    }
    return e;
}

/* A row whose address has a freed seat of its level takes that seat back, as take_seat does
 * for one add: the freed seat is marked reused. Only pools with freed seats are looked at. */
static os_err reuse_own_seats(op_ctx *x, sub_target *t, const sub_rec *rows, int n) {
    const char **emails = arena_alloc(x->a, sizeof *emails * (size_t)(n ? n : 1));
    os_err e = OS_OK;
    for (int k = 0; !e && k < t->npools; k++) {
        int64_t level_id = t->pools[k].level_id;
        int m = 0, nfound;
        if (!t->freed[k]) continue;
        for (int i = 0; i < n; i++)
            if (rows[i].level_id == level_id) emails[m++] = rows[i].sign_in_email;
        const char **found;
        e = st_seat_releases_of(x->c, x->a, t->g.id, level_id, emails, m, &found, &nfound);
        for (int j = 0; !e && j < nfound; j++) {
            int64_t earliest;
            e = st_seat_release_reuse(x->c, t->g.id, level_id, found[j], -1, x->now, &earliest);
            if (!e) t->freed[k]--;
        }
    }
    return e;
}

os_err subscribers_add_many_in_tx(op_ctx *x, sub_target *t, const sub_input *in, int n, const char ***uuids) {
    sub_rec *rows = arena_alloc(x->a, sizeof *rows * (size_t)(n ? n : 1));
    pool_rec **pools = arena_alloc(x->a, sizeof *pools * (size_t)(n ? n : 1));
    const char **ids = arena_alloc(x->a, sizeof *ids * (size_t)(n ? n : 1));
    const char **details = arena_alloc(x->a, sizeof *details * (size_t)(n ? n : 1));
    outbox_rec *mails = arena_alloc(x->a, sizeof *mails * (size_t)(n ? n : 1));
    int nmails = 0;
    for (int i = 0; i < n; i++) {
        field_errors fe;
        fe_init(&fe, x->a);
        if (!check_one_of_many(t, &in[i], &fe, &rows[i], &pools[i])) return OS_ERR_INTERNAL;   /* checked before */
        rows[i].uuid = ids[i] = new_uuid(x->a);
        rows[i].assigned_at = x->now;
        details[i] = json_pairs(x->a, "email", rows[i].sign_in_email, "level", rows[i].level_code, "name",
                                rows[i].name, NULL);
        if (in[i].notify) mails[nmails++] = assignment_mail(x, &t->g, &rows[i], pools[i], t->pr.contact_email);
    }
    os_err e = st_sub_insert_many(x->c, x->a, rows, n, x->now);
    if (!e) e = reuse_own_seats(x, t, rows, n);
    if (!e) e = audit_many(x, "subscription.added", "subscription", ids, t->g.id, details, n);
    if (!e) e = outbox_enqueue_many(x->app, x->c, x->a, mails, nmails, x->now);
    *uuids = ids;
    return e;
}

os_err subscribers_add(op_ctx *x, int64_t agreement_id, const sub_input *in, field_errors *fe, sub_rec *out) {
    sub_target t;
    /* The pools, preferences and agreement decide the add: read in its transaction. */
    os_err e = store_tx_begin_agreement(x->c, agreement_id);
    if (e) return e;
    e = subscribers_target(x, agreement_id, &t);
    if (!e) e = subscribers_add_in_tx(x, &t, in, fe, out);
    if (!e) e = emit_subscription(x, t.g.license_number, "subscription.added", out);
    e = store_tx_end(x->c, e);
    if (e) return e;
    outbox_wake(x->app->mail);
    return OS_OK;
}

os_err subscribers_update_in_tx(op_ctx *x, const agreement_rec *g, const prefs_rec *pr, const sub_rec *cur,
                                const sub_rec *next, int64_t expected_version, field_errors *fe) {
    bool email_changed = strcmp(next->sign_in_email, cur->sign_in_email) != 0;
    os_err e;
    prefs_rec stored;
    if (email_changed && !pr) {
        if ((e = st_prefs_get(x->c, x->a, cur->agreement_id, &stored))) return e;
        pr = &stored;
    }
    /* A new address meets the rule a new subscription's does. */
    if (email_changed && !pr->allow_outside_domains) {
        bool own = false;
        if ((e = prefs_domain_is_customers(x, cur->agreement_id, next->sign_in_email, &own))) return e;
        if (!own) {
            fe_add(fe, "sign_in_email", "outside_domain", OUTSIDE_DOMAIN_MESSAGE);
            return OS_ERR_INVALID;
        }
    }
    e = st_sub_update(x->c, next, expected_version, x->now);
    if (e == OS_ERR_CONFLICT) {
        fe_add(fe, "sign_in_email", "duplicate", "This address already holds this level on this agreement");
        e = OS_ERR_INVALID;
    }
    if (!e) e = audit(x, "subscription.updated", "subscription", cur->uuid, cur->agreement_id,
                      email_changed ? json_pairs(x->a, "old_email", cur->sign_in_email, "new_email",
                                                 next->sign_in_email, NULL)
                                    : NULL);
    if (!e && email_changed) {
        agreement_rec own;
        if (!g && !(e = st_agreement_by_id(x->c, x->a, cur->agreement_id, &own))) g = &own;
        const char *data = e ? NULL : json_pairs(x->a, "name", next->name, "old_email", cur->sign_in_email,
                                                 "new_email", next->sign_in_email, "customer_name", g->customer_name,
                                                 NULL);
        /* Both addresses hear of it: the old one in case the change was not wanted. */
        if (!e) e = outbox_enqueue(x->app, x->c, x->a, next->sign_in_email, "sign_in_changed", next->language, data, x->now);
        if (!e) e = outbox_enqueue(x->app, x->c, x->a, cur->sign_in_email, "sign_in_changed", next->language, data, x->now);
    }
    return e;
}

os_err subscribers_update(op_ctx *x, int64_t agreement_id, const char *uuid, int64_t expected_version,
                          const sub_input *in, field_errors *fe, sub_rec *out) {
    /* The stored subscription decides the edit (its level, its version, the addresses told):
     * read in the edit's transaction. */
    sub_rec cur;
    os_err e = store_tx_begin_agreement(x->c, agreement_id);
    if (e) return e;
    e = st_sub_get(x->c, x->a, agreement_id, uuid, &cur);
    if (!e && in->level && strcmp(in->level, cur.level_code))
        fe_add(fe, "level", "invalid_value", "The level of a subscription cannot change; remove it and add another");
    if (!e && fe_any(fe)) e = OS_ERR_INVALID;
    if (!e) {
        sub_rec next = cur;
        if (in->name) next.name = in->name;
        if (in->sign_in_email) next.sign_in_email = in->sign_in_email;
        if (in->notification_email) next.notification_email = *in->notification_email ? in->notification_email : NULL;
        if (in->country) next.country = in->country;
        if (in->language) next.language = in->language;
        if (in->reference) next.reference = in->reference;
        if (in->downloads >= 0) next.downloads = in->downloads;
        e = subscribers_update_in_tx(x, NULL, NULL, &cur, &next, expected_version, fe);
    }
    /* The event carries the subscription as stored now, read in the edit's transaction. */
    sub_rec after;
    agreement_rec g;
    if (!e) e = st_sub_get(x->c, x->a, agreement_id, uuid, &after);
    if (!e) e = st_agreement_by_id(x->c, x->a, agreement_id, &g);
    if (!e) e = subscribers_emit_updated(x, g.license_number, &cur, &after);
    e = store_tx_end(x->c, e);
    /* A 412 carries the subscription as it is now; removed meanwhile, it goes without. */
    if (e == OS_ERR_PRECONDITION && st_sub_get(x->c, x->a, agreement_id, uuid, out)) memset(out, 0, sizeof *out);
    if (e) return e;
    outbox_wake(x->app->mail);
    return st_sub_get(x->c, x->a, agreement_id, uuid, out);
}

os_err subscribers_remove_in_tx(op_ctx *x, const sub_rec *s) {
    os_err e = st_sub_delete(x->c, s->id);
    if (!e) e = st_pool_give_back(x->c, s->agreement_id, s->level_id);
    /* The freed seat keeps its last assignment date for the reassignment rule. */
    if (!e) e = st_seat_release_add(x->c, s->agreement_id, s->level_id, s->sign_in_email, s->assigned_at, x->now);
    if (!e) e = st_usage_record(x->c, s->agreement_id, s->level_id, x->now);
    if (!e) e = audit(x, "subscription.removed", "subscription", s->uuid, s->agreement_id,
                      json_pairs(x->a, "email", s->sign_in_email, "level", s->level_code, "name", s->name, NULL));
    return e;
}

os_err subscribers_remove(op_ctx *x, int64_t agreement_id, const char *const *uuids, int n, const char **missing) {
    os_err e = store_tx_begin_agreement(x->c, agreement_id);
    if (e) return e;
    agreement_rec g;
    e = st_agreement_by_id(x->c, x->a, agreement_id, &g);
    for (int i = 0; !e && i < n; i++) {
        sub_rec s;
        e = st_sub_get(x->c, x->a, agreement_id, uuids[i], &s);
        if (e == OS_ERR_NOT_FOUND) *missing = uuids[i];
        if (!e) e = subscribers_remove_in_tx(x, &s);
        /* One event per subscription removed, each as it was. */
        if (!e) e = emit_subscription(x, g.license_number, "subscription.removed", &s);
    }
    return store_tx_end(x->c, e);
}

os_err subscribers_resend(op_ctx *x, int64_t agreement_id, const char *const *uuids, int n, const char **missing) {
    agreement_rec g;
    pool_rec *pools;
    int npools;
    os_err e = store_tx_begin_agreement(x->c, agreement_id);
    if (e) return e;
    e = st_agreement_by_id(x->c, x->a, agreement_id, &g);
    if (!e) e = st_pools(x->c, x->a, agreement_id, &pools, &npools);
    prefs_rec pr;
    if (!e) e = st_prefs_get(x->c, x->a, agreement_id, &pr);
    for (int i = 0; !e && i < n; i++) {
        sub_rec s;
        e = st_sub_get(x->c, x->a, agreement_id, uuids[i], &s);
        if (e == OS_ERR_NOT_FOUND) *missing = uuids[i];
        if (!e) e = queue_assignment(x, &g, &s, find_pool(pools, npools, s.level_code), pr.contact_email);
        if (!e) e = audit(x, "subscription.resent", "subscription", s.uuid, agreement_id, NULL);
    }
    e = store_tx_end(x->c, e);
    if (!e) outbox_wake(x->app->mail);
    return e;
}

os_err subscribers_mine(op_ctx *x, my_sub_rec **rows, int *n) {
    return st_my_subscriptions(x->c, x->a, x->actor_email, rows, n);
}

/* Who hears the question (the preferences' contact, else the customer's admins) and whether
 * the asker holds a subscription there, read in the transaction that queues the mail. */
static os_err ask_in_tx(op_ctx *x, const char *license_number, const char *subject, const char *message, bool copy) {
    my_sub_rec *mine;
    int n;
    os_err e = st_my_subscriptions(x->c, x->a, x->actor_email, &mine, &n);
    if (e) return e;
    const my_sub_rec *s = NULL;
    for (int i = 0; i < n; i++)
        if (!strcmp(mine[i].license_number, license_number)) s = &mine[i];
    if (!s) return OS_ERR_NOT_FOUND;
    prefs_rec pr;
    recipient_rec *to = NULL;
    int nto = 0;
    if ((e = st_prefs_get(x->c, x->a, s->agreement_id, &pr))) return e;
    if (pr.contact_email) {
        to = arena_alloc(x->a, sizeof *to);
        to[0] = (recipient_rec){pr.contact_email, NULL, "en"};
        nto = 1;
    } else if ((e = st_customer_recipients(x->c, x->a, s->agreement_id, &to, &nto))) {
        return e;
    }
    const char *data = json_pairs(x->a, "asker_name", x->actor_name ? x->actor_name : "", "asker_email",
                                  x->actor_email, "license_number", s->license_number, "customer_name",
                                  s->customer_name, "subject", subject, "message", message, NULL);
    /* The mail tells its reader to reply to answer: the reply goes to the asker. Their own
     * copy, below, has no Reply-To. */
    for (int i = 0; !e && i < nto; i++)
        e = outbox_enqueue_reply(x->app, x->c, x->a, to[i].email, x->actor_email, "subscriber_question",
                                 to[i].language ? to[i].language : "en", data, x->now);
    if (!e && copy) {
        user_rec me;
        e = st_user_by_id(x->c, x->a, x->actor_id, &me);
        if (!e) e = outbox_enqueue(x->app, x->c, x->a, x->actor_email, "subscriber_question", me.language, data, x->now);
    }
    if (!e) e = audit(x, "subscriber.question", "user", x->actor_email, s->agreement_id, NULL);
    return e;
}

os_err subscribers_ask(op_ctx *x, const char *license_number, const char *subject, const char *message, bool copy) {
    os_err e = store_tx_begin(x->c);
    if (e) return e;
    e = store_tx_end(x->c, ask_in_tx(x, license_number, subject, message, copy));
    if (!e) outbox_wake(x->app->mail);
    return e;
}

/* Cursor: base64url("<sort key>\x1f<id>"); opaque to clients. */
static const char *encode_cursor(arena *a, const char *key, int64_t id) {
    const char *raw = arena_printf(a, "%s\x1f%lld", key ? key : "", (long long)id);
    size_t n = secret_b64_len(strlen(raw));
    char *out = arena_alloc(a, n);
    secret_b64(raw, strlen(raw), out, n);
    return out;
}

static bool decode_cursor(arena *a, const char *cursor, const char **key, int64_t *id) {
    size_t n = strlen(cursor);
    if (n == 0 || n > 2048) return false;
    char *raw = arena_alloc(a, n + 1);
    long len = secret_unb64(cursor, raw, n);
    if (len <= 0) return false;
    raw[len] = 0;
    char *sep = strrchr(raw, '\x1f');
    if (!sep) return false;
    *sep = 0;
    char *end;
    long long v = strtoll(sep + 1, &end, 10);
    if (*end || v <= 0) return false;
    *key = raw;
    *id = v;
    return true;
}

os_err subscribers_page(op_ctx *x, sub_query *q, const char *cursor, sub_page *out, field_errors *fe) {
    *out = (sub_page){0};
    if (cursor && (!decode_cursor(x->a, cursor, &q->after_key, &q->after_id) ||
                   !st_sub_sort_key_valid(q->sort, q->after_key))) {
        fe_add(fe, "cursor", "invalid_value", "This cursor is not one the server gave");
        return OS_ERR_INVALID;
    }
    out->total_exact = true;
    int want = q->limit;
    q->limit = want + 1;   /* one more tells whether a next page exists */
    os_err e = st_sub_page(x->c, x->a, q, &out->rows, &out->n, &out->total, &out->total_exact);
    if (e == OS_ERR_INVALID)
        fe_add(fe, "q", "too_long", arena_printf(x->a, "At most %d words", SUB_QUERY_WORDS));
    if (e) return e;
    if (out->n > want) {
        out->n = want;
        out->next_cursor = encode_cursor(x->a, st_sub_sort_key(x->a, &out->rows[want - 1], q->sort),
                                         out->rows[want - 1].id);
    }
    return OS_OK;
}

os_err subscribers_each(op_ctx *x, sub_query *q, int64_t max, sub_row_fn fn, void *ud, int64_t *count,
                        field_errors *fe) {
    /* Two arenas in turn: the next page's cursor points into the page before it. Children
     * of the caller's, so a jump out of fn (core/arena.h) loses neither. */
    arena *pages[2] = {arena_child(x->a, LIMIT_ARENA_BYTES), arena_child(x->a, LIMIT_ARENA_BYTES)};
    q->after_key = NULL;
    q->after_id = 0;
    q->limit = LIMIT_PAGE_SIZE_MAX;
    *count = 0;
    os_err e = OS_OK;
    for (int p = 0; !e; p++) {
        arena *pa = pages[p % 2];
        arena_free(pa);
        sub_rec *rows;
        int n;
        int64_t total;
        bool exact;
        e = st_sub_page(x->c, pa, q, &rows, &n, &total, &exact);
        if (e == OS_ERR_INVALID)
            fe_add(fe, "q", "too_long", arena_printf(x->a, "At most %d words", SUB_QUERY_WORDS));
        if (!e && p == 0 && exact && total > max) e = OS_ERR_TOO_LARGE;
        for (int i = 0; !e && i < n; i++) {
            if (*count == max) e = OS_ERR_TOO_LARGE;
            else if (!(e = fn(ud, &rows[i]))) (*count)++;
        }
        if (e || n < q->limit) break;
        q->after_key = st_sub_sort_key(pa, &rows[n - 1], q->sort);
        q->after_id = rows[n - 1].id;
    }
    arena_free(pages[0]);
    arena_free(pages[1]);
    return e;
}

os_err subscribers_exported(op_ctx *x, int64_t agreement_id, const char *format, int64_t rows) {
    buf b;
    jw w;
    buf_init(&b, x->a, 256);
    jw_init(&w, &b);
    jw_obj(&w);
    jw_kint(&w, "rows", rows);
    jw_kstr(&w, "format", format);
    jw_obj_end(&w);
    os_err e = store_tx_begin_agreement(x->c, agreement_id);
    if (e) return e;
    e = audit(x, "subscriptions.exported", "agreement", NULL, agreement_id, jw_ok(&w) ? b.data : NULL);
    return store_tx_end(x->c, e);
}

os_err subscribers_level_codes(op_ctx *x, int64_t agreement_id, const char ***codes, int *n) {
    pool_rec *pools;
    os_err e = st_pools(x->c, x->a, agreement_id, &pools, n);
    if (e) return e;
    *codes = arena_alloc(x->a, sizeof(char *) * (size_t)(*n + 1));
    for (int i = 0; i < *n; i++) (*codes)[i] = pools[i].level_code;
    return OS_OK;
}

os_err subscribers_overview(op_ctx *x, int64_t agreement_id, sub_overview *out) {
    *out = (sub_overview){0};
    return st_pools(x->c, x->a, agreement_id, &out->pools, &out->npools);
}
