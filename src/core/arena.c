/* arena.c — see arena.h. Blocks grow geometrically; large requests get their own block. */
#include "arena.h"
#include <malloc.h>
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

struct arena_cleanup {
    arena_cleanup *next;
    void (*fn)(void *);    /* NULL: cancelled */
    void *ud;
};

#define ARENA_FIRST_BLOCK 8192
/* An arena that held at least this much gives memory back to the system when freed (see
 * arena_free). */
#define ARENA_TRIM_BYTES (8u * 1024 * 1024)

void arena_init(arena *a, size_t limit) {
    a->head = NULL;
    a->used_total = 0;
    a->limit = limit;
    a->cleanups = NULL;
    a->escape = NULL;
    a->parent = NULL;
}

static size_t align_up(size_t n) {
    size_t al = _Alignof(max_align_t);
    return (n + al - 1) & ~(al - 1);
}

static bool fits(const arena *a, size_t n) { return n <= a->limit && a->used_total <= a->limit - n; }

void *arena_try_alloc(arena *a, size_t n) {
    if (n == 0) n = 1;
    for (const arena *p = a; p; p = p->parent)
        if (!fits(p, n)) return NULL;
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
    for (arena *up = a; up; up = up->parent) up->used_total += n;
    memset(p, 0, n);
    return p;
}

void arena_arm(arena *a, jmp_buf *escape) { a->escape = escape; }

static jmp_buf *escape_of(const arena *a) {
    for (; a; a = a->parent)
        if (a->escape) return a->escape;
    return NULL;
}

bool arena_armed(const arena *a) { return escape_of(a) != NULL; }

_Noreturn void arena_exhausted(arena *a, size_t n) {
    jmp_buf *j = escape_of(a);
    if (j) longjmp(*j, 1);
    fprintf(stderr, "arena: out of memory (%zu bytes requested, %zu of %zu used)\n", n, a->used_total, a->limit);
    abort();
}

void *arena_alloc(arena *a, size_t n) {
    void *p = arena_try_alloc(a, n);
    if (!p) arena_exhausted(a, n);
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

arena_cleanup *arena_defer(arena *a, void (*fn)(void *), void *ud) {
    arena_cleanup *c = arena_alloc(a, sizeof *c);
    c->fn = fn;
    c->ud = ud;
    c->next = a->cleanups;
    a->cleanups = c;
    return c;
}

void arena_undefer(arena_cleanup *c) {
    if (c) c->fn = NULL;
}

void arena_cleanup_set(arena_cleanup *c, void *ud) {
    if (c) c->ud = ud;
}

static void free_child(void *ud) {
    arena *child = ud;
    arena_free(child);
}

arena *arena_child(arena *parent, size_t limit) {
    arena *child = arena_alloc(parent, sizeof *child);
    arena_init(child, limit);
    child->parent = parent;
    arena_defer(parent, free_child, child);
    return child;
}

void arena_free(arena *a) {
    /* The list is detached first: a cleanup never sees its own arena half-released, and
     * one that frees a child arena (with cleanups of its own) cannot loop back here. */
    arena_cleanup *c = a->cleanups;
    a->cleanups = NULL;
    for (; c; c = c->next)
        if (c->fn) c->fn(c->ud);
    arena_block *b = a->head;
    size_t held = 0;
    while (b) {
        arena_block *n = b->next;
        held += b->cap;
        free(b);
        b = n;
    }
    a->head = NULL;
    /* glibc keeps what a thread freed in that thread's malloc arena for its next
     * allocations: after a large request (a 100,000-row upload parses into some 80 MB) each
     * worker thread that served one kept its own such heap — ten uploads on different
     * threads took the server from 90 MB to 720 MB resident. malloc_trim returns the free
     * pages of every arena (measured: bench/RESULTS.md, "memory held after uploads"); it
     * costs a walk of the free lists, paid only after requests this large. */
    if (held >= ARENA_TRIM_BYTES) malloc_trim(0);
    for (arena *p = a->parent; p; p = p->parent) p->used_total -= a->used_total;
    a->used_total = 0;
}
