/* partner_view.c — the JSON of partner relationships and requests, shared by the customer's
 * Partners page, the decisions on requests and the partner organization's page, and the body
 * readers for what those routes take (capabilities, a last day of access). */
#include <string.h>
#include "api.h"
#include "core/limits.h"
#include "domain/access.h"
#include "domain/partner_access.h"

unsigned body_capabilities(req *r, const char *field, bool required, unsigned dflt) {
    json_t *v = json_object_get(r->json, field);
    if (!v || json_is_null(v)) {
        if (required) fe_add(&r->fe, field, "required", "This field is required");
        return dflt;
    }
    if (!json_is_array(v) || json_array_size(v) > 16) {
        fe_add(&r->fe, field, "wrong_type", "A list of capabilities: read, assign, bulk, usage, activity");
        return 0;
    }
    unsigned caps = 0;
    size_t i;
    json_t *it;
    json_array_foreach(v, i, it) {
        unsigned bit = json_is_string(it) ? cap_bit(json_string_value(it)) : 0;
        if (!bit) {
            fe_add_params(&r->fe, field, "invalid_value", "Each capability is one of read, assign, bulk, usage, activity",
                          "{\"allowed\":[\"read\",\"assign\",\"bulk\",\"usage\",\"activity\"]}");
            return 0;
        }
        caps |= bit;
    }
    if (!(caps & CAP_READ)) {
        fe_add(&r->fe, field, "read_required", "Every partner access includes read");
        return 0;
    }
    return caps;
}

int64_t body_ends_on(req *r, const char *field, bool required) {
    const char *s = body_str(r, field, 10, required);
    if (!s) return 0;
    int64_t day;
    if (!text_day_parse(s, &day)) {
        fe_add(&r->fe, field, "invalid_format", "Use a date YYYY-MM-DD");
        return 0;
    }
    int64_t today = r->now - r->now % 86400;
    if (day < today || day >= today + (int64_t)LIMIT_PARTNER_PERIOD_DAYS_MAX * 86400) {
        fe_add_params(&r->fe, field, "out_of_range", "From today to two years from now",
                      arena_printf(&r->a, "{\"min\":%lld,\"max\":%d}", 0LL, LIMIT_PARTNER_PERIOD_DAYS_MAX - 1));
        return 0;
    }
    return day + 86400;   /* access ends when the last day does */
}

void api_write_capabilities(jw *w, const char *key, unsigned caps) {
    const char *names[CAP_COUNT];
    int n = cap_names(caps, names);
    jw_key(w, key);
    jw_arr(w);
    for (int i = 0; i < n; i++) jw_str(w, names[i]);
    jw_arr_end(w);
}

static void write_ends(jw *w, arena *a, int64_t ends_at) {
    jw_kint(w, "ends_at", ends_at);
    jw_kstr(w, "ends_on", partner_last_day(a, ends_at));
}

/* A number, or null for 0 (a time not reached, a period that runs to the agreement's end). */
static void write_int_or_null(jw *w, const char *key, int64_t t) {
    jw_key(w, key);
    if (t) jw_int(w, t);
    else jw_null(w);
}

static void write_org(jw *w, int64_t id, const char *name) {
    jw_key(w, "organization");
    jw_obj(w);
    jw_kint(w, "id", id);
    jw_kstr(w, "name", name);
    jw_obj_end(w);
}

void api_write_partner_request(jw *w, arena *a, const partner_request_rec *q) {
    jw_obj(w);
    jw_kint(w, "id", q->id);
    jw_kint(w, "relationship_id", q->relationship_id);
    jw_kstr(w, "kind", q->kind);
    jw_kstr(w, "status", q->status);
    write_org(w, q->partner_org_id, q->org_name);
    jw_kstr(w, "license_number", q->license_number);
    api_write_capabilities(w, "capabilities", q->capabilities);
    write_ends(w, a, q->ends_at);
    write_int_or_null(w, "period_days", q->period_days);
    jw_key(w, "requested_by");
    jw_obj(w);
    jw_kstr(w, "name", q->requested_by_name);
    jw_kstr(w, "email", q->requested_by_email);
    jw_obj_end(w);
    jw_kint(w, "created_at", q->created_at);
    jw_kint(w, "lapses_at", q->lapses_at);
    write_int_or_null(w, "decided_at", q->decided_at);
    jw_kstr(w, "reason", q->reason);
    jw_obj_end(w);
}

void api_write_relationship(jw *w, arena *a, const rel_rec *x, const rel_person_rec *people, int npeople,
                            const partner_request_rec *open) {
    jw_obj(w);
    jw_kint(w, "id", x->id);
    write_org(w, x->partner_org_id, x->org_name);
    jw_key(w, "agreement");
    jw_obj(w);
    jw_kstr(w, "license_number", x->license_number);
    jw_kstr(w, "customer_name", x->customer_name);
    jw_obj_end(w);
    jw_kstr(w, "status", x->status);
    api_write_capabilities(w, "capabilities", x->capabilities);
    jw_kstr(w, "people", x->named ? "named" : "all");
    jw_key(w, "named_people");
    jw_arr(w);
    for (int i = 0; x->named && i < npeople; i++) {
        if (people[i].relationship_id != x->id) continue;
        jw_obj(w);
        jw_kint(w, "id", people[i].member_id);
        jw_kstr(w, "name", people[i].name);
        jw_kstr(w, "email", people[i].email);
        jw_obj_end(w);
    }
    jw_arr_end(w);
    write_int_or_null(w, "starts_at", x->starts_at);
    write_ends(w, a, x->ends_at);
    write_int_or_null(w, "period_days", x->period_days);
    jw_kbool(w, "auto_renew", x->auto_renew);
    jw_kstr(w, "route", x->route);
    jw_kint(w, "created_at", x->created_at);
    write_int_or_null(w, "ended_at", x->ended_at);
    jw_kstr(w, "ended_by", x->ended_by_name);
    write_int_or_null(w, "last_action_at", x->last_action_at);
    jw_key(w, "pending_request");
    if (open) api_write_partner_request(w, a, open);
    else jw_null(w);
    jw_obj_end(w);
}
