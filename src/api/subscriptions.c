/* subscriptions.c — the agreement's overview and its subscribers: list (filter, sort,
 * keyset pages), add, read (ETag), edit (If-Match), remove one or many, resend. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "api.h"
#include "core/limits.h"
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
    in->level = body_str(r, "level", 64, false);
    in->country = body_country(r, "country", false);
    in->language = body_enum(r, "language", subscriber_languages, false);
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

os_err h_overview(req *r) {
    op_ctx x;
    os_err e = api_ctx(r, &x);
    if (e) return e;
    return subscribers_write_overview(&x, r->agreement_id, reply_json(r, 200));
}

static const char *const sort_names[SUB_SORT_COUNT + 1] = {
    "name", "sign_in_email", "level", "assigned", "expires", "reference", "country", "language", "downloads", NULL};

void subs_query_from(req *r, sub_query *q) {
    *q = (sub_query){.agreement_id = r->agreement_id, .downloads = -1, .limit = LIMIT_PAGE_SIZE_DEFAULT};
    const char *v;
    if ((v = qs_get(&r->query, "q")) && *v) {
        if (utf8_chars(v) > 200) fe_add(&r->fe, "q", "too_long", "At most 200 characters");
        q->q = v;   /* folded by the store: case and accents do not matter */
    }
    if ((v = qs_get(&r->query, "level")) && *v) q->level = v;
    if ((v = qs_get(&r->query, "country")) && *v) q->country = v;
    if ((v = qs_get(&r->query, "downloads")) && *v) {
        if (!strcmp(v, "true")) q->downloads = 1;
        else if (!strcmp(v, "false")) q->downloads = 0;
        else fe_add(&r->fe, "downloads", "invalid_value", "Use true or false");
    }
    if ((v = qs_get(&r->query, "sort"))) {
        int k = -1;
        for (int i = 0; sort_names[i]; i++)
            if (!strcmp(v, sort_names[i])) k = i;
        if (k < 0) fe_add(&r->fe, "sort", "invalid_value", "Not a sortable column");
        else q->sort = (sub_sort)k;
    }
    if ((v = qs_get(&r->query, "order"))) {
        if (!strcmp(v, "desc")) q->desc = true;
        else if (strcmp(v, "asc")) fe_add(&r->fe, "order", "invalid_value", "Use asc or desc");
    }
}

os_err h_subs_list(req *r) {
    sub_query q;
    subs_query_from(r, &q);
    const char *v;
    if ((v = qs_get(&r->query, "limit"))) {
        char *end;
        long n = strtol(v, &end, 10);
        if (*end || n < 1 || n > LIMIT_PAGE_SIZE_MAX)
            fe_add(&r->fe, "limit", "out_of_range", arena_printf(&r->a, "From 1 to %d", LIMIT_PAGE_SIZE_MAX));
        else q.limit = (int)n;
    }
    if (fe_any(&r->fe)) return OS_ERR_INVALID;
    op_ctx x;
    os_err e = api_ctx(r, &x);
    if (e) return e;
    return subscribers_write_list(&x, &q, qs_get(&r->query, "cursor"), reply_json(r, 200), &r->fe);
}

static void reply_sub(req *r, int status, const sub_rec *s) {
    reply_header(r, "ETag", arena_printf(&r->a, "\"%lld\"", (long long)s->version));
    subscribers_write_one(reply_json(r, status), s);
}

os_err h_subs_add(req *r) {
    sub_input in;
    read_input(r, &in, true);   /* the domain adds its own checks and reports all together */
    op_ctx x;
    os_err e = api_ctx(r, &x);
    if (e) return e;
    sub_rec s;
    if ((e = subscribers_add(&x, r->agreement_id, &in, &r->fe, &s))) return e;
    reply_header(r, "Location", arena_printf(&r->a, "/api/v1/agreements/%s/subscriptions/%s", r->agreement_license, s.uuid));
    reply_sub(r, 201, &s);
    return OS_OK;
}

os_err h_subs_get(req *r) {
    op_ctx x;
    os_err e = api_ctx(r, &x);
    if (e) return e;
    sub_rec s;
    if ((e = st_sub_get(x.c, &r->a, r->agreement_id, req_param(r, 1), &s))) return e;
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
    op_ctx x;
    os_err e = api_ctx(r, &x);
    if (e) return e;
    sub_rec s = {0};
    e = subscribers_update(&x, r->agreement_id, req_param(r, 1), version, &in, &r->fe, &s);
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
    op_ctx x;
    os_err e = api_ctx(r, &x);
    if (e) return e;
    const char *missing = NULL;
    e = op(&x, r->agreement_id, ids, n, &missing);
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
    op_ctx x;
    os_err e = api_ctx(r, &x);
    if (e) return e;
    const char *id = req_param(r, 1), *missing = NULL;
    if ((e = subscribers_remove(&x, r->agreement_id, &id, 1, &missing))) return e;
    reply_empty(r, 204);
    return OS_OK;
}

/* The usage answers grow with the recorded history (a change per add and removal, for
 * the agreement's whole life): both are written to a temporary file and sent from it. */
static os_err usage_reply(req *r, bool csv) {
    op_ctx x;
    os_err e = api_ctx(r, &x);
    if (e) return e;
    export_file *f;
    buf *text;
    if ((e = export_text_begin(&r->a, &f, &text))) return e;
    jw w;
    if (csv) {
        e = usage_csv(&x, r->agreement_id, text);
    } else {
        jw_init(&w, text);
        e = usage_write(&x, r->agreement_id, &w);
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
