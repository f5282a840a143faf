/* error.h — the one error type, and the per-field error list used for validation.
 *
 * Every fallible function returns os_err. http/problem.c is the one place that maps
 * an os_err to an HTTP status and a problem+json body. Validation collects every
 * field error in a field_errors list (arena-owned) so a response or an import report
 * names all of them, not just the first.
 */
#ifndef OPENSEAT_ERROR_H
#define OPENSEAT_ERROR_H
#include <stdbool.h>
#include "arena.h"

typedef enum os_err {
    OS_OK = 0,
    OS_ERR_INVALID,       /* input failed validation (field errors say where) */
    OS_ERR_UNAUTHENTICATED,
    OS_ERR_FORBIDDEN,
    OS_ERR_NOT_FOUND,
    OS_ERR_CONFLICT,      /* unique key or state conflict */
    OS_ERR_PRECONDITION,  /* stale version (If-Match) */
    OS_ERR_GONE,          /* expired or already used link/token */
    OS_ERR_THROTTLED,
    OS_ERR_TOO_LARGE,
    OS_ERR_UNSUPPORTED,   /* media type */
    OS_ERR_BUSY,          /* database busy beyond timeout, retry */
    OS_ERR_STORE,         /* database failure */
    OS_ERR_IO,
    OS_ERR_NOMEM,
    OS_ERR_INTERNAL,
} os_err;

const char *os_err_name(os_err e);

/* On a function whose os_err must not be dropped (every store function): the compiler
 * refuses a call that ignores it. GCC does not accept a (void) cast as "ignored on
 * purpose"; a deliberate discard goes through os_ignore() with a comment saying why. */
#define OS_MUST_USE __attribute__((warn_unused_result))
/* A result dropped on purpose (e.g. a best-effort cleanup after an earlier failure). */
static inline void os_ignore(os_err e) { (void)e; }

typedef struct field_error {
    const char *field;    /* JSON pointer-ish name, e.g. "email" */
    const char *code;     /* stable machine code, e.g. "required", "too_long" */
    const char *message;  /* English text; the UI translates by code */
    const char *params;   /* JSON object of the values inside message (dates, counts), or NULL:
                             a UI words them in its own language instead of parsing English */
    struct field_error *next;
} field_error;

typedef struct field_errors {
    arena *a;
    field_error *head, *tail;
    int count;
} field_errors;

void fe_init(field_errors *fe, arena *a);
void fe_add(field_errors *fe, const char *field, const char *code, const char *message);
/* Like fe_add, with params_json: a JSON object (trusted, already valid; NULL for none) sent
 * as the error's "params". */
void fe_add_params(field_errors *fe, const char *field, const char *code, const char *message,
                   const char *params_json);
bool fe_any(const field_errors *fe);
/* True when some error already names this field (avoids reporting it twice). */
bool fe_has(const field_errors *fe, const char *field);

#endif
