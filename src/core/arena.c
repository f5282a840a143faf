/* arena.c — see arena.h. Blocks grow geometrically; large requests get their own block. */
#include "arena.h"
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct arena_block {
    arena_block *next;
    size_t cap, off;
    _Alignas(max_align_t) unsigned char data[];
};

#define ARENA_FIRST_BLOCK 8192

void arena_init(arena *a, size_t limit) {
    a->head = NULL;
    a->used_total = 0;
    a->limit = limit;
}

static size_t align_up(size_t n) {
    size_t al = _Alignof(max_align_t);
    return (n + al - 1) & ~(al - 1);
}

void *arena_try_alloc(arena *a, size_t n) {
    if (n == 0) n = 1;
    if (n > a->limit || a->used_total > a->limit - n) return NULL;
    size_t need = align_up(n);
    arena_block *b = a->head;
    if (!b || b->cap - b->off < need) {
        size_t cap = b ? b->cap * 2 : ARENA_FIRST_BLOCK;
        if (cap > 4u * 1024 * 1024) cap = 4u * 1024 * 1024;
        if (cap < need) cap = need;
        arena_block *nb = malloc(sizeof *nb + cap);
        if (!nb) return NULL;
        nb->cap = cap;
        nb->off = 0;
        nb->next = a->head;
        a->head = nb;
        b = nb;
    }
    void *p = b->data + b->off;
    b->off += need;
    a->used_total += n;
    memset(p, 0, n);
    return p;
}

void *arena_alloc(arena *a, size_t n) {
    void *p = arena_try_alloc(a, n);
    if (!p) {
        fprintf(stderr, "arena: out of memory (%zu bytes requested)\n", n);
        abort();
    }
    return p;
}

char *arena_strndup(arena *a, const char *s, size_t n) {
    n = strnlen(s, n);   /* never read past the string's end, like strndup */
    char *p = arena_alloc(a, n + 1);
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

char *arena_strdup(arena *a, const char *s) { return arena_strndup(a, s, strlen(s)); }

char *arena_printf(arena *a, const char *fmt, ...) {
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) { va_end(ap2); return arena_strdup(a, ""); }
    char *p = arena_alloc(a, (size_t)n + 1);
    vsnprintf(p, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    return p;
}

void arena_free(arena *a) {
    arena_block *b = a->head;
    while (b) {
        arena_block *n = b->next;
        free(b);
        b = n;
    }
    a->head = NULL;
    a->used_total = 0;
}
