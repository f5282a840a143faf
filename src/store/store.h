/* store.h — the persistence contract. All SQL lives behind this header.
 *
 * Callers (domain modules, CLI) use the typed functions below; they never see SQL.
 * A `store` is process-wide; each thread gets its own connection from
 * store_conn_get() (created on first use, closed when the thread exits or at
 * store_close). Backends: SQLite (default, file DATA/openseat.db); the driver
 * interface in db.h lets PostgreSQL implement the same contract.
 *
 * Records returned through `out` parameters are arena-owned. Every function returns
 * OS_OK, OS_ERR_NOT_FOUND where a single row was expected and absent, OS_ERR_CONFLICT
 * on a unique-key clash, or a store error. Times are Unix seconds chosen by the caller.
 */
#ifndef OPENSEAT_STORE_H
#define OPENSEAT_STORE_H
#include <stdbool.h>
#include <stdint.h>
#include "core/arena.h"
#include "core/error.h"
#include "store/db.h"

typedef struct store store;
typedef db_conn store_conn;

os_err store_open(const char *data_dir, const char *url, store **out, char *err, size_t errlen);
void   store_close(store *s);
/* This thread's connection; NULL (and a logged error) if it cannot be opened. */
store_conn *store_conn_get(store *s);
/* Apply pending embedded migrations, each in its own transaction. *applied may be NULL. */
os_err store_migrate(store *s, int *applied, char *err, size_t errlen);
int    store_schema_version(store_conn *c);
os_err store_backup(store *s, const char *file, char *err, size_t errlen);
const char *store_describe(const store *s);          /* "sqlite:/path" for logs */

/* Transactions nest: only the outermost begin/commit reach the database; a failed
 * inner step makes the outer commit roll back. store_tx_end commits when e == OS_OK
 * and rolls back otherwise, returning the error to pass on. */
os_err store_tx_begin(store_conn *c);
os_err store_tx_end(store_conn *c, os_err e);

/* ---- users ---------------------------------------------------------------------- */
typedef struct user_rec {
    int64_t id;
    const char *email, *name, *password_hash, *language;
    int64_t verified_at;      /* 0: not verified */
    int64_t created_at;
} user_rec;

os_err st_user_create(store_conn *c, const char *email, const char *name, const char *pw_hash,
                      const char *language, int64_t now, int64_t *id);
os_err st_user_by_email(store_conn *c, arena *a, const char *email, user_rec *out);
os_err st_user_by_id(store_conn *c, arena *a, int64_t id, user_rec *out);
os_err st_user_set_verified(store_conn *c, int64_t id, int64_t now);
os_err st_user_set_password(store_conn *c, int64_t id, const char *pw_hash, int64_t now);
/* NULL leaves a field unchanged. */
os_err st_user_update_profile(store_conn *c, int64_t id, const char *name, const char *language, int64_t now);
os_err st_user_count(store_conn *c, int64_t *n);

/* ---- one-time e-mail tokens (verification, password reset) -------------------------- */
os_err st_token_create(store_conn *c, int64_t user_id, const char *purpose, const char *token_hash,
                       int64_t expires_at, int64_t now);
/* Marks the token used and returns its user, atomically. OS_ERR_GONE when unknown,
 * expired or already used (one answer for all three: no oracle). */
os_err st_token_consume(store_conn *c, const char *purpose, const char *token_hash, int64_t now,
                        int64_t *user_id);
/* Voids every unused token of that purpose for the user (a new link replaces old ones). */
os_err st_tokens_void(store_conn *c, int64_t user_id, const char *purpose, int64_t now);

/* ---- sessions ------------------------------------------------------------------- */
typedef struct session_rec {
    int64_t id, user_id, created_at, last_seen_at, expires_at;
    const char *csrf_token;
} session_rec;

os_err st_session_create(store_conn *c, const char *token_hash, int64_t user_id, const char *csrf,
                         int64_t now, int64_t expires_at, const char *address, const char *user_agent);
os_err st_session_get(store_conn *c, arena *a, const char *token_hash, session_rec *out);
os_err st_session_touch(store_conn *c, int64_t id, int64_t now);
os_err st_session_delete(store_conn *c, const char *token_hash);
/* Ends all of a user's sessions but the one with keep_id (0: all). */
os_err st_sessions_end_user(store_conn *c, int64_t user_id, int64_t keep_id);
os_err st_sessions_purge(store_conn *c, int64_t idle_before, int64_t now);

/* ---- sign-in throttle ------------------------------------------------------------- */
/* *id (may be NULL) receives the row id, so a provisional failure can be withdrawn. */
os_err st_auth_failure_add(store_conn *c, const char *scope, const char *key, int64_t now, int64_t *id);
os_err st_auth_failure_delete(store_conn *c, int64_t id);
/* Failures since `since`, and the time of the oldest of them (0 if none). */
os_err st_auth_failures(store_conn *c, const char *scope, const char *key, int64_t since, int64_t *count,
                        int64_t *oldest);
os_err st_auth_failures_clear(store_conn *c, const char *scope, const char *key);
os_err st_auth_failures_purge(store_conn *c, int64_t before);

/* ---- mail outbox -------------------------------------------------------------------- */
typedef struct outbox_rec {
    int64_t id, attempts, next_attempt_at, sent_at, created_at;
    const char *recipient, *template_name, *language, *data, *message_id, *last_error;
} outbox_rec;

os_err st_outbox_add(store_conn *c, const char *recipient, const char *template_name, const char *language,
                     const char *data_json, const char *message_id, int64_t now, int64_t *id);
/* Leases up to `limit` due, unsent rows to `worker` until lease_until; rows leased by
 * another live worker are skipped, so two workers never hold the same row. */
os_err st_outbox_claim(store_conn *c, arena *a, const char *worker, int64_t now, int64_t lease_until, int limit,
                       outbox_rec **rows, int *n);
os_err st_outbox_mark_sent(store_conn *c, int64_t id, const char *worker, int64_t now);
os_err st_outbox_mark_failed(store_conn *c, int64_t id, const char *worker, int64_t next_attempt_at,
                             const char *error);
/* Newest first; pending_only limits to unsent rows. */
os_err st_outbox_list(store_conn *c, arena *a, bool pending_only, int limit, outbox_rec **rows, int *n);
/* Makes one row (id > 0) or every unsent row (id == 0) due now. *changed may be NULL. */
os_err st_outbox_retry(store_conn *c, int64_t id, int64_t now, int64_t *changed);
os_err st_outbox_depth(store_conn *c, int64_t *pending);

/* ---- audit trail (append-only) -------------------------------------------------------- */
typedef struct audit_rec {
    int64_t at;
    int64_t actor_user_id;     /* 0: none (anonymous or system) */
    const char *actor_email;
    const char *action, *target_type, *target_id;
    int64_t agreement_id;      /* 0: none */
    const char *address, *request_id, *details_json;
} audit_rec;

os_err st_audit_add(store_conn *c, const audit_rec *r);
os_err st_audit_recent(store_conn *c, arena *a, int64_t actor_user_id, int limit, audit_rec **rows, int *n);

/* ---- settings (server-wide key/value, e.g. generated keys) --------------------------- */
os_err st_setting_get(store_conn *c, arena *a, const char *key, const char **value);
/* Stores value unless the key exists; either way *value ends as the stored one.
 * Safe when several processes race to create the same key. */
os_err st_setting_init(store_conn *c, arena *a, const char *key, const char *candidate, const char **value);

#endif
