/* fuzz_json_body.c — request bodies through body_parse_json, the field readers and
 * back out through the JSON writer.
 *
 * Properties checked (abort() on violation, so libFuzzer records the input):
 *  - body_parse_json either yields an object or refuses with a non-empty reason;
 *  - each field reader either returns a value obeying its contract or records exactly
 *    one field error, never both and never more than one;
 *  - re-writing the parsed body with the jw_* writer gives jw_ok() and JSON that jansson
 *    reads back as an equal value (the writer's escaping is what clients depend on);
 *  - the raw input, written as one JSON string with jw_strn, round-trips byte for byte
 *    when it is valid UTF-8 and is refused when it is not.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/limits.h"
#include "http/http.h"

#include "fuzz_check.h"

static bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }

static bool valid_utf8(const char *s) { return utf8_valid_prefix(s, strlen(s)) == strlen(s); }

/* Code points in valid UTF-8: the unit the readers' min/max are expressed in. */
static size_t code_points(const char *s) {
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80) n++;
    return n;
}

/* Runs one reader call's bookkeeping check: a value and a new error are exclusive, and
 * at most one error is recorded per call. */
static void check_outcome(req *r, int before, const char *v) {
    int added = r->fe.count - before;
    CHECK(added == 0 || added == 1);
    if (v) CHECK(added == 0);
    if (added) {
        CHECK(r->fe.tail && r->fe.tail->code && r->fe.tail->field && r->fe.tail->message);
    }
}

static void check_str(req *r, const char *field, size_t max, bool required) {
    int before = r->fe.count;
    const char *v = body_str(r, field, max, required);
    check_outcome(r, before, v);
    if (!v) {
        /* Absent optional fields record nothing; absent required ones say so. */
        if (!json_object_get(r->json, field) && !required) CHECK(r->fe.count == before);
        if (!json_object_get(r->json, field) && required) CHECK(r->fe.count == before + 1);
        return;
    }
    size_t n = strlen(v);
    CHECK(n > 0 && code_points(v) <= max);
    CHECK(!is_ws(v[0]) && !is_ws(v[n - 1]));
    for (size_t i = 0; i < n; i++) CHECK((unsigned char)v[i] >= 0x20 || v[i] == '\t');
    CHECK(valid_utf8(v));
}

static void check_str_raw(req *r, const char *field, size_t min, size_t max, bool required) {
    int before = r->fe.count;
    const char *v = body_str_raw(r, field, min, max, required);
    check_outcome(r, before, v);
    if (!v) return;
    size_t n = strlen(v), chars = code_points(v);
    CHECK(chars >= min && chars <= max);
    CHECK(valid_utf8(v));
    /* Raw means unchanged: the value equals the JSON string exactly. */
    json_t *j = json_object_get(r->json, field);
    CHECK(json_is_string(j) && json_string_length(j) == n && memcmp(json_string_value(j), v, n) == 0);
}

static void check_email(req *r, const char *field, bool required) {
    int before = r->fe.count;
    const char *v = body_email(r, field, required);
    check_outcome(r, before, v);
    if (!v) return;
    size_t n = strlen(v);
    CHECK(n >= 3 && n <= LIMIT_EMAIL_BYTES);
    const char *at = strchr(v, '@');
    CHECK(at && at != v && !strchr(at + 1, '@'));
    for (size_t i = 0; i < n; i++) CHECK((unsigned char)v[i] > 0x20 && v[i] != 0x7f && !(v[i] >= 'A' && v[i] <= 'Z'));
    CHECK(valid_utf8(v));
    /* Normalisation is idempotent. */
    const char *again = email_normalize(&r->a, v);
    CHECK(again && strcmp(again, v) == 0);
}

static void check_enum(req *r, const char *field, bool required) {
    static const char *const allowed[] = {"en", "fr", "admin", "member", "", NULL};
    int before = r->fe.count;
    const char *v = body_enum(r, field, allowed, required);
    check_outcome(r, before, v);
    if (!v) return;
    bool found = false;
    for (int i = 0; allowed[i]; i++)
        if (v == allowed[i]) found = true;
    CHECK(found);
}

/* Writes any jansson value with the streaming writer. Reals go through jw_raw with
 * enough digits to round-trip exactly, and always look like reals. */
static void write_value(jw *w, json_t *v) {
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *k;
        json_t *x;
        jw_obj(w);
        json_object_foreach(v, k, x) {
            jw_key(w, k);
            write_value(w, x);
        }
        jw_obj_end(w);
        break;
    }
    case JSON_ARRAY: {
        size_t i;
        json_t *x;
        jw_arr(w);
        json_array_foreach(v, i, x) write_value(w, x);
        jw_arr_end(w);
        break;
    }
    case JSON_STRING: jw_strn(w, json_string_value(v), json_string_length(v)); break;
    case JSON_INTEGER: jw_int(w, (int64_t)json_integer_value(v)); break;
    case JSON_REAL: {
        char num[64];
        int len = snprintf(num, sizeof num, "%.17g", json_real_value(v));
        if (!strpbrk(num, ".eE") && len > 0 && (size_t)len + 3 <= sizeof num) memcpy(num + len, ".0", 3);
        jw_raw(w, num);
        break;
    }
    case JSON_TRUE: jw_bool(w, true); break;
    case JSON_FALSE: jw_bool(w, false); break;
    case JSON_NULL: jw_null(w); break;
    }
}

static void check_rewrite(arena *a, json_t *body) {
    buf b;
    buf_init(&b, a, 16u << 20);
    jw w;
    jw_init(&w, &b);
    write_value(&w, body);
    CHECK(jw_ok(&w));
    json_error_t je;
    json_t *back = json_loadb(b.data, b.len, JSON_REJECT_DUPLICATES, &je);
    if (!back) fprintf(stderr, "writer output not JSON: %s\n%.*s\n", je.text, (int)b.len, b.data);
    CHECK(back != NULL);
    CHECK(json_equal(body, back));
    json_decref(back);
}

/* The whole input as one JSON string value. */
static void check_raw_string(arena *a, const char *data, size_t size) {
    buf b;
    buf_init(&b, a, 16u << 20);
    jw w;
    jw_init(&w, &b);
    jw_strn(&w, data, size);
    bool valid = utf8_valid_prefix(data, size) == size;
    CHECK(jw_ok(&w) == valid);
    if (!valid) return;
    json_error_t je;
    json_t *s = json_loadb(b.data, b.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
    if (!s) fprintf(stderr, "jw_strn output not JSON: %s\n%.*s\n", je.text, (int)b.len, b.data);
    CHECK(s && json_is_string(s));
    CHECK(json_string_length(s) == size && memcmp(json_string_value(s), data, size) == 0);
    json_decref(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *text = (const char *)data;
    req r;
    memset(&r, 0, sizeof r);
    arena_init(&r.a, LIMIT_ARENA_BYTES);
    fe_init(&r.fe, &r.a);

    check_raw_string(&r.a, text, size);

    char detail[256];
    detail[0] = 0;
    json_t *j = (json_t *)&r;   /* must be overwritten either way */
    os_err e = body_parse_json(text, size, &j, detail, sizeof detail);
    if (e != OS_OK) {
        CHECK(e == OS_ERR_INVALID);
        CHECK(j == NULL);
        CHECK(detail[0] != 0 && memchr(detail, 0, sizeof detail));
        arena_free(&r.a);
        return 0;
    }
    CHECK(j && json_is_object(j));
    r.json = j;

    /* The names real handlers read, plus every key the input itself uses. */
    check_str(&r, "name", LIMIT_NAME_BYTES, true);
    check_str(&r, "title", 8, false);
    check_str_raw(&r, "password", LIMIT_PASSWORD_MIN, LIMIT_PASSWORD_MAX, true);
    check_email(&r, "email", true);
    check_email(&r, "new_email", false);
    check_enum(&r, "language", false);
    check_enum(&r, "role", true);
    const char *k;
    json_t *v;
    json_object_foreach(j, k, v) {
        check_str(&r, k, 16, true);
        check_str_raw(&r, k, 2, 32, false);
        check_email(&r, k, false);
        check_enum(&r, k, true);
    }

    check_rewrite(&r.a, j);

    json_decref(j);
    arena_free(&r.a);
    return 0;
}
