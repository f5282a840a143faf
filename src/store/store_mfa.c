/* store_mfa.c — the second factor: TOTP secrets, recovery codes and sign-in challenges.
 * Contract in store.h. */
#include <string.h>
#include "store_util.h"

typedef struct mfa_ud {
    arena *a;
    mfa_rec *out;
    bool found;
} mfa_ud;

static int mfa_row(void *ud, db_row *r) {
    mfa_ud *u = ud;
    u->out->secret_sealed = st_dup(u->a, r, 0);
    u->out->created_at = db_int(r, 1);
    u->out->confirmed_at = db_is_null(r, 2) ? 0 : db_int(r, 2);
    u->out->last_step = db_int(r, 3);
    u->found = true;
    return 1;
}

os_err st_mfa_get(store_conn *c, arena *a, int64_t user_id, mfa_rec *out) {
    mfa_ud u = {a, out, false};
    memset(out, 0, sizeof *out);
    os_err e = db_exec(c, "SELECT secret_sealed, created_at, confirmed_at, last_step FROM user_mfa WHERE user_id = ?1",
                       DB_ARGS(DV_INT(user_id)), mfa_row, &u);
    return !e && !u.found ? OS_ERR_NOT_FOUND : e;
}

os_err st_mfa_start(store_conn *c, int64_t user_id, const char *sealed, int64_t now) {
    return db_exec(c,
                   "INSERT INTO user_mfa (user_id, secret_sealed, created_at, confirmed_at, last_step)"
                   " VALUES (?1, ?2, ?3, NULL, 0) ON CONFLICT (user_id) DO UPDATE SET"
                   " secret_sealed = excluded.secret_sealed, created_at = excluded.created_at,"
                   " confirmed_at = NULL, last_step = 0",
                   DB_ARGS(DV_INT(user_id), DV_TEXT(sealed), DV_INT(now)), NULL, NULL);
}

os_err st_mfa_confirm(store_conn *c, int64_t user_id, int64_t now) {
    return db_exec(c, "UPDATE user_mfa SET confirmed_at = ?2 WHERE user_id = ?1", DB_ARGS(DV_INT(user_id), DV_INT(now)),
                   NULL, NULL);
}

os_err st_mfa_use_step(store_conn *c, int64_t user_id, int64_t step, bool *fresh) {
    int64_t v = 0;
    os_err e = db_scalar_int(c, "UPDATE user_mfa SET last_step = ?2 WHERE user_id = ?1 AND last_step < ?2 RETURNING 1",
                             DB_ARGS(DV_INT(user_id), DV_INT(step)), &v);
    *fresh = !e;
    return e == OS_ERR_NOT_FOUND ? OS_OK : e;
}

os_err st_mfa_delete(store_conn *c, int64_t user_id) {
    os_err e = db_exec(c, "DELETE FROM mfa_recovery_codes WHERE user_id = ?1", DB_ARGS(DV_INT(user_id)), NULL, NULL);
    if (!e) e = db_exec(c, "DELETE FROM mfa_challenges WHERE user_id = ?1", DB_ARGS(DV_INT(user_id)), NULL, NULL);
    if (!e) e = db_exec(c, "DELETE FROM user_mfa WHERE user_id = ?1", DB_ARGS(DV_INT(user_id)), NULL, NULL);
    return e;
}

os_err st_mfa_proofs_withdraw(store_conn *c, int64_t user_id, int64_t keep_id) {
    os_err e = db_exec(c, "DELETE FROM sessions WHERE user_id = ?1 AND id <> ?2", DB_ARGS(DV_INT(user_id), DV_INT(keep_id)),
                       NULL, NULL);
    if (!e)
        e = db_exec(c, "UPDATE sessions SET method = 'password' WHERE id = ?1 AND user_id = ?2 AND method = 'mfa'",
                    DB_ARGS(DV_INT(keep_id), DV_INT(user_id)), NULL, NULL);
    if (!e)
        e = db_exec(c, "UPDATE api_tokens SET method = 'password' WHERE user_id = ?1 AND method = 'mfa'",
                    DB_ARGS(DV_INT(user_id)), NULL, NULL);
    if (!e)
        e = db_exec(c,
                    "UPDATE jobs SET auth_method = 'password' WHERE user_id = ?1 AND auth_method = 'mfa'"
                    " AND state IN ('queued', 'running')",
                    DB_ARGS(DV_INT(user_id)), NULL, NULL);
    return e;
}

os_err st_mfa_codes_replace(store_conn *c, int64_t user_id, const char *const *hashes, int n, int64_t now) {
    os_err e = db_exec(c, "DELETE FROM mfa_recovery_codes WHERE user_id = ?1", DB_ARGS(DV_INT(user_id)), NULL, NULL);
    for (int i = 0; !e && i < n; i++)
        e = db_exec(c, "INSERT INTO mfa_recovery_codes (user_id, code_hash, created_at) VALUES (?1, ?2, ?3)",
                    DB_ARGS(DV_INT(user_id), DV_TEXT(hashes[i]), DV_INT(now)), NULL, NULL);
    return e;
}

os_err st_mfa_code_use(store_conn *c, int64_t user_id, const char *hash, int64_t now, bool *used) {
    int64_t id = 0;
    os_err e = db_scalar_int(c,
                             "UPDATE mfa_recovery_codes SET used_at = ?3 WHERE id = (SELECT id FROM mfa_recovery_codes"
                             " WHERE user_id = ?1 AND code_hash = ?2 AND used_at IS NULL LIMIT 1) RETURNING id",
                             DB_ARGS(DV_INT(user_id), DV_TEXT(hash), DV_INT(now)), &id);
    *used = !e;
    return e == OS_ERR_NOT_FOUND ? OS_OK : e;
}

os_err st_mfa_codes_left(store_conn *c, int64_t user_id, int64_t *n) {
    return db_scalar_int(c, "SELECT COUNT(*) FROM mfa_recovery_codes WHERE user_id = ?1 AND used_at IS NULL",
                         DB_ARGS(DV_INT(user_id)), n);
}

os_err st_mfa_challenge_create(store_conn *c, const char *hash, int64_t user_id, int64_t now, int64_t expires_at) {
    /* One challenge at a time per account: a new password sign-in voids the older ones. */
    os_err e = db_exec(c, "DELETE FROM mfa_challenges WHERE user_id = ?1 OR expires_at <= ?2",
                       DB_ARGS(DV_INT(user_id), DV_INT(now)), NULL, NULL);
    if (!e)
        e = db_exec(c,
                    "INSERT INTO mfa_challenges (token_hash, user_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
                    DB_ARGS(DV_TEXT(hash), DV_INT(user_id), DV_INT(now), DV_INT(expires_at)), NULL, NULL);
    return e;
}

os_err st_mfa_challenge_user(store_conn *c, const char *hash, int64_t now, int64_t *user_id) {
    return db_scalar_int(c,
                         "SELECT user_id FROM mfa_challenges WHERE token_hash = ?1 AND used_at IS NULL AND expires_at > ?2",
                         DB_ARGS(DV_TEXT(hash), DV_INT(now)), user_id);
}

os_err st_mfa_challenge_use(store_conn *c, const char *hash, int64_t now) {
    int64_t id = 0;
    return db_scalar_int(c,
                         "UPDATE mfa_challenges SET used_at = ?2 WHERE token_hash = ?1 AND used_at IS NULL"
                         " AND expires_at > ?2 RETURNING id",
                         DB_ARGS(DV_TEXT(hash), DV_INT(now)), &id);
}
