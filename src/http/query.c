/* query.c — bounded readers for query-string parameters; see http.h.
 *
 * The pipeline has parsed the query string before any handler runs (a malformed one, or one
 * with more than LIMIT_QUERY_PARAMS parameters, is a 400 `bad_query`), so every value here is
 * UTF-8 without NUL and within LIMIT_URL_BYTES. The readers turn those strings into typed
 * values and say what is wrong with one in r->fe, under the parameter's name, as the body's
 * readers do for fields: a handler reads all its parameters, then answers every problem at
 * once.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "http.h"

const char *query_str(req *r, const char *name, size_t max_chars) {
    const char *v = qs_get(&r->query, name);
    if (!v || !*v) return NULL;
    if (utf8_chars(v) > max_chars)
        fe_add(&r->fe, name, "too_long", arena_printf(&r->a, "At most %zu characters", max_chars));
    return v;
}

const char *query_token(req *r, const char *name, size_t max_chars) {
    const char *v = qs_get(&r->query, name);
    if (v && utf8_chars(v) > max_chars) {
        fe_add(&r->fe, name, "too_long", arena_printf(&r->a, "At most %zu characters", max_chars));
        return NULL;
    }
    return v;
}

/* v as a whole number from min to max (strtoll's reading), into *out. A number beyond
 * long long is refused, not read as strtoll's clamped LLONG_MAX: an id that large would
 * otherwise pass for a real one. */
static bool whole_number(const char *v, int64_t min, int64_t max, int64_t *out) {
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (end == v || *end || errno == ERANGE || n < min || n > max) return false;
    *out = n;
    return true;
}

int64_t query_int(req *r, const char *name, int64_t min, int64_t max, int64_t dflt) {
    const char *v = qs_get(&r->query, name);
    int64_t n;
    if (!v) return dflt;
    if (whole_number(v, min, max, &n)) return n;
    fe_add(&r->fe, name, "out_of_range", arena_printf(&r->a, "From %lld to %lld", (long long)min, (long long)max));
    return dflt;
}

int64_t query_id(req *r, const char *name, const char *hint) {
    const char *v = qs_get(&r->query, name);
    int64_t n;
    if (!v) return 0;
    if (whole_number(v, 1, INT64_MAX, &n)) return n;
    fe_add(&r->fe, name, "invalid_value", hint);
    return 0;
}

int query_enum(req *r, const char *name, const char *const *names, int dflt, const char *hint) {
    const char *v = qs_get(&r->query, name);
    if (!v) return dflt;
    for (int i = 0; names[i]; i++)
        if (!strcmp(v, names[i])) return i;
    fe_add(&r->fe, name, "invalid_value", hint);
    return -1;
}

bool query_bool(req *r, const char *name, bool dflt) {
    static const char *const names[] = {"false", "true", NULL};
    int i = query_enum(r, name, names, dflt, "Use true or false");
    return i < 0 ? dflt : i == 1;
}

int64_t query_date(req *r, const char *name, bool end_of_day) {
    const char *v = qs_get(&r->query, name);
    if (!v || !*v) return 0;
    struct tm tm = {0};
    const char *rest = strptime(v, "%Y-%m-%d", &tm);
    if (!rest || *rest) {
        fe_add(&r->fe, name, "invalid_value", "Use a date YYYY-MM-DD");
        return 0;
    }
    return (int64_t)timegm(&tm) + (end_of_day ? 24 * 3600 - 1 : 0);
}
