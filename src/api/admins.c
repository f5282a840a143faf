/* admins.c — the Admins page (super admins) and the activity log of an agreement. */
#include <string.h>
#include <stdlib.h>
#include <strings.h>
#include "api.h"
#include "core/limits.h"
#include "domain/admins.h"
#include "domain/audit.h"

/* {"admins":[{id, name, email, role, since, pending}], "super_admin_count", "few_super_admins"} */
static os_err reply_admins(req *r, int status) {
    admin_list l;
    os_err e = admins_list(r->x, r->agreement_id, &l);
    if (e) return e;
    jw *w = reply_json(r, status);
    jw_obj(w);
    jw_key(w, "admins");
    jw_arr(w);
    for (int i = 0; i < l.n; i++) {
        jw_obj(w);
        jw_kint(w, "id", l.rows[i].id);
        jw_kstr(w, "name", l.rows[i].name);
        jw_kstr(w, "email", l.rows[i].email);
        jw_kstr(w, "role", l.rows[i].role);
        jw_kstr(w, "since", text_iso_time(&r->a, l.rows[i].since));
        jw_kbool(w, "pending", l.rows[i].pending);
        jw_obj_end(w);
    }
    jw_arr_end(w);
    jw_kint(w, "super_admin_count", l.super_admins);
    jw_kbool(w, "few_super_admins", l.few_super_admins);
    jw_obj_end(w);
    return OS_OK;
}

os_err h_admins_list(req *r) { return reply_admins(r, 200); }

static os_err last_super_admin(req *r) {
    problem_reply_status(r, 409, "last_super_admin",
                         "An agreement always keeps at least one super admin; add another before removing this one");
    return OS_OK;
}

static const char *const admin_roles[] = {"super_admin", "admin", "partner_manager", NULL};

os_err h_admins_add(req *r) {
    const char *name = body_str(r, "name", LIMIT_NAME_BYTES, true);
    const char *email = body_email(r, "email", true);
    const char *lang = body_enum(r, "language", api_languages, false);
    /* role, or the older super_admin flag (true: "super_admin"; false or absent: "admin"). */
    const char *role = body_enum(r, "role", admin_roles, false);
    json_t *sa = json_object_get(r->json, "super_admin");
    if (sa && !json_is_boolean(sa)) fe_add(&r->fe, "super_admin", "wrong_type", "super_admin must be true or false");
    if (fe_any(&r->fe)) return OS_ERR_INVALID;
    if (!role) role = json_is_true(sa) ? "super_admin" : "admin";
    op_ctx *x = r->x;
    os_err e = admins_add(x, r->agreement_id, name, email, lang ? lang : "en", role);
    if (e == OS_ERR_CONFLICT) return last_super_admin(r);
    if (e) return e;
    return reply_admins(r, 201);
}

os_err h_admins_remove(req *r) {
    int64_t id;
    if (!req_param_id(r, 1, &id)) return OS_ERR_NOT_FOUND;
    op_ctx *x = r->x;
    os_err e = admins_remove(x, r->agreement_id, id);
    if (e == OS_ERR_CONFLICT) return last_super_admin(r);
    if (e) return e;
    reply_empty(r, 204);
    return OS_OK;
}

os_err h_admin_invite_remove(req *r) {
    int64_t id;
    if (!req_param_id(r, 1, &id)) return OS_ERR_NOT_FOUND;
    os_err e = admins_remove_invite(r->x, r->agreement_id, id);
    if (!e) reply_empty(r, 204);
    return e;
}

static void activity_query_from(req *r, activity_query *q) {
    memset(q, 0, sizeof *q);
    q->agreement_id = r->agreement_id;
    /* Client addresses are personal data of everyone who acts on the agreement — other
     * partners' staff, the customer's: the customer's super admins alone see them. */
    q->with_address = !strcmp(r->agreement_role, "super_admin");
    q->language = r->user_language;
    q->actor = query_str(r, "actor", LIMIT_QUERY_VALUE_CHARS);
    q->action = query_str(r, "action", LIMIT_QUERY_VALUE_CHARS);
    q->from = query_date(r, "from", false);
    q->to = query_date(r, "to", true);
    q->relationship_id = query_id(r, "relationship", "Use a partner relationship's id");
}

/* One event of the activity log: {id, at, actor, actor_name, action, target_type, target,
 * target_label, address?, details, relationship: {id, organization}|null, token: {id,
 * name}|null}; the client address only when with_address; relationship: the partner
 * relationship the actor acted under; token: the API token the actor used. The names are
 * there so the UI can word each event without a request per row. */
static void write_event(jw *w, arena *a, const activity_rec *ev, bool with_address) {
    jw_obj(w);
    jw_kint(w, "id", ev->id);
    jw_kstr(w, "at", text_iso_time(a, ev->at));
    jw_kstr(w, "actor", ev->actor_email);
    jw_kstr(w, "actor_name", ev->actor_name);
    jw_kstr(w, "action", ev->action);
    jw_kstr(w, "target_type", ev->target_type);
    jw_kstr(w, "target", ev->target_id);
    jw_kstr(w, "target_label", audit_target_label(a, ev));
    if (with_address) jw_kstr(w, "address", ev->address);
    jw_key(w, "details");
    if (ev->details) jw_raw(w, ev->details);   /* stored by audit() as a JSON object */
    else jw_null(w);
    jw_key(w, "relationship");
    if (ev->relationship_id) {
        jw_obj(w);
        jw_kint(w, "id", ev->relationship_id);
        jw_kstr(w, "organization", ev->relationship_org);
        jw_obj_end(w);
    } else {
        jw_null(w);
    }
    jw_key(w, "token");
    if (ev->token_id) {
        jw_obj(w);
        jw_kint(w, "id", ev->token_id);
        jw_kstr(w, "name", ev->token_name);
        jw_obj_end(w);
    } else {
        jw_null(w);
    }
}

static const char *const activity_formats[] = {"json", "ndjson", NULL};

/* Whether an Accept header names application/x-ndjson with a weight above 0 (asked when the
 * query has no format). */
static bool accepts_ndjson(req *r) {
    static const char type[] = "application/x-ndjson";
    const char *accept = req_header(r, "Accept");
    for (const char *p = accept; p && *p;) {
        size_t n = strcspn(p, ",");
        char item[128];
        if (n < sizeof item) {
            memcpy(item, p, n);
            item[n] = 0;
            char *t = item + strspn(item, " \t");
            char *semi = strchr(t, ';');
            size_t len = semi ? (size_t)(semi - t) : strlen(t);
            while (len && (t[len - 1] == ' ' || t[len - 1] == '\t')) len--;
            if (len == sizeof type - 1 && !strncasecmp(t, type, len)) {
                double weight = 1;
                for (char *s = semi; s; s = strchr(s + 1, ';')) {
                    const char *v = s + 1 + strspn(s + 1, " \t");
                    if ((v[0] == 'q' || v[0] == 'Q') && v[1] == '=') weight = strtod(v + 2, NULL);
                }
                if (weight > 0) return true;
            }
        }
        p += n;
        if (*p) p++;
    }
    return false;
}

typedef struct ndjson_out {
    buf *text;
    arena *a;
    bool with_address;
} ndjson_out;

static os_err ndjson_event(void *ud, const activity_rec *ev) {
    ndjson_out *o = ud;
    arena_free(o->a);   /* the previous line's texts: one line's memory whatever the count */
    jw w;
    jw_init(&w, o->text);
    write_event(&w, o->a, ev, o->with_address);
    audit_pos p = {ev->tx, ev->id};
    char cursor[AUDIT_CURSOR_LEN + 1];
    audit_cursor_format(p, cursor);
    jw_kstr(&w, "cursor", cursor);
    jw_obj_end(&w);
    if (!jw_ok(&w)) return o->text->overflow ? OS_ERR_IO : OS_ERR_INTERNAL;
    return buf_putc(o->text, '\n') ? OS_OK : OS_ERR_IO;
}

/* The activity as a stream for pollers: one event a line, oldest first, after `after`
 * (absent: from the start; "end": no event, only the place after the last one settled now),
 * at most `limit`; the place to ask from next in X-Openseat-Next-Cursor, also when no event
 * came. The lines go to a temporary file a page at a time, so 10,000 events cost one page's
 * memory. */
static os_err activity_ndjson(req *r, activity_query *q) {
    q->limit = (int)query_int(r, "limit", 1, LIMIT_STREAM_PAGE_MAX, LIMIT_STREAM_PAGE_DEFAULT);
    const char *after = query_token(r, "after", LIMIT_QUERY_VALUE_CHARS);
    bool from_end = after && !strcmp(after, "end");
    if (after && !from_end && !audit_cursor_parse(after, &q->after))
        fe_add(&r->fe, "after", "invalid_value", "Use the cursor of an earlier answer, or end");
    if (query_str(r, "before", LIMIT_QUERY_VALUE_CHARS))
        fe_add(&r->fe, "before", "not_allowed", "The stream pages with after, not before");
    if (fe_any(&r->fe)) return OS_ERR_INVALID;
    op_ctx *x = r->x;
    os_err e = from_end ? activity_stream_end(x, q->agreement_id, &q->after) : OS_OK;
    if (e) return e;
    export_file *f;
    buf *text;
    if ((e = export_text_begin(&r->a, &f, &text))) return e;
    ndjson_out o = {text, arena_child(&r->a, 1024 * 1024), q->with_address};
    audit_pos next = q->after;
    if (!from_end) e = activity_stream(x, q, ndjson_event, &o, &next);
    int fd;
    uint64_t size;
    if (e || (e = export_end(f, &fd, &size))) {
        export_discard(f);
        return e;
    }
    char cursor[AUDIT_CURSOR_LEN + 1];
    audit_cursor_format(next, cursor);
    reply_fd(r, 200, "application/x-ndjson", fd, size);
    reply_header(r, "X-Openseat-Next-Cursor", arena_strdup(&r->a, cursor));
    reply_header(r, "Cache-Control", "no-store");
    return OS_OK;
}

/* {"events":[event…], "next_before": id|null}, newest first (write_event); or, asked for
 * NDJSON, the stream (activity_ndjson). */
os_err h_activity(req *r) {
    activity_query q;
    activity_query_from(r, &q);
    int format = query_enum(r, "format", activity_formats, -1, "Use json or ndjson");
    if (format == 1 || (format == -1 && accepts_ndjson(r))) return activity_ndjson(r, &q);
    q.before_id = query_id(r, "before", "Use the next_before value of the previous page");
    q.limit = (int)query_int(r, "limit", 1, LIMIT_PAGE_SIZE_MAX, LIMIT_PAGE_SIZE_DEFAULT);
    if (fe_any(&r->fe)) return OS_ERR_INVALID;
    activity_list l;
    os_err e = activity_page(r->x, &q, &l);
    if (e) return e;
    jw *w = reply_json(r, 200);
    jw_obj(w);
    jw_key(w, "events");
    jw_arr(w);
    for (int i = 0; i < l.n; i++) {
        write_event(w, &r->a, &l.rows[i], q.with_address);
        jw_obj_end(w);
    }
    jw_arr_end(w);
    if (l.next_before) jw_kint(w, "next_before", l.next_before);
    else jw_knull(w, "next_before");
    jw_obj_end(w);
    return OS_OK;
}

os_err h_activity_csv(req *r) {
    activity_query q;
    activity_query_from(r, &q);
    q.before_id = query_id(r, "before", "Use the next_before value of the previous page");
    q.limit = (int)query_int(r, "limit", 1, LIMIT_PAGE_SIZE_MAX, LIMIT_PAGE_SIZE_DEFAULT);
    if (fe_any(&r->fe)) return OS_ERR_INVALID;
    op_ctx *x = r->x;
    /* The raw columns first, for machines (their places unchanged); the readable ones after,
     * the action's label in the user's language; the API token the actor used (empty: none);
     * details stay last. */
    static const export_column with[] = {{"time", 20},       {"actor", 30},        {"action", 24},
                                         {"target type", 14}, {"target", 36},       {"address", 16},
                                         {"actor name", 30},  {"action label", 30}, {"target label", 40},
                                         {"token id", 10},    {"token name", 30},   {"details", 60}};
    static const export_column without[] = {{"time", 20},       {"actor", 30},        {"action", 24},
                                            {"target type", 14}, {"target", 36},       {"actor name", 30},
                                            {"action label", 30}, {"target label", 40}, {"token id", 10},
                                            {"token name", 30},  {"details", 60}};
    export_file *f;
    os_err e = export_begin(&r->a, EXPORT_CSV, r->user_language, "activity", q.with_address ? with : without,
                            q.with_address ? 12 : 11, &f);
    if (e) return e;
    if ((e = activity_csv(x, &q, f))) {
        export_discard(f);
        return e;
    }
    int fd;
    uint64_t size;
    if ((e = export_end(f, &fd, &size))) return e;
    char day[11];
    text_day(r->now, day);
    reply_file(r, 200, export_content_type(EXPORT_CSV), fd, size,
               arena_printf(&r->a, "activity-%s-%s.csv", r->agreement_license, day));
    return OS_OK;
}
