/* buf.h — growable byte buffer with a hard maximum.
 *
 * The buffer type enforces its own limit: an append that would pass `max` fails
 * (returns false) and sets `overflow`, so a caller can write many pieces and check
 * once. Storage comes from an arena (freed with it) or, when arena is NULL, from the
 * heap (release with buf_release). Contents are always NUL-terminated for convenience;
 * `len` excludes the terminator.
 */
#ifndef OPENSEAT_BUF_H
#define OPENSEAT_BUF_H
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include "arena.h"

/* Where a sink buffer's content goes (see buf_init_sink); false: it could not be taken. */
typedef bool (*buf_sink_fn)(void *ud, const char *data, size_t len);

typedef struct buf {
    char *data;
    size_t len, cap, max;
    arena *arena;     /* NULL: heap */
    bool overflow;    /* sticky: some append was refused */
    bool fixed;       /* caller's memory: never grows */
    buf_sink_fn sink; /* set: content is handed on whenever the next piece would not fit */
    void *sink_ud;
} buf;

void buf_init(buf *b, arena *a, size_t max);
/* A buffer over caller-owned memory of cap bytes (holds cap - 1 and the NUL); no allocation. */
void buf_init_fixed(buf *b, char *mem, size_t cap);
/* A buffer that never holds more than chunk bytes of text before handing them to sink
 * (a file, for an answer larger than memory): appends see an endless buffer; one piece
 * may be at most max bytes. What is left goes with buf_flush. A refused hand-over sets
 * overflow. Nothing may read data back: it is only the part not yet handed on. */
void buf_init_sink(buf *b, arena *a, size_t chunk, size_t max, buf_sink_fn sink, void *ud);
bool buf_flush(buf *b);
/* The growing, spilling and refusing paths of buf_append and buf_putc. */
bool buf_append_slow(buf *b, const void *p, size_t n);
/* Inline when the piece fits the storage held (room for it and the NUL): a JSON answer is
 * written a few bytes at a time, some two thousand pieces for a page of subscribers. */
static inline bool buf_append(buf *b, const void *p, size_t n) {
    if (!b->overflow && n < b->cap - b->len) {
        if (n) memcpy(b->data + b->len, p, n);
        b->len += n;
        b->data[b->len] = 0;
        return true;
    }
    return buf_append_slow(b, p, n);
}
static inline bool buf_putc(buf *b, char c) {
    if (!b->overflow && b->len + 2 <= b->cap) {
        b->data[b->len++] = c;
        b->data[b->len] = 0;
        return true;
    }
    return buf_append_slow(b, &c, 1);
}
bool buf_puts(buf *b, const char *s);
bool buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_reset(buf *b);           /* len = 0, keeps storage */
void buf_release(buf *b);         /* heap buffers only; arena buffers die with the arena */
char *buf_detach(buf *b);         /* heap buffers: hand the data to the caller (free()) */

#endif
