/* text.h — small, bounded text helpers: e-mail normalisation, trimming, query strings.
 *
 * All outputs are arena-owned. Nothing here allocates from the heap.
 */
#ifndef OPENSEAT_TEXT_H
#define OPENSEAT_TEXT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "arena.h"

/* Trimmed copy of s (ASCII white space at both ends). */
char *text_trim(arena *a, const char *s);

/* Normalise an e-mail address: trim, lower-case (ASCII), and check its shape
 * (one '@', non-empty local part and a dotted domain, no spaces or control chars,
 * at most LIMIT_EMAIL_BYTES). Returns NULL when it is not an address. */
char *email_normalize(arena *a, const char *s);

/* UTC calendar day "YYYY-MM-DD" of a Unix time. */
void text_day(int64_t t, char out[11]);
/* The Unix time at which the UTC day "YYYY-MM-DD" begins; false unless s is exactly such a
 * date (ten characters, a real day). */
bool text_day_parse(const char *s, int64_t *start);
/* UTC "YYYY-MM-DDTHH:MM:SSZ" of a Unix time, arena-owned. */
const char *text_iso_time(arena *a, int64_t t);
/* The same into out, without allocating (for long streams of times). */
void text_iso_time_into(int64_t t, char out[32]);

/* Number of characters (code points) in valid UTF-8 text. */
size_t utf8_chars(const char *s);

/* The domain part of a normalised address (points into it). */
const char *email_domain(const char *email);

/* Percent-decode (and '+' as space when form is true) into an arena string.
 * Returns NULL on a malformed escape or when the result is not valid UTF-8 or has NUL. */
char *url_decode(arena *a, const char *s, size_t n, bool form);

/* Percent-encode for a URL query value. */
char *url_encode(arena *a, const char *s);

typedef struct qs_param {
    const char *name, *value;
} qs_param;

typedef struct qs {
    qs_param *items;
    int count;
} qs;

/* Parse an application/x-www-form-urlencoded query (without the leading '?').
 * Fails (returns false) on more than max parameters or a malformed escape. */
bool qs_parse(arena *a, const char *query, size_t len, int max, qs *out);
const char *qs_get(const qs *q, const char *name);   /* first value, or NULL */

#endif
