/* store_util.h — helpers shared by the store_*.c files (private to the store layer). */
#ifndef OPENSEAT_STORE_UTIL_H
#define OPENSEAT_STORE_UTIL_H
#include <string.h>
#include "core/arena.h"
#include "core/buf.h"
#include "store/db.h"
#include "store/store.h"

/* Arena copy of a text column; NULL for SQL NULL. */
static inline const char *st_dup(arena *a, db_row *r, int col) {
    const char *s = db_text(r, col);
    return s ? arena_strdup(a, s) : NULL;
}

/* Row filler for a list of single text columns. */
static inline void st_fill_text(arena *a, db_row *r, void *dst) { *(const char **)dst = st_dup(a, r, 0); }

/* Row filler for recipient_rec: e-mail, name, language. */
static inline void st_fill_recipient(arena *a, db_row *r, void *dst) {
    recipient_rec *x = dst;
    x->email = st_dup(a, r, 0);
    x->name = st_dup(a, r, 1);
    x->language = st_dup(a, r, 2);
}

/* The caller's role on an agreement (st_agreement_role's statement, also read with the
 * session by st_session_access): AG, USER and NOW are SQL expressions for the agreement's
 * id, the user's id and the time. Columns: role, capabilities, relationship id, rank. A
 * customer role comes before a partner relationship (rank 0 sorts first). */
#define ST_ROLE_SQL(AG, USER, NOW)                                                                     \
    "SELECT role AS role, 0 AS caps, 0 AS rel, 0 AS rnk FROM admin_roles WHERE agreement_id = " AG       \
    " AND user_id = " USER                                                                             \
    " UNION ALL SELECT 'partner', r.capabilities, r.id, 1 FROM partner_relationships r"                \
    " JOIN partner_members m ON m.org_id = r.partner_org_id"                                           \
    " JOIN users u ON u.email = m.email AND u.id = " USER                                              \
    " WHERE r.agreement_id = " AG " AND r.status = 'active' AND r.ends_at > " NOW                      \
    " AND (r.people = 'all' OR EXISTS (SELECT 1 FROM partner_relationship_people p"                   \
    "      WHERE p.relationship_id = r.id AND p.member_id = m.id))"                                    \
    " ORDER BY 4, 3 LIMIT 1"

/* Collects rows into a growing arena array of `elem`-sized records; `fill` maps one row. */
typedef void (*row_fill_fn)(arena *a, db_row *r, void *dst);
typedef struct rows_ud {
    arena *a;
    size_t elem;
    row_fill_fn fill;
    char *rows;
    int n, cap;
} rows_ud;

static inline int st_collect(void *ud, db_row *r) {
    rows_ud *u = ud;
    if (u->n == u->cap) {
        int cap = u->cap ? u->cap * 2 : 16;
        char *nr = arena_alloc(u->a, u->elem * (size_t)cap);
        if (u->n) memcpy(nr, u->rows, u->elem * (size_t)u->n);
        u->rows = nr;
        u->cap = cap;
    }
    u->fill(u->a, r, u->rows + u->elem * (size_t)u->n);
    u->n++;
    return 0;
}

/* Runs a query and hands back the collected rows (an empty array when none). */
static inline os_err st_list(db_conn *c, arena *a, const char *sql, const db_val *args, int nargs, size_t elem,
                             row_fill_fn fill, void **rows, int *n) {
    rows_ud u = {a, elem, fill, NULL, 0, 0};
    os_err e = db_exec(c, sql, args, nargs, st_collect, &u);
    *rows = u.rows ? (void *)u.rows : arena_alloc(a, elem);
    *n = u.n;
    return e;
}

/* Multi-row statements (bulk writes). The text is head, then `rows` copies of tuple joined
 * by ", ", then tail; each '#' in a tuple becomes the next numbered parameter (?first,
 * ?first + 1, … across the tuples), so every value is bound, never written into the text.
 * False when the text does not fit in b. */
static inline bool st_rows_sql(buf *b, const char *head, const char *tuple, int first, int rows, const char *tail) {
    buf_puts(b, head);
    for (int r = 0, k = first; r < rows; r++) {
        if (r) buf_puts(b, ", ");
        for (const char *p = tuple;; p++) {
            const char *mark = strchr(p, '#');
            buf_append(b, p, mark ? (size_t)(mark - p) : strlen(p));
            if (!mark) break;
            /* Digits written here: a 64-row insert has hundreds, and printf would cost more
             * than the statement's own binding. */
            char num[12];
            int len = 0;
            for (int v = k++; v; v /= 10) num[len++] = (char)('0' + v % 10);
            buf_putc(b, '?');
            while (len) buf_putc(b, num[--len]);
            p = mark;
        }
    }
    buf_puts(b, tail);
    return !b->overflow;
}

/* Rows for the next multi-row statement of n left: the largest power of two up to n and
 * max. However many rows a file has, a handful of statement texts are then prepared (and
 * kept in the connection's cache) instead of one per count. */
static inline int st_batch(int n, int max) {
    int k = 1;
    while (k * 2 <= n && k * 2 <= max) k *= 2;
    return k;
}

/* A multi-row statement's text and arguments, in memory sized for the largest and reused by
 * each: a chunk's memory does not grow with its statements. */
typedef struct st_multi {
    buf sql;
    db_val *args;
} st_multi;

static inline void st_multi_init(st_multi *m, arena *a, int max_args) {
    buf_init(&m->sql, a, 256 * 1024);
    m->args = arena_alloc(a, sizeof *m->args * (size_t)max_args);
}

/* The text of `rows` tuples (st_rows_sql) in place of the previous one; NULL if too long. */
static inline const char *st_multi_sql(st_multi *m, const char *head, const char *tuple, int first, int rows,
                                       const char *tail) {
    buf_reset(&m->sql);
    return st_rows_sql(&m->sql, head, tuple, first, rows, tail) ? m->sql.data : NULL;
}

#define ST_VALUES_PER_QUERY 64   /* values in one IN (…) */

/* Runs `head` — a query ending "IN (" whose first nfixed parameters are fixed — over
 * values[0..n) in batches of up to ST_VALUES_PER_QUERY, the rows collected in u. */
static inline os_err st_query_in(db_conn *c, arena *a, const char *head, const db_val *fixed, int nfixed,
                                 const char *const *values, int n, rows_ud *u) {
    st_multi m;
    st_multi_init(&m, a, nfixed + ST_VALUES_PER_QUERY);
    db_val *args = m.args;
    memcpy(args, fixed, sizeof *args * (size_t)nfixed);
    os_err e = OS_OK;
    for (int done = 0; !e && done < n;) {
        int k = st_batch(n - done, ST_VALUES_PER_QUERY);
        const char *sql = st_multi_sql(&m, head, "#", nfixed + 1, k, ")");
        if (!sql) return OS_ERR_INTERNAL;
        for (int i = 0; i < k; i++) args[nfixed + i] = DV_TEXT(values[done + i]);
        e = db_exec(c, sql, args, nfixed + k, st_collect, u);
        done += k;
    }
    return e;
}

/* The partner relationship and request records (rel_rec, partner_request_rec) with every
 * column the views show: a query starts with REL_SELECT / REQ_SELECT, adds its WHERE and
 * ORDER BY, and maps rows with st_fill_rel / st_fill_request (store_relationships.c). Shared
 * by the files that list relationships by agreement and by partner organization. */
#define REL_SELECT                                                                                                    \
    "SELECT r.id, r.agreement_id, r.partner_org_id, COALESCE(r.starts_at, 0), r.ends_at, COALESCE(r.period_days, 0)," \
    " r.created_at, COALESCE(r.ended_at, 0), COALESCE(r.requested_by, 0),"                                           \
    " COALESCE((SELECT ae.at FROM audit_events ae WHERE ae.agreement_id = r.agreement_id"                            \
    "  AND ae.relationship_id = r.id ORDER BY ae.id DESC LIMIT 1), 0),"                                              \
    " COALESCE((SELECT q.id FROM partner_requests q WHERE q.relationship_id = r.id AND q.status = 'pending'), 0),"    \
    " r.capabilities, r.auto_renew, r.people = 'named', r.status, r.route, o.name, eb.name, g.license_number,"       \
    " co.name FROM partner_relationships r JOIN organizations o ON o.id = r.partner_org_id"                          \
    " JOIN agreements g ON g.id = r.agreement_id JOIN organizations co ON co.id = g.customer_org_id"                  \
    " LEFT JOIN users eb ON eb.id = r.ended_by"

#define REQ_SELECT                                                                                                  \
    "SELECT q.id, q.relationship_id, r.agreement_id, r.partner_org_id, q.ends_at, COALESCE(q.period_days, 0),"     \
    " COALESCE(q.requested_by, 0), q.created_at, q.lapses_at, COALESCE(q.decided_at, 0), COALESCE(q.decided_by, 0)," \
    " q.capabilities, q.kind, q.status, q.reason, u.name, u.email, u.language, o.name, g.license_number"           \
    " FROM partner_requests q JOIN partner_relationships r ON r.id = q.relationship_id"                            \
    " JOIN organizations o ON o.id = r.partner_org_id JOIN agreements g ON g.id = r.agreement_id"                   \
    " LEFT JOIN users u ON u.id = q.requested_by"

void st_fill_rel(arena *a, db_row *r, void *dst);
void st_fill_request(arena *a, db_row *r, void *dst);

#endif
