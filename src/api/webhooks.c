/* webhooks.c — webhook endpoints, their deliveries and tries (domain/webhooks.h), under an
 * agreement (`/agreements/{license}/webhooks…`: super admins, as the route table says) or
 * a partner organization (`/partner-organizations/{org}/webhooks…`: its admins, checked by
 * the domain — 404 to anyone not of the organization, 403 `partner_admin_required` to a
 * plain member). The same handlers serve both: the owner is the agreement the pipeline
 * resolved, else the organization of the path's first parameter; an endpoint's id is the
 * second parameter, a delivery's the third. The signing secret is in an answer only when
 * it is made (create, rotation). */
#include <jansson.h>
#include <string.h>
#include "api.h"
#include "core/limits.h"
#include "core/text.h"
#include "domain/events.h"
#include "domain/webhooks.h"
#include "webhook/worker.h"

static os_err owner_of(req *r, webhook_owner *o) {
    *o = (webhook_owner){0};
    if (r->agreement_id) {
        o->agreement_id = r->agreement_id;
        return OS_OK;
    }
    return req_param_id(r, 0, &o->org_id) ? OS_OK : OS_ERR_NOT_FOUND;
}

/* The domain's refusal as the partner organization's routes word it. */
static os_err refused(req *r, os_err e) {
    if (e == OS_ERR_FORBIDDEN && !r->agreement_id) {
        r->problem_code = "partner_admin_required";
        r->problem_detail = "Only an admin of the partner organization can do this";
    }
    return e;
}

static const char *iso_or_null(req *r, int64_t t) { return t ? text_iso_time(&r->a, t) : NULL; }

/* Webhook: {id, url, description, event_types:[…] (empty: all), enabled, disabled_reason,
 * previous_secret_expires_at, created_at, updated_at[, secret]} */
static void write_webhook(jw *w, req *r, const webhook_rec *h, const char *secret) {
    jw_obj(w);
    jw_kint(w, "id", h->id);
    jw_kstr(w, "url", h->url);
    jw_kstr(w, "description", h->description);
    jw_key(w, "event_types");
    jw_arr(w);
    const char **types;
    int n = webhooks_types(&r->a, h->event_types, &types);
    for (int i = 0; i < n; i++) jw_str(w, types[i]);
    jw_arr_end(w);
    jw_kbool(w, "enabled", h->enabled);
    jw_kstr(w, "disabled_reason", h->enabled ? NULL : h->disabled_reason);
    jw_kstr(w, "previous_secret_expires_at",
            h->previous_secret && h->previous_until > r->x->now ? text_iso_time(&r->a, h->previous_until) : NULL);
    jw_kstr(w, "created_at", text_iso_time(&r->a, h->created_at));
    jw_kstr(w, "updated_at", text_iso_time(&r->a, h->updated_at));
    if (secret) jw_kstr(w, "secret", secret);
    jw_obj_end(w);
}

/* Delivery: {id, type, event_id (null: a ping), status, attempts, next_attempt_at (null
 * unless pending), last_status, created_at, finished_at} */
static void write_delivery(jw *w, req *r, const webhook_delivery_rec *d) {
    jw_kint(w, "id", d->id);
    jw_kstr(w, "type", d->type);
    if (d->event_id) jw_kint(w, "event_id", d->event_id);
    else jw_knull(w, "event_id");
    jw_kstr(w, "status", d->status);
    jw_kint(w, "attempts", d->attempts);
    jw_kstr(w, "next_attempt_at", strcmp(d->status, "pending") ? NULL : text_iso_time(&r->a, d->next_attempt_at));
    if (d->last_status) jw_kint(w, "last_status", d->last_status);
    else jw_knull(w, "last_status");
    jw_kstr(w, "created_at", text_iso_time(&r->a, d->created_at));
    jw_kstr(w, "finished_at", iso_or_null(r, d->finished_at));
}

static os_err reply_webhook(req *r, int status, const webhook_rec *h, const char *secret) {
    write_webhook(reply_json(r, status), r, h, secret);
    return OS_OK;
}

/* event_types: an array of type names (unknown ones are the domain's field errors). */
static void read_types(req *r, webhook_change *c) {
    json_t *v = json_object_get(r->json, "event_types");
    if (!v || json_is_null(v)) return;
    int nt;
    event_types(&nt);
    if (!json_is_array(v) || json_array_size(v) > (size_t)nt) {
        fe_add_params(&r->fe, "event_types", "wrong_type", "A list of event type names (empty: every type)",
                      arena_printf(&r->a, "{\"max\":%d}", nt));
        return;
    }
    const char **t = arena_alloc(&r->a, sizeof *t * (json_array_size(v) + 1));
    size_t i;
    json_t *item;
    json_array_foreach(v, i, item) {
        if (!json_is_string(item) || json_string_length(item) > 64) {
            fe_add(&r->fe, "event_types", "wrong_type", "A list of event type names (empty: every type)");
            return;
        }
        t[i] = arena_strdup(&r->a, json_string_value(item));
    }
    c->set_types = true;
    c->types = t;
    c->ntypes = (int)json_array_size(v);
}

static int read_enabled(req *r) {
    json_t *v = json_object_get(r->json, "enabled");
    if (!v || json_is_null(v)) return -1;
    if (!json_is_boolean(v)) {
        fe_add(&r->fe, "enabled", "wrong_type", "Use true or false");
        return -1;
    }
    return json_is_true(v);
}

static void read_change(req *r, webhook_change *c, bool create) {
    *c = (webhook_change){.enabled = -1};
    c->url = body_str(r, "url", LIMIT_WEBHOOK_URL_CHARS, create);
    c->description = body_str(r, "description", LIMIT_WEBHOOK_DESCRIPTION_CHARS, false);
    json_t *d = json_object_get(r->json, "description");
    if (!c->description && d && json_is_string(d)) c->description = "";   /* cleared */
    read_types(r, c);
    c->enabled = read_enabled(r);
}

/* {webhooks:[Webhook], event_types:[names an endpoint may take]} */
os_err h_webhooks_list(req *r) {
    webhook_owner o;
    os_err e = owner_of(r, &o);
    webhook_rec *rows;
    int n = 0;
    if (!e) e = refused(r, webhooks_list(r->x, o, &rows, &n));
    if (e) return e;
    jw *w = reply_json(r, 200);
    jw_obj(w);
    jw_key(w, "webhooks");
    jw_arr(w);
    for (int i = 0; i < n; i++) write_webhook(w, r, &rows[i], NULL);
    jw_arr_end(w);
    jw_key(w, "event_types");
    jw_arr(w);
    int nt;
    const event_type *t = event_types(&nt);
    for (int i = 0; i < nt; i++) jw_str(w, t[i].name);
    jw_arr_end(w);
    jw_obj_end(w);
    return OS_OK;
}

os_err h_webhook_create(req *r) {
    webhook_owner o;
    os_err e = owner_of(r, &o);
    if (e) return e;
    webhook_change c;
    read_change(r, &c, true);
    if (fe_any(&r->fe)) return OS_ERR_INVALID;
    webhook_rec h;
    char secret[WEBHOOK_SECRET_MAX];
    e = refused(r, webhooks_create(r->x, o, &c, &r->fe, &h, secret));
    if (e == OS_ERR_CONFLICT) {
        r->problem_code = "webhook_limit";
        r->problem_detail = arena_printf(&r->a, "At most %d webhook endpoints", LIMIT_WEBHOOKS_PER_OWNER);
    }
    if (e) return e;
    return reply_webhook(r, 201, &h, secret);
}

os_err h_webhook_get(req *r) {
    webhook_owner o;
    int64_t id;
    os_err e = owner_of(r, &o);
    if (!e && !req_param_id(r, 1, &id)) e = OS_ERR_NOT_FOUND;
    webhook_rec h;
    if (!e) e = refused(r, webhooks_get(r->x, o, id, &h));
    return e ? e : reply_webhook(r, 200, &h, NULL);
}

os_err h_webhook_update(req *r) {
    webhook_owner o;
    int64_t id;
    os_err e = owner_of(r, &o);
    if (!e && !req_param_id(r, 1, &id)) e = OS_ERR_NOT_FOUND;
    if (e) return e;
    webhook_change c;
    read_change(r, &c, false);
    if (fe_any(&r->fe)) return OS_ERR_INVALID;
    webhook_rec h;
    e = refused(r, webhooks_update(r->x, o, id, &c, &r->fe, &h));
    return e ? e : reply_webhook(r, 200, &h, NULL);
}

os_err h_webhook_delete(req *r) {
    webhook_owner o;
    int64_t id;
    os_err e = owner_of(r, &o);
    if (!e && !req_param_id(r, 1, &id)) e = OS_ERR_NOT_FOUND;
    if (!e) e = refused(r, webhooks_delete(r->x, o, id));
    if (e) return e;
    reply_empty(r, 204);
    return OS_OK;
}

os_err h_webhook_rotate(req *r) {
    webhook_owner o;
    int64_t id;
    os_err e = owner_of(r, &o);
    if (!e && !req_param_id(r, 1, &id)) e = OS_ERR_NOT_FOUND;
    webhook_rec h;
    char secret[WEBHOOK_SECRET_MAX];
    if (!e) e = refused(r, webhooks_rotate(r->x, o, id, &h, secret));
    return e ? e : reply_webhook(r, 200, &h, secret);
}

/* A delivery made or made due now: 202 with it. */
static os_err reply_queued(req *r, int64_t endpoint_id, int64_t delivery_id) {
    webhook_delivery_rec d;
    os_err e = st_webhook_delivery_get(r->x->c, &r->a, endpoint_id, delivery_id, &d);
    if (e) return e;
    webhook_worker_wake(r->app->hooks);
    jw *w = reply_json(r, 202);
    jw_obj(w);
    write_delivery(w, r, &d);
    jw_obj_end(w);
    return OS_OK;
}

os_err h_webhook_ping(req *r) {
    webhook_owner o;
    int64_t id, delivery = 0;
    os_err e = owner_of(r, &o);
    if (!e && !req_param_id(r, 1, &id)) e = OS_ERR_NOT_FOUND;
    if (!e) e = refused(r, webhooks_ping(r->x, o, id, &delivery));
    return e ? e : reply_queued(r, id, delivery);
}

/* {deliveries:[Delivery], next_before: id of the page's last, or null when it is the last} */
os_err h_webhook_deliveries(req *r) {
    webhook_owner o;
    int64_t id;
    os_err e = owner_of(r, &o);
    if (!e && !req_param_id(r, 1, &id)) e = OS_ERR_NOT_FOUND;
    if (e) return e;
    int64_t before = query_id(r, "before", "Use the next_before of the previous page");
    int64_t limit = query_int(r, "limit", 1, LIMIT_PAGE_SIZE_MAX, LIMIT_PAGE_SIZE_DEFAULT);
    if (fe_any(&r->fe)) return OS_ERR_INVALID;
    webhook_delivery_rec *rows;
    int n = 0;
    /* One more than the page says whether another follows. */
    e = refused(r, webhooks_deliveries(r->x, o, id, before, (int)limit + 1, &rows, &n));
    if (e) return e;
    bool more = n > limit;
    if (more) n = (int)limit;
    jw *w = reply_json(r, 200);
    jw_obj(w);
    jw_key(w, "deliveries");
    jw_arr(w);
    for (int i = 0; i < n; i++) {
        jw_obj(w);
        write_delivery(w, r, &rows[i]);
        jw_obj_end(w);
    }
    jw_arr_end(w);
    if (more) jw_kint(w, "next_before", rows[n - 1].id);
    else jw_knull(w, "next_before");
    jw_obj_end(w);
    return OS_OK;
}

/* Delivery with attempt_log:[{at, http_status, error, response, duration_ms}] (its tries, oldest first). */
os_err h_webhook_delivery(req *r) {
    webhook_owner o;
    int64_t id, delivery;
    os_err e = owner_of(r, &o);
    if (!e && (!req_param_id(r, 1, &id) || !req_param_id(r, 2, &delivery))) e = OS_ERR_NOT_FOUND;
    webhook_delivery_rec d;
    webhook_attempt_rec *t;
    int n = 0;
    if (!e) e = refused(r, webhooks_delivery(r->x, o, id, delivery, &d, &t, &n));
    if (e) return e;
    jw *w = reply_json(r, 200);
    jw_obj(w);
    write_delivery(w, r, &d);
    jw_key(w, "attempt_log");
    jw_arr(w);
    for (int i = 0; i < n; i++) {
        jw_obj(w);
        jw_kstr(w, "at", text_iso_time(&r->a, t[i].at));
        if (t[i].http_status) jw_kint(w, "http_status", t[i].http_status);
        else jw_knull(w, "http_status");
        jw_kstr(w, "error", t[i].error);
        jw_kstr(w, "response", t[i].response);
        jw_kint(w, "duration_ms", t[i].duration_ms);
        jw_obj_end(w);
    }
    jw_arr_end(w);
    jw_obj_end(w);
    return OS_OK;
}

os_err h_webhook_redeliver(req *r) {
    webhook_owner o;
    int64_t id, delivery;
    os_err e = owner_of(r, &o);
    if (!e && (!req_param_id(r, 1, &id) || !req_param_id(r, 2, &delivery))) e = OS_ERR_NOT_FOUND;
    if (!e) e = refused(r, webhooks_redeliver(r->x, o, id, delivery));
    return e ? e : reply_queued(r, id, delivery);
}
