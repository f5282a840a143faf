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
#include "arena.h"

typedef struct buf {
    char *data;
    size_t len, cap, max;
    arena *arena;     /* NULL: heap */
    bool overflow;    /* sticky: some append was refused */
    bool fixed;       /* caller's memory: never grows */
} buf;

void buf_init(buf *b, arena *a, size_t max);
/* A buffer over caller-owned memory of cap bytes (holds cap - 1 and the NUL); no allocation. */
void buf_init_fixed(buf *b, char *mem, size_t cap);
bool buf_append(buf *b, const void *p, size_t n);
bool buf_puts(buf *b, const char *s);
bool buf_putc(buf *b, char c);
bool buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_reset(buf *b);           /* len = 0, keeps storage */
void buf_release(buf *b);         /* heap buffers only; arena buffers die with the arena */
char *buf_detach(buf *b);         /* heap buffers: hand the data to the caller (free()) */

#endif
