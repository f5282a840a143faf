/* scim.c — SCIM users and groups of an agreement, and the group → seat rule. Contract in
 * scim.h. Every write opens the agreement's transaction, changes the resource, then brings
 * the seats of every user it may concern in line with the rule (reconcile), so a refused
 * seat leaves nothing written. */
#include "domain/scim.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <strings.h>
#include "core/log.h"
#include "core/secret.h"
#include "core/text.h"
#include "domain/audit.h"
#include "domain/subscribers.h"
#include "mail/outbox.h"

#define USER_SCHEMA "urn:ietf:params:scim:schemas:core:2.0:User"
#define GROUP_SCHEMA "urn:ietf:params:scim:schemas:core:2.0:Group"
#define SCIM_USER_HEADROOM (4 * 1024 * 1024)   /* scratch memory for one user's seat changes */

static os_err fault(scim_fault *f, os_err e, const char *type, const char *detail) {
    f->scim_type = type;
    f->detail = detail;
    return e;
}

static const char *uuid4(arena *a) {
    unsigned char b[16];
    secret_random(b, sizeof b);
    b[6] = (unsigned char)((b[6] & 0x0F) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3F) | 0x80);
    return arena_printf(a, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2],
                        b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

static json_t *ci_get(json_t *obj, const char *name) {
    const char *k;
    json_t *v;
    if (!json_is_object(obj)) return NULL;
    json_object_foreach(obj, k, v) if (!strcasecmp(k, name)) return v;
    return NULL;
}

static void ci_del(json_t *obj, const char *name) {
    const char *k;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(obj, tmp, k, v) if (!strcasecmp(k, name)) json_object_del(obj, k);
}

/* A text attribute: absent/null NULL; too long or not text: *bad. */
static const char *text_attr(arena *a, json_t *obj, const char *name, bool *bad) {
    json_t *v = ci_get(obj, name);
    if (!v || json_is_null(v)) return NULL;
    if (!json_is_string(v) || json_string_length(v) > SCIM_TEXT_MAX || !json_string_length(v)) {
        *bad = true;
        return NULL;
    }
    return arena_strdup(a, json_string_value(v));
}

static char *lower(arena *a, const char *s) {
    char *o = arena_strdup(a, s);
    for (char *p = o; *p; p++)
        if (*p >= 'A' && *p <= 'Z') *p = (char)(*p - 'A' + 'a');
    return o;
}

static void iso_time(int64_t t, char out[21]) {
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static json_t *meta(const char *type, const char *base, const char *path, const char *id, int64_t created,
                    int64_t updated, int64_t version) {
    char c[21], u[21];
    iso_time(created, c);
    iso_time(updated, u);
    char loc[512], ver[40];
    snprintf(loc, sizeof loc, "%s/%s/%s", base, path, id);
    snprintf(ver, sizeof ver, "W/\"%lld\"", (long long)version);
    return json_pack("{s:s, s:s, s:s, s:s, s:s}", "resourceType", type, "created", c, "lastModified", u, "location",
                     loc, "version", ver);
}

/* ---- users ---------------------------------------------------------------------------- */

/* Reads a user resource into u (its indexed attributes) and tidies it for keeping: id,
 * meta and password go; active becomes a boolean ("True"/"False" strings too). */
static os_err user_from(arena *a, json_t *res, scim_user_rec *u, scim_fault *f) {
    bool bad = false;
    ci_del(res, "id");
    ci_del(res, "meta");
    ci_del(res, "password");
    u->user_name = text_attr(a, res, "userName", &bad);
    if (bad || !u->user_name) return fault(f, OS_ERR_INVALID, "invalidValue", "userName is required text (at most 256 characters)");
    u->external_id = text_attr(a, res, "externalId", &bad);
    u->display_name = text_attr(a, res, "displayName", &bad);
    if (bad) return fault(f, OS_ERR_INVALID, "invalidValue", "externalId and displayName are text of at most 256 characters");
    if (!u->display_name) {
        json_t *name = ci_get(res, "name");
        const char *formatted = text_attr(a, name, "formatted", &bad);
        const char *g = text_attr(a, name, "givenName", &bad), *fam = text_attr(a, name, "familyName", &bad);
        if (formatted) u->display_name = formatted;
        else if (g || fam) u->display_name = arena_printf(a, "%s%s%s", g ? g : "", g && fam ? " " : "", fam ? fam : "");
        bad = false;
    }
    /* The work address, else the primary one, else the first. */
    json_t *emails = ci_get(res, "emails"), *pick = NULL, *el;
    size_t i;
    if (emails && !json_is_null(emails) && !json_is_array(emails)) return fault(f, OS_ERR_INVALID, "invalidValue", "emails is a list");
    json_array_foreach(emails, i, el) {
        json_t *t = ci_get(el, "type"), *p = ci_get(el, "primary");
        if (json_is_string(t) && !strcasecmp(json_string_value(t), "work")) { pick = el; break; }
        if (!pick && (json_is_true(p) || (json_is_string(p) && !strcasecmp(json_string_value(p), "true")))) pick = el;
    }
    if (!pick) pick = json_array_get(emails, 0);
    u->email = pick ? text_attr(a, pick, "value", &bad) : NULL;
    if (bad || (u->email && !strchr(u->email, '@')))
        return fault(f, OS_ERR_INVALID, "invalidValue", "An e-mail address is text with an @");
    if (u->email) u->email = lower(a, u->email);
    json_t *act = ci_get(res, "active");
    u->active = true;
    if (json_is_boolean(act)) u->active = json_is_true(act);
    else if (json_is_string(act) && !strcasecmp(json_string_value(act), "false")) u->active = false;
    else if (json_is_string(act) && !strcasecmp(json_string_value(act), "true")) u->active = true;
    else if (act && !json_is_null(act)) return fault(f, OS_ERR_INVALID, "invalidValue", "active is true or false");
    ci_del(res, "active");
    json_object_set_new(res, "active", json_boolean(u->active));
    if (!ci_get(res, "schemas")) json_object_set_new(res, "schemas", json_pack("[s]", USER_SCHEMA));
    char *text = json_dumps(res, JSON_COMPACT | JSON_SORT_KEYS);
    if (!text) return OS_ERR_INTERNAL;
    u->resource = arena_strdup(a, text);
    free(text);   /* checksrc: allow alloc — json_dumps hands over memory it malloc'd */
    return OS_OK;
}

static json_t *user_view(const scim_user_rec *u, const char *base) {
    json_t *res = json_loads(u->resource, 0, NULL);
    if (!res) res = json_object();
    json_object_set_new(res, "id", json_string(u->uuid));
    json_object_set_new(res, "meta", meta("User", base, "Users", u->uuid, u->created_at, u->updated_at, u->version));
    return res;
}

/* ---- the seat rule --------------------------------------------------------------------- */

typedef struct prov {
    op_ctx *x;
    sub_target t;
    bool have_target;
    int64_t agreement_id;
    /* The seat the pool refused, if it did: recorded once the change is rolled back. */
    int64_t refused_user;
    const char *refused_level, *refused_group, *refused_reason;
} prov;

static os_err prov_begin(op_ctx *x, int64_t agreement_id, prov *p) {
    memset(p, 0, sizeof *p);
    p->x = x;
    p->agreement_id = agreement_id;
    return store_tx_begin_agreement(x->c, agreement_id);
}

static os_err prov_end(prov *p, os_err e) {
    e = store_tx_end(p->x->c, e);
    if (!e && p->have_target) outbox_wake(p->x->app->mail);
    if (e == OS_ERR_CONFLICT && p->refused_user) {
        /* The provider hears of the refusal; the super admins read it in their daily summary.
         * Its own transaction, as the change it came with is rolled back; failing to keep it
         * must not change the provider's answer. */
        op_ctx *x = p->x;
        os_err r = store_tx_begin_agreement(x->c, p->agreement_id);
        if (!r) r = store_tx_end(x->c, st_scim_refusal_record(x->c, p->agreement_id, p->refused_user,
                                                             p->refused_level, p->refused_group,
                                                             p->refused_reason, x->now));
        if (r) log_event(LOG_WARN, "provisioning: a refused seat could not be recorded", "error", os_err_name(r), NULL);
    }
    return e;
}

/* The address a provisioned user's seats are given to: the work e-mail, else a userName that
 * is an address; NULL when neither. */
static const char *seat_email(arena *a, const scim_user_rec *u) {
    return u->email ? u->email : strchr(u->user_name, '@') ? lower(a, u->user_name) : NULL;
}

/* A seat the rule keeps follows its person at the provider: a new address or display name is
 * an edit of the same subscription (the pool does not move; both addresses are told, as for
 * an edit by hand), audited and announced as subscription.updated. */
static os_err follow_identity(prov *p, const scim_user_rec *u, const char *sub_uuid, scim_fault *f) {
    op_ctx *x = p->x;
    const char *email = seat_email(x->a, u);
    const char *name = arena_strndup(x->a, u->display_name ? u->display_name : u->user_name, SUB_NAME_MAX);
    sub_rec cur;
    os_err e = st_sub_get(x->c, x->a, p->agreement_id, sub_uuid, &cur);
    if (e == OS_ERR_NOT_FOUND) return OS_OK;   /* removed by hand since: nothing to follow */
    if (e) return e;
    bool moved = email && strcmp(email, cur.sign_in_email) != 0, renamed = strcmp(name, cur.name) != 0;
    if (!moved && !renamed) return OS_OK;
    sub_rec next = cur;
    if (moved) next.sign_in_email = email;
    next.name = name;
    field_errors fe;
    fe_init(&fe, x->a);
    e = subscribers_update_in_tx(x, &p->t.g, &p->t.pr, &cur, &next, cur.version, &fe);
    if (e == OS_ERR_INVALID && fe_any(&fe)) {
        bool taken = !strcmp(fe.head->code, "duplicate");
        f->reason = fe.head->code;
        return fault(f, taken ? OS_ERR_CONFLICT : OS_ERR_INVALID, taken ? "uniqueness" : "invalidValue",
                     arena_printf(x->a, "%s's %s seat cannot move to %s: %s", u->user_name, cur.level_code, email,
                                  fe.head->message));
    }
    sub_rec after;
    if (!e) e = st_sub_get(x->c, x->a, p->agreement_id, sub_uuid, &after);
    return e ? e : subscribers_emit_updated(x, p->t.g.license_number, &cur, &after);
}

/* The rule takes over a subscription the person already holds by hand at that level: it
 * becomes the provisioned one, as it is (no second seat, no e-mail, the pool unchanged), and
 * from then on follows the rule. *adopted false when there is none to take over. */
static os_err adopt(prov *p, const scim_user_rec *u, const scim_mapping_rec *want, const char *email, bool *adopted,
                    scim_fault *f) {
    op_ctx *x = p->x;
    *adopted = false;
    sub_rec *held;
    int n;
    os_err e = st_sub_by_email(x->c, x->a, p->agreement_id, email, &held, &n);
    const sub_rec *s = NULL;
    for (int i = 0; !e && i < n && !s; i++)
        if (!strcmp(held[i].level_code, want->level_code)) s = &held[i];
    if (e || !s) return e;
    int64_t holder;
    e = st_scim_seat_holder(x->c, p->agreement_id, s->uuid, &holder);
    /* A refusal of the person's address, as a preview lists it (not a failure of the run). */
    if (!e) f->reason = "duplicate";
    if (!e)
        return fault(f, OS_ERR_CONFLICT, "uniqueness",
                     arena_printf(x->a, "%s's %s seat (%s) is already held through another provisioned user",
                                  u->user_name, want->level_code, email));
    if (e != OS_ERR_NOT_FOUND) return e;
    /* What the rule would have set but the held seat keeps: said in the audit row. */
    bool lang = strcmp(s->language, want->language) != 0, country = strcmp(s->country, want->country) != 0,
         downloads = (s->downloads != 0) != (want->downloads != 0);
    const char *differs = arena_printf(x->a, "%s%s%s%s%s", lang ? "language" : "", lang && country ? "," : "",
                                       country ? "country" : "", (lang || country) && downloads ? "," : "",
                                       downloads ? "downloads" : "");
    e = st_scim_seat_add(x->c, u->id, want->level_code, s->uuid);
    if (!e) e = audit(x, "provisioning.seat_adopted", "subscription", s->uuid, p->agreement_id,
                      json_pairs(x->a, "user_name", u->user_name, "email", email, "level", want->level_code, "group",
                                 want->group_name, "kept", differs, NULL));
    if (!e) *adopted = true;
    /* From now on it follows the provider's name for the person, as any provisioned seat. */
    return e ? e : follow_identity(p, u, s->uuid, f);
}

/* Brings user_id's provisioned seats in line with the rule: one per level its groups give
 * while active, none otherwise. */
static os_err reconcile(prov *p, int64_t user_id, scim_fault *f) {
    op_ctx *x = p->x;
    scim_user_rec u;
    bool gone = false;
    os_err e = st_scim_user_by_id(x->c, x->a, p->agreement_id, user_id, &u);
    if (e == OS_ERR_NOT_FOUND) gone = true, e = OS_OK;
    if (e) return e;
    scim_mapping_rec *want = NULL;
    int nw = 0;
    if (!gone && u.active && (e = st_scim_user_wants(x->c, x->a, user_id, &want, &nw))) return e;
    scim_seat_rec *held;
    int nh;
    if ((e = st_scim_seats(x->c, x->a, user_id, &held, &nh))) return e;
    if (!p->have_target) {
        if ((e = subscribers_target(x, p->agreement_id, &p->t))) return e;
        p->have_target = true;
    }
    for (int i = 0; i < nh; i++) {
        bool keep = false;
        for (int j = 0; j < nw && !keep; j++) keep = !strcmp(want[j].level_code, held[i].level_code);
        if (keep && (e = follow_identity(p, &u, held[i].sub_uuid, f))) return e;
        if (keep) continue;
        sub_rec s;
        e = st_sub_get(x->c, x->a, p->agreement_id, held[i].sub_uuid, &s);
        if (!e) e = subscribers_remove_in_tx(x, &s);
        if (!e) e = subscribers_emit(x, p->t.g.license_number, "subscription.removed", &s);
        if (e == OS_ERR_NOT_FOUND) e = OS_OK;   /* removed by hand since: nothing to give back */
        if (!e) e = st_scim_seat_delete(x->c, user_id, held[i].level_code);
        if (e) return e;
    }
    for (int j = 0; j < nw; j++) {
        if (j && !strcmp(want[j].level_code, want[j - 1].level_code)) continue;   /* one seat per level */
        bool have = false;
        for (int i = 0; i < nh && !have; i++) have = !strcmp(want[j].level_code, held[i].level_code);
        if (have) continue;
        const char *email = seat_email(x->a, &u);
        if (!email) f->reason = "email_missing";
        if (!email)
            return fault(f, OS_ERR_INVALID, "invalidValue",
                         arena_printf(x->a, "%s needs an e-mail address to hold a %s seat", u.user_name,
                                      want[j].level_code));
        bool adopted;
        if ((e = adopt(p, &u, &want[j], email, &adopted, f))) return e;
        if (adopted) continue;
        const char *name = u.display_name ? u.display_name : u.user_name;
        sub_input in = {.name = arena_strndup(x->a, name, SUB_NAME_MAX), .sign_in_email = email,
                        .level = want[j].level_code, .country = want[j].country, .language = want[j].language,
                        .downloads = want[j].downloads, .notify = true};
        field_errors fe;
        fe_init(&fe, x->a);
        sub_rec s;
        e = subscribers_add_in_tx(x, &p->t, &in, &fe, &s);
        if (e == OS_ERR_INVALID && fe_any(&fe)) {
            bool pool = !strcmp(fe.head->code, "no_seats_left") || !strcmp(fe.head->code, "reassignment_too_soon");
            if (pool) {
                p->refused_user = user_id;
                p->refused_level = want[j].level_code;
                p->refused_group = want[j].group_name;
                p->refused_reason = fe.head->code;
            }
            f->reason = fe.head->code;
            return fault(f, pool ? OS_ERR_CONFLICT : OS_ERR_INVALID, pool ? "tooMany" : "invalidValue",
                         arena_printf(x->a, "%s cannot hold a %s seat (group %s): %s", u.user_name,
                                      want[j].level_code, want[j].group_name, fe.head->message));
        }
        if (!e) e = subscribers_emit(x, p->t.g.license_number, "subscription.added", &s);
        if (!e) e = st_scim_seat_add(x->c, user_id, want[j].level_code, s.uuid);
        if (!e) e = st_scim_refusal_clear(x->c, user_id, want[j].level_code);
        if (e) return e;
    }
    return OS_OK;
}

static os_err reconcile_many(prov *p, const int64_t *ids, int n, scim_fault *f) {
    os_err e = OS_OK;
    for (int i = 0; !e && i < n; i++) e = reconcile(p, ids[i], f);
    return e;
}

static const char *user_details(op_ctx *x, const scim_user_rec *u) {
    return json_pairs(x->a, "user_name", u->user_name, "active", u->active ? "true" : "false", NULL);
}

os_err scim_user_create(op_ctx *x, int64_t agreement_id, json_t *body, const char *base, scim_fault *f, json_t **out) {
    scim_user_rec u = {.agreement_id = agreement_id, .uuid = uuid4(x->a), .created_at = x->now, .updated_at = x->now,
                       .version = 1};
    json_t *res = json_deep_copy(body);
    os_err e = user_from(x->a, res, &u, f);
    json_decref(res);
    if (e) return e;
    prov p;
    if ((e = prov_begin(x, agreement_id, &p))) return e;
    e = st_scim_user_insert(x->c, &u, &u.id);
    if (e == OS_ERR_CONFLICT)
        e = fault(f, OS_ERR_CONFLICT, "uniqueness", arena_printf(x->a, "A user named %s exists", u.user_name));
    if (!e) e = audit(x, "provisioning.user_created", "scim_user", u.uuid, agreement_id, user_details(x, &u));
    if ((e = prov_end(&p, e))) return e;
    *out = user_view(&u, base);
    return OS_OK;
}

os_err scim_user_get(op_ctx *x, int64_t agreement_id, const char *id, const char *base, json_t **out) {
    scim_user_rec u;
    os_err e = st_scim_user_get(x->c, x->a, agreement_id, id, &u);
    if (!e) *out = user_view(&u, base);
    return e;
}

os_err scim_user_write(op_ctx *x, int64_t agreement_id, const char *id, json_t *body, bool patch, const char *base,
                       scim_fault *f, json_t **out) {
    prov p;
    os_err e = prov_begin(x, agreement_id, &p);
    if (e) return e;
    scim_user_rec cur, next;
    json_t *res = NULL;
    e = st_scim_user_get(x->c, x->a, agreement_id, id, &cur);
    if (!e) {
        next = cur;
        if (patch) {
            res = json_loads(cur.resource, 0, NULL);
            if (!res) res = json_object();
            e = scim_patch_apply(x->a, res, ci_get(body, "Operations"), f);
        } else res = json_deep_copy(body);
    }
    if (!e) e = user_from(x->a, res, &next, f);
    bool changed = !e && strcmp(next.resource, cur.resource);
    if (changed) {
        next.updated_at = x->now;
        e = st_scim_user_update(x->c, &next);
        if (e == OS_ERR_CONFLICT)
            e = fault(f, OS_ERR_CONFLICT, "uniqueness", arena_printf(x->a, "A user named %s exists", next.user_name));
        if (!e) next.version++;
        if (!e) e = audit(x, "provisioning.user_updated", "scim_user", next.uuid, agreement_id, user_details(x, &next));
        if (!e) e = reconcile(&p, cur.id, f);
    }
    if (res) json_decref(res);
    if ((e = prov_end(&p, e))) return e;
    *out = user_view(changed ? &next : &cur, base);
    return OS_OK;
}

os_err scim_user_delete(op_ctx *x, int64_t agreement_id, const char *id, scim_fault *f) {
    prov p;
    os_err e = prov_begin(x, agreement_id, &p);
    if (e) return e;
    scim_user_rec u;
    e = st_scim_user_get(x->c, x->a, agreement_id, id, &u);
    /* Its memberships go first, so the rule gives it nothing; then its seats are removed. */
    if (!e) e = st_scim_user_leave_groups(x->c, u.id);
    if (!e) e = reconcile(&p, u.id, f);
    if (!e) e = st_scim_user_delete(x->c, agreement_id, u.id);
    if (!e) e = audit(x, "provisioning.user_deleted", "scim_user", u.uuid, agreement_id, user_details(x, &u));
    return prov_end(&p, e);
}

static json_t *list_response(int64_t total, int64_t start, json_t *resources) {
    return json_pack("{s:[s], s:I, s:I, s:I, s:o}", "schemas", "urn:ietf:params:scim:api:messages:2.0:ListResponse",
                     "totalResults", (json_int_t)total, "startIndex", (json_int_t)start, "itemsPerPage",
                     (json_int_t)json_array_size(resources), "Resources", resources);
}

os_err scim_users_list(op_ctx *x, int64_t agreement_id, scim_filter_attr attr, const char *value, int64_t start,
                       int count, const char *base, json_t **out) {
    scim_user_rec *rows;
    int n;
    int64_t total;
    os_err e = st_scim_users_list(x->c, x->a, agreement_id, attr, value, start - 1, count, &rows, &n, &total);
    if (e) return e;
    json_t *arr = json_array();
    for (int i = 0; i < n; i++) json_array_append_new(arr, user_view(&rows[i], base));
    *out = list_response(total, start, arr);
    return OS_OK;
}

/* ---- groups ----------------------------------------------------------------------------- */

static json_t *group_view(op_ctx *x, const scim_group_rec *g, bool members, const char *base) {
    json_t *res = json_pack("{s:[s], s:s, s:s}", "schemas", GROUP_SCHEMA, "id", g->uuid, "displayName",
                            g->display_name);
    if (g->external_id) json_object_set_new(res, "externalId", json_string(g->external_id));
    if (members) {
        scim_member_rec *m;
        int n;
        json_t *arr = json_array();
        if (!st_scim_members(x->c, x->a, g->id, SCIM_MEMBERS_MAX, &m, &n))
            for (int i = 0; i < n; i++)
                json_array_append_new(arr, json_pack("{s:s, s:s?, s:s}", "value", m[i].uuid, "display", m[i].display,
                                                     "type", m[i].kind == 'g' ? "Group" : "User"));
        json_object_set_new(res, "members", arr);
    }
    json_object_set_new(res, "meta",
                        meta("Group", base, "Groups", g->uuid, g->created_at, g->updated_at, g->version));
    return res;
}

/* The group's resource for a PATCH: its attributes and members as {value}. */
static json_t *group_resource(op_ctx *x, const scim_group_rec *g, os_err *e) {
    json_t *res = json_pack("{s:s}", "displayName", g->display_name);
    if (g->external_id) json_object_set_new(res, "externalId", json_string(g->external_id));
    scim_member_rec *m;
    int n;
    json_t *arr = json_array();
    *e = st_scim_members(x->c, x->a, g->id, SCIM_MEMBERS_MAX, &m, &n);
    for (int i = 0; !*e && i < n; i++) json_array_append_new(arr, json_pack("{s:s}", "value", m[i].uuid));
    json_object_set_new(res, "members", arr);
    return res;
}

/* Writes g's attributes from res (a whole group: create, PUT, or PATCH's result), then its
 * members when res lists them (or must: replace), and reconciles every user under g before
 * and after. */
static os_err group_apply(prov *p, scim_group_rec *g, json_t *res, bool is_new, scim_fault *f) {
    op_ctx *x = p->x;
    bool bad = false;
    const char *name = text_attr(x->a, res, "displayName", &bad);
    const char *ext = text_attr(x->a, res, "externalId", &bad);
    if (bad || !name) return fault(f, OS_ERR_INVALID, "invalidValue", "displayName is required text (at most 256 characters)");
    json_t *members = ci_get(res, "members");
    if (members && !json_is_null(members) && !json_is_array(members))
        return fault(f, OS_ERR_INVALID, "invalidValue", "members is a list");
    if (json_array_size(members) > SCIM_MEMBERS_MAX)
        return fault(f, OS_ERR_INVALID, "tooMany", arena_printf(x->a, "At most %d members", SCIM_MEMBERS_MAX));
    os_err e;
    int64_t *before = NULL;
    int nbefore = 0;
    bool attrs = is_new || strcmp(name, g->display_name) || (ext ? !g->external_id || strcmp(ext, g->external_id)
                                                                  : g->external_id != NULL);
    g->display_name = name;
    g->external_id = ext;
    if (is_new) {
        g->created_at = g->updated_at = x->now;
        g->version = 1;
        e = st_scim_group_insert(x->c, g, &g->id);
    } else {
        if ((e = st_scim_users_under(x->c, x->a, g->id, &before, &nbefore))) return e;
        e = OS_OK;
    }
    if (e == OS_ERR_CONFLICT)
        return fault(f, OS_ERR_CONFLICT, "uniqueness", arena_printf(x->a, "A group named %s exists", name));
    if (e) return e;
    /* The members as ids; unchanged ones leave the rows alone. */
    scim_member_rec *cur = NULL;
    int ncur = 0;
    if (!is_new && (e = st_scim_members(x->c, x->a, g->id, SCIM_MEMBERS_MAX, &cur, &ncur))) return e;
    size_t nm = json_array_size(members);
    char *kinds = arena_alloc(x->a, nm + 1);
    int64_t *ids = arena_alloc(x->a, sizeof *ids * (nm + 1));
    size_t i;
    json_t *el;
    json_array_foreach(members, i, el) {
        json_t *v = ci_get(el, "value");
        if (!json_is_string(v) || json_string_length(v) > 64)
            return fault(f, OS_ERR_INVALID, "invalidValue", "Each member has a value: a user's or a group's id");
        e = st_scim_resolve(x->c, p->agreement_id, json_string_value(v), &kinds[i], &ids[i]);
        if (e == OS_ERR_NOT_FOUND)
            return fault(f, OS_ERR_INVALID, "invalidValue",
                         arena_printf(x->a, "No user or group has the id %s", json_string_value(v)));
        if (e) return e;
    }
    bool same = (int)nm == ncur;
    for (int k = 0; same && k < ncur; k++) {
        bool found = false;
        for (size_t j = 0; j < nm && !found; j++) found = kinds[j] == cur[k].kind && ids[j] == cur[k].id;
        same = found;
    }
    if (!same) {
        if (!is_new) e = st_scim_members_clear(x->c, g->id);
        for (size_t j = 0; !e && j < nm; j++) e = st_scim_member_add(x->c, g->id, kinds[j], ids[j]);
    }
    if (!e && !is_new && (attrs || !same)) {
        g->updated_at = x->now;
        e = st_scim_group_update(x->c, g);
        if (e == OS_ERR_CONFLICT)
            return fault(f, OS_ERR_CONFLICT, "uniqueness", arena_printf(x->a, "A group named %s exists", name));
        if (!e) g->version++;
    }
    if (!e && (is_new || attrs || !same))
        e = audit(x, is_new ? "provisioning.group_created" : "provisioning.group_updated", "scim_group", g->uuid,
                  p->agreement_id, json_pairs(x->a, "display_name", name, NULL));
    if (e || same) return e;
    int64_t *after;
    int nafter;
    if ((e = st_scim_users_under(x->c, x->a, g->id, &after, &nafter))) return e;
    if (!(e = reconcile_many(p, before, nbefore, f))) e = reconcile_many(p, after, nafter, f);
    return e;
}

os_err scim_group_create(op_ctx *x, int64_t agreement_id, json_t *body, const char *base, scim_fault *f,
                         json_t **out) {
    prov p;
    os_err e = prov_begin(x, agreement_id, &p);
    if (e) return e;
    scim_group_rec g = {.agreement_id = agreement_id, .uuid = uuid4(x->a), .display_name = ""};
    e = group_apply(&p, &g, body, true, f);
    if ((e = prov_end(&p, e))) return e;
    *out = group_view(x, &g, true, base);
    return OS_OK;
}

os_err scim_group_get(op_ctx *x, int64_t agreement_id, const char *id, bool members, const char *base,
                      json_t **out) {
    scim_group_rec g;
    os_err e = st_scim_group_get(x->c, x->a, agreement_id, id, &g);
    if (!e) *out = group_view(x, &g, members, base);
    return e;
}

os_err scim_group_write(op_ctx *x, int64_t agreement_id, const char *id, json_t *body, bool patch, const char *base,
                        scim_fault *f, json_t **out) {
    prov p;
    os_err e = prov_begin(x, agreement_id, &p);
    if (e) return e;
    scim_group_rec g;
    json_t *res = NULL;
    e = st_scim_group_get(x->c, x->a, agreement_id, id, &g);
    if (!e) res = group_resource(x, &g, &e);
    if (!e && patch) e = scim_patch_apply(x->a, res, ci_get(body, "Operations"), f);
    else if (!e) {
        /* PUT: the body is the whole group; no members listed is none. */
        json_decref(res);
        res = json_deep_copy(body);
        if (!ci_get(res, "members")) json_object_set_new(res, "members", json_array());
    }
    if (!e) e = group_apply(&p, &g, res, false, f);
    if (res) json_decref(res);
    if ((e = prov_end(&p, e))) return e;
    /* Entra and Okta read nothing from a PATCH's answer; the group is sent back anyway. */
    *out = group_view(x, &g, true, base);
    return OS_OK;
}

os_err scim_group_delete(op_ctx *x, int64_t agreement_id, const char *id, scim_fault *f) {
    prov p;
    os_err e = prov_begin(x, agreement_id, &p);
    if (e) return e;
    scim_group_rec g;
    int64_t *users = NULL;
    int n = 0;
    e = st_scim_group_get(x->c, x->a, agreement_id, id, &g);
    if (!e) e = st_scim_users_under(x->c, x->a, g.id, &users, &n);
    if (!e) e = st_scim_group_delete(x->c, agreement_id, g.id);
    if (!e) e = reconcile_many(&p, users, n, f);
    if (!e) e = audit(x, "provisioning.group_deleted", "scim_group", g.uuid, agreement_id,
                      json_pairs(x->a, "display_name", g.display_name, NULL));
    return prov_end(&p, e);
}

os_err scim_groups_list(op_ctx *x, int64_t agreement_id, scim_filter_attr attr, const char *value, int64_t start,
                        int count, bool members, const char *base, json_t **out) {
    scim_group_rec *rows;
    int n;
    int64_t total;
    os_err e = st_scim_groups_list(x->c, x->a, agreement_id, attr, value, start - 1, count, &rows, &n, &total);
    if (e) return e;
    json_t *arr = json_array();
    for (int i = 0; i < n; i++) json_array_append_new(arr, group_view(x, &rows[i], members, base));
    *out = list_response(total, start, arr);
    return OS_OK;
}

/* ---- group → seat rules ------------------------------------------------------------------ */

os_err scim_mappings(op_ctx *x, int64_t agreement_id, scim_mapping_rec **rows, int *n) {
    return st_scim_mappings(x->c, x->a, agreement_id, rows, n);
}

os_err scim_group_counts(op_ctx *x, int64_t agreement_id, scim_group_count_rec **rows, int *n, int64_t *total) {
    return st_scim_group_counts(x->c, x->a, agreement_id, SCIM_GROUPS_LIST_MAX, rows, n, total);
}

/* A rule change in progress: what it did so far and the text its plan hashes. */
typedef struct rule_run {
    prov *p;
    scim_outcome *o;
    char chain[SECRET_HASH_HEX];   /* the plan so far: each line hashed onto the one before */
    os_err refused_err;          /* the first refusal, as the apply reports it */
    const char *refused_detail, *refused_type, *refused_reason;
} rule_run;

/* The plan hashes its lines as a chain, so its memory does not grow with the group. */
static void plan_line(rule_run *rr, const char *line) {
    char *t = arena_printf(rr->p->x->a, "%s\n%s", rr->chain, line);
    secret_hash_hex(t, strlen(t), rr->chain);
}

static const pool_rec *find_level(const prov *p, const char *level) {
    for (int k = 0; k < p->t.npools; k++)
        if (!strcmp(p->t.pools[k].level_code, level)) return &p->t.pools[k];
    return NULL;
}

static void effect_add(rule_run *rr, char kind, const scim_user_rec *u, const char *level, const char *to,
                       const char *reason) {
    arena *a = rr->p->x->a;
    scim_outcome *o = rr->o;
    scim_effect **list;
    int *listed;
    int64_t *total;
    switch (kind) {
    case 'g': list = &o->gains, listed = &o->ngains, total = &o->gains_total; break;
    case 'l': list = &o->losses, listed = &o->nlosses, total = &o->losses_total; break;
    case 'c': list = &o->changes, listed = &o->nchanges, total = &o->changes_total; break;
    default: list = &o->refused, listed = &o->nrefused, total = &o->refused_total; break;
    }
    plan_line(rr, arena_printf(a, "%c\t%s\t%s\t%s\t%s", kind, u->uuid, level, to ? to : "", reason ? reason : ""));
    (*total)++;
    if (*listed >= SCIM_PREVIEW_LIST_MAX) return;
    if (!*list) *list = arena_alloc(a, sizeof **list * SCIM_PREVIEW_LIST_MAX);
    const char *email = u->email ? u->email : strchr(u->user_name, '@') ? lower(a, u->user_name) : u->user_name;
    (*list)[(*listed)++] = (scim_effect){
        .scim_id = arena_strdup(a, u->uuid), .email = arena_strdup(a, email),
        .name = arena_strdup(a, u->display_name ? u->display_name : u->user_name), .level = arena_strdup(a, level),
        .to_level = to ? arena_strdup(a, to) : NULL, .reason = reason ? arena_strdup(a, reason) : NULL};
}

static bool has_level(const scim_seat_rec *s, int n, const char *level) {
    for (int i = 0; i < n; i++)
        if (!strcmp(s[i].level_code, level)) return true;
    return false;
}

/* Reconciles one user in scratch memory and records what changed for them. A refusal is
 * recorded and the run goes on, so the outcome names everyone the pool refuses. */
static os_err run_user(rule_run *rr, arena *scratch, int64_t user_id, const char *want_level) {
    op_ctx sx = *rr->p->x;
    sx.a = scratch;
    prov sp = *rr->p;
    sp.x = &sx;
    scim_seat_rec *before, *after;
    int nb, na;
    scim_fault uf = {0};
    os_err e = st_scim_live_seats(sx.c, scratch, sp.agreement_id, user_id, &before, &nb);
    if (e) return e;
    os_err re = reconcile(&sp, user_id, &uf);
    if (re && !uf.reason) return re;
    if ((e = st_scim_live_seats(sx.c, scratch, sp.agreement_id, user_id, &after, &na))) return e;
    const char *lost[8], *gained[8];
    int nl = 0, ng = 0;
    for (int i = 0; i < nb; i++)
        if (!has_level(after, na, before[i].level_code) && nl < 8) lost[nl++] = before[i].level_code;
    for (int i = 0; i < na; i++)
        if (!has_level(before, nb, after[i].level_code) && ng < 8) gained[ng++] = after[i].level_code;
    if (!nl && !ng && !re) return OS_OK;
    scim_user_rec u;
    if ((e = st_scim_user_by_id(sx.c, scratch, sp.agreement_id, user_id, &u))) return e;
    int k = 0;
    for (; k < nl && k < ng; k++) effect_add(rr, 'c', &u, lost[k], gained[k], NULL);
    for (int i = k; i < nl; i++) effect_add(rr, 'l', &u, lost[i], NULL, NULL);
    for (int i = k; i < ng; i++) effect_add(rr, 'g', &u, gained[i], NULL, NULL);
    if (re) {
        effect_add(rr, 'r', &u, want_level ? want_level : "", NULL, uf.reason);
        if (!rr->refused_err) {
            arena *a = rr->p->x->a;
            rr->refused_err = re;
            rr->refused_type = uf.scim_type;
            rr->refused_detail = uf.detail ? arena_strdup(a, uf.detail) : NULL;
            rr->refused_reason = arena_strdup(a, uf.reason);
        }
    }
    return OS_OK;
}

/* Does the change inside the open transaction and fills rr->o (its plan too); r: the rule
 * written (set). OS_ERR_INVALID with fe for an unknown group, level or rule. */
static os_err rule_run_do(rule_run *rr, const scim_rule_change *ch, field_errors *fe, scim_mapping_rec *r) {
    prov *p = rr->p;
    op_ctx *x = p->x;
    os_err e;
    if ((e = subscribers_target(x, p->agreement_id, &p->t))) return e;
    p->have_target = true;
    rr->chain[0] = 0;
    plan_line(rr, arena_printf(x->a, "openseat rule change 1\t%lld", (long long)p->agreement_id));
    int64_t group_id = 0;
    scim_group_rec g = {0};
    if (ch->remove_id > 0) {
        e = st_scim_mapping_delete(x->c, p->agreement_id, ch->remove_id, &group_id);
        if (e == OS_ERR_NOT_FOUND && fe) {
            fe_add(fe, "remove", "invalid_value", "No rule of this agreement has this id");
            e = OS_ERR_INVALID;
        }
        if (e) return e;
        plan_line(rr, arena_printf(x->a, "remove\t%lld", (long long)ch->remove_id));
        e = audit(x, "provisioning.mapping_removed", "scim_mapping", audit_id(x, ch->remove_id), p->agreement_id,
                  NULL);
    } else {
        e = st_scim_group_get(x->c, x->a, p->agreement_id, ch->group_id, &g);
        if (e == OS_ERR_NOT_FOUND) {
            fe_add(fe, "group", "invalid_value", "No provisioned group has this id");
            e = OS_ERR_INVALID;
        }
        const scim_mapping_rec *m = ch->m;
        if (!e && !find_level(p, m->level_code)) {
            const char *allowed = subscriber_level_list(x->a, p->t.pools, p->t.npools);
            fe_add_params(fe, "level", "invalid_value",
                          arena_printf(x->a, "Choose one of the agreement's levels: %s", allowed),
                          subscriber_choice_params(x->a, "level", allowed));
            e = OS_ERR_INVALID;
        }
        if (e) return e;
        *r = *m;
        r->group_id = group_id = g.id;
        if ((e = st_scim_mapping_put(x->c, p->agreement_id, r, x->now, &r->id))) return e;
        r->group_uuid = g.uuid;
        r->group_name = g.display_name;
        r->created_at = x->now;
        plan_line(rr, arena_printf(x->a, "set\t%s\t%s\t%s\t%s\t%d", g.uuid, m->level_code, m->language,
                                   m->country, m->downloads ? 1 : 0));
        e = audit(x, "provisioning.mapping_set", "scim_group", g.uuid, p->agreement_id,
                  json_pairs(x->a, "group", g.display_name, "level", r->level_code, NULL));
    }
    int64_t *users = NULL;
    int n = 0;
    if (!e) e = st_scim_users_under(x->c, x->a, group_id, &users, &n);
    /* Each user's writes (subscription, audit, e-mail texts) in scratch memory emptied after
     * them: a group of SCIM_MEMBERS_MAX people costs its outcome, not people × writes. */
    arena *scratch = e ? NULL : arena_child(x->a, SCIM_USER_HEADROOM);
    for (int i = 0; !e && i < n; i++) {
        arena_free(scratch);
        e = run_user(rr, scratch, users[i], ch->remove_id > 0 ? NULL : ch->m->level_code);
    }
    if (scratch) arena_free(scratch);
    if (e) return e;
    memcpy(rr->o->plan, rr->chain, sizeof rr->chain);
    return OS_OK;
}

/* Runs the change in its own transaction; commit: keep it when nothing was refused and the
 * plan (when given) holds; else everything is rolled back. */
static os_err rule_change(op_ctx *x, int64_t agreement_id, const scim_rule_change *ch, bool commit, const char *plan,
                          field_errors *fe, scim_fault *f, scim_mapping_rec *r, scim_outcome *o) {
    prov p;
    os_err e = prov_begin(x, agreement_id, &p);
    if (e) return e;
    memset(o, 0, sizeof *o);
    rule_run rr = {.p = &p, .o = o};
    scim_mapping_rec rule = {0};
    e = rule_run_do(&rr, ch, fe, &rule);
    if (!e && plan && strcmp(plan, o->plan)) {
        f->reason = "plan_changed";
        f->detail = "Members or seats changed since the preview: preview the change again";
        e = OS_ERR_CONFLICT;
    } else if (!e && commit && rr.refused_err) {
        f->scim_type = rr.refused_type;
        f->detail = rr.refused_detail;
        f->reason = rr.refused_reason;
        e = rr.refused_err;
    }
    if (!commit) {
        /* A preview: every row it wrote goes, its e-mails and events with them. */
        os_ignore(store_tx_end(x->c, e ? e : OS_ERR_CONFLICT));
        return e;
    }
    if ((e = prov_end(&p, e))) return e;
    if (r) *r = rule;
    return OS_OK;
}

os_err scim_mapping_preview(op_ctx *x, int64_t agreement_id, const scim_rule_change *ch, field_errors *fe,
                            scim_fault *f, scim_outcome *out) {
    return rule_change(x, agreement_id, ch, false, NULL, fe, f, NULL, out);
}

os_err scim_mapping_put(op_ctx *x, int64_t agreement_id, const char *group_id, const scim_mapping_rec *m,
                        const char *plan, field_errors *fe, scim_fault *f, scim_mapping_rec *out,
                        scim_outcome *did) {
    scim_rule_change ch = {.group_id = group_id, .m = m};
    return rule_change(x, agreement_id, &ch, true, plan, fe, f, out, did);
}

os_err scim_mapping_delete(op_ctx *x, int64_t agreement_id, int64_t id, const char *plan, scim_fault *f,
                           scim_outcome *did) {
    scim_rule_change ch = {.remove_id = id};
    return rule_change(x, agreement_id, &ch, true, plan, NULL, f, NULL, did);
}
