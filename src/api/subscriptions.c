/* subscriptions.c — the agreement's overview and its subscribers: list (filter, sort,
 * keyset pages), add, read (ETag), edit (If-Match), remove one or many, resend. */
#include <stdlib.h>
#include <string.h>
#include "api.h"
#include "core/limits.h"
#include "domain/subscribers.h"
#include "domain/usage.h"
#include "io/export.h"

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
    else in->reference = body_str(r, "reference", SUB_REFERENCE_MAX, false);
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
    return subscribers_write_overview(r->x, r->agreement_id, reply_json(r, 200));
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
    return subscribers_write_list(r->x, &q, cursor, reply_json(r, 200), &r->fe);
}

static void reply_sub(req *r, int status, const sub_rec *s) {
    reply_header(r, "ETag", arena_printf(&r->a, "\"%lld\"", (long long)s->version));
    subscribers_write_one(reply_json(r, status), s);
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
        e = usage_write(x, r->agreement_id, &w);
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
