/* arena.h — region allocator for per-request memory.
 *
 * Everything a request allocates comes from its arena and is released at once by
 * arena_free() when the request completes. arena_try_alloc() returns NULL when the
 * arena's limit (or malloc) is exhausted; callers that accept untrusted sizes use it and
 * answer the failure themselves. arena_alloc() never returns NULL. What it does when
 * memory runs out depends on the arena:
 *
 * - An armed arena (arena_arm: the HTTP pipeline arms each request's arena, and the job
 *   worker each job's, with a jump target set up before the handler or executor runs)
 *   longjmps to that target. Running out of a request's memory is that request's error:
 *   the pipeline cleans up and answers a problem, every other request goes on (a job ends
 *   failed, and the worker takes the next). Code between the target and the allocation is
 *   skipped, so whatever it owns outside the arena (a malloc'd buffer, a jansson object,
 *   an open file, a child arena) must be registered with arena_defer() to be released.
 * - An unarmed arena (the CLI's, the mail worker's, the unit tests') aborts the
 *   process, as before: they have no request to fail on their own, and each bounds its own
 *   work.
 *
 * A buf (core/buf.h) growing in an armed arena jumps the same way when the arena, not the
 * buf's own maximum, is exhausted.
 *
 * Cleanups registered with arena_defer() run when the arena is freed (arena_free), newest
 * first, before its memory goes — on the normal path as on a jump. A frame that releases a
 * resource itself cancels its cleanup with arena_undefer(), or registers one that is
 * harmless after the release.
 *
 * Not thread-safe: one arena belongs to one request on one thread.
 */
#ifndef OPENSEAT_ARENA_H
#define OPENSEAT_ARENA_H
#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct arena_block arena_block;
typedef struct arena_cleanup arena_cleanup;
typedef struct arena {
    arena_block *head;
    size_t used_total;   /* bytes handed out over all blocks */
    size_t limit;        /* maximum used_total */
    arena_cleanup *cleanups;   /* run by arena_free, newest first */
    jmp_buf *escape;     /* armed: where exhaustion goes; NULL: abort (or as parent) */
    struct arena *parent;      /* arena_child: armed whenever the parent is */
} arena;

void  arena_init(arena *a, size_t limit);
void *arena_try_alloc(arena *a, size_t n);           /* NULL on limit or OOM; never jumps */
void *arena_alloc(arena *a, size_t n);               /* zeroed; jumps (armed) or aborts on failure */
char *arena_strdup(arena *a, const char *s);
char *arena_strndup(arena *a, const char *s, size_t n);   /* at most n bytes, stops at NUL */
char *arena_printf(arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void  arena_free(arena *a);                          /* runs the cleanups, releases every block; a is reusable */

/* Arms a (escape: a jmp_buf set by setjmp in a frame that outlives every use of a) or
 * disarms it (NULL). */
void  arena_arm(arena *a, jmp_buf *escape);
bool  arena_armed(const arena *a);                   /* a, or the arena it is a child of, is armed */
/* Where an armed arena goes when it runs out: longjmp(*escape, 1); abort() when unarmed.
 * For allocators built on arena_try_alloc that have no way to report the failure. */
_Noreturn void arena_exhausted(arena *a, size_t n);

/* fn(ud) runs at the next arena_free of a. The record comes from a itself (registering
 * can run out like any allocation: register before acquiring the resource). */
arena_cleanup *arena_defer(arena *a, void (*fn)(void *), void *ud);
/* The cleanup will not run (its resource was released). c may be NULL. */
void  arena_undefer(arena_cleanup *c);
/* The resource the cleanup releases, once acquired (registered before with ud NULL). */
void  arena_cleanup_set(arena_cleanup *c, void *ud);

/* A separate arena (scratch memory emptied in a loop) owned by parent: what it holds
 * counts against its own limit and against parent's (and theirs: a request's limit covers
 * its scratch memory too); it is armed whenever parent is, and released (cleanups and
 * blocks) when parent is freed, so a jump out of the loop loses nothing. arena_free on
 * the child empties it for reuse and gives its share back to parent's count. */
arena *arena_child(arena *parent, size_t limit);

#endif
