/* licensing.c — licensing service center routes: levels, relationship summary, license
 * details, orders, the hand-off link, and the portal's agreement list. */
#include <string.h>
#include "api.h"
#include "core/limits.h"
#include "core/secret.h"
#include "domain/licensing.h"

const char *api_in_language(const char *lang, const char *en, const char *fr) {
    return lang && !strcmp(lang, "fr") ? fr : en;
}

static void write_dates(jw *w, const char *start, const char *end, bool disabled, int64_t now) {
    jw_kstr(w, "start_date", start);
    jw_kstr(w, "end_date", end);
    jw_kstr(w, "status", licensing_status(end, disabled, now));
}

void api_write_agreement_head(jw *w, const agreement_rec *g, int64_t now) {
    jw_kstr(w, "license_number", g->license_number);
    jw_kstr(w, "program", g->program);
    jw_key(w, "customer");
    jw_obj(w);
    jw_kstr(w, "name", g->customer_name);
    jw_kstr(w, "country", g->customer_country);
    jw_obj_end(w);
    write_dates(w, g->start_date, g->end_date, g->disabled, now);
}

/* "lines":[{level, quantity}] of one order (order_id), or of all (0). */
static void write_lines(jw *w, const order_line_rec *lines, int n, int64_t order_id) {
    jw_key(w, "lines");
    jw_arr(w);
    for (int k = 0; k < n; k++) {
        if (order_id && lines[k].order_id != order_id) continue;
        jw_obj(w);
        jw_kstr(w, "level", lines[k].level_code);
        jw_kint(w, "quantity", lines[k].quantity);
        jw_obj_end(w);
    }
    jw_arr_end(w);
}

/* The license details object: the agreement's head, customer_email, partner{name},
 * relation, authorization_number, pools, orders (with their lines), contacts, and
 * handoff_url for its partner. */
static os_err write_license(req *r, const char *license_number, jw *w) {
    license_detail d;
    os_err e = licensing_license(r->x, license_number, &d);
    if (e) return e;
    jw_obj(w);
    api_write_agreement_head(w, &d.g, r->now);
    jw_kstr(w, "customer_email", d.g.customer_email);
    jw_key(w, "partner");
    jw_obj(w);
    jw_kstr(w, "name", d.g.partner_name);
    jw_obj_end(w);
    jw_kstr(w, "relation", d.is_partner ? "partner" : "customer");
    jw_kstr(w, "authorization_number", d.authorization_number);
    jw_key(w, "pools");
    jw_arr(w);
    for (int i = 0; i < d.npools; i++) {
        jw_obj(w);
        jw_kstr(w, "level", d.pools[i].level_code);
        jw_kstr(w, "level_name", api_in_language(d.language, d.pools[i].name_en, d.pools[i].name_fr));
        jw_kint(w, "purchased", d.pools[i].purchased);
        jw_obj_end(w);
    }
    jw_arr_end(w);
    jw_key(w, "orders");
    jw_arr(w);
    for (int i = 0; i < d.norders; i++) {
        const order_rec *o = &d.orders[i];
        char placed[11];
        text_day(o->created_at, placed);
        jw_obj(w);
        jw_kint(w, "id", o->id);
        jw_kstr(w, "placed_at", placed);
        jw_kstr(w, "placed_by", o->placed_by_name ? o->placed_by_name : o->partner_name);
        jw_kstr(w, "partner", o->partner_name);
        jw_kstr(w, "po_reference", o->po_reference);
        write_lines(w, d.lines, d.nlines, o->id);
        jw_obj_end(w);
    }
    jw_arr_end(w);
    jw_key(w, "contacts");
    jw_arr(w);
    for (int i = 0; i < d.ncontacts; i++) {
        jw_obj(w);
        jw_kstr(w, "role", d.contacts[i].role);
        jw_kstr(w, "name", d.contacts[i].name);
        jw_kstr(w, "email", d.contacts[i].email);
        jw_obj_end(w);
    }
    jw_arr_end(w);
    if (d.is_partner)
        jw_kstr(w, "handoff_url", arena_printf(&r->a, "/api/v1/lsc/licenses/%s/handoff", d.g.license_number));
    jw_obj_end(w);
    return OS_OK;
}

/* {"agreements":[{license_number, customer{name,country}, program, start_date, end_date,
 *  status, <tag_key>}]} */
static void write_summaries(req *r, const agreement_summary_rec *rows, int n, const char *tag_key) {
    jw *w = reply_json(r, 200);
    jw_obj(w);
    jw_key(w, "agreements");
    jw_arr(w);
    for (int i = 0; i < n; i++) {
        jw_obj(w);
        jw_kstr(w, "license_number", rows[i].license_number);
        jw_key(w, "customer");
        jw_obj(w);
        jw_kstr(w, "name", rows[i].customer_name);
        jw_kstr(w, "country", rows[i].customer_country);
        jw_obj_end(w);
        jw_kstr(w, "program", rows[i].program);
        write_dates(w, rows[i].start_date, rows[i].end_date, rows[i].disabled, r->now);
        jw_kstr(w, tag_key, rows[i].tag);
        jw_obj_end(w);
    }
    jw_arr_end(w);
    jw_obj_end(w);
}

/* {"levels":[{code, name}]}, names in the reader's language. */
os_err h_levels(req *r) {
    level_rec *levels;
    int n;
    os_err e = licensing_levels(r->x, &levels, &n);
    if (e) return e;
    jw *w = reply_json(r, 200);
    jw_obj(w);
    jw_key(w, "levels");
    jw_arr(w);
    for (int i = 0; i < n; i++) {
        jw_obj(w);
        jw_kstr(w, "code", levels[i].code);
        jw_kstr(w, "name", api_in_language(r->user_language, levels[i].name_en, levels[i].name_fr));
        jw_obj_end(w);
    }
    jw_arr_end(w);
    jw_obj_end(w);
    return OS_OK;
}

os_err h_lsc_relationships(req *r) {
    agreement_summary_rec *rows;
    int n;
    os_err e = licensing_relationships(r->x, &rows, &n);
    if (!e) write_summaries(r, rows, n, "relation");
    return e;
}

os_err h_portal_agreements(req *r) {
    agreement_summary_rec *rows;
    int n;
    os_err e = licensing_portal_agreements(r->x, &rows, &n);
    if (!e) write_summaries(r, rows, n, "role");
    return e;
}

/* A path's license number, or NULL when it cannot be one (then: 404). */
static const char *path_license(req *r) {
    char *lic = arena_alloc(&r->a, LICENSE_DIGITS + 1);
    const char *p = req_param(r, 0);
    return p && license_number_normalize(p, lic) ? lic : NULL;
}

os_err h_lsc_license(req *r) {
    const char *lic = path_license(r);
    if (!lic) return OS_ERR_NOT_FOUND;
    return write_license(r, lic, reply_json(r, 200));
}

os_err h_lsc_handoff(req *r) {
    const char *lic = path_license(r);
    if (!lic) return OS_ERR_NOT_FOUND;
    op_ctx *x = r->x;
    const char *url;
    os_err e = licensing_handoff_url(x, lic, &url);
    if (e) return e;
    reply_redirect(r, url);
    return OS_OK;
}

/* lines: [{level, quantity}], each checked for shape here; the domain checks the values. */
static order_line_in *lines_field(req *r, int *n) {
    json_t *arr = json_object_get(r->json, "lines");
    *n = 0;
    if (!arr || json_is_null(arr)) return NULL;
    if (!json_is_array(arr)) {
        fe_add(&r->fe, "lines", "wrong_type", "lines must be a list of {level, quantity}");
        return NULL;
    }
    size_t count = json_array_size(arr);
    if (count > ORDER_MAX_LINES) count = ORDER_MAX_LINES + 1;   /* the domain reports the excess */
    order_line_in *lines = arena_alloc(&r->a, sizeof *lines * (count ? count : 1));
    for (size_t i = 0; i < count; i++) {
        json_t *item = json_array_get(arr, i);
        json_t *lv = json_object_get(item, "level"), *q = json_object_get(item, "quantity");
        if (!json_is_object(item)) {
            fe_add(&r->fe, arena_printf(&r->a, "lines[%zu]", i), "wrong_type", "Each line must be an object");
            continue;
        }
        if (lv && !json_is_string(lv))
            fe_add(&r->fe, arena_printf(&r->a, "lines[%zu].level", i), "wrong_type", "level must be a text code");
        else if (lv)
            lines[i].level = arena_strndup(&r->a, json_string_value(lv), 64);
        if (!q || !json_is_integer(q))
            fe_add(&r->fe, arena_printf(&r->a, "lines[%zu].quantity", i), q ? "wrong_type" : "required",
                   "quantity must be a whole number");
        else
            lines[i].quantity = json_integer_value(q);
    }
    *n = (int)count;
    return lines;
}

/* The Idempotency-Key header, checked: 1–128 visible ASCII characters. */
static const char *idempotency_key(req *r, bool *bad) {
    const char *k = req_header(r, "Idempotency-Key");
    *bad = false;
    if (!k) return NULL;
    size_t n = strlen(k);
    *bad = n == 0 || n > 128;
    for (size_t i = 0; i < n && !*bad; i++)
        if (k[i] < 0x21 || k[i] > 0x7e) *bad = true;
    return *bad ? NULL : k;
}

os_err h_order_create(req *r) {
    order_in in = {0};
    in.customer_name = body_str(r, "customer_name", LIMIT_NAME_BYTES, false);
    in.customer_email = body_email(r, "customer_email", false);
    in.customer_country = body_country(r, "customer_country", false, NULL);
    in.language = body_enum(r, "language", api_languages, false);
    in.po_reference = body_str(r, "po_reference", 100, false);
    const char *lic = body_str(r, "license_number", 16, false);
    if (lic) {
        char *norm = arena_alloc(&r->a, LICENSE_DIGITS + 1);
        if (license_number_normalize(lic, norm)) in.license_number = norm;
        else fe_add(&r->fe, "license_number", "invalid_value", "A license number has 8 digits");
    }
    in.lines = lines_field(r, &in.nlines);
    bool bad_key;
    in.idempotency_key = idempotency_key(r, &bad_key);
    if (bad_key) fe_add(&r->fe, "Idempotency-Key", "invalid_value", "Use 1 to 128 visible ASCII characters");
    if (in.idempotency_key) {
        /* The canonical form of the body: a retry with reordered keys is the same request. */
        char *canon = json_dumps(r->json, JSON_SORT_KEYS | JSON_COMPACT);
        char *hash = arena_alloc(&r->a, SECRET_HASH_HEX);
        secret_hash_hex(canon ? canon : "", canon ? strlen(canon) : 0, hash);
        free(canon);   /* checksrc: allow alloc — json_dumps hands over memory it malloc'd */
        in.request_hash = hash;
    }
    op_ctx *x = r->x;
    order_out out;
    os_err e = licensing_place_order(x, &in, &r->fe, &out);
    if (e == OS_ERR_FORBIDDEN) r->problem_detail = "Only partner users can place orders";
    if (e == OS_ERR_CONFLICT) r->problem_detail = "This Idempotency-Key was used for a different order";
    if (e) return e;
    order_line_rec *lines;
    int nlines;
    if ((e = st_order_lines_of(x->c, &r->a, out.order_id, &lines, &nlines))) return e;
    jw *w = reply_json(r, out.replayed ? 200 : 201);
    jw_obj(w);
    jw_key(w, "order");
    jw_obj(w);
    jw_kint(w, "id", out.order_id);
    jw_kstr(w, "license_number", out.license_number);
    jw_kbool(w, "replayed", out.replayed);
    write_lines(w, lines, nlines, 0);
    jw_obj_end(w);
    jw_key(w, "agreement");
    if ((e = write_license(r, out.license_number, w))) return e;
    jw_obj_end(w);
    if (!out.replayed) reply_header(r, "Location", arena_printf(&r->a, "/api/v1/lsc/licenses/%s", out.license_number));
    return OS_OK;
}
