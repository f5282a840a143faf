/* fuzz_decode.h — the reference percent-decoder the query and route targets hold the
 * server's decoders to: written the plain way, one byte at a time, so a disagreement points
 * at the optimized code. */
#ifndef OPENSEAT_FUZZ_DECODE_H
#define OPENSEAT_FUZZ_DECODE_H
#include <stdbool.h>
#include <stddef.h>
#include "core/text.h"

static inline int fuzz_hex(unsigned char c) {
    if (c >= '0' && c <= '9') return c - '0';
    c |= 0x20;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* Decodes s[0..n) into out (room for n + 1 bytes; '+' is a space when `form`, as in a query
 * string, not in a path); returns the decoded length, or -1 when the input must be refused:
 * a short or non-hex escape, a NUL (raw or escaped), or a result that is not UTF-8. */
static inline long fuzz_ref_decode(const char *s, size_t n, bool form, char *out) {
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%') {
            if (n - i < 3) return -1;
            int h = fuzz_hex((unsigned char)s[i + 1]), l = fuzz_hex((unsigned char)s[i + 2]);
            if (h < 0 || l < 0) return -1;
            c = (unsigned char)(h << 4 | l);
            i += 2;
        } else if (c == '+' && form) {
            c = ' ';
        }
        if (c == 0) return -1;
        out[o++] = (char)c;
    }
    out[o] = 0;
    if (utf8_valid_prefix(out, o) != o) return -1;
    return (long)o;
}

#endif
