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
 *
 * Each section's banner names the file beside this header that implements all of it.
 * Helpers the store_*.c files share are in store_util.h (and the subscriber row's column
 * table in store_sub.h); neither is part of this contract.
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

/* ---- opening, connections, migrations, backup ------------------------------------ store.c */
OS_MUST_USE os_err store_open(const char *data_dir, const char *url, store **out, char *err, size_t errlen);
void   store_close(store *s);
/* This thread's connection; NULL (and a logged error) if it cannot be opened. */
store_conn *store_conn_get(store *s);
/* Apply pending embedded migrations, each in its own transaction. *applied may be NULL. */
OS_MUST_USE os_err store_migrate(store *s, int *applied, char *err, size_t errlen);
int    store_schema_version(store_conn *c);
OS_MUST_USE os_err store_backup(store *s, const char *file, char *err, size_t errlen);
const char *store_describe(const store *s);          /* "sqlite:/path" for logs */
/* Whether another connection may write while one holds a write transaction (PostgreSQL,
 * row locks) rather than wait for it to end (SQLite, one writer). */
bool store_writes_beside_tx(const store *s);

/* ---- copying into PostgreSQL ------------------------------------------------ store_copy.c */
/* Copies every row of from into to, a PostgreSQL store at the same schema version that
 * holds no users, organizations or agreements yet: all or nothing, each table checked
 * for its row count; report (may be NULL) hears each table as it is done. */
typedef void (*store_copy_report)(void *ud, const char *table, int64_t rows);
OS_MUST_USE os_err store_copy(store *from, store *to, store_copy_report report, void *ud, char *err, size_t errlen);

/* ---- transactions ---------------------------------------------------------------- store.c */
/* Transactions nest: only the outermost begin/commit reach the database; a failed
 * inner step makes the outer commit roll back. store_tx_end commits when e == OS_OK
 * and rolls back otherwise, returning the error to pass on. */
/* Write transactions have a scope. store_tx_begin's is the whole store: it runs alone
 * (on PostgreSQL every other write waits for it, and it for them). A transaction that
 * writes one agreement's rows names it (or up to LIMIT_TX_AGREEMENTS of them) instead:
 * writes on other agreements run beside it, writes on the same one after it, so what it
 * reads about its agreements decides its writes as in a transaction that runs alone. Its
 * rows shared with other agreements (users, organizations, settings…) it may read but not
 * decide on, and may write only where no other scoped transaction could write the same row
 * (inserts of new rows: audit, outbox). Each agreement named has its data version bumped
 * once (st_agreement_data_changed). A nested begin must fit inside the outermost one's
 * scope (OS_ERR_INTERNAL otherwise). SQLite: one writer at a time, whatever the scope. */
OS_MUST_USE os_err store_tx_begin(store_conn *c);
OS_MUST_USE os_err store_tx_begin_agreement(store_conn *c, int64_t agreement_id);
/* ids: 1..LIMIT_TX_AGREEMENTS agreements, in any order (locked in ascending order). */
OS_MUST_USE os_err store_tx_begin_agreements(store_conn *c, const int64_t *ids, int n);
/* Bumps the agreement's data version: for a write under store_tx_begin that changes what
 * the agreement's subscribers list, a subscription or the overview shows. */
OS_MUST_USE os_err st_agreement_data_changed(store_conn *c, int64_t agreement_id);
OS_MUST_USE os_err store_tx_end(store_conn *c, os_err e);
/* After the code using c was abandoned part-way (longjmp out of a row callback or a
 * transaction: core/arena.h): stops what is in progress, rolls back an open transaction
 * (every nesting level) and leaves c ready for the next request on this thread. */
void   store_conn_abandon(store_conn *c);
/* The open transaction will write many rows: its changes stay in memory (SQLite: 64 MiB) until it ends. */
OS_MUST_USE os_err store_tx_bulk(store_conn *c);

/* ---- fault injection (test builds only) --------------------------------------------- store.c
 * Proves every error path is clean: armed on one thread (one request), the store counts
 * what that thread sends to the database — each statement, each outermost begin and each
 * commit — and makes one of them fail as the database would, without running it:
 *   "stmt:N"    the Nth of them, whatever it is;
 *   "commit:N"  the Nth commit;
 * followed by ":busy" for OS_ERR_BUSY (timed out waiting for the writer) instead of
 * OS_ERR_STORE. A failed commit rolls back like a real one. Rollbacks are never failed.
 * Other threads (other requests, the mail and job workers) are untouched. Compiled in only
 * with OPENSEAT_FAULTS (build/openseat-test); elsewhere arming does nothing and
 * store_fault_available() is false. */
bool store_fault_available(void);
/* Arms this thread; spec NULL only counts. false (and nothing armed) when spec is malformed. */
bool store_fault_arm(const char *spec);
/* Disarms this thread: *ops (may be NULL) receives the operations counted since arming;
 * returns whether the fault fired, and then what failed (the start of its SQL, or "BEGIN",
 * "COMMIT") into what (may be NULL). */
bool store_fault_disarm(long *ops, char *what, size_t whatlen);

/* ---- users -------------------------------------------------------------- store_accounts.c */
typedef struct user_rec {
    int64_t id;
    const char *email, *name, *password_hash, *language;
    int64_t verified_at;      /* 0: not verified */
    int64_t created_at;
} user_rec;

OS_MUST_USE os_err st_user_create(store_conn *c, const char *email, const char *name, const char *pw_hash,
                      const char *language, int64_t now, int64_t *id);
OS_MUST_USE os_err st_user_by_email(store_conn *c, arena *a, const char *email, user_rec *out);
OS_MUST_USE os_err st_user_by_id(store_conn *c, arena *a, int64_t id, user_rec *out);
OS_MUST_USE os_err st_user_set_verified(store_conn *c, int64_t id, int64_t now);
OS_MUST_USE os_err st_user_set_password(store_conn *c, int64_t id, const char *pw_hash, int64_t now);
/* NULL leaves a field unchanged. */
OS_MUST_USE os_err st_user_update_profile(store_conn *c, int64_t id, const char *name, const char *language, int64_t now);
OS_MUST_USE os_err st_user_count(store_conn *c, int64_t *n);

/* ---- one-time e-mail tokens (verification, password reset) -------------- store_accounts.c */
OS_MUST_USE os_err st_token_create(store_conn *c, int64_t user_id, const char *purpose, const char *token_hash,
                       int64_t expires_at, int64_t now);
/* Marks the token used and returns its user, atomically. OS_ERR_GONE when unknown,
 * expired or already used (one answer for all three: no oracle). */
OS_MUST_USE os_err st_token_consume(store_conn *c, const char *purpose, const char *token_hash, int64_t now,
                        int64_t *user_id);
/* Voids every unused token of that purpose for the user (a new link replaces old ones). */
OS_MUST_USE os_err st_tokens_void(store_conn *c, int64_t user_id, const char *purpose, int64_t now);

/* ---- sessions ----------------------------------------------------------- store_accounts.c */
typedef struct session_rec {
    int64_t id, user_id, created_at, last_seen_at, expires_at;
    const char *csrf_token;
    const char *method;        /* how it was proven: "password", "mfa" or "sso" */
} session_rec;

OS_MUST_USE os_err st_session_create(store_conn *c, const char *token_hash, int64_t user_id, const char *csrf,
                         int64_t now, int64_t expires_at, const char *address, const char *user_agent,
                         const char *method);
/* The session and its user, in one statement (it runs on every signed-in request). */
OS_MUST_USE os_err st_session_get(store_conn *c, arena *a, const char *token_hash, session_rec *out, user_rec *user);
/* st_session_get and, in the same statement, what the access rule reads about that
 * session's user on the agreement numbered license_number: its state (st_agreement_state)
 * and the user's role (st_agreement_role). agreement_id 0: no such agreement; role.role
 * NULL: no role. OS_ERR_NOT_FOUND: no such session. One round trip for the identity and
 * standing of every agreement request. */
typedef struct role_rec {      /* st_agreement_role's (partner blocks, recipients and roles) */
    const char *role;
    unsigned capabilities;     /* the relationship's (partners only) */
    int64_t relationship_id;   /* partners only */
} role_rec;
typedef struct session_access_rec {
    int64_t agreement_id;
    const char *end_date;
    bool disabled;
    int64_t data_version;      /* what the agreement's lists show (agreements.data_version) */
    role_rec role;
    bool strong_auth;          /* the agreement refuses password-only sessions (agreement_prefs) */
} session_access_rec;
OS_MUST_USE os_err st_session_access(store_conn *c, arena *a, const char *token_hash, const char *license_number,
                                     int64_t now, session_rec *out, user_rec *user, session_access_rec *g);
OS_MUST_USE os_err st_session_touch(store_conn *c, int64_t id, int64_t now);
OS_MUST_USE os_err st_session_delete(store_conn *c, const char *token_hash);
/* Ends all of a user's sessions but the one with keep_id (0: all). */
OS_MUST_USE os_err st_sessions_end_user(store_conn *c, int64_t user_id, int64_t keep_id);
OS_MUST_USE os_err st_sessions_purge(store_conn *c, int64_t idle_before, int64_t now);

/* ---- the second factor: TOTP, recovery codes, sign-in challenges ------------ store_mfa.c */
typedef struct mfa_rec {
    const char *secret_sealed;   /* the TOTP secret, sealed with the server's key */
    int64_t created_at;
    int64_t confirmed_at;        /* 0: enrolment started, the factor not on yet */
    int64_t last_step;           /* the last TOTP step accepted (a code works once) */
} mfa_rec;
/* OS_ERR_NOT_FOUND: the user never enrolled (or turned it off). */
OS_MUST_USE os_err st_mfa_get(store_conn *c, arena *a, int64_t user_id, mfa_rec *out);
/* (Re)starts an enrolment: a new secret, not confirmed. */
OS_MUST_USE os_err st_mfa_start(store_conn *c, int64_t user_id, const char *sealed, int64_t now);
OS_MUST_USE os_err st_mfa_confirm(store_conn *c, int64_t user_id, int64_t now);
/* Records step as used when it is later than the last one used; *fresh false: replayed. */
OS_MUST_USE os_err st_mfa_use_step(store_conn *c, int64_t user_id, int64_t step, bool *fresh);
/* Turns the factor off: its secret, codes and challenges go. */
OS_MUST_USE os_err st_mfa_delete(store_conn *c, int64_t user_id);
/* What the factor proved, withdrawn when it is turned off: the user's sessions but keep_id
 * end; keep_id's method, and that of the user's API tokens and of their jobs not yet ended,
 * becomes "password" where it was "mfa" ("sso" stays: the provider proved those). */
OS_MUST_USE os_err st_mfa_proofs_withdraw(store_conn *c, int64_t user_id, int64_t keep_id);
/* Replaces the user's recovery codes by these n SHA-256 hashes. */
OS_MUST_USE os_err st_mfa_codes_replace(store_conn *c, int64_t user_id, const char *const *hashes, int n, int64_t now);
/* Spends the unused code with this hash; *used false when there is none. */
OS_MUST_USE os_err st_mfa_code_use(store_conn *c, int64_t user_id, const char *hash, int64_t now, bool *used);
OS_MUST_USE os_err st_mfa_codes_left(store_conn *c, int64_t user_id, int64_t *n);
/* A challenge (its SHA-256) for the user, voiding the user's others and the expired. */
OS_MUST_USE os_err st_mfa_challenge_create(store_conn *c, const char *hash, int64_t user_id, int64_t now,
                                           int64_t expires_at);
/* The user of a live, unused challenge; OS_ERR_NOT_FOUND otherwise. */
OS_MUST_USE os_err st_mfa_challenge_user(store_conn *c, const char *hash, int64_t now, int64_t *user_id);
/* Spends it, atomically; OS_ERR_NOT_FOUND when it was spent or expired meanwhile. */
OS_MUST_USE os_err st_mfa_challenge_use(store_conn *c, const char *hash, int64_t now);

/* ---- API tokens (personal, for scripts and integrations) ---------------- store_tokens.c */
/* A person's token: agreement_id 0 acts on every agreement the owner may act on; the
 * capability bits are domain/access.h's CAP_* (CAP_MANAGE included). Times are Unix
 * seconds, 0 for never (revoked_at, last_used_at). The secret itself is never stored. */
typedef struct api_token_rec {
    int64_t id, user_id, agreement_id;
    const char *license_number;          /* the agreement's, NULL for every agreement */
    const char *name, *prefix;           /* prefix: "ost_" and the secret's public part */
    unsigned capabilities;
    int64_t created_at, expires_at, revoked_at, last_used_at;
    const char *last_used_address;
    const char *owner_email, *owner_name;
    const char *method;                  /* how the session that made it was proven (session_rec) */
} api_token_rec;

/* Inserts t (its id, revocation and use ignored) with the secret's SHA-256; *id the new
 * row's. OS_ERR_CONFLICT when the prefix is taken. */
OS_MUST_USE os_err st_api_token_create(store_conn *c, const api_token_rec *t, const char *secret_hash, int64_t *id);
/* The user's tokens, newest first, at most limit. */
OS_MUST_USE os_err st_api_tokens_of_user(store_conn *c, arena *a, int64_t user_id, int limit, api_token_rec **rows,
                                         int *n);
/* One of the user's tokens; OS_ERR_NOT_FOUND when unknown or another's. */
OS_MUST_USE os_err st_api_token_of_user(store_conn *c, arena *a, int64_t user_id, int64_t id, api_token_rec *out);
/* How many of the user's tokens are neither revoked nor expired at now. */
OS_MUST_USE os_err st_api_tokens_live_count(store_conn *c, int64_t user_id, int64_t now, int64_t *n);
/* Live tokens (not revoked, not expired at now) that can act on the agreement: named to it,
 * or for every agreement and owned by someone holding a role on it now (st_agreement_role's
 * rule). Newest first, at most limit; the one with id, or OS_ERR_NOT_FOUND. */
OS_MUST_USE os_err st_api_tokens_of_agreement(store_conn *c, arena *a, int64_t agreement_id, int64_t now, int limit,
                                              api_token_rec **rows, int *n);
OS_MUST_USE os_err st_api_token_of_agreement(store_conn *c, arena *a, int64_t agreement_id, int64_t id, int64_t now,
                                             api_token_rec *out);
/* Revokes the token unless it is already; *revoked says whether this call did. */
OS_MUST_USE os_err st_api_token_revoke(store_conn *c, int64_t id, int64_t by, int64_t now, bool *revoked);
/* Records a use (time, client address) unless one was recorded in the last minute. */
OS_MUST_USE os_err st_api_token_touch(store_conn *c, int64_t id, int64_t now, const char *address);
/* The token whose prefix is given, its stored secret hash and its owner, and what the access
 * rule reads about the owner on the agreement numbered license_number (NULL: none; then
 * g->agreement_id is 0) — st_session_access's counterpart, one statement on every bearer
 * request. Only id, user_id, agreement_id, name, capabilities, expires_at, revoked_at,
 * last_used_at and the owner of *t are read. OS_ERR_NOT_FOUND: no such prefix. */
OS_MUST_USE os_err st_api_token_access(store_conn *c, arena *a, const char *prefix, const char *license_number,
                                       int64_t now, api_token_rec *t, const char **secret_hash, user_rec *user,
                                       session_access_rec *g);

/* ---- throttles: sign-in, registration, e-mail to unproven addresses ----- store_accounts.c */
/* One row per counted attempt, with the client address it came from (NULL: ''). *id (may
 * be NULL) receives the row id, so a provisional failure can be withdrawn. */
OS_MUST_USE os_err st_auth_failure_add(store_conn *c, const char *scope, const char *key, const char *address, int64_t now,
                           int64_t *id);
OS_MUST_USE os_err st_auth_failure_delete(store_conn *c, int64_t id);
/* Attempts since `since` for (scope, key) — from that client address only when address is
 * not NULL — and the time of the oldest of them (0 if none). */
OS_MUST_USE os_err st_auth_failures(store_conn *c, const char *scope, const char *key, const char *address, int64_t since,
                        int64_t *count, int64_t *oldest);
/* Forgets (scope, key)'s attempts: those from one client address, or all when address is NULL. */
OS_MUST_USE os_err st_auth_failures_clear(store_conn *c, const char *scope, const char *key, const char *address);
OS_MUST_USE os_err st_auth_failures_purge(store_conn *c, int64_t before);

/* ---- mail outbox ---------------------------------------------------------- store_outbox.c */
typedef struct outbox_rec {
    int64_t id, attempts, next_attempt_at, sent_at, created_at;
    const char *recipient, *template_name, *language, *data, *message_id, *last_error;
    const char *reply_to;   /* NULL: the message carries no Reply-To */
} outbox_rec;

/* reply_to may be NULL. */
OS_MUST_USE os_err st_outbox_add(store_conn *c, const char *recipient, const char *reply_to, const char *template_name,
                     const char *language, const char *data_json, const char *message_id, int64_t now, int64_t *id);
/* st_outbox_add for n messages (recipient, reply_to, template_name, language, data, message_id), 64 a statement. */
OS_MUST_USE os_err st_outbox_add_many(store_conn *c, const outbox_rec *rows, int n, int64_t now);
/* Leases up to `limit` due, unsent rows to `worker` until lease_until; rows leased by
 * another live worker are skipped, so two workers never hold the same row. */
OS_MUST_USE os_err st_outbox_claim(store_conn *c, arena *a, const char *worker, int64_t now, int64_t lease_until, int limit,
                       outbox_rec **rows, int *n);
OS_MUST_USE os_err st_outbox_mark_sent(store_conn *c, int64_t id, const char *worker, int64_t now);
OS_MUST_USE os_err st_outbox_mark_failed(store_conn *c, int64_t id, const char *worker, int64_t next_attempt_at,
                             const char *error);
/* Newest first; pending_only limits to unsent rows. */
OS_MUST_USE os_err st_outbox_list(store_conn *c, arena *a, bool pending_only, int limit, outbox_rec **rows, int *n);
/* Makes one row (id > 0) or every unsent row (id == 0) due now. *changed may be NULL. */
OS_MUST_USE os_err st_outbox_retry(store_conn *c, int64_t id, int64_t now, int64_t *changed);
OS_MUST_USE os_err st_outbox_depth(store_conn *c, int64_t *pending);

/* ---- audit trail (append-only) --------------------------------------------- store_audit.c */
typedef struct audit_rec {
    int64_t at;
    int64_t actor_user_id;     /* 0: none (anonymous or system) */
    const char *actor_email;
    const char *action, *target_type, *target_id;
    int64_t agreement_id;      /* 0: none */
    const char *address, *request_id, *details_json;
    int64_t relationship_id;   /* the partner relationship the actor acted under; 0: none */
    int64_t token_id;          /* the API token the actor used; 0: none (a session, a job, the system) */
} audit_rec;

OS_MUST_USE os_err st_audit_add(store_conn *c, const audit_rec *r);
/* st_audit_add for n entries (a bulk change's), 64 a statement. */
OS_MUST_USE os_err st_audit_add_many(store_conn *c, const audit_rec *r, int n);
OS_MUST_USE os_err st_audit_recent(store_conn *c, arena *a, int64_t actor_user_id, int limit, audit_rec **rows, int *n);

/* A place in the trail read as a stream, in the order entries became visible: the writing
 * transaction's number (PostgreSQL's xid; always 0 on SQLite, whose single writer commits ids
 * in order) then the id. Every entry a reader has not been given yet lies after the last one
 * it was given, because a read returns only entries whose transaction had ended before every
 * transaction still running (the horizon): one that commits later has a larger tx. {0, 0}:
 * before the first entry. */
typedef struct audit_pos {
    int64_t tx, id;
} audit_pos;

/* An entry of the whole trail (every agreement's and the account-level ones), for the
 * operator's audit log. */
typedef struct audit_entry {
    audit_pos pos;
    audit_rec r;
    const char *license_number;   /* the agreement's; NULL: none */
} audit_entry;

/* At most limit entries after `after`, oldest first, settled ones only (see audit_pos). */
OS_MUST_USE os_err st_audit_after(store_conn *c, arena *a, audit_pos after, int limit, audit_entry **rows, int *n);

/* ---- integration events (an agreement's, for webhooks) ------------------- store_events.c */
typedef struct event_rec {
    int64_t id;
    int64_t agreement_id;
    const char *type;
    int64_t at;
    int64_t actor_user_id;     /* 0: none (system) */
    int64_t relationship_id;   /* partner.* events: the relationship they are about; 0: none */
    const char *data_json;     /* the event's data object */
} event_rec;

/* Appends r (its id ignored) and sets *id to the new row's. */
OS_MUST_USE os_err st_event_add(store_conn *c, const event_rec *r, int64_t *id);

/* ---- webhook endpoints, deliveries and their tries ----------------- store_webhooks.c */
/* An endpoint's owner: an agreement (agreement_id) or a partner organization (org_id),
 * never both. Every statement that names an endpoint by id also names its owner, so one
 * owner's id never reaches another's endpoint. */
struct recipient_rec;
typedef struct webhook_owner {
    int64_t agreement_id;
    int64_t org_id;
} webhook_owner;

typedef struct webhook_rec {
    int64_t id;
    webhook_owner owner;
    const char *url;
    const char *description;
    const char *event_types;        /* ",a,b," ; "": every type */
    bool enabled;
    const char *disabled_reason;    /* "owner" | "failing"; NULL while enabled */
    const char *secret;             /* sealed */
    const char *previous_secret;    /* sealed; NULL: none */
    int64_t previous_until;         /* the previous secret signs until then */
    int64_t failing_since;          /* 0: not failing */
    int64_t created_at, updated_at, created_by;
} webhook_rec;

typedef struct webhook_delivery_rec {
    int64_t id, endpoint_id, event_id;   /* event_id 0: a ping */
    const char *type;
    const char *status;                  /* pending | delivered | failed | dropped */
    int64_t attempts, next_attempt_at, created_at, finished_at;
    int64_t last_status;                 /* the last try's HTTP status; 0: none */
} webhook_delivery_rec;

typedef struct webhook_attempt_rec {
    int64_t id, delivery_id, at;
    int64_t http_status;                 /* 0: no answer */
    const char *error;                   /* NULL: none */
    const char *response;                /* the answer's first KiB; NULL: none */
    int64_t duration_ms;
} webhook_attempt_rec;

/* What the worker needs to send one claimed delivery. */
typedef struct webhook_job_rec {
    int64_t delivery_id, endpoint_id, event_id, attempts;
    const char *type;
    webhook_owner owner;                 /* the endpoint's */
    int64_t agreement_id;                /* the event's; 0 for a ping */
    int64_t relationship_id;             /* the event's (partner.*); 0: none */
    int64_t at;                          /* the event's time (a ping's: its creation) */
    const char *data;                    /* the event's data; NULL for a ping */
    const char *url, *secret, *previous_secret;
    int64_t previous_until;
    bool enabled;
} webhook_job_rec;

OS_MUST_USE os_err st_webhook_add(store_conn *c, const webhook_rec *w, int64_t *id);
OS_MUST_USE os_err st_webhook_count(store_conn *c, webhook_owner o, int64_t *n);
/* OS_ERR_NOT_FOUND when the owner has no endpoint with that id. */
OS_MUST_USE os_err st_webhook_get(store_conn *c, arena *a, webhook_owner o, int64_t id, webhook_rec *out);
OS_MUST_USE os_err st_webhook_list(store_conn *c, arena *a, webhook_owner o, webhook_rec **rows, int *n);
/* Writes url, description, event_types, enabled, disabled_reason and updated_at; a
 * re-enabled endpoint starts with no failures. */
OS_MUST_USE os_err st_webhook_update(store_conn *c, const webhook_rec *w);
OS_MUST_USE os_err st_webhook_delete(store_conn *c, webhook_owner o, int64_t id, int64_t *changed);
/* The current secret becomes the previous one, signing until previous_until. */
OS_MUST_USE os_err st_webhook_rotate(store_conn *c, webhook_owner o, int64_t id, const char *sealed,
                                     int64_t previous_until, int64_t now);
/* One pending delivery of event event_id (type, on agreement_id) per enabled endpoint that
 * takes the type: the agreement's own, and those of partner organizations holding an active
 * relationship on it that qualifies (partner_capability as events.h: a CAP_* bit, 0 any,
 * -1 only relationship_id's organization, -2 none). One statement; nothing when none. */
OS_MUST_USE os_err st_webhook_fanout(store_conn *c, int64_t event_id, int64_t agreement_id, const char *type,
                                     int partner_capability, int64_t relationship_id, int64_t now);
/* Whether org_id holds, now, an active relationship on agreement_id that qualifies for an
 * event of partner_capability (as st_webhook_fanout). */
OS_MUST_USE os_err st_webhook_partner_may(store_conn *c, int64_t org_id, int64_t agreement_id, int partner_capability,
                                          int64_t relationship_id, int64_t now, bool *may);
/* A pending delivery of type (a ping: no event) to one endpoint. */
OS_MUST_USE os_err st_webhook_delivery_add(store_conn *c, int64_t endpoint_id, const char *type, int64_t now,
                                           int64_t *id);
/* The endpoint's deliveries, newest first, older than before_id (0: from the newest). */
OS_MUST_USE os_err st_webhook_deliveries(store_conn *c, arena *a, int64_t endpoint_id, int64_t before_id, int limit,
                                         webhook_delivery_rec **rows, int *n);
/* OS_ERR_NOT_FOUND unless the delivery is the endpoint's. */
OS_MUST_USE os_err st_webhook_delivery_get(store_conn *c, arena *a, int64_t endpoint_id, int64_t id,
                                           webhook_delivery_rec *out);
/* A delivery's tries, oldest first (the latest `limit`). */
OS_MUST_USE os_err st_webhook_attempts(store_conn *c, arena *a, int64_t delivery_id, int limit,
                                       webhook_attempt_rec **rows, int *n);
/* Makes the endpoint's delivery pending and due now, its tries counted afresh.
 * OS_ERR_NOT_FOUND unless the delivery is the endpoint's. */
OS_MUST_USE os_err st_webhook_redeliver(store_conn *c, int64_t endpoint_id, int64_t id, int64_t now);
/* Leases to worker until lease_until up to limit due deliveries, oldest first, of ONE
 * enabled endpoint: the one with the oldest due delivery among those with no pending
 * delivery under a live lease (claimed_until >= now). One statement (PostgreSQL: FOR
 * UPDATE SKIP LOCKED); *ids their ids, none when no endpoint is free and due. */
OS_MUST_USE os_err st_webhook_claim(store_conn *c, arena *a, const char *worker, int64_t now, int64_t lease_until,
                                    int limit, int64_t **ids, int *n);
/* Hands back worker's claims on pending deliveries it will not try now: they are due to
 * any worker again at once. */
OS_MUST_USE os_err st_webhook_release(store_conn *c, const char *worker);
/* The claimed delivery with its endpoint and event; OS_ERR_NOT_FOUND when it is gone. */
OS_MUST_USE os_err st_webhook_job(store_conn *c, arena *a, int64_t delivery_id, webhook_job_rec *out);
OS_MUST_USE os_err st_webhook_attempt_add(store_conn *c, const webhook_attempt_rec *t);
/* Ends worker's claim on the delivery: status ("pending" with next_attempt_at for a retry,
 * else "delivered" | "failed" | "dropped"), one more try counted unless dropped. *changed
 * 0 when the claim was no longer the worker's. */
OS_MUST_USE os_err st_webhook_delivery_done(store_conn *c, int64_t id, const char *worker, const char *status,
                                            int64_t next_attempt_at, int64_t now, int64_t *changed);
/* The endpoint's standing after a try: a success clears failing_since; a failure sets it
 * (when unset) and, when it is at or before disable_before, disables the endpoint
 * ("failing") and ends its pending deliveries as failed — *disabled says this call did it
 * (one caller, whichever instance, e-mails the owners). Three statements: the caller
 * wraps them in a transaction. */
OS_MUST_USE os_err st_webhook_endpoint_result(store_conn *c, int64_t endpoint_id, bool ok, int64_t now,
                                              int64_t disable_before, bool *disabled);
/* Who is told about the endpoint: its agreement's super admins, or its organization's
 * admins (with the language of their account, when they have one). */
OS_MUST_USE os_err st_webhook_owners(store_conn *c, arena *a, webhook_owner o, struct recipient_rec **rows, int *n);
/* Forgets finished deliveries (and their tries) made before `before`, and events from before
 * `before` that no pending delivery needs. */
OS_MUST_USE os_err st_webhook_prune(store_conn *c, int64_t before);

/* ---- settings (server-wide key/value, e.g. generated keys) ----------------- store_audit.c */
OS_MUST_USE os_err st_setting_get(store_conn *c, arena *a, const char *key, const char **value);
/* Stores value unless the key exists; either way *value ends as the stored one.
 * Safe when several processes race to create the same key. */
OS_MUST_USE os_err st_setting_init(store_conn *c, arena *a, const char *key, const char *candidate, const char **value);
/* Stores value under key, replacing what was there. */
OS_MUST_USE os_err st_setting_put(store_conn *c, const char *key, const char *value);

/* ---- licensing: organizations, partner members, levels ----------------- store_licensing.c */
typedef struct org_rec {
    int64_t id;
    const char *kind, *name, *country;
} org_rec;

typedef struct level_rec {
    int64_t id;
    const char *code, *name_en, *name_fr;
} level_rec;

/* Finds the organization (a customer by name and country, a partner by name), or creates
 * it; *created may be NULL. */
OS_MUST_USE os_err st_org_ensure(store_conn *c, const char *kind, const char *name, const char *country, int64_t now,
                     int64_t *id, bool *created);
OS_MUST_USE os_err st_partner_member_add(store_conn *c, int64_t org_id, const char *email, const char *role, int64_t now);
/* Partner organizations the address is a member of. */
OS_MUST_USE os_err st_partner_orgs_of(store_conn *c, arena *a, const char *email, org_rec **rows, int *n);
OS_MUST_USE os_err st_levels(store_conn *c, arena *a, level_rec **rows, int *n);

/* ---- licensing: agreements, programs, orders --------------------------- store_licensing.c */
typedef struct agreement_rec {
    int64_t id;
    const char *license_number, *auth_hash, *auth_sealed, *customer_email, *program, *start_date, *end_date;
    int64_t customer_org_id, partner_org_id;
    const char *customer_name, *customer_country, *partner_name;
    bool disabled;
} agreement_rec;

typedef struct order_rec {
    int64_t id, created_at;
    const char *placed_by_name, *placed_by_email, *po_reference, *partner_name;
} order_rec;

typedef struct order_line_rec {
    int64_t order_id, quantity;
    const char *level_code;
} order_line_rec;

/* OS_ERR_CONFLICT when the license number or authorization hash already exists. */
OS_MUST_USE os_err st_agreement_create(store_conn *c, const agreement_rec *in, int64_t now, int64_t *id);
OS_MUST_USE os_err st_agreement_by_license(store_conn *c, arena *a, const char *license_number, agreement_rec *out);
OS_MUST_USE os_err st_agreement_by_id(store_conn *c, arena *a, int64_t id, agreement_rec *out);
/* The agreement whose license number matches, by id only (no joins). */
OS_MUST_USE os_err st_agreement_id(store_conn *c, const char *license_number, int64_t *id);
/* Whether an agreement already uses this keyed hash of an authorization number. */
OS_MUST_USE os_err st_authno_taken(store_conn *c, const char *auth_hash, bool *taken);
#define PROGRAM_REASSIGN_DAYS_DEFAULT 90
/* Days a freed seat waits for a different person under the agreement's program; 90 when it has no row. */
OS_MUST_USE os_err st_agreement_reassign_days(store_conn *c, int64_t agreement_id, int64_t *days);
/* Creates the program or replaces its reassignment days (0..3650; the schema refuses others). */
OS_MUST_USE os_err st_program_set(store_conn *c, const char *name, int64_t reassign_days, int64_t now);
OS_MUST_USE os_err st_order_create(store_conn *c, int64_t agreement_id, int64_t partner_org_id, int64_t placed_by,
                       const char *customer_email, const char *po_reference, const char *language, int64_t now,
                       int64_t *id);
OS_MUST_USE os_err st_order_license(store_conn *c, arena *a, int64_t order_id, const char **license_number);
OS_MUST_USE os_err st_order_line_add(store_conn *c, int64_t order_id, int64_t level_id, int64_t quantity);
/* Newest first. */
OS_MUST_USE os_err st_orders(store_conn *c, arena *a, int64_t agreement_id, int limit, order_rec **rows, int *n);
OS_MUST_USE os_err st_order_lines(store_conn *c, arena *a, int64_t agreement_id, order_line_rec **rows, int *n);
OS_MUST_USE os_err st_order_lines_of(store_conn *c, arena *a, int64_t order_id, order_line_rec **rows, int *n);

/* ---- licensing center relations and portal roles ----------------------- store_licensing.c */
/* One line of an agreement list: the relationship summary (tag: "partner" | "customer")
 * or the portal's picker (tag: "super_admin" | "admin" | "partner"). */
typedef struct agreement_summary_rec {
    const char *license_number, *customer_name, *customer_country, *program, *start_date, *end_date;
    bool disabled;
    const char *tag;
} agreement_summary_rec;

typedef struct contact_rec {
    const char *role, *name, *email;
} contact_rec;

OS_MUST_USE os_err st_lsc_relation_add(store_conn *c, int64_t agreement_id, int64_t partner_org_id, int64_t now);
/* How the person is related to the agreement in the licensing center. */
OS_MUST_USE os_err st_lsc_relation_of(store_conn *c, int64_t agreement_id, int64_t user_id, const char *email, bool *partner,
                          bool *customer);
OS_MUST_USE os_err st_lsc_relationships(store_conn *c, arena *a, int64_t user_id, const char *email, int limit,
                            agreement_summary_rec **rows, int *n);
OS_MUST_USE os_err st_agreement_contacts(store_conn *c, arena *a, int64_t agreement_id, contact_rec **rows, int *n);

/* Makes the user super admin of every agreement whose customer e-mail is theirs and
 * where they hold no role yet; returns the license numbers newly granted. */
OS_MUST_USE os_err st_admin_claim_customer(store_conn *c, arena *a, int64_t user_id, const char *email, int64_t now,
                               const char ***licenses, int *n);

/* Agreements the user may manage in the administration portal, tagged with the role;
 * only_agreement_id (0: any) keeps that one alone. */
OS_MUST_USE os_err st_portal_agreements(store_conn *c, arena *a, int64_t user_id, int64_t only_agreement_id, int limit,
                                        int64_t now, agreement_summary_rec **rows, int *n);

/* ---- idempotency keys and hand-off nonces ------------------------------ store_licensing.c */
/* OS_ERR_NOT_FOUND when the key is new. */
OS_MUST_USE os_err st_idem_get(store_conn *c, arena *a, int64_t user_id, const char *key, const char **request_hash,
                   int64_t *order_id);
OS_MUST_USE os_err st_idem_put(store_conn *c, int64_t user_id, const char *key, const char *request_hash, int64_t order_id,
                   int64_t now);
/* OS_ERR_CONFLICT when the nonce was used before. */
OS_MUST_USE os_err st_handoff_nonce_use(store_conn *c, const char *nonce, int64_t now, int64_t expires_at);

/* ---- partner blocks, recipients and roles ------------------------------- store_partners.c */
typedef struct partner_block_rec {
    int64_t id, partner_org_id, blocked_at;
    const char *org_name, *blocked_by_name;
} partner_block_rec;

typedef struct recipient_rec {
    const char *email, *name, *language;
} recipient_rec;

OS_MUST_USE os_err st_partner_blocked(store_conn *c, int64_t agreement_id, int64_t org_id, bool *blocked);
OS_MUST_USE os_err st_partner_block_add(store_conn *c, int64_t agreement_id, int64_t org_id, int64_t by, int64_t now);
OS_MUST_USE os_err st_partner_blocks(store_conn *c, arena *a, int64_t agreement_id, partner_block_rec **rows, int *n);
/* OS_ERR_NOT_FOUND when there is no live block with that id on the agreement. */
OS_MUST_USE os_err st_partner_block_lift(store_conn *c, int64_t agreement_id, int64_t block_id, int64_t by, int64_t now,
                             int64_t *org_id);

/* The customer side of an agreement: its order e-mail and its super admins (deduplicated),
 * with the account's name and language when there is one. */
OS_MUST_USE os_err st_customer_recipients(store_conn *c, arena *a, int64_t agreement_id, recipient_rec **rows, int *n);

/* Who the user is to the agreement, now: their customer role ("super_admin", "admin",
 * "partner_manager"), or "partner" when an active relationship that has not reached its end
 * covers them (their organization's, naming them or all its people) — with that
 * relationship's id and capabilities; OS_ERR_NOT_FOUND when none. One statement, read on
 * every request: a removal, an end or a staff removal takes effect at once. */
/* role_rec is defined with st_session_access (users, tokens, sessions, above). */
OS_MUST_USE os_err st_agreement_role(store_conn *c, arena *a, int64_t agreement_id, int64_t user_id, int64_t now,
                                     role_rec *out);
/* What GET /session tells about its user, in one statement: whether they have any role on any
 * agreement, live partner access or a subscription (recognition), whether their address
 * belongs to a partner organization, and their second factor (on, recovery codes left). */
typedef struct user_standing {
    bool recognized, partner, mfa;
    int64_t recovery_codes_left;
} user_standing;
OS_MUST_USE os_err st_user_standing(store_conn *c, int64_t user_id, const char *email, int64_t now,
                                    user_standing *out);

/* ---- partner relationships and their requests ------------------- store_relationships.c */
/* A partner organization's relationship with an agreement. period_days 0: renewals run to
 * the agreement's end. request_id: the open request on it, 0 when none. */
typedef struct rel_rec {
    int64_t id, agreement_id, partner_org_id, starts_at, ends_at, period_days, created_at, ended_at, requested_by,
        last_action_at, request_id;
    unsigned capabilities;
    bool auto_renew, named;
    const char *status, *route, *org_name, *ended_by_name, *license_number, *customer_name;
} rel_rec;

typedef struct rel_new {
    int64_t agreement_id, partner_org_id, starts_at, ends_at, period_days, requested_by;
    unsigned capabilities;
    const char *status;        /* "active" | "pending" */
    const char *route;
    bool named;
} rel_new;

/* OS_ERR_CONFLICT (with *id the live one's) when the organization already has a live
 * (pending or active) relationship with the agreement. */
OS_MUST_USE os_err st_rel_create(store_conn *c, const rel_new *in, int64_t now, int64_t *id);
/* The organization's live relationship with the agreement; OS_ERR_NOT_FOUND when none. */
OS_MUST_USE os_err st_rel_live(store_conn *c, arena *a, int64_t agreement_id, int64_t org_id, rel_rec *out);
/* One relationship of the agreement (any status); OS_ERR_NOT_FOUND when not on it. */
OS_MUST_USE os_err st_rel_get(store_conn *c, arena *a, int64_t agreement_id, int64_t id, rel_rec *out);
/* Every relationship of the agreement: live ones first, then history, newest first. */
OS_MUST_USE os_err st_rels_of_agreement(store_conn *c, arena *a, int64_t agreement_id, rel_rec **rows, int *n);
/* Moves a live relationship to an ended status ("removed", "ended", "denied", "lapsed");
 * OS_ERR_CONFLICT when it was no longer live. by 0: the system. */
OS_MUST_USE os_err st_rel_finish(store_conn *c, int64_t id, const char *status, int64_t by, int64_t now);
/* A pending relationship becomes active with what was approved. OS_ERR_CONFLICT when it was
 * no longer pending. */
OS_MUST_USE os_err st_rel_activate(store_conn *c, int64_t id, unsigned capabilities, int64_t ends_at,
                                   int64_t period_days, int64_t now);
/* An active relationship's capabilities, end and renewal, changed in place (end reminders
 * re-armed when the end moves). OS_ERR_CONFLICT when it was no longer active. */
OS_MUST_USE os_err st_rel_amend(store_conn *c, int64_t id, unsigned capabilities, int64_t ends_at, int64_t period_days,
                                bool auto_renew);

/* A relationship's named people: the member ids, their names (NULL without an account) and e-mails. */
typedef struct rel_person_rec {
    int64_t relationship_id, member_id;
    const char *name, *email;
} rel_person_rec;
OS_MUST_USE os_err st_rel_people_of_agreement(store_conn *c, arena *a, int64_t agreement_id, rel_person_rec **rows,
                                              int *n);
/* Names the member (idempotent). */
OS_MUST_USE os_err st_rel_person_add(store_conn *c, int64_t relationship_id, int64_t member_id);
/* The member row of the address in the organization; OS_ERR_NOT_FOUND when not a member. */
OS_MUST_USE os_err st_partner_member_id(store_conn *c, int64_t org_id, const char *email, int64_t *member_id);
/* Who hears of a relationship on the partner side: the organization's admins and the people
 * acting under it, who have accounts (deduplicated). */
OS_MUST_USE os_err st_rel_partner_recipients(store_conn *c, arena *a, int64_t relationship_id, recipient_rec **rows,
                                             int *n);
/* Who answers partner requests on the customer side: st_customer_recipients and the
 * agreement's partner managers. */
OS_MUST_USE os_err st_partner_deciders(store_conn *c, arena *a, int64_t agreement_id, recipient_rec **rows, int *n);

typedef struct partner_request_rec {
    int64_t id, relationship_id, agreement_id, partner_org_id, ends_at, period_days, requested_by, created_at,
        lapses_at, decided_at, decided_by;
    unsigned capabilities;
    const char *kind, *status, *reason, *requested_by_name, *requested_by_email, *requested_by_language, *org_name,
        *license_number;
} partner_request_rec;
typedef struct partner_request_new {
    int64_t relationship_id, ends_at, period_days, requested_by, lapses_at;
    unsigned capabilities;
    const char *kind;          /* "access" | "amendment" */
} partner_request_new;
/* OS_ERR_CONFLICT when the relationship already has an open request. */
OS_MUST_USE os_err st_request_create(store_conn *c, const partner_request_new *in, int64_t now, int64_t *id);
/* One request on the agreement (any status); OS_ERR_NOT_FOUND when not on it. */
OS_MUST_USE os_err st_request_get(store_conn *c, arena *a, int64_t agreement_id, int64_t id, partner_request_rec *out);
/* The agreement's open requests, oldest first. */
OS_MUST_USE os_err st_requests_open(store_conn *c, arena *a, int64_t agreement_id, partner_request_rec **rows, int *n);
/* Closes an open request ("approved", "narrowed", "denied", "lapsed"); OS_ERR_CONFLICT when
 * it was no longer open. */
OS_MUST_USE os_err st_request_decide(store_conn *c, int64_t id, const char *status, int64_t by, const char *reason,
                                     int64_t now);

/* ---- partner requests: decisions ------------------------------ store_relationships.c */
/* Who hears of a decision on a request: the person who asked and the partner organization's
 * admins, those with accounts (deduplicated), in their language. */
OS_MUST_USE os_err st_request_recipients(store_conn *c, arena *a, int64_t request_id, recipient_rec **rows, int *n);
/* The address's membership of a partner organization: the member row's id and its role
 * ("admin" | "member", arena-owned); OS_ERR_NOT_FOUND when not a member. */
OS_MUST_USE os_err st_partner_membership(store_conn *c, arena *a, int64_t org_id, const char *email, int64_t *member_id,
                                         const char **role);
/* One relationship of the partner organization (any status, any agreement); OS_ERR_NOT_FOUND
 * when it is not the organization's. */
OS_MUST_USE os_err st_rel_of_org(store_conn *c, arena *a, int64_t org_id, int64_t id, rel_rec *out);
/* Whether the relationship names the member among its people. */
OS_MUST_USE os_err st_rel_names_member(store_conn *c, int64_t relationship_id, int64_t member_id, bool *named);

/* ---- partner relationships over time ----------------------------------- store_rel_time.c */
/* The end reminders: the first sent this many days before a relationship's end, the last
 * this many. */
#define REL_REMIND_FIRST_DAYS 30
#define REL_REMIND_LAST_DAYS 7
/* A relationship or request the daily pass has to look at, with its agreement (every
 * statement after the listing is scoped by both). */
typedef struct rel_due_rec {
    int64_t id, agreement_id;
} rel_due_rec;
/* Active relationships with something due at `now`, soonest end first, at most `limit`
 * (across agreements): an end reminder not yet sent, or the end itself. */
OS_MUST_USE os_err st_rels_due(store_conn *c, arena *a, int64_t now, int limit, rel_due_rec **rows, int *n);
/* Claims the end reminder of `days` (REL_REMIND_FIRST_DAYS or REL_REMIND_LAST_DAYS) for the
 * relationship still active and ending at ends_at; *claimed false when it was sent (by
 * anyone) or the relationship moved on. Claiming the last marks the first as passed. */
OS_MUST_USE os_err st_rel_remind_claim(store_conn *c, int64_t agreement_id, int64_t id, int64_t ends_at, int days,
                                       int64_t now, bool *claimed);
/* Moves the end of an active, automatically renewing relationship from ends_at to
 * new_ends_at and re-arms its reminders, but for those whose reach the new end is already
 * within (passed: 0 none, REL_REMIND_FIRST_DAYS or REL_REMIND_LAST_DAYS, marked at now);
 * *claimed false when it was no longer so. */
OS_MUST_USE os_err st_rel_renew(store_conn *c, int64_t agreement_id, int64_t id, int64_t ends_at,
                                int64_t new_ends_at, int passed, int64_t now, bool *claimed);
/* Ends (status "ended", by the system) the relationship still active and ending at ends_at;
 * *claimed false when it was no longer so (moved, renewed, removed, ended by another). */
OS_MUST_USE os_err st_rel_end(store_conn *c, int64_t agreement_id, int64_t id, int64_t ends_at, int64_t now,
                              bool *claimed);
/* Open requests whose lapses_at has come by `now`, oldest first, at most `limit` (across
 * agreements). */
OS_MUST_USE os_err st_requests_lapsing(store_conn *c, arena *a, int64_t now, int limit, rel_due_rec **rows, int *n);

/* ---- partner organizations: people ------------------------------- store_partner_orgs.c */
/* A partner organization as one of its people sees it: role is theirs ("admin" | "member"). */
typedef struct partner_org_rec {
    int64_t id;
    const char *name, *role;
} partner_org_rec;
/* One person of a partner organization: the member row's id, address and role, and the
 * account's name (NULL without one); has_account: a verified account uses the address. */
typedef struct partner_person_rec {
    int64_t id;
    const char *name, *email, *role;
    bool has_account;
} partner_person_rec;

/* The partner organizations the address belongs to, by name, with its role in each. */
OS_MUST_USE os_err st_porg_mine(store_conn *c, arena *a, const char *email, partner_org_rec **rows, int *n);
/* The organization with the address's role in it; OS_ERR_NOT_FOUND when the address is not
 * one of its people (or there is no such partner organization). */
OS_MUST_USE os_err st_porg_of(store_conn *c, arena *a, int64_t org_id, const char *email, partner_org_rec *out);
/* Its people: admins first, then by address. */
OS_MUST_USE os_err st_porg_people(store_conn *c, arena *a, int64_t org_id, partner_person_rec **rows, int *n);
/* One person of the organization; OS_ERR_NOT_FOUND when the id is not one of its people. */
OS_MUST_USE os_err st_porg_person(store_conn *c, arena *a, int64_t org_id, int64_t member_id, partner_person_rec *out);
/* Adds a person (address normalised by the caller); OS_ERR_CONFLICT when already one. */
OS_MUST_USE os_err st_porg_person_add(store_conn *c, int64_t org_id, const char *email, const char *role, int64_t now,
                                      int64_t *member_id);
/* Removes a person — and with them every relationship naming them — unless they are the
 * organization's last admin (OS_ERR_CONFLICT, checked by the statement itself);
 * OS_ERR_NOT_FOUND when the id is not one of its people. */
OS_MUST_USE os_err st_porg_person_remove(store_conn *c, int64_t org_id, int64_t member_id);
/* The organization's live (pending or active) relationships, newest first, the people those
 * that name people name, and their open requests, oldest first. */
OS_MUST_USE os_err st_porg_rels(store_conn *c, arena *a, int64_t org_id, rel_rec **rows, int *n);
OS_MUST_USE os_err st_porg_rel_people(store_conn *c, arena *a, int64_t org_id, rel_person_rec **rows, int *n);
OS_MUST_USE os_err st_porg_requests_open(store_conn *c, arena *a, int64_t org_id, partner_request_rec **rows, int *n);
/* One relationship of the organization (any status); OS_ERR_NOT_FOUND when not its own. */
OS_MUST_USE os_err st_porg_rel(store_conn *c, arena *a, int64_t org_id, int64_t rel_id, rel_rec *out);
/* Who acts under a relationship: all the organization's people, or the named members only
 * (their list replaced). OS_ERR_CONFLICT when the relationship is no longer live. */
OS_MUST_USE os_err st_porg_rel_set_people(store_conn *c, int64_t rel_id, bool named, const int64_t *member_ids,
                                          int n);

/* ---- subscriptions: rows and their search terms ------------------------- store_sub_rows.c */
typedef struct sub_rec {
    int64_t id, agreement_id, level_id, assigned_at, version, downloads;
    const char *uuid, *level_code, *name, *sign_in_email, *notification_email, *country, *language, *reference,
        *expires_on;
} sub_rec;

/* OS_ERR_CONFLICT when that address already holds that level on the agreement. */
OS_MUST_USE os_err st_sub_insert(store_conn *c, const sub_rec *in, int64_t now, int64_t *id);
/* st_sub_insert for n rows of one agreement (uuids set; ids filled in), a few statements per 64; a: scratch. */
OS_MUST_USE os_err st_sub_insert_many(store_conn *c, arena *a, sub_rec *rows, int n, int64_t now);
typedef struct sub_held_rec {
    const char *sign_in_email;
    int64_t level_id;
} sub_held_rec;
/* The levels these sign-in addresses (normalised) already hold on the agreement; a query per 64 addresses. */
OS_MUST_USE os_err st_sub_held(store_conn *c, arena *a, int64_t agreement_id, const char *const *emails, int n,
                   sub_held_rec **rows, int *nrows);
OS_MUST_USE os_err st_sub_get(store_conn *c, arena *a, int64_t agreement_id, const char *uuid, sub_rec *out);
/* Every subscription of that sign-in address (as stored: normalised) on the agreement, one
 * per level, in the levels' display order; none is not an error (*n 0). */
OS_MUST_USE os_err st_sub_by_email(store_conn *c, arena *a, int64_t agreement_id, const char *email, sub_rec **rows, int *n);
/* Writes the editable fields when the stored version equals expected; OS_ERR_PRECONDITION
 * otherwise (someone else changed it). The version is incremented. */
OS_MUST_USE os_err st_sub_update(store_conn *c, const sub_rec *in, int64_t expected_version, int64_t now);
OS_MUST_USE os_err st_sub_delete(store_conn *c, int64_t id);
/* Computes the search terms of rows written before they existed; run once at start-up. */
OS_MUST_USE os_err st_sub_search_backfill(store_conn *c, int64_t *done);
/* The subscriber's own view: their subscriptions on every agreement. */
typedef struct my_sub_rec {
    const char *license_number, *customer_name, *level_code, *name_en, *name_fr, *expires_on, *agreement_end;
    bool downloads, disabled;
    int64_t agreement_id;
} my_sub_rec;

OS_MUST_USE os_err st_my_subscriptions(store_conn *c, arena *a, const char *email, my_sub_rec **rows, int *n);

/* ---- subscriptions: the list (filter, keyset pages, counts) ------------- store_sub_page.c */
/* Sortable columns of the subscribers list; the store maps them to SQL, never the caller. */
typedef enum sub_sort {
    SUB_SORT_NAME, SUB_SORT_EMAIL, SUB_SORT_LEVEL, SUB_SORT_ASSIGNED, SUB_SORT_EXPIRES, SUB_SORT_REFERENCE,
    SUB_SORT_COUNTRY, SUB_SORT_LANGUAGE, SUB_SORT_DOWNLOADS, SUB_SORT_COUNT
} sub_sort;

typedef struct sub_query {
    int64_t agreement_id;
    const char *q;              /* words typed in the filter box; NULL: none (see core/search.h) */
    const char *level;          /* level code; NULL: all */
    const char *country;        /* NULL: all */
    int downloads;              /* -1: all, 0 or 1 */
    sub_sort sort;
    bool desc;
    /* keyset: rows after (after_key, after_id) in the sort order; after_id 0: first page */
    const char *after_key;
    int64_t after_id;
    int limit;
} sub_query;

/* The filter box matches a subscription when each of its words starts one of the terms of
 * the subscription's name, sign-in e-mail or reference, folded as in core/search.h
 * ("dup elo" finds "Élodie Dupont"). At most SUB_QUERY_WORDS words; OS_ERR_INVALID beyond. */
#define SUB_QUERY_WORDS 8
/* One page of subscribers (q's cursor and limit) and how many match q's filters in all.
 * The total is exact without filters, with the level filter alone (the pools' counts) and
 * with one word that starts one term (the terms' counts); otherwise counting stops past
 * SUB_COUNT_CAP and *exact is false: "more than SUB_COUNT_CAP". Counting a million
 * matches on every key press would cost far more than the page itself. */
#define SUB_COUNT_CAP 1000
OS_MUST_USE os_err st_sub_page(store_conn *c, arena *a, const sub_query *q, sub_rec **rows, int *n, int64_t *total,
                   bool *exact);
/* The value of the sort column for a row, as the keyset cursor text. */
const char *st_sub_sort_key(arena *a, const sub_rec *r, sub_sort sort);
/* Whether key could be a cursor text of that sort column (a whole number for the number
 * columns): a cursor from elsewhere is refused before it reaches a query. */
bool st_sub_sort_key_valid(sub_sort sort, const char *key);

/* ---- pools, seats and usage ------------------------------------------------ store_seats.c */
typedef struct pool_rec {
    int64_t level_id, purchased, assigned;
    const char *level_code, *name_en, *name_fr;
} pool_rec;

/* Adds quantity to a pool, creating it when new. */
OS_MUST_USE os_err st_pool_add(store_conn *c, int64_t agreement_id, int64_t level_id, int64_t quantity);
OS_MUST_USE os_err st_pools(store_conn *c, arena *a, int64_t agreement_id, pool_rec **rows, int *n);
/* Takes one seat when one is left (atomic); *left is the number free after (or now, when none). */
OS_MUST_USE os_err st_pool_take(store_conn *c, int64_t agreement_id, int64_t level_id, bool *taken, int64_t *left);
OS_MUST_USE os_err st_pool_give_back(store_conn *c, int64_t agreement_id, int64_t level_id);
/* The pool's seats purchased and assigned, and how many of its freed seats are not reused yet. */
OS_MUST_USE os_err st_pool_seats(store_conn *c, int64_t agreement_id, int64_t level_id, int64_t *purchased, int64_t *assigned,
                     int64_t *freed);
/* Takes n seats at once when n are left (atomic); *taken false, and nothing changed, otherwise. */
OS_MUST_USE os_err st_pool_take_many(store_conn *c, int64_t agreement_id, int64_t level_id, int64_t n, bool *taken);
/* Gives back n seats that st_pool_take_many took. */
OS_MUST_USE os_err st_pool_give_back_many(store_conn *c, int64_t agreement_id, int64_t level_id, int64_t n);
OS_MUST_USE os_err st_usage_record(store_conn *c, int64_t agreement_id, int64_t level_id, int64_t now);

/* Freed seats and the reassignment rule. */
OS_MUST_USE os_err st_seat_release_add(store_conn *c, int64_t agreement_id, int64_t level_id, const char *email,
                           int64_t assigned_at, int64_t now);
OS_MUST_USE os_err st_seat_releases_free(store_conn *c, int64_t agreement_id, int64_t level_id, int64_t *n);
/* Which of these addresses have a freed seat of the pool not reused yet; a query per 64 addresses. */
OS_MUST_USE os_err st_seat_releases_of(store_conn *c, arena *a, int64_t agreement_id, int64_t level_id, const char *const *emails,
                           int n, const char ***found, int *nfound);
/* Reuses a freed seat usable by `email`: its own, or one last assigned before `cutoff`.
 * OS_ERR_NOT_FOUND (with *earliest = the oldest freed seat's assignment time) when none. */
OS_MUST_USE os_err st_seat_release_reuse(store_conn *c, int64_t agreement_id, int64_t level_id, const char *email,
                             int64_t cutoff, int64_t now, int64_t *earliest);

/* One recorded change of a pool, as st_usage_each hands it over. */
typedef struct usage_change {
    int64_t at, assigned, purchased;
} usage_change;
/* Non-zero stops the walk (and is returned). */
typedef int (*usage_change_fn)(void *ud, const usage_change *ch);
/* Every recorded change of one pool in time order (ties in recording order), handed to fn
 * one at a time as the database reads them: nothing is kept, whatever their number. What
 * fn returns, when not 0, is returned (the walk stops there); else OS_OK or a store error. */
OS_MUST_USE os_err st_usage_each(store_conn *c, int64_t agreement_id, int64_t level_id, usage_change_fn fn, void *ud);

/* ---- admins and invitations ----------------------------------------------- store_admins.c */
typedef struct admin_rec {
    int64_t id;                 /* user id for roles, invite id for invitations */
    const char *name, *email, *role;
    int64_t since;
    bool pending;               /* an invitation not yet taken up */
} admin_rec;

/* Roles first (super admins, then admins), then pending invitations. */
OS_MUST_USE os_err st_admins(store_conn *c, arena *a, int64_t agreement_id, admin_rec **rows, int *n);
/* Inserts or changes the role; *created false when the user already had one. */
OS_MUST_USE os_err st_admin_set(store_conn *c, int64_t agreement_id, int64_t user_id, const char *role, int64_t by, int64_t now);
OS_MUST_USE os_err st_admin_invite(store_conn *c, int64_t agreement_id, const char *email, const char *name, const char *role,
                       const char *language, int64_t by, int64_t now);
/* Removes a role; OS_ERR_CONFLICT when it is the last super admin; OS_ERR_NOT_FOUND when none. */
OS_MUST_USE os_err st_admin_remove(store_conn *c, int64_t agreement_id, int64_t user_id);
OS_MUST_USE os_err st_admin_invite_remove(store_conn *c, int64_t agreement_id, int64_t invite_id);
OS_MUST_USE os_err st_super_admin_count(store_conn *c, int64_t agreement_id, int64_t *n);
/* Turns the address's invitations into roles; returns the agreement ids granted. */
OS_MUST_USE os_err st_admin_claim_invites(store_conn *c, arena *a, int64_t user_id, const char *email, int64_t now,
                              int64_t **agreements, int *n);

/* ---- activity (the agreement's audit trail) -------------------------------- store_audit.c */
typedef struct activity_query {
    int64_t agreement_id;
    const char *actor;          /* substring of the actor's e-mail; NULL: all */
    const char *action;         /* action prefix, e.g. "partner."; NULL: all */
    int64_t from, to;           /* unix seconds, inclusive; 0: open */
    int64_t before_id;          /* keyset: events older than this id; 0: newest */
    int64_t relationship_id;    /* events of partners acting under this relationship; 0: all */
    int limit;
    bool with_address;          /* not a filter: whether the reader may see client addresses */
    const char *language;       /* not a filter: the reader's ("en", "fr"), for level names */
    /* true: the events after `after` in the order they became visible, oldest first, settled
     * ones only (audit_pos), instead of the page below before_id, newest first. */
    bool stream;
    audit_pos after;
} activity_query;

typedef struct activity_rec {
    int64_t id, at;
    const char *actor_email, *action, *target_type, *target_id, *address, *details;
    /* Resolved for reading (NULL when unknown): the actor's name; the target's name (a
     * subscriber, an organization, a person, a job's file, an order's license number) and
     * its second part (a subscription's level in the reader's language, a person's e-mail). */
    const char *actor_name, *target_name, *target_note;
    /* The partner relationship the actor acted under (0: none) and its organization's name. */
    int64_t relationship_id;
    const char *relationship_org;
    /* The API token the actor used (0: none) and its name. */
    int64_t token_id;
    const char *token_name;
    int64_t tx;                 /* with id, its place in the stream (audit_pos) */
} activity_rec;

OS_MUST_USE os_err st_activity(store_conn *c, arena *a, const activity_query *q, activity_rec **rows, int *n);
/* The place of the agreement's last settled event (audit_pos), {0, 0} when it has none: a
 * stream read from there gives only what becomes visible afterwards. */
OS_MUST_USE os_err st_activity_end(store_conn *c, int64_t agreement_id, audit_pos *end);

/* ---- agreement lifecycle ----------------------------------------------- store_lifecycle.c */
/* The agreement's id, end date, disabled flag and data version, by license number
 * (checked on every agreement request, so a lapse is enforced without delay; the data
 * version answers a conditional GET without another read). */
OS_MUST_USE os_err st_agreement_state(store_conn *c, arena *a, const char *license_number, int64_t *id, const char **end_date,
                          bool *disabled, int64_t *data_version);
/* Active agreements ending on or before `until` ('YYYY-MM-DD') and not before `from`. */
OS_MUST_USE os_err st_agreements_ending(store_conn *c, arena *a, const char *from, const char *until, agreement_rec **rows, int *n);
/* Claims the reminder; *claimed false when it was sent before. */
OS_MUST_USE os_err st_expiry_notice_claim(store_conn *c, int64_t agreement_id, int days, int64_t now, bool *claimed);
/* Super admins and admins of the agreement, with their languages. */
OS_MUST_USE os_err st_admin_recipients(store_conn *c, arena *a, int64_t agreement_id, recipient_rec **rows, int *n);

/* ---- agreement preferences ------------------------------------------------- store_prefs.c */
typedef struct prefs_rec {
    const char *contact_email, *default_level, *default_country, *default_language;
    bool default_downloads, allow_outside_domains;
    int64_t alert_threshold;
    /* Partner access: whether a new relationship waits for the customer's approval; what a
     * relationship gets without one (capability bits); its period in days (0: up to the
     * agreement's end). */
    bool partner_approval;
    unsigned partner_capabilities;
    int64_t partner_period_days;
    /* Every role, partners included, must have signed in with a second factor or the
     * company's provider (domain/access.h). */
    bool require_strong_auth;
} prefs_rec;

/* What an agreement that never saved its preferences has. */
extern const prefs_rec prefs_defaults;
/* The saved preferences, or the defaults when none were saved. */
OS_MUST_USE os_err st_prefs_get(store_conn *c, arena *a, int64_t agreement_id, prefs_rec *out);
OS_MUST_USE os_err st_prefs_put(store_conn *c, int64_t agreement_id, const prefs_rec *p, int64_t by, int64_t now);
/* The require_strong_auth preference alone (false when none were saved), for the access rule. */
OS_MUST_USE os_err st_agreement_strong_auth(store_conn *c, int64_t agreement_id, bool *yes);
/* The customer's own e-mail domains: the order's address and every super admin's. */
OS_MUST_USE os_err st_customer_domains(store_conn *c, arena *a, int64_t agreement_id, const char ***domains, int *n);

/* ---- background jobs (uploaded files) --------------------------------------- store_jobs.c */
typedef struct job_rec {
    const char *id, *kind, *file_name, *address, *request_id;
    const char *state, *phase, *result;     /* result: JSON, NULL until finished */
    const char *file;                        /* the upload (only where asked for); file_len bytes */
    size_t file_len;
    int64_t agreement_id, user_id, rows, rows_checked, rows_written, status, created_at, finished_at;
    int64_t token_id;                        /* the API token it was started with; 0: a session */
    const char *auth_method;                 /* how its starter proved who they were (op_ctx); NULL: not a person */
    bool check_only, send_email;
    /* Read with the row (not written by st_job_create): the agreement's license number, the
     * owner's name and address, and who asked to cancel it (0: nobody), when. */
    const char *license_number, *user_name, *user_email;
    int64_t cancel_by, cancel_at;
    const char *cancel_name, *cancel_email;
} job_rec;

/* A queued job from j's id, agreement_id, user_id, token_id, kind, flags, file_name, file,
 * address, request_id. */
OS_MUST_USE os_err st_job_create(store_conn *c, const job_rec *j, int64_t now);
/* Leases the oldest queued job to `worker` until lease_until and marks it running, file
 * included; OS_ERR_NOT_FOUND when none waits. Two workers never claim the same job, and a
 * cancelled one is never claimed. */
OS_MUST_USE os_err st_job_claim(store_conn *c, arena *a, const char *worker, int64_t lease_until, job_rec *out);
/* Extends the leases of the jobs `worker` is running. */
OS_MUST_USE os_err st_job_extend(store_conn *c, const char *worker, int64_t lease_until);
OS_MUST_USE os_err st_job_progress(store_conn *c, const char *id, const char *phase, int64_t rows, int64_t checked,
                       int64_t written);
/* Ends a running job: state 'done', 'failed' or 'cancelled', the answer's status and JSON
 * body; cancel_by (0: none) is recorded as who cancelled it unless someone already is. */
OS_MUST_USE os_err st_job_finish(store_conn *c, const char *id, const char *state, int64_t status, const char *result,
                     int64_t rows, int64_t checked, int64_t written, int64_t cancel_by, int64_t now);
/* The subscriptions a job changed (job_changes): ids[i] with changes[i] (an edit's JSON
 * object; NULL: none) numbered first, first + 1, …, a few statements per 64; a: scratch. */
OS_MUST_USE os_err st_job_changes_add(store_conn *c, arena *a, const char *job_id, int64_t first,
                                      const char *const *ids, const char *const *changes, int n);
typedef struct job_change_rec {
    int64_t n;
    const char *subscription, *changes;   /* changes: JSON object or NULL */
} job_change_rec;
/* At most limit of job_id's changes numbered above after, in order. */
OS_MUST_USE os_err st_job_changes_page(store_conn *c, arena *a, const char *job_id, int64_t after, int limit,
                                       job_change_rec **rows, int *n);
/* Running jobs whose lease ended before `now` (their worker stopped): at most limit, without
 * their files. */
OS_MUST_USE os_err st_jobs_stale(store_conn *c, arena *a, int64_t now, int limit, job_rec **rows, int *n);
/* Job id, when still running with its lease ended before `now`, becomes failed with this
 * status and result; *failed says whether it did (another instance may have got there). */
OS_MUST_USE os_err st_job_fail_stale(store_conn *c, const char *id, int64_t now, int64_t status, const char *result,
                                     bool *failed);
/* A job on the agreement, without its file: the user's (user_id > 0) or anyone's (0);
 * OS_ERR_NOT_FOUND otherwise. */
OS_MUST_USE os_err st_job_get(store_conn *c, arena *a, int64_t agreement_id, int64_t user_id, const char *id, job_rec *out);
/* The file of job j (j->file, j->file_len); OS_ERR_NOT_FOUND when it has none. */
OS_MUST_USE os_err st_job_file(store_conn *c, arena *a, job_rec *j);
/* Jobs on the agreement, newest first, without their files: the user's (user_id > 0) or
 * everyone's (0). */
OS_MUST_USE os_err st_job_list(store_conn *c, arena *a, int64_t agreement_id, int64_t user_id, int limit, job_rec **rows,
                   int *n);
/* Forgets a finished job: OS_ERR_NOT_FOUND (not the user's), OS_ERR_CONFLICT (still queued or running). */
OS_MUST_USE os_err st_job_delete(store_conn *c, int64_t agreement_id, int64_t user_id, const char *id);
/* Cancels job `id` while it is queued: it ends 'cancelled' with this status and result, by
 * `by`, and is never claimed. *done false when it was not queued (any more). */
OS_MUST_USE os_err st_job_cancel_queued(store_conn *c, const char *id, int64_t by, int64_t status, const char *result,
                            int64_t now, bool *done);
/* Asks the worker running job `id` to stop (cancel_by, cancel_at; the first asker is kept).
 * *done false when it is not running (any more). */
OS_MUST_USE os_err st_job_cancel_request(store_conn *c, const char *id, int64_t by, int64_t now, bool *done);
/* Who asked to cancel job `id` (0: nobody), and whether its starter's proof counts as a
 * password alone now (*password_only: auth_method 'password', which turning the second
 * factor off may have made it since the job was claimed). */
OS_MUST_USE os_err st_job_cancel_by(store_conn *c, const char *id, int64_t *by, bool *password_only);
/* Forgets jobs created before `before` that are not running. */
OS_MUST_USE os_err st_jobs_purge(store_conn *c, int64_t before);

/* ---- sign-in through OpenID Connect providers ------------------------------- store_sso.c */
typedef struct sso_request_rec {
    const char *provider, *nonce, *verifier;
    const char *language;   /* of the page the sign-in started from: en, fr */
} sso_request_rec;

/* Records a sign-in started with a provider (state kept as its hash), forgetting requests
 * that expired before now. */
OS_MUST_USE os_err st_sso_request_create(store_conn *c, const char *state_hash, const char *provider,
                                         const char *nonce, const char *verifier, const char *language, int64_t now,
                                         int64_t expires_at);
/* Consumes the request in one statement: a second use, or one past expires_at, finds
 * nothing (OS_ERR_GONE). */
OS_MUST_USE os_err st_sso_request_consume(store_conn *c, arena *a, const char *state_hash, int64_t now,
                                          sso_request_rec *out);
/* The account linked to (issuer, subject); OS_ERR_NOT_FOUND when none. */
OS_MUST_USE os_err st_sso_identity_user(store_conn *c, const char *issuer, const char *subject, int64_t *user_id);
OS_MUST_USE os_err st_sso_identity_link(store_conn *c, const char *issuer, const char *subject, int64_t user_id,
                                        int64_t now);
OS_MUST_USE os_err st_sso_identity_touch(store_conn *c, const char *issuer, const char *subject, int64_t now);
/* ---- SCIM provisioning (store_scim.c) --------------------------------------------------- */
/* An identity provider's users and groups on one agreement (domain/scim.h). Every read and
 * write names the agreement, so one agreement's provider never reaches another's rows. */
typedef struct scim_user_rec {
    int64_t id, agreement_id;
    const char *uuid, *user_name, *external_id, *email, *display_name;
    const char *resource;            /* the resource as last written, JSON */
    bool active;
    int64_t created_at, updated_at, version;
} scim_user_rec;
typedef struct scim_group_rec {
    int64_t id, agreement_id;
    const char *uuid, *display_name, *external_id;
    int64_t created_at, updated_at, version;
} scim_group_rec;
/* A group's member: kind 'u' (a user) or 'g' (a group), its row id, resource id and name. */
typedef struct scim_member_rec {
    char kind;
    int64_t id;
    const char *uuid, *display;
} scim_member_rec;
/* A group → seat rule, with its group's id and name. */
typedef struct scim_mapping_rec {
    int64_t id, group_id;
    const char *group_uuid, *group_name, *level_code, *language, *country;
    int downloads;
    int64_t created_at;
} scim_mapping_rec;
/* The subscription a provisioned user holds for a level through the rule. */
typedef struct scim_seat_rec {
    const char *level_code, *sub_uuid;
} scim_seat_rec;
/* List filters: none, or one attribute equal to a value. */
typedef enum scim_filter_attr {
    SCIM_F_NONE, SCIM_F_USER_NAME, SCIM_F_EXTERNAL_ID, SCIM_F_EMAIL, SCIM_F_DISPLAY_NAME
} scim_filter_attr;

/* OS_ERR_CONFLICT: the userName (case-folded) or group displayName is taken on the agreement. */
OS_MUST_USE os_err st_scim_user_insert(store_conn *c, const scim_user_rec *u, int64_t *id);
OS_MUST_USE os_err st_scim_user_update(store_conn *c, const scim_user_rec *u);
/* Deletes the user and its memberships (its seats go with it: the caller removed them). */
/* Takes the user out of every group. */
OS_MUST_USE os_err st_scim_user_leave_groups(store_conn *c, int64_t id);
OS_MUST_USE os_err st_scim_user_delete(store_conn *c, int64_t agreement_id, int64_t id);
OS_MUST_USE os_err st_scim_user_get(store_conn *c, arena *a, int64_t agreement_id, const char *uuid, scim_user_rec *out);
OS_MUST_USE os_err st_scim_user_by_id(store_conn *c, arena *a, int64_t agreement_id, int64_t id, scim_user_rec *out);
/* A page of users in creation order (offset, limit) with the total matching. */
OS_MUST_USE os_err st_scim_users_list(store_conn *c, arena *a, int64_t agreement_id, scim_filter_attr f,
                                      const char *value, int64_t offset, int limit, scim_user_rec **rows, int *n,
                                      int64_t *total);
OS_MUST_USE os_err st_scim_group_insert(store_conn *c, const scim_group_rec *g, int64_t *id);
OS_MUST_USE os_err st_scim_group_update(store_conn *c, const scim_group_rec *g);
/* Deletes the group, its members list and its place in other groups. */
OS_MUST_USE os_err st_scim_group_delete(store_conn *c, int64_t agreement_id, int64_t id);
OS_MUST_USE os_err st_scim_group_get(store_conn *c, arena *a, int64_t agreement_id, const char *uuid,
                                     scim_group_rec *out);
OS_MUST_USE os_err st_scim_groups_list(store_conn *c, arena *a, int64_t agreement_id, scim_filter_attr f,
                                       const char *value, int64_t offset, int limit, scim_group_rec **rows, int *n,
                                       int64_t *total);
/* The group's direct members (at most limit). */
OS_MUST_USE os_err st_scim_members(store_conn *c, arena *a, int64_t group_id, int limit, scim_member_rec **rows,
                                   int *n);
OS_MUST_USE os_err st_scim_member_add(store_conn *c, int64_t group_id, char kind, int64_t member_id);
OS_MUST_USE os_err st_scim_members_clear(store_conn *c, int64_t group_id);
/* Which user or group of the agreement has resource id uuid: *kind 'u' or 'g'; NOT_FOUND. */
OS_MUST_USE os_err st_scim_resolve(store_conn *c, int64_t agreement_id, const char *uuid, char *kind, int64_t *id);
/* The users under the group, directly or through nested groups (cycles end). */
OS_MUST_USE os_err st_scim_users_under(store_conn *c, arena *a, int64_t group_id, int64_t **ids, int *n);
/* The seats the user's groups give (directly or through nested groups), one mapping per
 * level, the oldest rule first. */
OS_MUST_USE os_err st_scim_user_wants(store_conn *c, arena *a, int64_t user_id, scim_mapping_rec **rows, int *n);
OS_MUST_USE os_err st_scim_seats(store_conn *c, arena *a, int64_t user_id, scim_seat_rec **rows, int *n);
OS_MUST_USE os_err st_scim_seat_add(store_conn *c, int64_t user_id, const char *level_code, const char *sub_uuid);
OS_MUST_USE os_err st_scim_seat_delete(store_conn *c, int64_t user_id, const char *level_code);
OS_MUST_USE os_err st_scim_mappings(store_conn *c, arena *a, int64_t agreement_id, scim_mapping_rec **rows, int *n);
/* Creates or changes the group's rule (one per group). */
OS_MUST_USE os_err st_scim_mapping_put(store_conn *c, int64_t agreement_id, const scim_mapping_rec *m, int64_t now,
                                       int64_t *id);
/* NOT_FOUND: no such rule on the agreement; *group_id: the group it was for. */
OS_MUST_USE os_err st_scim_mapping_delete(store_conn *c, int64_t agreement_id, int64_t id, int64_t *group_id);
/* The provisioned user of the agreement whose seat is that subscription; NOT_FOUND: none
 * (a subscription held by hand). */
OS_MUST_USE os_err st_scim_seat_holder(store_conn *c, int64_t agreement_id, const char *sub_uuid, int64_t *user_id);

/* A seat the pool refused a provisioned user, for the super admins' daily summary. */
typedef struct scim_refusal_rec {
    const char *user_name, *display_name, *email, *level_code, *level_en, *level_fr, *group_name;
    const char *reason;              /* no_seats_left, reassignment_too_soon */
    int64_t first_at, last_at, times;
} scim_refusal_rec;
/* Records a refusal (one row per user and level: a retry updates last_at and times). */
OS_MUST_USE os_err st_scim_refusal_record(store_conn *c, int64_t agreement_id, int64_t user_id, const char *level_code,
                                          const char *group_name, const char *reason, int64_t now);
/* Forgets the user's refusal of that level (the seat was given). */
OS_MUST_USE os_err st_scim_refusal_clear(store_conn *c, int64_t user_id, const char *level_code);
OS_MUST_USE os_err st_scim_refusals_prune(store_conn *c, int64_t before);
/* Agreements with refusals after `since` not reported yet, whose last summary was before `day`. */
OS_MUST_USE os_err st_scim_refusal_agreements(store_conn *c, arena *a, int64_t since, const char *day, int limit,
                                              int64_t **ids, int *n);
/* Claims the agreement's summary of `day`; *previous: when the last one was sent (0: never). */
OS_MUST_USE os_err st_scim_refusal_summary_claim(store_conn *c, int64_t agreement_id, const char *day, int64_t now,
                                                 int64_t *previous, bool *claimed);
/* The agreement's refusals from `since` on, by userName (at most limit): a refusal in the very
 * second of the last summary is told again rather than never. */
OS_MUST_USE os_err st_scim_refusals_since(store_conn *c, arena *a, int64_t agreement_id, int64_t since, int limit,
                                          scim_refusal_rec **rows, int *n);
/* The user's provisioned seats whose subscription still exists (one removed by hand since
 * is not a seat the rule could take away). */
OS_MUST_USE os_err st_scim_live_seats(store_conn *c, arena *a, int64_t agreement_id, int64_t user_id,
                                      scim_seat_rec **rows, int *n);
/* A group with how many users are under it (directly or through nested groups), and how
 * many of them are active. */
typedef struct scim_group_count_rec {
    const char *uuid, *display_name;
    int64_t members, active;
} scim_group_count_rec;
/* The agreement's first limit groups by name, with their counts; *total: all its groups. */
OS_MUST_USE os_err st_scim_group_counts(store_conn *c, arena *a, int64_t agreement_id, int limit,
                                        scim_group_count_rec **rows, int *n, int64_t *total);

#endif
