/* mfa.c — see mfa.h. The one-time passwords are liboath's: nothing here computes an HOTP. */
#include "mfa.h"
#include <ctype.h>
#include <liboath/oath.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "core/secret.h"
#include "core/text.h"
#include "domain/audit.h"
#include "domain/throttle.h"

#define TOTP_STEP_S 30
#define TOTP_WINDOW 1          /* steps accepted either side of now: clocks drift */
#define TOTP_SECRET_BYTES 20   /* RFC 4226's recommended 160 bits */
#define TOTP_SECRET_B32 64     /* room for its base32 (32 characters) */
#define RECOVERY_BYTES 5       /* 10 hex digits, shown as two groups of 5 */

static pthread_once_t oath_once = PTHREAD_ONCE_INIT;
static int oath_ready = OATH_CRYPTO_ERROR;
static void oath_start(void) { oath_ready = oath_init(); }

static bool oath_ok(void) {
    pthread_once(&oath_once, oath_start);
    return oath_ready == OATH_OK;
}

/* The sealing key is the webhook secrets' own: one key for short secrets the server must read
 * back, which a leaked database alone must not reveal. */
static const char *seal(op_ctx *x, const char *clear) {
    size_t n = secret_seal_len(strlen(clear)) + 1;
    char *out = arena_alloc(x->a, n);
    secret_seal(x->app->keys.webhook_seal, clear, out, n);
    return out;
}

/* A code as typed: spaces and hyphens dropped, letters lower-cased. NULL when it is too long
 * or holds anything else. */
static const char *normalize_code(op_ctx *x, const char *in) {
    if (!in || strlen(in) > LIMIT_MFA_CODE_CHARS) return NULL;
    char *out = arena_alloc(x->a, strlen(in) + 1), *o = out;
    for (const char *p = in; *p; p++) {
        if (*p == ' ' || *p == '-') continue;
        if (!isalnum((unsigned char)*p)) return NULL;
        *o++ = (char)tolower((unsigned char)*p);
    }
    *o = 0;
    return out;
}

/* Whether code is the TOTP of the sealed secret now (±1 step) and its step was never used;
 * the step is recorded as used within the caller's transaction. */
static os_err totp_check(op_ctx *x, int64_t user_id, const mfa_rec *m, const char *code, bool *ok) {
    *ok = false;
    const char *c = normalize_code(x, code);
    if (!c || strlen(c) != 6 || !oath_ok()) return OS_OK;
    for (const char *p = c; *p; p++)
        if (!isdigit((unsigned char)*p)) return OS_OK;
    char b32[TOTP_SECRET_B32];
    if (!secret_open(x->app->keys.webhook_seal, m->secret_sealed, b32, sizeof b32)) return OS_OK;
    char *raw = NULL;
    size_t rawlen = 0;
    if (oath_base32_decode(b32, strlen(b32), &raw, &rawlen) != OATH_OK) return OS_OK;
    int pos = 0;
    uint64_t step = 0;
    int rc = oath_totp_validate3(raw, rawlen, (time_t)x->now, TOTP_STEP_S, 0, TOTP_WINDOW, &pos, &step, c);
    explicit_bzero(raw, rawlen);
    free(raw);   /* checksrc: allow alloc — oath_base32_decode hands over memory it malloc'd */
    if (rc < 0) return OS_OK;
    bool fresh = false;
    os_err e = st_mfa_use_step(x->c, user_id, (int64_t)step, &fresh);
    *ok = !e && fresh;
    return e;
}

/* Spends the recovery code when it is one of the user's unused ones. */
static os_err recovery_check(op_ctx *x, int64_t user_id, const char *code, bool *ok) {
    *ok = false;
    const char *c = normalize_code(x, code);
    if (!c || strlen(c) != 2 * RECOVERY_BYTES) return OS_OK;
    char hash[SECRET_HASH_HEX];
    secret_hash_hex(c, strlen(c), hash);
    return st_mfa_code_use(x->c, user_id, hash, x->now, ok);
}

/* New recovery codes, shown as "xxxxx-xxxxx", stored hashed (replacing the old ones). */
static os_err new_codes(op_ctx *x, int64_t user_id, const char *codes[LIMIT_MFA_RECOVERY_CODES]) {
    const char *hashes[LIMIT_MFA_RECOVERY_CODES];
    for (int i = 0; i < LIMIT_MFA_RECOVERY_CODES; i++) {
        char hex[2 * RECOVERY_BYTES + 1];
        secret_random_hex(hex, RECOVERY_BYTES);
        codes[i] = arena_printf(x->a, "%.5s-%s", hex, hex + 5);
        char *h = arena_alloc(x->a, SECRET_HASH_HEX);
        secret_hash_hex(hex, strlen(hex), h);
        hashes[i] = h;
    }
    return st_mfa_codes_replace(x->c, user_id, hashes, LIMIT_MFA_RECOVERY_CODES, x->now);
}

/* A code check counts as a sign-in attempt on the account (mfa.h), reserved before it runs. */
static os_err reserve(op_ctx *x, const char *email, throttle_attempt *at, int64_t *retry_after) {
    const throttle_rule rules[] = {
        {"account", email, LIMIT_SIGNIN_PER_ACCOUNT_ADDRESS, LIMIT_SIGNIN_PER_ACCOUNT, LIMIT_SIGNIN_WINDOW_S},
        {"address", x->address, 0, LIMIT_SIGNIN_PER_ADDRESS, LIMIT_SIGNIN_WINDOW_S},
    };
    return throttle_reserve(x, rules, 2, at, retry_after);
}

os_err mfa_enrol(op_ctx *x, const char **secret_b32, const char **uri) {
    if (!oath_ok()) return OS_ERR_INTERNAL;
    unsigned char raw[TOTP_SECRET_BYTES];
    secret_random(raw, sizeof raw);
    char *b32 = NULL;
    size_t n = 0;
    int rc = oath_base32_encode((const char *)raw, sizeof raw, &b32, &n);
    explicit_bzero(raw, sizeof raw);
    if (rc != OATH_OK) return OS_ERR_NOMEM;
    *secret_b32 = arena_strndup(x->a, b32, n);
    explicit_bzero(b32, n);
    free(b32);   /* checksrc: allow alloc — oath_base32_encode hands over memory it malloc'd */
    os_err e = store_tx_begin(x->c);
    if (e) return e;
    mfa_rec m;
    e = st_mfa_get(x->c, x->a, x->actor_id, &m);
    if (!e && m.confirmed_at) e = OS_ERR_CONFLICT;
    else if (!e || e == OS_ERR_NOT_FOUND) e = st_mfa_start(x->c, x->actor_id, seal(x, *secret_b32), x->now);
    e = store_tx_end(x->c, e);
    if (e) return e;
    *uri = arena_printf(x->a, "otpauth://totp/openseat:%s?secret=%s&issuer=openseat&algorithm=SHA1&digits=6&period=30",
                        url_encode(x->a, x->actor_email), *secret_b32);
    return OS_OK;
}

/* What confirm, disable and renew share: the actor's factor read, the attempt reserved, and in
 * one transaction the code checked (code, or a recovery code when allowed) and then() run. */
typedef os_err (*after_code_fn)(op_ctx *x, void *ud);

static os_err with_code(op_ctx *x, bool want_confirmed, const char *code, bool recovery_ok, field_errors *fe,
                        int64_t *retry_after, after_code_fn then, void *ud) {
    mfa_rec m;
    os_err e = st_mfa_get(x->c, x->a, x->actor_id, &m);
    if (e == OS_ERR_NOT_FOUND || (!e && !m.confirmed_at != !want_confirmed))
        return want_confirmed ? OS_ERR_NOT_FOUND : OS_ERR_CONFLICT;
    if (e) return e;
    throttle_attempt at;
    if ((e = reserve(x, x->actor_email, &at, retry_after))) return e;
    if ((e = store_tx_begin(x->c))) return e;
    bool ok = false;
    e = totp_check(x, x->actor_id, &m, code, &ok);
    bool by_recovery = false;
    if (!e && !ok && recovery_ok) {
        e = recovery_check(x, x->actor_id, code, &ok);
        by_recovery = ok;
    }
    if (!e && !ok) {
        fe_add(fe, "code", "wrong_code", "This code is not right, or was used already: enter the current one");
        e = OS_ERR_INVALID;
    }
    if (!e && by_recovery) e = audit(x, "mfa.recovery_used", "user", audit_id(x, x->actor_id), 0, NULL);
    if (!e) e = then(x, ud);
    e = store_tx_end(x->c, e);
    if (!e) throttle_withdraw(x, &at);
    return e;
}

typedef struct codes_ud {
    const char **codes;
} codes_ud;

static os_err confirm_then(op_ctx *x, void *ud) {
    codes_ud *c = ud;
    os_err e = st_mfa_confirm(x->c, x->actor_id, x->now);
    if (!e) e = new_codes(x, x->actor_id, c->codes);
    if (!e) e = audit(x, "mfa.enabled", "user", audit_id(x, x->actor_id), 0, NULL);
    return e;
}

os_err mfa_confirm(op_ctx *x, const char *code, field_errors *fe, const char *codes[LIMIT_MFA_RECOVERY_CODES],
                   int64_t *retry_after) {
    codes_ud c = {codes};
    return with_code(x, false, code, false, fe, retry_after, confirm_then, &c);
}

/* Turning the factor off withdraws what it proved, in the same transaction: whoever holds
 * another session may be the reason it goes, the session asking keeps only what the password
 * proves, and tokens and jobs made from a proven session no longer count as strong (mfa.h). */
static os_err disable_then(op_ctx *x, void *ud) {
    const int64_t *session_id = ud;
    os_err e = st_mfa_delete(x->c, x->actor_id);
    if (!e) e = st_mfa_proofs_withdraw(x->c, x->actor_id, *session_id);
    if (!e) e = audit(x, "mfa.disabled", "user", audit_id(x, x->actor_id), 0, NULL);
    if (!e && x->auth_method && !strcmp(x->auth_method, "mfa")) x->auth_method = "password";
    return e;
}

os_err mfa_disable(op_ctx *x, int64_t session_id, const char *password, const char *code, field_errors *fe,
                   int64_t *retry_after) {
    user_rec u;
    os_err e = st_user_by_id(x->c, x->a, x->actor_id, &u);
    if (e) return e;
    if (!secret_pw_verify(u.password_hash, password)) {
        fe_add(fe, "password", "wrong_password", "The password is not correct");
        audit(x, "signin.mfa_failed", "user", audit_id(x, u.id), 0, json_pairs(x->a, "step", "disable", NULL));
        return OS_ERR_INVALID;
    }
    e = with_code(x, true, code, true, fe, retry_after, disable_then, &session_id);
    if (e == OS_ERR_INVALID)
        audit(x, "signin.mfa_failed", "user", audit_id(x, u.id), 0, json_pairs(x->a, "step", "disable", NULL));
    return e;
}

static os_err renew_then(op_ctx *x, void *ud) {
    codes_ud *c = ud;
    os_err e = new_codes(x, x->actor_id, c->codes);
    if (!e) e = audit(x, "mfa.recovery_renewed", "user", audit_id(x, x->actor_id), 0, NULL);
    return e;
}

os_err mfa_renew_codes(op_ctx *x, const char *code, field_errors *fe, const char *codes[LIMIT_MFA_RECOVERY_CODES],
                       int64_t *retry_after) {
    codes_ud c = {codes};
    os_err e = with_code(x, true, code, false, fe, retry_after, renew_then, &c);
    if (e == OS_ERR_INVALID)
        audit(x, "signin.mfa_failed", "user", audit_id(x, x->actor_id), 0, json_pairs(x->a, "step", "renew", NULL));
    return e;
}

os_err mfa_challenge(op_ctx *x, const user_rec *u, signin_result *out) {
    char tok[SECRET_TOKEN_CHARS + 1], hash[SECRET_HASH_HEX];
    secret_token(tok);
    secret_hash_hex(tok, strlen(tok), hash);
    int64_t until = x->now + LIMIT_MFA_CHALLENGE_TTL_S;
    os_err e = store_tx_begin(x->c);
    if (e) return e;
    e = st_mfa_challenge_create(x->c, hash, u->id, x->now, until);
    e = store_tx_end(x->c, e);
    if (e) return e;
    out->user = *u;
    out->challenge = arena_strdup(x->a, tok);
    out->challenge_expires_at = until;
    return OS_OK;
}

os_err mfa_signin(op_ctx *x, const char *challenge, const char *code, const char *recovery_code,
                  const char *user_agent, signin_result *out) {
    memset(out, 0, sizeof *out);
    if (!challenge || strlen(challenge) != SECRET_TOKEN_CHARS) return OS_ERR_GONE;
    char hash[SECRET_HASH_HEX];
    secret_hash_hex(challenge, strlen(challenge), hash);
    int64_t uid = 0;
    os_err e = st_mfa_challenge_user(x->c, hash, x->now, &uid);
    if (e == OS_ERR_NOT_FOUND) return OS_ERR_GONE;
    user_rec u;
    mfa_rec m;
    if (!e) e = st_user_by_id(x->c, x->a, uid, &u);
    if (!e) e = st_mfa_get(x->c, x->a, uid, &m);
    if (e == OS_ERR_NOT_FOUND) return OS_ERR_GONE;   /* turned off meanwhile */
    if (e) return e;
    x->actor_id = u.id;
    x->actor_email = u.email;
    throttle_attempt at;
    if ((e = reserve(x, u.email, &at, &out->retry_after))) {
        if (e == OS_ERR_THROTTLED) audit(x, "signin.throttled", "email", u.email, 0, NULL);
        return e;
    }
    /* The code and the challenge are spent together, or neither: a wrong code leaves the
     * challenge for another try (the throttle counts the tries). */
    if ((e = store_tx_begin(x->c))) return e;
    bool ok = false;
    if (code) e = totp_check(x, u.id, &m, code, &ok);
    else e = recovery_check(x, u.id, recovery_code, &ok);
    if (!e && ok) e = st_mfa_challenge_use(x->c, hash, x->now);
    if (e == OS_ERR_NOT_FOUND) e = OS_ERR_GONE;
    if (!e && ok && !code) {
        int64_t left = 0;
        e = st_mfa_codes_left(x->c, u.id, &left);
        if (!e) e = audit(x, "mfa.recovery_used", "user", audit_id(x, u.id), 0,
                          json_pairs(x->a, "left", arena_printf(x->a, "%lld", (long long)left), NULL));
    }
    if (!e && !ok) e = OS_ERR_UNAUTHENTICATED;
    e = store_tx_end(x->c, e);
    if (e == OS_ERR_UNAUTHENTICATED) {
        audit(x, "signin.mfa_failed", "user", audit_id(x, u.id), 0,
              json_pairs(x->a, "step", "signin", "with", code ? "code" : "recovery_code", NULL));
        return e;
    }
    if (e) return e;
    throttle_withdraw(x, &at);
    return account_open_session(x, &u, "mfa", user_agent, NULL, false, out);
}
