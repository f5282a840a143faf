/* body.c — request-body JSON parsing and bounded field readers; see http.h.
 *
 * jansson parses; before it does, a linear pre-scan rejects invalid UTF-8 and nesting
 * deeper than LIMIT_JSON_DEPTH, so hostile input cannot make the parser recurse deep.
 */
#include <stdio.h>
#include <string.h>
#include "core/countries.h"
#include "core/limits.h"
#include "http.h"

static bool depth_ok(const char *s, size_t n) {
    int depth = 0;
    bool in_str = false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (in_str) {
            if (c == '\\') i++;
            else if (c == '"') in_str = false;
            continue;
        }
        if (c == '"') in_str = true;
        else if (c == '{' || c == '[') {
            if (++depth > LIMIT_JSON_DEPTH) return false;
        } else if (c == '}' || c == ']') depth--;
    }
    return true;
}

os_err body_parse_json(const char *data, size_t len, json_t **out, char *detail, size_t detail_len) {
    *out = NULL;
    if (len == 0) {
        snprintf(detail, detail_len, "the request body is empty; a JSON object is expected");
        return OS_ERR_INVALID;
    }
    size_t valid = utf8_valid_prefix(data, len);
    if (valid != len) {
        snprintf(detail, detail_len, "the request body is not valid UTF-8 (byte %zu)", valid + 1);
        return OS_ERR_INVALID;
    }
    if (!depth_ok(data, len)) {
        snprintf(detail, detail_len, "the JSON nests deeper than %d levels", LIMIT_JSON_DEPTH);
        return OS_ERR_INVALID;
    }
    size_t k = 0;
    while (k < len && (data[k] == ' ' || data[k] == '\t' || data[k] == '\r' || data[k] == '\n')) k++;
    if (k < len && data[k] != '{' && data[k] != '[') {
        snprintf(detail, detail_len, "the request body must be a JSON object");
        return OS_ERR_INVALID;
    }
    json_error_t je;
    json_t *j = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);
    if (!j) {
        snprintf(detail, detail_len, "malformed JSON at line %d, column %d: %s", je.line, je.column, je.text);
        return OS_ERR_INVALID;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        snprintf(detail, detail_len, "the request body must be a JSON object");
        return OS_ERR_INVALID;
    }
    *out = j;
    return OS_OK;
}

/* Looks the field up and checks it is a string; records wrong_type/required. */
static const char *raw_field(req *r, const char *field, bool required) {
    json_t *v = r->json ? json_object_get(r->json, field) : NULL;
    if (!v || json_is_null(v)) {
        if (required) fe_add(&r->fe, field, "required", "This field is required");
        return NULL;
    }
    if (!json_is_string(v)) {
        fe_add(&r->fe, field, "wrong_type", "This field must be a text string");
        return NULL;
    }
    const char *s = json_string_value(v);
    if (strlen(s) != json_string_length(v)) {   /* embedded NUL (\u0000) */
        fe_add(&r->fe, field, "invalid_value", "This field contains a NUL character");
        return NULL;
    }
    return s;
}

const char *body_str(req *r, const char *field, size_t max, bool required) {
    const char *s = raw_field(r, field, required);
    if (!s) return NULL;
    char *t = text_trim(&r->a, s);
    if (!*t) {
        if (required) fe_add(&r->fe, field, "required", "This field is required");
        return NULL;
    }
    if (utf8_chars(t) > max) {
        fe_add(&r->fe, field, "too_long", arena_printf(&r->a, "At most %zu characters", max));
        return NULL;
    }
    for (const char *p = t; *p; p++)
        if ((unsigned char)*p < 0x20 && *p != '\t') {
            fe_add(&r->fe, field, "invalid_value", "This field contains control characters");
            return NULL;
        }
    return t;
}

const char *body_str_raw(req *r, const char *field, size_t min, size_t max, bool required) {
    const char *s = raw_field(r, field, required);
    if (!s) return NULL;
    size_t n = strlen(s), chars = utf8_chars(s);
    if (n == 0 && required) {
        fe_add(&r->fe, field, "required", "This field is required");
        return NULL;
    }
    if (chars < min) {
        fe_add(&r->fe, field, "too_short", arena_printf(&r->a, "At least %zu characters", min));
        return NULL;
    }
    if (chars > max) {
        fe_add(&r->fe, field, "too_long", arena_printf(&r->a, "At most %zu characters", max));
        return NULL;
    }
    return arena_strndup(&r->a, s, n);
}

const char *body_email(req *r, const char *field, bool required) {
    const char *s = raw_field(r, field, required);
    if (!s) return NULL;
    if (!*text_trim(&r->a, s)) {   /* blank counts as absent, as for other text fields */
        if (required) fe_add(&r->fe, field, "required", "This field is required");
        return NULL;
    }
    const char *e = email_normalize(&r->a, s);
    if (!e) fe_add(&r->fe, field, "invalid_email", "Enter a valid e-mail address");
    return e;
}

const char *body_choice(req *r, const char *field, const char *const *allowed, bool required, const char *message,
                        const char *params) {
    const char *s = raw_field(r, field, required);
    if (!s) return NULL;
    for (int i = 0; allowed[i]; i++)
        if (!strcmp(s, allowed[i])) return allowed[i];
    fe_add_params(&r->fe, field, "invalid_value", message, params);
    return NULL;
}

const char *body_enum(req *r, const char *field, const char *const *allowed, bool required) {
    return body_choice(r, field, allowed, required, "This value is not one of the allowed values", NULL);
}

const char *body_country(req *r, const char *field, bool required, const char *params) {
    const char *c = body_str(r, field, 2, required);
    if (!c) return NULL;
    if (strlen(c) != 2 || c[0] < 'A' || c[0] > 'Z' || c[1] < 'A' || c[1] > 'Z') {
        fe_add_params(&r->fe, field, "invalid_value", "Use a two-letter country code in capitals, e.g. FR", params);
        return NULL;
    }
    if (!country_code_known(c)) {
        fe_add_params(&r->fe, field, "invalid_value", arena_printf(&r->a, "%s is not an ISO 3166-1 country code", c),
                      params);
        return NULL;
    }
    return c;
}
