/* store_sso.c — sign-ins started with an OpenID Connect provider and the identities linked
 * to accounts. Contract in store.h (sign-in through OpenID Connect providers). */
#include "store.h"
#include "store_util.h"

os_err st_sso_request_create(store_conn *c, const char *state_hash, const char *provider, const char *nonce,
                             const char *verifier, const char *language, int64_t now, int64_t expires_at) {
    os_err e = db_exec(c, "DELETE FROM sso_requests WHERE expires_at <= ?1", DB_ARGS(DV_INT(now)), NULL, NULL);
    if (e) return e;
    return db_exec(c,
                   "INSERT INTO sso_requests (state_hash, provider, nonce, verifier, created_at, expires_at, language)"
                   " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                   DB_ARGS(DV_TEXT(state_hash), DV_TEXT(provider), DV_TEXT(nonce), DV_TEXT(verifier), DV_INT(now),
                           DV_INT(expires_at), DV_TEXT(language)),
                   NULL, NULL);
}

static void fill_request(arena *a, db_row *r, void *dst) {
    sso_request_rec *q = dst;
    q->provider = st_dup(a, r, 0);
    q->nonce = st_dup(a, r, 1);
    q->verifier = st_dup(a, r, 2);
    q->language = st_dup(a, r, 3);
}

os_err st_sso_request_consume(store_conn *c, arena *a, const char *state_hash, int64_t now, sso_request_rec *out) {
    /* One statement: whichever of two concurrent callbacks runs it second finds used_at set. */
    sso_request_rec *rows;
    int n;
    os_err e = st_list(c, a,
                       "UPDATE sso_requests SET used_at = ?2"
                       " WHERE state_hash = ?1 AND used_at IS NULL AND expires_at > ?2"
                       " RETURNING provider, nonce, verifier, language",
                       DB_ARGS(DV_TEXT(state_hash), DV_INT(now)), sizeof *rows, fill_request, (void **)&rows, &n);
    if (e) return e;
    if (!n) return OS_ERR_GONE;
    *out = rows[0];
    return OS_OK;
}

os_err st_sso_identity_user(store_conn *c, const char *issuer, const char *subject, int64_t *user_id) {
    return db_scalar_int(c, "SELECT user_id FROM sso_identities WHERE issuer = ?1 AND subject = ?2",
                         DB_ARGS(DV_TEXT(issuer), DV_TEXT(subject)), user_id);
}

os_err st_sso_identity_link(store_conn *c, const char *issuer, const char *subject, int64_t user_id, int64_t now) {
    return db_exec(c,
                   "INSERT INTO sso_identities (issuer, subject, user_id, created_at, last_signin_at)"
                   " VALUES (?1, ?2, ?3, ?4, ?4)",
                   DB_ARGS(DV_TEXT(issuer), DV_TEXT(subject), DV_INT(user_id), DV_INT(now)), NULL, NULL);
}

os_err st_sso_identity_touch(store_conn *c, const char *issuer, const char *subject, int64_t now) {
    return db_exec(c, "UPDATE sso_identities SET last_signin_at = ?3 WHERE issuer = ?1 AND subject = ?2",
                   DB_ARGS(DV_TEXT(issuer), DV_TEXT(subject), DV_INT(now)), NULL, NULL);
}
