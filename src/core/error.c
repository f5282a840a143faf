/* error.c — see error.h. */
#include "error.h"
#include <string.h>

const char *os_err_name(os_err e) {
    switch (e) {
    case OS_OK: return "ok";
    case OS_ERR_INVALID: return "invalid";
    case OS_ERR_UNAUTHENTICATED: return "unauthenticated";
    case OS_ERR_FORBIDDEN: return "forbidden";
    case OS_ERR_NOT_FOUND: return "not_found";
    case OS_ERR_CONFLICT: return "conflict";
    case OS_ERR_PRECONDITION: return "precondition_failed";
    case OS_ERR_GONE: return "gone";
    case OS_ERR_THROTTLED: return "throttled";
    case OS_ERR_TOO_LARGE: return "too_large";
    case OS_ERR_UNSUPPORTED: return "unsupported_media_type";
    case OS_ERR_BUSY: return "busy";
    case OS_ERR_STORE: return "store";
    case OS_ERR_IO: return "io";
    case OS_ERR_NOMEM: return "nomem";
    case OS_ERR_INTERNAL: return "internal";
    }
    return "unknown";
}

void fe_init(field_errors *fe, arena *a) {
    fe->a = a;
    fe->head = fe->tail = NULL;
    fe->count = 0;
}

void fe_add(field_errors *fe, const char *field, const char *code, const char *message) {
    fe_add_params(fe, field, code, message, NULL);
}

void fe_add_params(field_errors *fe, const char *field, const char *code, const char *message,
                   const char *params_json) {
    field_error *e = arena_alloc(fe->a, sizeof *e);
    e->field = field;
    e->code = code;
    e->message = message;
    e->params = params_json;
    if (fe->tail) fe->tail->next = e; else fe->head = e;
    fe->tail = e;
    fe->count++;
}

bool fe_any(const field_errors *fe) { return fe->count > 0; }

bool fe_has(const field_errors *fe, const char *field) {
    for (const field_error *e = fe->head; e; e = e->next)
        if (!strcmp(e->field, field)) return true;
    return false;
}
