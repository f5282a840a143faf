/* store_sub.h — the subscriber row as the store reads it (private to the store layer:
 * store_sub_rows.c and store_sub_page.c), and the search terms' counts a transaction holds
 * until it commits (store.c writes or drops them as it ends).
 *
 * SUB_COLUMNS is the one list of the columns a sub_rec is read from, in SELECT order. The
 * SELECT list (SUB_COLS), the row filler (fill_sub), the column positions (sub_col: what
 * the subscribers list orders a compound select by) and the list's sort table
 * (store_sub_page.c) are all spelled from it: a new column is one line here and a field
 * of sub_rec, and the build fails when the two disagree. */
#ifndef OPENSEAT_STORE_SUB_H
#define OPENSEAT_STORE_SUB_H
#include <stdint.h>
#include "store/db.h"
#include "store/store.h"
#include "store_util.h"

/* FIRST(position, SQL, sub_rec field, INT | TEXT) for the first column, NEXT(…) for each
 * other: the SELECT list needs a comma between two columns and nowhere else. */
#define SUB_COLUMNS(FIRST, NEXT)                                            \
    FIRST(ID, "s.id", id, INT)                                              \
    NEXT(UUID, "s.uuid", uuid, TEXT)                                        \
    NEXT(AGREEMENT_ID, "s.agreement_id", agreement_id, INT)                 \
    NEXT(LEVEL_ID, "s.level_id", level_id, INT)                             \
    NEXT(LEVEL_CODE, "l.code", level_code, TEXT)                            \
    NEXT(NAME, "s.name", name, TEXT)                                        \
    NEXT(SIGN_IN_EMAIL, "s.sign_in_email", sign_in_email, TEXT)             \
    NEXT(NOTIFICATION_EMAIL, "s.notification_email", notification_email, TEXT) \
    NEXT(COUNTRY, "s.country", country, TEXT)                               \
    NEXT(LANGUAGE, "s.language", language, TEXT)                            \
    NEXT(DOWNLOADS, "s.downloads", downloads, INT)                          \
    NEXT(REFERENCE, "s.reference", reference, TEXT)                         \
    NEXT(ASSIGNED_AT, "s.assigned_at", assigned_at, INT)                    \
    NEXT(EXPIRES_ON, "s.expires_on", expires_on, TEXT)                      \
    NEXT(VERSION, "s.version", version, INT)

/* Each column's index in the result row (its SQL position is one more). */
#define SUB_COL_ENUM_(col, sql, field, kind) SUB_COL_##col,
typedef enum sub_col { SUB_COLUMNS(SUB_COL_ENUM_, SUB_COL_ENUM_) SUB_COL_COUNT } sub_col;

#define SUB_COL_FIRST_SQL_(col, sql, field, kind) sql
#define SUB_COL_NEXT_SQL_(col, sql, field, kind) ", " sql
#define SUB_COLS SUB_COLUMNS(SUB_COL_FIRST_SQL_, SUB_COL_NEXT_SQL_)
#define SUB_FROM " FROM subscriptions s JOIN levels l ON l.id = s.level_id"

/* Whether a kind is a number (1) or text (0). */
#define SUB_COL_INTEGER_INT 1
#define SUB_COL_INTEGER_TEXT 0

/* Every field of sub_rec is read from exactly one column: the table's numbers and texts
 * fill the record, no more (a field without its column, or a column without its field of
 * that kind, fails here or does not compile). */
#define SUB_COL_COUNT_INT_(col, sql, field, kind) +SUB_COL_INTEGER_##kind
enum { SUB_COL_INTS = 0 SUB_COLUMNS(SUB_COL_COUNT_INT_, SUB_COL_COUNT_INT_) };
#define SUB_COL_BYTES (SUB_COL_INTS * sizeof(int64_t) + (SUB_COL_COUNT - SUB_COL_INTS) * sizeof(const char *))
_Static_assert(sizeof(sub_rec) >= SUB_COL_BYTES && sizeof(sub_rec) < SUB_COL_BYTES + _Alignof(sub_rec),
               "SUB_COLUMNS and the fields of sub_rec disagree");

#define SUB_COL_READ_INT(a, r, i) db_int(r, i)
#define SUB_COL_READ_TEXT(a, r, i) st_dup(a, r, i)
#define SUB_COL_FILL_(col, sql, field, kind) x->field = SUB_COL_READ_##kind(a, r, SUB_COL_##col);

/* Row filler for SUB_COLS. */
static inline void fill_sub(arena *a, db_row *r, void *dst) {
    sub_rec *x = dst;
    SUB_COLUMNS(SUB_COL_FILL_, SUB_COL_FILL_)
}

/* The counts of search terms the open transaction moved are held in memory (one write per
 * term at the end, not one per row: store_sub_rows.c). st_term_counts_flush writes them
 * in the transaction: before the outermost commit, and before the counts are read in it;
 * st_term_counts_drop forgets them (rollback, abandon, closing). */
typedef struct term_counts term_counts;
OS_MUST_USE os_err st_term_counts_flush(store_conn *c);
void st_term_counts_drop(store_conn *c);

#endif
