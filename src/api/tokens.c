/* tokens.c — personal API tokens: the person's own (list, create, revoke; session-only
 * routes) and those that can act on an agreement (its super admins' view and revocation).
 * The token object: {id, name, prefix, agreement: license number|null, capabilities: [names],
 * created_at, expires_at, last_used_at, last_used_address, revoked_at, status:
 * "active"|"expired"|"revoked", owner: {email, name}}; the create answer adds `secret`, the
 * only time it is shown. */
#include <string.h>
#include "api.h"
#include "core/limits.h"
#include "domain/access.h"
#include "domain/numbers.h"
#include "domain/tokens.h"

static void time_or_null(jw *w, arena *a, const char *key, int64_t t) {
    if (t) jw_kstr(w, key, text_iso_time(a, t));
    else jw_knull(w, key);
}

static void write_token(jw *w, req *r, const api_token_rec *t, const char *secret) {
    jw_obj(w);
    jw_kint(w, "id", t->id);
    jw_kstr(w, "name", t->name);
    jw_kstr(w, "prefix", t->prefix);
    if (t->license_number) jw_kstr(w, "agreement", t->license_number);
    else jw_knull(w, "agreement");
    const char *names[CAP_TOKEN_COUNT];
    int n = cap_token_names(t->capabilities, names);
    jw_key(w, "capabilities");
    jw_arr(w);
    for (int i = 0; i < n; i++) jw_str(w, names[i]);
    jw_arr_end(w);
    time_or_null(w, &r->a, "created_at", t->created_at);
    time_or_null(w, &r->a, "expires_at", t->expires_at);
    time_or_null(w, &r->a, "last_used_at", t->last_used_at);
    jw_kstr(w, "last_used_address", t->last_used_address);
    time_or_null(w, &r->a, "revoked_at", t->revoked_at);
    jw_kstr(w, "status", tokens_status(t, r->now));
    jw_key(w, "owner");
    jw_obj(w);
    jw_kstr(w, "email", t->owner_email);
    jw_kstr(w, "name", t->owner_name);
    jw_obj_end(w);
    if (secret) jw_kstr(w, "secret", secret);
    jw_obj_end(w);
}

static void reply_tokens(req *r, const api_token_rec *rows, int n) {
    jw *w = reply_json(r, 200);
    jw_obj(w);
    jw_key(w, "items");
    jw_arr(w);
    for (int i = 0; i < n; i++) write_token(w, r, &rows[i], NULL);
    jw_arr_end(w);
    jw_obj_end(w);
}

os_err h_tokens_list(req *r) {
    api_token_rec *rows;
    int n;
    os_err e = tokens_list(r->x, &rows, &n);
    if (!e) reply_tokens(r, rows, n);
    return e;
}

/* expires_on: a last day "YYYY-MM-DD" from today to LIMIT_TOKEN_MAX_DAYS on (absent or null:
 * LIMIT_TOKEN_DEFAULT_DAYS on), as the instant the token stops working (the next day's start). */
static int64_t body_expires_on(req *r) {
    int64_t today = r->now - r->now % 86400;
    json_t *v = json_object_get(r->json, "expires_on");
    if (!v || json_is_null(v)) return today + (int64_t)(LIMIT_TOKEN_DEFAULT_DAYS + 1) * 86400;
    const char *s = body_str(r, "expires_on", 10, false);
    if (!s) return 0;
    int64_t day;
    if (!text_day_parse(s, &day)) {
        fe_add(&r->fe, "expires_on", "invalid_format", "Use a date YYYY-MM-DD");
        return 0;
    }
    if (day < today || day > today + (int64_t)LIMIT_TOKEN_MAX_DAYS * 86400) {
        fe_add_params(&r->fe, "expires_on", "out_of_range", "From today to a year from now",
                      arena_printf(&r->a, "{\"min\":0,\"max\":%d}", LIMIT_TOKEN_MAX_DAYS));
        return 0;
    }
    return day + 86400;
}

/* capabilities: a non-empty list of names among read, assign, bulk, usage, activity, manage,
 * provisioning. */
static unsigned body_token_capabilities(req *r) {
    static const char allowed[] = "{\"allowed\":[\"read\",\"assign\",\"bulk\",\"usage\",\"activity\",\"manage\",\"provisioning\"]}";
    json_t *v = json_object_get(r->json, "capabilities");
    if (!v || json_is_null(v)) {
        fe_add(&r->fe, "capabilities", "required", "This field is required");
        return 0;
    }
    if (!json_is_array(v) || json_array_size(v) > 16) {
        fe_add(&r->fe, "capabilities", "wrong_type",
               "A list of capabilities: read, assign, bulk, usage, activity, manage, provisioning");
        return 0;
    }
    unsigned caps = 0;
    size_t i;
    json_t *it;
    json_array_foreach(v, i, it) {
        unsigned bit = json_is_string(it) ? cap_token_bit(json_string_value(it)) : 0;
        if (!bit) {
            fe_add_params(&r->fe, "capabilities", "invalid_value",
                          "Each capability is one of read, assign, bulk, usage, activity, manage, provisioning", allowed);
            return 0;
        }
        caps |= bit;
    }
    if (!caps) fe_add(&r->fe, "capabilities", "required", "Name at least one capability");
    return caps;
}

/* agreement: a license number, or null/absent for every agreement the person may act on. */
static const char *body_agreement(req *r, bool *bad) {
    *bad = false;
    json_t *v = json_object_get(r->json, "agreement");
    if (!v || json_is_null(v)) return NULL;
    const char *s = body_str(r, "agreement", LIMIT_QUERY_VALUE_CHARS, true);
    if (!s) return *bad = true, NULL;
    char *lic = arena_alloc(&r->a, LICENSE_DIGITS + 1);
    if (!license_number_normalize(s, lic)) {
        fe_add(&r->fe, "agreement", "unknown_agreement", "No agreement you may act on has this number");
        *bad = true;
        return NULL;
    }
    return lic;
}

os_err h_tokens_create(req *r) {
    token_request in = {0};
    bool bad_agreement;
    in.name = body_str(r, "name", LIMIT_TOKEN_NAME_CHARS, true);
    in.expires_at = body_expires_on(r);
    in.license_number = body_agreement(r, &bad_agreement);
    in.capabilities = body_token_capabilities(r);
    if (fe_any(&r->fe)) return OS_ERR_INVALID;
    api_token_rec t;
    const char *secret;
    os_err e = tokens_create(r->x, &in, &r->fe, &t, &secret);
    if (e == OS_ERR_CONFLICT) {
        r->problem_code = "too_many_tokens";
        r->problem_detail = "You have as many live API tokens as one person may: revoke one you no longer use";
    }
    if (e) return e;
    jw *w = reply_json(r, 201);
    write_token(w, r, &t, secret);
    return OS_OK;
}

os_err h_token_revoke(req *r) {
    int64_t id;
    if (!req_param_id(r, 0, &id)) return OS_ERR_NOT_FOUND;
    os_err e = tokens_revoke_own(r->x, id);
    if (!e) reply_empty(r, 204);
    return e;
}

os_err h_agreement_tokens(req *r) {
    api_token_rec *rows;
    int n;
    os_err e = tokens_of_agreement(r->x, r->agreement_id, &rows, &n);
    if (!e) reply_tokens(r, rows, n);
    return e;
}

os_err h_agreement_token_revoke(req *r) {
    int64_t id;
    if (!req_param_id(r, 1, &id)) return OS_ERR_NOT_FOUND;
    os_err e = tokens_revoke_on_agreement(r->x, r->agreement_id, id);
    if (!e) reply_empty(r, 204);
    return e;
}
