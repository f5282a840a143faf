/* json_write.h — streaming JSON writer into a buf.
 *
 * Responses are written straight into the request arena instead of building a
 * jansson tree (measured: tree building and dumping dominated a list page). The
 * writer tracks commas and nesting itself; a caller only says begin/key/value/end.
 *
 * Strings must be valid UTF-8: jw_str() refuses invalid input (sets `error`), and
 * escapes quotes, backslashes and control characters. Check jw_ok() once at the end;
 * after an error every further call is a no-op.
 */
#ifndef OPENSEAT_JSON_WRITE_H
#define OPENSEAT_JSON_WRITE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "buf.h"
#include "limits.h"

typedef struct jw {
    buf *out;
    int depth;
    bool first[LIMIT_JSON_DEPTH + 1];  /* nothing written yet at this level */
    bool is_obj[LIMIT_JSON_DEPTH + 1]; /* level is an object (keys required) or an array */
    bool after_key;
    bool error;
} jw;

void jw_init(jw *w, buf *out);
void jw_obj(jw *w);
void jw_obj_end(jw *w);
void jw_arr(jw *w);
void jw_arr_end(jw *w);
void jw_key(jw *w, const char *key);
void jw_str(jw *w, const char *s);                 /* NULL writes null */
void jw_strn(jw *w, const char *s, size_t n);
void jw_int(jw *w, int64_t v);
void jw_bool(jw *w, bool v);
void jw_null(jw *w);
void jw_raw(jw *w, const char *json);              /* trusted, already-valid JSON */
/* Key and already-valid JSON, both left out when json is NULL (optional extension members). */
void jw_kraw_opt(jw *w, const char *k, const char *json);

/* key + value in one call */
void jw_kstr(jw *w, const char *key, const char *s);
void jw_kint(jw *w, const char *key, int64_t v);
void jw_kbool(jw *w, const char *key, bool v);
void jw_knull(jw *w, const char *key);

bool jw_ok(const jw *w);

/* A small JSON object written on the spot and kept as text: a field error's `params`
 * (core/error.h). jw_params_begin opens it in the arena; the caller adds keys with jw_k*;
 * jw_params_end closes it and returns the text, or NULL when it could not be written (an
 * error then goes without params rather than with a broken object). */
typedef struct jw_params {
    buf b;
    jw w;
} jw_params;
jw *jw_params_begin(jw_params *p, arena *a);
const char *jw_params_end(jw_params *p);

/* Length of the valid UTF-8 prefix of s[0..n): equals n when all of it is valid.
 * Rejects overlongs, surrogates and code points above U+10FFFF. */
size_t utf8_valid_prefix(const char *s, size_t n);

#endif
