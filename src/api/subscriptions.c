/* subscriptions.c — the agreement's overview and its subscribers: list (filter, sort,
 * keyset pages), add, read (ETag), edit (If-Match), remove one or many, resend. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "api.h"
#include "core/limits.h"
#include "core/secret.h"
#include "domain/subscribers.h"
#include "domain/usage.h"
#include "io/export.h"

/* The Reference: free text like a name's, except that it may hold line breaks (an address,
 * notes typed with Alt+Enter in a spreadsheet); other control characters are refused. */
static const char *reference_str(req *r) {
    /* Bounded by the request body; measured once trimmed, as body_str does. */
    const char *s = body_str_raw(r, "reference", 0, SIZE_MAX, false);
    if (!s) return NULL;
    char *t = text_trim(&r->a, s);
    if (!*t) return NULL;
    if (utf8_chars(t) > SUB_REFERENCE_MAX) {
        fe_add(&r->fe, "reference", "too_long", arena_printf(&r->a, "At most %d characters", SUB_REFERENCE_MAX));
        return NULL;
    }
    for (const char *p = t; *p; p++)
        if ((unsigned char)*p < 0x20 && *p != '\t' && *p != '\r' && *p != '\n') {
            fe_add(&r->fe, "reference", "invalid_value", "This field contains control characters");
            return NULL;
        }
    return t;
}

/* The editable fields; `creating` makes the ones a new subscription needs required. */
static void read_input(req *r, sub_input *in, bool creating) {
    memset(in, 0, sizeof *in);
    in->name = body_str(r, "name", SUB_NAME_MAX, creating);
    in->sign_in_email = body_email(r, "sign_in_email", creating);
    json_t *ne = json_object_get(r->json, "notification_email");
    if (json_is_string(ne) && !*json_string_value(ne)) in->notification_email = "";   /* cleared */
    else in->notification_email = body_email(r, "notification_email", false);
    /* Level, country and language may come from the agreement's preferences. */
    in->level = body_str(r, "level", LIMIT_LEVEL_CODE_CHARS, false);
    /* A value off a list names the list (and its values), as a file's cell does. */
    in->country = body_country(r, "country", false, subscriber_choice_params(&r->a, "country", NULL));
    in->language = body_choice(r, "language", subscriber_languages, false, SUB_LANGUAGE_MESSAGE,
                               subscriber_choice_params(&r->a, "language", subscriber_language_list(&r->a)));
    json_t *ref = json_object_get(r->json, "reference");
    if (json_is_string(ref) && !*json_string_value(ref)) in->reference = "";   /* cleared */
    else in->reference = reference_str(r);
    json_t *d = json_object_get(r->json, "downloads");
    in->downloads = -1;
    if (d && !json_is_null(d)) {
        if (json_is_boolean(d)) in->downloads = json_is_true(d);
        else fe_add(&r->fe, "downloads", "wrong_type", "downloads must be true or false");
    }
    json_t *notify = json_object_get(r->json, "send_email");
    in->notify = !json_is_false(notify);
    if (creating && in->notification_email && !*in->notification_email) in->notification_email = NULL;
}

/* ---- conditional GETs ----
 * The overview and the list carry a strong ETag made of the agreement's data version (read
 * with the access check, before any of its rows: store.h, store_tx_begin_agreement), the
 * view and its normalized query, and what of the caller shapes the answer: role,
 * capabilities, the relationship acted under, the language of level names. A client
 * sending it back in If-None-Match while nothing changed gets 304 without a row being
 * read. A write committed between the version's read and the rows' can only make the tag
 * older than the body, never newer: the next request then gets the body again. */
static const char *view_etag(req *r, const char *view, const char *query) {
    const char *key = arena_printf(&r->a, "%s\n%s\n%s\n%u\n%lld\n%s", view, query,
                                   r->agreement_role ? r->agreement_role : "", r->agreement_capabilities,
                                   (long long)r->x->relationship_id, r->user_language ? r->user_language : "");
    char h[SECRET_HASH_HEX];
    secret_hash_hex(key, strlen(key), h);
    return arena_printf(&r->a, "\"d%lld-%.16s\"", (long long)r->agreement_data_version, h);
}

/* Sets the ETag; true (having answered 304) when the client already holds it. */
static bool not_modified(req *r, const char *etag) {
    reply_header(r, "ETag", etag);
    if (!req_if_none_match(r, etag)) return false;
    reply_empty(r, 304);
    return true;
}

/* {"levels":[{level, name, purchased, assigned, available}]}, names in the reader's language. */
os_err h_overview(req *r) {
    if (not_modified(r, view_etag(r, "overview", ""))) return OS_OK;
    sub_overview o;
    os_err e = subscribers_overview(r->x, r->agreement_id, &o);
    if (e) return e;
    jw *w = reply_json(r, 200);
    jw_obj(w);
    jw_key(w, "levels");
    jw_arr(w);
    for (int i = 0; i < o.npools; i++) {
        const pool_rec *p = &o.pools[i];
        jw_obj(w);
        jw_kstr(w, "level", p->level_code);
        jw_kstr(w, "name", api_in_language(r->user_language, p->name_en, p->name_fr));
        jw_kint(w, "purchased", p->purchased);
        jw_kint(w, "assigned", p->assigned);
        jw_kint(w, "available", p->purchased - p->assigned);
        jw_obj_end(w);
    }
    jw_arr_end(w);
    jw_obj_end(w);
    return OS_OK;
}

static const char *const sort_names[SUB_SORT_COUNT + 1] = {
    "name", "sign_in_email", "level", "assigned", "expires", "reference", "country", "language", "downloads", NULL};


/* The downloads filter's choices: any (the empty value, as the page sends it), no, yes. */
static const char *const downloads_names[] = {"", "false", "true", NULL};
static const char *const order_names[] = {"asc", "desc", NULL};

void subs_query_from(req *r, sub_query *q) {
    *q = (sub_query){.agreement_id = r->agreement_id, .downloads = -1, .limit = LIMIT_PAGE_SIZE_DEFAULT};
    q->q = query_str(r, "q", LIMIT_SEARCH_CHARS);   /* folded by the store: case and accents do not matter */
    q->level = query_str(r, "level", LIMIT_QUERY_VALUE_CHARS);
    q->country = query_str(r, "country", LIMIT_QUERY_VALUE_CHARS);
    int d = query_enum(r, "downloads", downloads_names, 0, "Use true or false");
    if (d > 0) q->downloads = d - 1;
    int sort = query_enum(r, "sort", sort_names, SUB_SORT_NAME, "Not a sortable column");
    if (sort >= 0) q->sort = (sub_sort)sort;
    q->desc = query_enum(r, "order", order_names, 0, "Use asc or desc") == 1;
}

os_err h_subs_list(req *r) {
    sub_query q;
    subs_query_from(r, &q);
    q.limit = (int)query_int(r, "limit", 1, LIMIT_PAGE_SIZE_MAX, LIMIT_PAGE_SIZE_DEFAULT);
    const char *cursor = query_token(r, "cursor", LIMIT_QUERY_VALUE_CHARS);
    if (fe_any(&r->fe)) return OS_ERR_INVALID;
    /* The query as read (defaults filled in), so that equivalent URLs share a tag; text
     * values are length-prefixed, so no value can pass for two. */
    const char *query = arena_printf(&r->a, "%zu:%s|%zu:%s|%zu:%s|%d|%d|%d|%d|%zu:%s", strlen(q.q ? q.q : ""),
                                     q.q ? q.q : "", strlen(q.level ? q.level : ""), q.level ? q.level : "",
                                     strlen(q.country ? q.country : ""), q.country ? q.country : "", q.downloads,
                                     (int)q.sort, (int)q.desc, q.limit, strlen(cursor ? cursor : ""),
                                     cursor ? cursor : "");
    if (not_modified(r, view_etag(r, "subscriptions", query))) return OS_OK;
    sub_page page;
    os_err e = subscribers_page(r->x, &q, cursor, &page, &r->fe);
    if (e) return e;
    jw *w = reply_json(r, 200);
    jw_obj(w);
    jw_key(w, "items");
    jw_arr(w);
    for (int i = 0; i < page.n; i++) subscription_write(w, &page.rows[i]);
    jw_arr_end(w);
    jw_kint(w, "total", page.total);
    jw_kbool(w, "total_exact", page.total_exact);
    jw_kstr(w, "next_cursor", page.next_cursor);   /* null on the last page */
    jw_obj_end(w);
    return OS_OK;
}

static void reply_sub(req *r, int status, const sub_rec *s) {
    reply_header(r, "ETag", arena_printf(&r->a, "\"%lld\"", (long long)s->version));
    subscription_write(reply_json(r, status), s);
}

os_err h_subs_add(req *r) {
    sub_input in;
    read_input(r, &in, true);   /* the domain adds its own checks and reports all together */
    op_ctx *x = r->x;
    sub_rec s;
    os_err e = subscribers_add(x, r->agreement_id, &in, &r->fe, &s);
    if (e) return e;
    reply_header(r, "Location", arena_printf(&r->a, "/api/v1/agreements/%s/subscriptions/%s", r->agreement_license, s.uuid));
    reply_sub(r, 201, &s);
    return OS_OK;
}

os_err h_subs_get(req *r) {
    op_ctx *x = r->x;
    sub_rec s;
    os_err e = st_sub_get(x->c, &r->a, r->agreement_id, req_param(r, 1), &s);
    if (e) return e;
    /* Its ETag is its version, the one If-Match names for an edit: unchanged, the client
     * already holds it. (One row read by key: the version is the row's own.) */
    if (req_if_none_match(r, arena_printf(&r->a, "\"%lld\"", (long long)s.version))) {
        reply_header(r, "ETag", arena_printf(&r->a, "\"%lld\"", (long long)s.version));
        reply_empty(r, 304);
        return OS_OK;
    }
    reply_sub(r, 200, &s);
    return OS_OK;
}

/* If-Match: "N" (or W/"N"): the version the editor saw. */
static bool if_match(req *r, int64_t *version) {
    const char *h = req_header(r, "If-Match");
    if (!h) return false;
    if (!strncmp(h, "W/", 2)) h += 2;
    if (*h == '"') h++;
    char *end;
    long long v = strtoll(h, &end, 10);
    if (end == h || v <= 0 || (*end && *end != '"')) return false;
    *version = v;
    return true;
}

os_err h_subs_update(req *r) {
    int64_t version;
    if (!if_match(r, &version)) {
        problem_reply_status(r, 428, "precondition_required",
                             "Send If-Match with the ETag you read, so a concurrent edit is not overwritten");
        return OS_OK;
    }
    sub_input in;
    read_input(r, &in, false);
    op_ctx *x = r->x;
    sub_rec s = {0};
    os_err e = subscribers_update(x, r->agreement_id, req_param(r, 1), version, &in, &r->fe, &s);
    if (e == OS_ERR_PRECONDITION && s.uuid) {
        /* Show the editor what it is now, so the UI can say what changed. */
        problem_reply_status(r, 412, "precondition_failed", "Someone else changed this subscription; review and retry");
        reply_header(r, "ETag", arena_printf(&r->a, "\"%lld\"", (long long)s.version));
        return OS_OK;
    }
    if (e) return e;
    reply_sub(r, 200, &s);
    return OS_OK;
}

/* {"ids":["uuid", …]} with 1..SUB_BATCH_MAX entries. */
static const char **read_ids(req *r, int *n) {
    json_t *ids = json_object_get(r->json, "ids");
    *n = 0;
    if (!json_is_array(ids) || json_array_size(ids) == 0 || json_array_size(ids) > SUB_BATCH_MAX) {
        fe_add(&r->fe, "ids", "invalid_value", arena_printf(&r->a, "A list of 1 to %d subscription ids", SUB_BATCH_MAX));
        return NULL;
    }
    const char **out = arena_alloc(&r->a, sizeof(char *) * json_array_size(ids));
    for (size_t i = 0; i < json_array_size(ids); i++) {
        const char *v = json_string_value(json_array_get(ids, i));
        if (!v || strlen(v) != 36) {
            fe_add(&r->fe, arena_printf(&r->a, "ids[%zu]", i), "invalid_value", "Not a subscription id");
            continue;
        }
        out[(*n)++] = v;
    }
    return out;
}

static os_err batch(req *r, os_err (*op)(op_ctx *, int64_t, const char *const *, int, const char **)) {
    int n;
    const char **ids = read_ids(r, &n);
    if (fe_any(&r->fe)) return OS_ERR_INVALID;
    op_ctx *x = r->x;
    const char *missing = NULL;
    os_err e = op(x, r->agreement_id, ids, n, &missing);
    if (e == OS_ERR_NOT_FOUND && missing)
        r->problem_detail = arena_printf(&r->a, "No subscription %s on this agreement; nothing was changed", missing);
    if (e) return e;
    jw *w = reply_json(r, 200);
    jw_obj(w);
    jw_kint(w, "count", n);
    jw_obj_end(w);
    return OS_OK;
}

os_err h_subs_remove(req *r) { return batch(r, subscribers_remove); }
os_err h_subs_resend(req *r) { return batch(r, subscribers_resend); }

os_err h_subs_delete(req *r) {
    op_ctx *x = r->x;
    const char *id = req_param(r, 1), *missing = NULL;
    os_err e = subscribers_remove(x, r->agreement_id, &id, 1, &missing);
    if (e) return e;
    reply_empty(r, 204);
    return OS_OK;
}

/* ---- the usage report's view, written as usage_levels hands each level over ----
 * {"levels":[{level, name, purchased, assigned, new_maxima:[{at, assigned, purchased}…],
 *  max_12_months, max_12_months_first_at, max_life, max_life_first_at}]} */

static os_err usage_level(void *ud, const pool_rec *pool, const char *lang) {
    jw *w = ud;
    jw_obj(w);
    jw_kstr(w, "level", pool->level_code);
    jw_kstr(w, "name", api_in_language(lang, pool->name_en, pool->name_fr));
    jw_kint(w, "purchased", pool->purchased);
    jw_kint(w, "assigned", pool->assigned);
    jw_key(w, "new_maxima");
    jw_arr(w);
    return OS_OK;
}

static os_err usage_maximum(void *ud, const usage_change *ch) {
    jw *w = ud;
    char at[32];
    text_iso_time_into(ch->at, at);
    jw_obj(w);
    jw_kstr(w, "at", at);
    jw_kint(w, "assigned", ch->assigned);
    jw_kint(w, "purchased", ch->purchased);
    jw_obj_end(w);
    return OS_OK;
}

/* A time, or null when never reached. */
static void kiso(jw *w, const char *key, int64_t t) {
    char at[32];
    if (!t) { jw_knull(w, key); return; }
    text_iso_time_into(t, at);
    jw_kstr(w, key, at);
}

static os_err usage_peaks_end(void *ud, const usage_peaks *p) {
    jw *w = ud;
    jw_arr_end(w);
    jw_kint(w, "max_12_months", p->max_12_months);
    kiso(w, "max_12_months_first_at", p->max_12_months_at);
    jw_kint(w, "max_life", p->max_life);
    kiso(w, "max_life_first_at", p->max_life_at);
    jw_obj_end(w);
    return OS_OK;
}

static os_err usage_json(op_ctx *x, int64_t agreement_id, jw *w) {
    usage_visitor v = {w, usage_level, usage_maximum, usage_peaks_end};
    jw_obj(w);
    jw_key(w, "levels");
    jw_arr(w);
    os_err e = usage_levels(x, agreement_id, &v);
    jw_arr_end(w);
    jw_obj_end(w);
    return e;
}

/* The usage answers grow with the recorded history (a change per add and removal, for
 * the agreement's whole life): both are written to a temporary file and sent from it. */
static os_err usage_reply(req *r, bool csv) {
    op_ctx *x = r->x;
    export_file *f;
    buf *text;
    os_err e = export_text_begin(&r->a, &f, &text);
    if (e) return e;
    jw w;
    if (csv) {
        e = usage_csv(x, r->agreement_id, text);
    } else {
        jw_init(&w, text);
        e = usage_json(x, r->agreement_id, &w);
        if (!e && !jw_ok(&w)) e = text->overflow ? OS_ERR_IO : OS_ERR_INTERNAL;
    }
    int fd;
    uint64_t size;
    if (e || (e = export_end(f, &fd, &size))) {
        export_discard(f);
        return e;
    }
    if (!csv) {
        reply_fd(r, 200, "application/json", fd, size);
        return OS_OK;
    }
    reply_fd(r, 200, "text/csv; charset=utf-8", fd, size);
    reply_header(r, "Content-Disposition",
                 arena_printf(&r->a, "attachment; filename=\"usage-history-%s.csv\"", r->agreement_license));
    return OS_OK;
}

os_err h_usage(req *r) { return usage_reply(r, false); }
os_err h_usage_csv(req *r) { return usage_reply(r, true); }
