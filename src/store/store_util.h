/* store_util.h — helpers shared by the store_*.c files (private to the store layer). */
#ifndef OPENSEAT_STORE_UTIL_H
#define OPENSEAT_STORE_UTIL_H
#include "core/arena.h"
#include "store/db.h"

/* Arena copy of a text column; NULL for SQL NULL. */
static inline const char *st_dup(arena *a, db_row *r, int col) {
    const char *s = db_text(r, col);
    return s ? arena_strdup(a, s) : NULL;
}

#endif
