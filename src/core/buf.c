/* buf.c — see buf.h. */
#include "buf.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_init(buf *b, arena *a, size_t max) {
    memset(b, 0, sizeof *b);
    b->arena = a;
    b->max = max;
}

void buf_init_fixed(buf *b, char *mem, size_t cap) {
    memset(b, 0, sizeof *b);
    b->data = mem;
    b->cap = cap;
    b->max = cap ? cap - 1 : 0;
    b->fixed = true;
    if (cap) mem[0] = 0;
}

static bool grow(buf *b, size_t need) {
    if (need + 1 <= b->cap) return true;
    if (need > b->max || b->fixed) { b->overflow = true; return false; }
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need + 1) cap *= 2;
    if (cap > b->max + 1) cap = b->max + 1;
    char *p;
    if (b->arena) {
        /* Within the buffer's own maximum, running out of the arena is the arena's failure:
         * an armed arena jumps (arena.h), an unarmed one reports overflow as before. */
        p = arena_try_alloc(b->arena, cap);
        if (!p && arena_armed(b->arena)) arena_exhausted(b->arena, cap);
        if (p && b->len) memcpy(p, b->data, b->len);
    } else {
        p = realloc(b->data, cap);
    }
    if (!p) { b->overflow = true; return false; }
    b->data = p;
    b->cap = cap;
    return true;
}

void buf_init_sink(buf *b, arena *a, size_t chunk, size_t max, buf_sink_fn sink, void *ud) {
    buf_init(b, a, max < chunk ? chunk : max);
    b->data = arena_alloc(a, chunk + 1);
    b->cap = chunk + 1;
    b->sink = sink;
    b->sink_ud = ud;
}

bool buf_flush(buf *b) {
    if (b->overflow) return false;
    if (!b->sink || !b->len) return true;
    if (!b->sink(b->sink_ud, b->data, b->len)) { b->overflow = true; return false; }
    b->len = 0;
    b->data[0] = 0;
    return true;
}

/* A sink buffer hands on what it holds before a piece that would not fit. */
static bool spill(buf *b, size_t n) {
    if (!b->sink || b->len + n + 1 <= b->cap) return true;
    return buf_flush(b);
}

bool buf_append_slow(buf *b, const void *p, size_t n) {
    if (b->overflow) return false;
    if (!spill(b, n)) return false;
    if (n > b->max - b->len) { b->overflow = true; return false; }
    if (!grow(b, b->len + n)) return false;
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = 0;
    return true;
}

bool buf_puts(buf *b, const char *s) { return buf_append(b, s, strlen(s)); }

bool buf_printf(buf *b, const char *fmt, ...) {
    if (b->overflow) return false;
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) { b->overflow = true; return false; }
    if ((size_t)n < sizeof small) return buf_append(b, small, (size_t)n);
    if (!spill(b, (size_t)n)) return false;
    if (!grow(b, b->len + (size_t)n)) return false;
    if ((size_t)n > b->max - b->len) { b->overflow = true; return false; }
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return true;
}

void buf_reset(buf *b) {
    b->len = 0;
    b->overflow = false;
    if (b->data) b->data[0] = 0;
}

void buf_release(buf *b) {
    if (!b->arena && !b->fixed) free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

char *buf_detach(buf *b) {
    char *p = b->data;
    if (!p) p = calloc(1, 1);
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}
