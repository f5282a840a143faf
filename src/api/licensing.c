/* licensing.c — licensing service center routes: levels, relationship summary, license
 * details, orders, the hand-off link, and the portal's agreement list. */
#include <string.h>
#include "api.h"
#include "core/limits.h"
#include "core/secret.h"
#include "domain/licensing.h"

static const char *const languages[] = {"en", "fr", NULL};

os_err h_levels(req *r) {
    return licensing_write_levels(r->x, r->user_language, reply_json(r, 200));
}

os_err h_lsc_relationships(req *r) {
    return licensing_write_relationships(r->x, reply_json(r, 200));
}

os_err h_portal_agreements(req *r) {
    return licensing_write_portal_agreements(r->x, reply_json(r, 200));
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
    return licensing_write_license(r->x, lic, reply_json(r, 200));
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
    in.customer_country = body_country(r, "customer_country", false);
    in.language = body_enum(r, "language", languages, false);
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
    licensing_write_lines(w, lines, nlines, 0);
    jw_obj_end(w);
    jw_key(w, "agreement");
    if ((e = licensing_write_license(x, out.license_number, w))) return e;
    jw_obj_end(w);
    if (!out.replayed) reply_header(r, "Location", arena_printf(&r->a, "/api/v1/lsc/licenses/%s", out.license_number));
    return OS_OK;
}
