/* store_accounts.c — users, one-time e-mail tokens, sessions and the throttles' counts.
 * Contract in store.h. */
#include <string.h>
#include "store.h"
#include "store_util.h"

/* ---- users ---- */

#define USER_COLS "id, email, name, password_hash, language, COALESCE(email_verified_at, 0), created_at"

typedef struct user_ud {
    arena *a;
    user_rec *out;
    bool found;
} user_ud;

static int user_row(void *ud, db_row *r) {
    user_ud *u = ud;
    u->out->id = db_int(r, 0);
    u->out->email = st_dup(u->a, r, 1);
    u->out->name = st_dup(u->a, r, 2);
    u->out->password_hash = st_dup(u->a, r, 3);
    u->out->language = st_dup(u->a, r, 4);
    u->out->verified_at = db_int(r, 5);
    u->out->created_at = db_int(r, 6);
    u->found = true;
    return 1;
}

os_err st_user_create(store_conn *c, const char *email, const char *name, const char *pw_hash,
                      const char *language, int64_t now, int64_t *id) {
    return db_scalar_int(c,
                         "INSERT INTO users (email, name, password_hash, language, created_at, updated_at)"
                         " VALUES (?1, ?2, ?3, ?4, ?5, ?5) RETURNING id",
                         DB_ARGS(DV_TEXT(email), DV_TEXT(name), DV_TEXT(pw_hash), DV_TEXT(language), DV_INT(now)),
                         id);
}

static os_err user_one(store_conn *c, arena *a, const char *sql, const db_val *args, int n, user_rec *out) {
    user_ud u = {a, out, false};
    memset(out, 0, sizeof *out);
    os_err e = db_exec(c, sql, args, n, user_row, &u);
    if (e) return e;
    return u.found ? OS_OK : OS_ERR_NOT_FOUND;
}

os_err st_user_by_email(store_conn *c, arena *a, const char *email, user_rec *out) {
    return user_one(c, a, "SELECT " USER_COLS " FROM users WHERE email = ?1", DB_ARGS(DV_TEXT(email)), out);
}

os_err st_user_by_id(store_conn *c, arena *a, int64_t id, user_rec *out) {
    return user_one(c, a, "SELECT " USER_COLS " FROM users WHERE id = ?1", DB_ARGS(DV_INT(id)), out);
}

os_err st_user_set_verified(store_conn *c, int64_t id, int64_t now) {
    return db_exec(c,
                   "UPDATE users SET email_verified_at = COALESCE(email_verified_at, ?2), updated_at = ?2"
                   " WHERE id = ?1",
                   DB_ARGS(DV_INT(id), DV_INT(now)), NULL, NULL);
}

os_err st_user_set_password(store_conn *c, int64_t id, const char *pw_hash, int64_t now) {
    return db_exec(c, "UPDATE users SET password_hash = ?2, updated_at = ?3 WHERE id = ?1",
                   DB_ARGS(DV_INT(id), DV_TEXT(pw_hash), DV_INT(now)), NULL, NULL);
}

os_err st_user_update_profile(store_conn *c, int64_t id, const char *name, const char *language, int64_t now) {
    return db_exec(c,
                   "UPDATE users SET name = COALESCE(?2, name), language = COALESCE(?3, language),"
                   " updated_at = ?4 WHERE id = ?1",
                   DB_ARGS(DV_INT(id), DV_TEXT(name), DV_TEXT(language), DV_INT(now)), NULL, NULL);
}

os_err st_user_count(store_conn *c, int64_t *n) { return db_scalar_int(c, "SELECT COUNT(*) FROM users", DB_NOARGS, n); }

/* ---- one-time tokens ---- */

os_err st_token_create(store_conn *c, int64_t user_id, const char *purpose, const char *token_hash,
                       int64_t expires_at, int64_t now) {
    return db_exec(c,
                   "INSERT INTO email_tokens (user_id, purpose, token_hash, expires_at, created_at)"
                   " VALUES (?1, ?2, ?3, ?4, ?5)",
                   DB_ARGS(DV_INT(user_id), DV_TEXT(purpose), DV_TEXT(token_hash), DV_INT(expires_at), DV_INT(now)),
                   NULL, NULL);
}

os_err st_token_consume(store_conn *c, const char *purpose, const char *token_hash, int64_t now,
                        int64_t *user_id) {
    /* One statement: whichever of two concurrent requests runs it second finds used_at set. */
    os_err e = db_scalar_int(c,
                             "UPDATE email_tokens SET used_at = ?3"
                             " WHERE token_hash = ?1 AND purpose = ?2 AND used_at IS NULL AND expires_at > ?3"
                             " RETURNING user_id",
                             DB_ARGS(DV_TEXT(token_hash), DV_TEXT(purpose), DV_INT(now)), user_id);
    return e == OS_ERR_NOT_FOUND ? OS_ERR_GONE : e;
}

os_err st_tokens_void(store_conn *c, int64_t user_id, const char *purpose, int64_t now) {
    return db_exec(c,
                   "UPDATE email_tokens SET used_at = ?3 WHERE user_id = ?1 AND purpose = ?2 AND used_at IS NULL",
                   DB_ARGS(DV_INT(user_id), DV_TEXT(purpose), DV_INT(now)), NULL, NULL);
}

/* ---- sessions ---- */

os_err st_session_create(store_conn *c, const char *token_hash, int64_t user_id, const char *csrf, int64_t now,
                         int64_t expires_at, const char *address, const char *user_agent, const char *method) {
    return db_exec(c,
                   "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, last_seen_at, expires_at,"
                   " address, user_agent, method) VALUES (?1, ?2, ?3, ?4, ?4, ?5, ?6, ?7, ?8)",
                   DB_ARGS(DV_TEXT(token_hash), DV_INT(user_id), DV_TEXT(csrf), DV_INT(now), DV_INT(expires_at),
                           DV_TEXT(address), DV_TEXT(user_agent), DV_TEXT(method)),
                   NULL, NULL);
}

typedef struct sess_ud {
    arena *a;
    session_rec *out;
    user_rec *user;
    bool found;
} sess_ud;

static int sess_row(void *ud, db_row *r) {
    sess_ud *s = ud;
    s->out->id = db_int(r, 0);
    s->out->user_id = db_int(r, 1);
    s->out->csrf_token = st_dup(s->a, r, 2);
    s->out->created_at = db_int(r, 3);
    s->out->last_seen_at = db_int(r, 4);
    s->out->expires_at = db_int(r, 5);
    s->user->id = db_int(r, 1);
    s->user->email = st_dup(s->a, r, 6);
    s->user->name = st_dup(s->a, r, 7);
    s->user->password_hash = NULL;   /* not needed to serve a request */
    s->user->language = st_dup(s->a, r, 8);
    s->user->verified_at = db_int(r, 9);
    s->user->created_at = db_int(r, 10);
    s->out->method = st_dup(s->a, r, 11);
    s->found = true;
    return 1;
}

os_err st_session_get(store_conn *c, arena *a, const char *token_hash, session_rec *out, user_rec *user) {
    sess_ud s = {a, out, user, false};
    memset(out, 0, sizeof *out);
    memset(user, 0, sizeof *user);
    os_err e = db_exec(c,
                       "SELECT s.id, s.user_id, s.csrf_token, s.created_at, s.last_seen_at, s.expires_at,"
                       " u.email, u.name, u.language, COALESCE(u.email_verified_at, 0), u.created_at, s.method"
                       " FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?1",
                       DB_ARGS(DV_TEXT(token_hash)), sess_row, &s);
    if (e) return e;
    return s.found ? OS_OK : OS_ERR_NOT_FOUND;
}

typedef struct sess_access_ud {
    sess_ud s;
    session_access_rec *g;
} sess_access_ud;

static int sess_access_row(void *ud, db_row *r) {
    sess_access_ud *x = ud;
    sess_row(&x->s, r);
    arena *a = x->s.a;
    x->g->agreement_id = db_is_null(r, 12) ? 0 : db_int(r, 12);
    x->g->end_date = st_dup(a, r, 13);
    x->g->disabled = db_int(r, 14) != 0;
    x->g->role.role = x->g->agreement_id ? st_dup(a, r, 15) : NULL;
    x->g->role.capabilities = (unsigned)db_int(r, 16);
    x->g->role.relationship_id = db_int(r, 17);
    x->g->data_version = db_is_null(r, 18) ? 0 : db_int(r, 18);
    x->g->strong_auth = db_int(r, 19) != 0;
    return 1;
}

os_err st_session_access(store_conn *c, arena *a, const char *token_hash, const char *license_number, int64_t now,
                         session_rec *out, user_rec *user, session_access_rec *g) {
    sess_access_ud x = {{a, out, user, false}, g};
    memset(out, 0, sizeof *out);
    memset(user, 0, sizeof *user);
    memset(g, 0, sizeof *g);
    /* The role's statement keyed by the license number and the session instead of their
     * ids: each a unique-index lookup, evaluated once. */
    os_err e = db_exec(c,
                       "SELECT s.id, s.user_id, s.csrf_token, s.created_at, s.last_seen_at, s.expires_at,"
                       " u.email, u.name, u.language, COALESCE(u.email_verified_at, 0), u.created_at, s.method,"
                       " g.id, g.end_date, g.disabled, ro.role, ro.caps, ro.rel, g.data_version,"
                       " COALESCE(p.require_strong_auth, 0)"
                       " FROM sessions s JOIN users u ON u.id = s.user_id"
                       " LEFT JOIN agreements g ON g.license_number = ?2"
                       " LEFT JOIN agreement_prefs p ON p.agreement_id = g.id"
                       " LEFT JOIN (" ST_ROLE_SQL("(SELECT id FROM agreements WHERE license_number = ?2)",
                                                  "(SELECT user_id FROM sessions WHERE token_hash = ?1)", "?3")
                       ") ro ON 1 = 1"
                       " WHERE s.token_hash = ?1",
                       DB_ARGS(DV_TEXT(token_hash), DV_TEXT(license_number), DV_INT(now)), sess_access_row, &x);
    if (e) return e;
    return x.s.found ? OS_OK : OS_ERR_NOT_FOUND;
}

os_err st_session_touch(store_conn *c, int64_t id, int64_t now) {
    return db_exec(c, "UPDATE sessions SET last_seen_at = ?2 WHERE id = ?1", DB_ARGS(DV_INT(id), DV_INT(now)),
                   NULL, NULL);
}

os_err st_session_delete(store_conn *c, const char *token_hash) {
    return db_exec(c, "DELETE FROM sessions WHERE token_hash = ?1", DB_ARGS(DV_TEXT(token_hash)), NULL, NULL);
}

os_err st_sessions_end_user(store_conn *c, int64_t user_id, int64_t keep_id) {
    return db_exec(c, "DELETE FROM sessions WHERE user_id = ?1 AND id <> ?2", DB_ARGS(DV_INT(user_id), DV_INT(keep_id)),
                   NULL, NULL);
}

os_err st_sessions_purge(store_conn *c, int64_t idle_before, int64_t now) {
    return db_exec(c, "DELETE FROM sessions WHERE last_seen_at < ?1 OR expires_at <= ?2",
                   DB_ARGS(DV_INT(idle_before), DV_INT(now)), NULL, NULL);
}

/* ---- throttles ---- */

os_err st_auth_failure_add(store_conn *c, const char *scope, const char *key, const char *address, int64_t now,
                           int64_t *id) {
    int64_t tmp;
    return db_scalar_int(c, "INSERT INTO auth_failures (scope, key, address, at) VALUES (?1, ?2, ?3, ?4) RETURNING id",
                         DB_ARGS(DV_TEXT(scope), DV_TEXT(key), DV_TEXT(address ? address : ""), DV_INT(now)),
                         id ? id : &tmp);
}

os_err st_auth_failure_delete(store_conn *c, int64_t id) {
    return db_exec(c, "DELETE FROM auth_failures WHERE id = ?1", DB_ARGS(DV_INT(id)), NULL, NULL);
}

typedef struct fail_ud {
    int64_t count, oldest;
} fail_ud;

static int fail_row(void *ud, db_row *r) {
    fail_ud *f = ud;
    f->count = db_int(r, 0);
    f->oldest = db_int(r, 1);
    return 1;
}

os_err st_auth_failures(store_conn *c, const char *scope, const char *key, const char *address, int64_t since,
                        int64_t *count, int64_t *oldest) {
    fail_ud f = {0, 0};
    os_err e = address ? db_exec(c,
                                 "SELECT COUNT(*), COALESCE(MIN(at), 0) FROM auth_failures"
                                 " WHERE scope = ?1 AND key = ?2 AND address = ?3 AND at >= ?4",
                                 DB_ARGS(DV_TEXT(scope), DV_TEXT(key), DV_TEXT(address), DV_INT(since)), fail_row, &f)
                       : db_exec(c,
                                 "SELECT COUNT(*), COALESCE(MIN(at), 0) FROM auth_failures"
                                 " WHERE scope = ?1 AND key = ?2 AND at >= ?3",
                                 DB_ARGS(DV_TEXT(scope), DV_TEXT(key), DV_INT(since)), fail_row, &f);
    *count = f.count;
    *oldest = f.oldest;
    return e;
}

os_err st_auth_failures_clear(store_conn *c, const char *scope, const char *key, const char *address) {
    if (address)
        return db_exec(c, "DELETE FROM auth_failures WHERE scope = ?1 AND key = ?2 AND address = ?3",
                       DB_ARGS(DV_TEXT(scope), DV_TEXT(key), DV_TEXT(address)), NULL, NULL);
    return db_exec(c, "DELETE FROM auth_failures WHERE scope = ?1 AND key = ?2", DB_ARGS(DV_TEXT(scope), DV_TEXT(key)),
                   NULL, NULL);
}

os_err st_auth_failures_purge(store_conn *c, int64_t before) {
    return db_exec(c, "DELETE FROM auth_failures WHERE at < ?1", DB_ARGS(DV_INT(before)), NULL, NULL);
}
