/* arena.h — region allocator for per-request memory.
 *
 * Everything a request allocates comes from its arena and is released at once by
 * arena_free() when the request completes. Allocation never returns NULL: on
 * exhaustion of LIMIT_ARENA_BYTES (or malloc failure) it returns NULL only from
 * arena_try_alloc(); arena_alloc() aborts, because a request that cannot get memory
 * has no safe way to continue. Callers that accept untrusted sizes use the _try form.
 *
 * Not thread-safe: one arena belongs to one request on one thread.
 */
#ifndef OPENSEAT_ARENA_H
#define OPENSEAT_ARENA_H
#include <stddef.h>

typedef struct arena_block arena_block;
typedef struct arena {
    arena_block *head;
    size_t used_total;   /* bytes handed out over all blocks */
    size_t limit;        /* maximum used_total */
} arena;

void  arena_init(arena *a, size_t limit);
void *arena_try_alloc(arena *a, size_t n);           /* NULL on limit or OOM */
void *arena_alloc(arena *a, size_t n);               /* zeroed; aborts on failure */
char *arena_strdup(arena *a, const char *s);
char *arena_strndup(arena *a, const char *s, size_t n);   /* at most n bytes, stops at NUL */
char *arena_printf(arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void  arena_free(arena *a);                          /* releases every block; a is reusable */

#endif
