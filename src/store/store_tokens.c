/* store_tokens.c — personal API tokens: created, listed, revoked, and read with their
 * owner and the owner's standing on an agreement in one statement on every bearer request.
 * Contract in store.h (API tokens). */
#include <string.h>
#include "store.h"
#include "store_util.h"

static db_val opt_id(int64_t v) { return v ? DV_INT(v) : DV_NULL; }

os_err st_api_token_create(store_conn *c, const api_token_rec *t, const char *secret_hash, int64_t *id) {
    return db_scalar_int(c,
                         "INSERT INTO api_tokens (user_id, name, agreement_id, capabilities, prefix, secret_hash,"
                         " created_at, expires_at, method) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) RETURNING id",
                         DB_ARGS(DV_INT(t->user_id), DV_TEXT(t->name), opt_id(t->agreement_id),
                                 DV_INT(t->capabilities), DV_TEXT(t->prefix), DV_TEXT(secret_hash),
                                 DV_INT(t->created_at), DV_INT(t->expires_at),
                                 DV_TEXT(t->method ? t->method : "password")),
                         id);
}

/* The token's columns with its agreement's number and its owner, for every read below. */
#define TOKEN_COLS                                                                                                \
    "t.id, t.user_id, COALESCE(t.agreement_id, 0), g.license_number, t.name, t.prefix, t.capabilities,"         \
    " t.created_at, t.expires_at, COALESCE(t.revoked_at, 0), COALESCE(t.last_used_at, 0), t.last_used_address,"  \
    " o.email, o.name, t.method"
#define TOKEN_FROM                                                                                                \
    " FROM api_tokens t JOIN users o ON o.id = t.user_id LEFT JOIN agreements g ON g.id = t.agreement_id"

static void fill_token(arena *a, db_row *r, void *dst) {
    api_token_rec *t = dst;
    t->id = db_int(r, 0);
    t->user_id = db_int(r, 1);
    t->agreement_id = db_int(r, 2);
    t->license_number = st_dup(a, r, 3);
    t->name = st_dup(a, r, 4);
    t->prefix = st_dup(a, r, 5);
    t->capabilities = (unsigned)db_int(r, 6);
    t->created_at = db_int(r, 7);
    t->expires_at = db_int(r, 8);
    t->revoked_at = db_int(r, 9);
    t->last_used_at = db_int(r, 10);
    t->last_used_address = st_dup(a, r, 11);
    t->owner_email = st_dup(a, r, 12);
    t->owner_name = st_dup(a, r, 13);
    t->method = st_dup(a, r, 14);
}

static os_err token_one(store_conn *c, arena *a, const char *sql, const db_val *args, int n, api_token_rec *out) {
    api_token_rec *rows;
    int k;
    os_err e = st_list(c, a, sql, args, n, sizeof *rows, fill_token, (void **)&rows, &k);
    if (e) return e;
    if (!k) return OS_ERR_NOT_FOUND;
    *out = rows[0];
    return OS_OK;
}

os_err st_api_tokens_of_user(store_conn *c, arena *a, int64_t user_id, int limit, api_token_rec **rows, int *n) {
    return st_list(c, a, "SELECT " TOKEN_COLS TOKEN_FROM " WHERE t.user_id = ?1 ORDER BY t.id DESC LIMIT ?2",
                   DB_ARGS(DV_INT(user_id), DV_INT(limit)), sizeof(api_token_rec), fill_token, (void **)rows, n);
}

os_err st_api_token_of_user(store_conn *c, arena *a, int64_t user_id, int64_t id, api_token_rec *out) {
    return token_one(c, a, "SELECT " TOKEN_COLS TOKEN_FROM " WHERE t.id = ?1 AND t.user_id = ?2",
                     DB_ARGS(DV_INT(id), DV_INT(user_id)), out);
}

os_err st_api_tokens_live_count(store_conn *c, int64_t user_id, int64_t now, int64_t *n) {
    return db_scalar_int(c,
                         "SELECT COUNT(*) FROM api_tokens WHERE user_id = ?1 AND revoked_at IS NULL"
                         " AND expires_at > ?2",
                         DB_ARGS(DV_INT(user_id), DV_INT(now)), n);
}

/* Live tokens that can act on agreement ?1 at ?2: named to it, or tokens for every agreement
 * of people who hold a role there now (the access rule's own role statement). */
#define AGREEMENT_TOKENS                                                                                          \
    " WHERE t.revoked_at IS NULL AND t.expires_at > ?2 AND (t.agreement_id = ?1 OR (t.agreement_id IS NULL"    \
    " AND EXISTS (" ST_ROLE_SQL("?1", "t.user_id", "?2") ")))"

os_err st_api_tokens_of_agreement(store_conn *c, arena *a, int64_t agreement_id, int64_t now, int limit,
                                  api_token_rec **rows, int *n) {
    return st_list(c, a, "SELECT " TOKEN_COLS TOKEN_FROM AGREEMENT_TOKENS " ORDER BY t.id DESC LIMIT ?3",
                   DB_ARGS(DV_INT(agreement_id), DV_INT(now), DV_INT(limit)), sizeof(api_token_rec), fill_token,
                   (void **)rows, n);
}

os_err st_api_token_of_agreement(store_conn *c, arena *a, int64_t agreement_id, int64_t id, int64_t now,
                                 api_token_rec *out) {
    return token_one(c, a, "SELECT " TOKEN_COLS TOKEN_FROM AGREEMENT_TOKENS " AND t.id = ?3",
                     DB_ARGS(DV_INT(agreement_id), DV_INT(now), DV_INT(id)), out);
}

os_err st_api_token_revoke(store_conn *c, int64_t id, int64_t by, int64_t now, bool *revoked) {
    int64_t changed = 0;
    os_err e = db_exec_changes(c, "UPDATE api_tokens SET revoked_at = ?3, revoked_by = ?2"
                                  " WHERE id = ?1 AND revoked_at IS NULL",
                               DB_ARGS(DV_INT(id), DV_INT(by), DV_INT(now)), &changed);
    *revoked = changed > 0;
    return e;
}

os_err st_api_token_touch(store_conn *c, int64_t id, int64_t now, const char *address) {
    /* Conditional, so two instances seeing the same token in the same minute write once. */
    return db_exec(c,
                   "UPDATE api_tokens SET last_used_at = ?2, last_used_address = ?3"
                   " WHERE id = ?1 AND (last_used_at IS NULL OR last_used_at <= ?2 - 60)",
                   DB_ARGS(DV_INT(id), DV_INT(now), DV_TEXT(address)), NULL, NULL);
}

typedef struct tok_access_ud {
    arena *a;
    api_token_rec *t;
    const char **secret_hash;
    user_rec *user;
    session_access_rec *g;
    bool found;
} tok_access_ud;

static int tok_access_row(void *ud, db_row *r) {
    tok_access_ud *x = ud;
    arena *a = x->a;
    x->t->id = db_int(r, 0);
    x->t->user_id = db_int(r, 1);
    x->t->agreement_id = db_int(r, 2);
    x->t->name = st_dup(a, r, 3);
    x->t->capabilities = (unsigned)db_int(r, 4);
    x->t->expires_at = db_int(r, 5);
    x->t->revoked_at = db_int(r, 6);
    x->t->last_used_at = db_int(r, 7);
    *x->secret_hash = st_dup(a, r, 8);
    x->user->id = db_int(r, 1);
    x->user->email = st_dup(a, r, 9);
    x->user->name = st_dup(a, r, 10);
    x->user->language = st_dup(a, r, 11);
    x->user->verified_at = db_int(r, 12);
    x->user->created_at = db_int(r, 13);
    x->t->owner_email = x->user->email;
    x->t->owner_name = x->user->name;
    x->g->agreement_id = db_is_null(r, 14) ? 0 : db_int(r, 14);
    x->g->end_date = st_dup(a, r, 15);
    x->g->disabled = db_int(r, 16) != 0;
    x->g->role.role = x->g->agreement_id ? st_dup(a, r, 17) : NULL;
    x->g->role.capabilities = (unsigned)db_int(r, 18);
    x->g->role.relationship_id = db_int(r, 19);
    x->g->data_version = db_is_null(r, 20) ? 0 : db_int(r, 20);
    x->g->strong_auth = db_int(r, 21) != 0;
    x->t->method = st_dup(a, r, 22);
    x->found = true;
    return 1;
}

os_err st_api_token_access(store_conn *c, arena *a, const char *prefix, const char *license_number, int64_t now,
                           api_token_rec *t, const char **secret_hash, user_rec *user, session_access_rec *g) {
    tok_access_ud x = {a, t, secret_hash, user, g, false};
    memset(t, 0, sizeof *t);
    memset(user, 0, sizeof *user);
    memset(g, 0, sizeof *g);
    *secret_hash = NULL;
    /* st_session_access's shape: the token, its owner, the agreement and the owner's role on
     * it, each a unique-index lookup; with no license number the two joins find nothing. */
    os_err e = db_exec(c,
                       "SELECT t.id, t.user_id, COALESCE(t.agreement_id, 0), t.name, t.capabilities, t.expires_at,"
                       " COALESCE(t.revoked_at, 0), COALESCE(t.last_used_at, 0), t.secret_hash,"
                       " u.email, u.name, u.language, COALESCE(u.email_verified_at, 0), u.created_at,"
                       " g.id, g.end_date, g.disabled, ro.role, ro.caps, ro.rel, g.data_version,"
                       " COALESCE(p.require_strong_auth, 0), t.method"
                       " FROM api_tokens t JOIN users u ON u.id = t.user_id"
                       " LEFT JOIN agreements g ON g.license_number = ?2"
                       " LEFT JOIN agreement_prefs p ON p.agreement_id = g.id"
                       " LEFT JOIN (" ST_ROLE_SQL("(SELECT id FROM agreements WHERE license_number = ?2)",
                                                  "(SELECT user_id FROM api_tokens WHERE prefix = ?1)", "?3")
                       ") ro ON 1 = 1"
                       " WHERE t.prefix = ?1",
                       DB_ARGS(DV_TEXT(prefix), DV_TEXT(license_number), DV_INT(now)), tok_access_row, &x);
    if (e) return e;
    return x.found ? OS_OK : OS_ERR_NOT_FOUND;
}
