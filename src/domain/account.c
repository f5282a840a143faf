/* account.c — see account.h. */
#include "account.h"
#include <string.h>
#include "core/limits.h"
#include "core/log.h"
#include "core/text.h"
#include "domain/audit.h"
#include "domain/mfa.h"
#include "domain/throttle.h"
#include "mail/outbox.h"


static const char *link_to(op_ctx *x, const char *path, const char *token) {
    return arena_printf(x->a, "%s%s?token=%s", x->app->base_url, path, token);
}

/* Creates a one-time token for the user, replacing older ones of that purpose. */
static os_err new_token(op_ctx *x, int64_t user_id, const char *purpose, int64_t ttl, char tok[SECRET_TOKEN_CHARS + 1]) {
    char hash[SECRET_HASH_HEX];
    secret_token(tok);
    secret_hash_hex(tok, strlen(tok), hash);
    os_err e = st_tokens_void(x->c, user_id, purpose, x->now);
    if (!e) e = st_token_create(x->c, user_id, purpose, hash, x->now + ttl, x->now);
    return e;
}

/* The sign-in page, continuing to `next` (a same-site path, or NULL) once signed in. */
static const char *signin_link(op_ctx *x, const char *next) {
    const char *link = arena_printf(x->a, "%s/signin", x->app->base_url);
    return next ? arena_printf(x->a, "%s?next=%s", link, url_encode(x->a, next)) : link;
}

static os_err send_verification(op_ctx *x, const user_rec *u, const char *next) {
    char tok[SECRET_TOKEN_CHARS + 1];
    os_err e = new_token(x, u->id, "verify", LIMIT_VERIFY_TTL_S, tok);
    if (e) return e;
    const char *link = link_to(x, "/verify", tok);
    /* The page the user was going to survives the mail: the verify page hands it on to sign-in. */
    if (next) link = arena_printf(x->a, "%s&next=%s", link, url_encode(x->a, next));
    return outbox_enqueue(x->app, x->c, x->a, u->email, "verify_email", u->language,
                          json_pairs(x->a, "name", u->name, "link", link, NULL), x->now);
}

/* What a request that may e-mail an address nobody proved to own does once the address's
 * account is known: u is that account, or NULL when there is none; limited is throttle_mail's
 * answer (NULL: a mail may go). Runs in the request's transaction. */
typedef os_err (*mail_request_fn)(op_ctx *x, const char *email, const user_rec *u, const char *limited, const void *ud);

/* Sign-up, a new verification link and a password reset start alike: in one write
 * transaction the e-mail limits count the request (before the lookup, so every answer
 * costs the same and says nothing about the address), then the account is read and `then`
 * decides. The mail worker is woken once the transaction has committed. */
static os_err mail_request(op_ctx *x, const char *email, mail_request_fn then, const void *ud) {
    os_err e = store_tx_begin(x->c);
    if (e) return e;
    const char *limited = NULL;
    e = throttle_mail(x, email, &limited);
    user_rec u;
    if (!e) e = st_user_by_email(x->c, x->a, email, &u);
    if (e == OS_OK || e == OS_ERR_NOT_FOUND) e = then(x, email, e ? NULL : &u, limited, ud);
    e = store_tx_end(x->c, e);
    if (!e) outbox_wake(x->app->mail);
    return e;
}

typedef struct signup_request {
    const char *name, *hash, *language, *next;
} signup_request;

static os_err signup_then(op_ctx *x, const char *email, const user_rec *found, const char *limited, const void *ud) {
    const signup_request *in = ud;
    os_err e;
    if (found) {
        /* Same answer to the caller; the owner learns someone tried. */
        if (limited)
            e = throttle_mail_suppressed(x, found->email, "account_exists", limited);
        else
            e = outbox_enqueue(x->app, x->c, x->a, found->email, "account_exists", found->language,
                               json_pairs(x->a, "name", found->name, "signin_link", signin_link(x, in->next),
                                          "reset_link",
                                          arena_printf(x->a, "%s/reset", x->app->base_url), NULL),
                               x->now);
        if (!e) e = audit(x, "account.signup_existing", "user", audit_id(x, found->id), 0, NULL);
        return e;
    }
    int64_t id;
    e = st_user_create(x->c, email, in->name, in->hash, in->language, x->now, &id);
    if (!e) {
        /* The account exists either way; its owner can ask for the link again later. */
        user_rec u = {.id = id, .email = email, .name = in->name, .language = in->language};
        e = limited ? throttle_mail_suppressed(x, email, "verify_email", limited) : send_verification(x, &u, in->next);
    }
    if (!e) e = audit(x, "account.created", "user", audit_id(x, id), 0, json_pairs(x->a, "email", email, NULL));
    return e;
}

os_err account_signup(op_ctx *x, const char *name, const char *email, const char *password, const char *language,
                      const char *next) {
    char hash[128];
    /* Hash before the transaction: it is the slow part and needs no lock. Every request
     * pays it, so an answer whose mail was suppressed takes as long as any other. */
    if (secret_pw_hash(password, hash)) return OS_ERR_NOMEM;
    signup_request in = {.name = name, .hash = hash, .language = language, .next = next};
    return mail_request(x, email, signup_then, &in);
}

os_err account_verify(op_ctx *x, const char *token, const char **email) {
    char hash[SECRET_HASH_HEX];
    secret_hash_hex(token, strlen(token), hash);
    os_err e = store_tx_begin(x->c);
    if (e) return e;
    int64_t uid = 0;
    user_rec u;
    e = st_token_consume(x->c, "verify", hash, x->now, &uid);
    if (!e) e = st_user_set_verified(x->c, uid, x->now);
    if (!e) e = st_user_by_id(x->c, x->a, uid, &u);
    if (!e) {
        x->actor_id = uid;
        x->actor_email = u.email;
        e = audit(x, "account.verified", "user", audit_id(x, uid), 0, NULL);
    }
    e = store_tx_end(x->c, e);
    if (!e) *email = u.email;
    return e;
}

static os_err resend_then(op_ctx *x, const char *email, const user_rec *u, const char *limited, const void *ud) {
    (void)email;
    const char *next = ud;
    if (!u || u->verified_at) return OS_OK;   /* no oracle */
    return limited ? throttle_mail_suppressed(x, u->email, "verify_email", limited) : send_verification(x, u, next);
}

os_err account_resend_verification(op_ctx *x, const char *email, const char *next) {
    return mail_request(x, email, resend_then, next);
}

/* OS_OK when u's stored password hash (and verification) is still the one read before the
 * caller's transaction, where an expensive check was made against it; otherwise the check
 * no longer holds: OS_ERR_UNAUTHENTICATED. */
static os_err password_unchanged(op_ctx *x, const user_rec *u) {
    user_rec now;
    os_err e = st_user_by_id(x->c, x->a, u->id, &now);
    if (e == OS_ERR_NOT_FOUND) return OS_ERR_UNAUTHENTICATED;
    if (!e && (strcmp(now.password_hash, u->password_hash) || !now.verified_at != !u->verified_at))
        e = OS_ERR_UNAUTHENTICATED;
    return e;
}

os_err account_signin(op_ctx *x, const char *email, const char *password, const char *user_agent,
                      signin_result *out) {
    memset(out, 0, sizeof *out);
    /* Failures on an account count per client address first: guesses from elsewhere lock
     * out the guesser, not the owner, until the account-wide ceiling. */
    const throttle_rule rules[] = {
        {"account", email, LIMIT_SIGNIN_PER_ACCOUNT_ADDRESS, LIMIT_SIGNIN_PER_ACCOUNT, LIMIT_SIGNIN_WINDOW_S},
        {"address", x->address, 0, LIMIT_SIGNIN_PER_ADDRESS, LIMIT_SIGNIN_WINDOW_S},
    };
    throttle_attempt at;
    os_err e = throttle_reserve(x, rules, 2, &at, &out->retry_after);
    if (e) {
        if (e == OS_ERR_THROTTLED) audit(x, "signin.throttled", "email", email, 0, NULL);
        return e;
    }
    user_rec u;
    e = st_user_by_email(x->c, x->a, email, &u);
    if (e == OS_ERR_NOT_FOUND) {
        secret_pw_dummy(password);
        audit(x, "signin.failed", "email", email, 0, json_pairs(x->a, "reason", "unknown_account", NULL));
        return OS_ERR_UNAUTHENTICATED;
    }
    if (e) return e;
    if (!secret_pw_verify(u.password_hash, password)) {
        audit(x, "signin.failed", "email", email, 0, json_pairs(x->a, "reason", "wrong_password", NULL));
        return OS_ERR_UNAUTHENTICATED;
    }
    throttle_withdraw(x, &at);
    if (!u.verified_at) return OS_ERR_FORBIDDEN;

    /* Cost settings changed since this hash was made: upgrade it now we have the password
     * (hashed here: Argon2's time must not be spent holding the writer). */
    char nh[128];
    bool rehash = secret_pw_needs_rehash(u.password_hash) && !secret_pw_hash(password, nh);
    /* A second factor on: the password alone opens no session, only the way to present it. */
    mfa_rec m;
    e = st_mfa_get(x->c, x->a, u.id, &m);
    if (!e && m.confirmed_at) return mfa_challenge(x, &u, out);
    if (e && e != OS_ERR_NOT_FOUND) return e;
    return account_open_session(x, &u, "password", user_agent, rehash ? nh : NULL, true, out);
}

os_err account_open_session(op_ctx *x, const user_rec *u, const char *method, const char *user_agent,
                            const char *rehash, bool password_checked, signin_result *out) {
    char hash[SECRET_HASH_HEX], csrf[SECRET_TOKEN_CHARS + 1];
    secret_token(out->token);
    secret_token(csrf);
    secret_hash_hex(out->token, strlen(out->token), hash);
    x->actor_id = u->id;
    x->actor_email = u->email;
    os_err e = store_tx_begin(x->c);
    if (e) return e;
    /* The password was checked against a hash read before the transaction: go on only if it
     * is still the stored one, so a reset or change committed meanwhile wins. */
    if (password_checked) e = password_unchanged(x, u);
    if (!e && rehash) e = st_user_set_password(x->c, u->id, rehash, x->now);
    /* The owner signed in from here: this address's failures on the account are forgotten.
     * Those from other addresses still count towards the account-wide ceiling. */
    if (!e) e = st_auth_failures_clear(x->c, "account", u->email, x->address ? x->address : "");
    if (!e) e = st_session_create(x->c, hash, u->id, csrf, x->now, x->now + x->app->cfg->session_max_s, x->address,
                                  user_agent, method);
    if (!e) e = audit(x, "signin", "user", audit_id(x, u->id), 0,
                      strcmp(method, "password") ? json_pairs(x->a, "method", method, NULL) : NULL);
    e = store_tx_end(x->c, e);
    if (e) return e;
    out->user = *u;
    out->csrf = arena_strdup(x->a, csrf);
    return OS_OK;
}

/* The session's expiry, checked on every request; the last-seen time touched at most once
 * a minute. */
static os_err session_live(op_ctx *x, const char *hash, session_rec *s) {
    if (s->expires_at <= x->now || s->last_seen_at + x->app->cfg->session_idle_s <= x->now) {
        /* Tidying only: an expired session is refused whether or not its row goes now
         * (the purge removes it later). */
        os_ignore(st_session_delete(x->c, hash));
        return OS_ERR_NOT_FOUND;
    }
    /* Touch at most once a minute: idle expiry needs no finer grain, and it spares a write per request.
     * Best effort: the request is identified either way, and the next one touches again. */
    if (x->now - s->last_seen_at >= 60) os_ignore(st_session_touch(x->c, s->id, x->now));
    return OS_OK;
}

os_err account_session(op_ctx *x, const char *cookie, session_rec *s, user_rec *u) {
    size_t n = strlen(cookie);
    if (n != SECRET_TOKEN_CHARS) return OS_ERR_NOT_FOUND;
    char hash[SECRET_HASH_HEX];
    secret_hash_hex(cookie, n, hash);
    os_err e = st_session_get(x->c, x->a, hash, s, u);
    return e ? e : session_live(x, hash, s);
}

os_err account_session_access(op_ctx *x, const char *cookie, const char *license_number, session_rec *s,
                              user_rec *u, session_access_rec *rows) {
    size_t n = strlen(cookie);
    if (n != SECRET_TOKEN_CHARS) return OS_ERR_NOT_FOUND;
    char hash[SECRET_HASH_HEX];
    secret_hash_hex(cookie, n, hash);
    os_err e = st_session_access(x->c, x->a, hash, license_number, x->now, s, u, rows);
    return e ? e : session_live(x, hash, s);
}

os_err account_signout(op_ctx *x, const char *cookie) {
    char hash[SECRET_HASH_HEX];
    secret_hash_hex(cookie, strlen(cookie), hash);
    os_err e = store_tx_begin(x->c);
    if (e) return e;
    e = st_session_delete(x->c, hash);
    if (!e && x->actor_id) e = audit(x, "signout", "user", audit_id(x, x->actor_id), 0, NULL);
    return store_tx_end(x->c, e);
}

static os_err reset_then(op_ctx *x, const char *email, const user_rec *u, const char *limited, const void *ud) {
    (void)ud;
    if (!u) return audit(x, "password.reset_unknown", "email", email, 0, NULL);
    /* No new link either: it would void the one the owner may have just received. */
    if (limited) return throttle_mail_suppressed(x, u->email, "reset_password", limited);
    char tok[SECRET_TOKEN_CHARS + 1];
    os_err e = new_token(x, u->id, "reset", LIMIT_RESET_TTL_S, tok);
    if (!e)
        e = outbox_enqueue(x->app, x->c, x->a, u->email, "reset_password", u->language,
                           json_pairs(x->a, "name", u->name, "link", link_to(x, "/reset", tok), NULL), x->now);
    if (!e) e = audit(x, "password.reset_requested", "user", audit_id(x, u->id), 0, NULL);
    return e;
}

os_err account_reset_request(op_ctx *x, const char *email) {
    return mail_request(x, email, reset_then, NULL);
}

static os_err notify_password_changed(op_ctx *x, const user_rec *u) {
    return outbox_enqueue(x->app, x->c, x->a, u->email, "password_changed", u->language,
                          json_pairs(x->a, "name", u->name, "reset_link",
                                     arena_printf(x->a, "%s/reset", x->app->base_url), NULL),
                          x->now);
}

os_err account_reset_confirm(op_ctx *x, const char *token, const char *password) {
    char hash[SECRET_HASH_HEX], pw[128];
    if (secret_pw_hash(password, pw)) return OS_ERR_NOMEM;
    secret_hash_hex(token, strlen(token), hash);
    os_err e = store_tx_begin(x->c);
    if (e) return e;
    int64_t uid = 0;
    user_rec u;
    e = st_token_consume(x->c, "reset", hash, x->now, &uid);
    if (!e) e = st_user_set_password(x->c, uid, pw, x->now);
    if (!e) e = st_user_set_verified(x->c, uid, x->now);
    if (!e) e = st_sessions_end_user(x->c, uid, 0);
    if (!e) e = st_tokens_void(x->c, uid, "verify", x->now);   /* the address is verified now */
    if (!e) e = st_user_by_id(x->c, x->a, uid, &u);
    if (!e) e = st_auth_failures_clear(x->c, "account", u.email, NULL);   /* the link proves the owner */
    if (!e) e = notify_password_changed(x, &u);
    if (!e) {
        x->actor_id = uid;
        x->actor_email = u.email;
        e = audit(x, "password.reset", "user", audit_id(x, uid), 0, NULL);
    }
    e = store_tx_end(x->c, e);
    if (!e) outbox_wake(x->app->mail);
    return e;
}

os_err account_change_password(op_ctx *x, int64_t session_id, const char *current, const char *next,
                               field_errors *fe) {
    user_rec u;
    os_err e = st_user_by_id(x->c, x->a, x->actor_id, &u);
    if (e) return e;
    if (!secret_pw_verify(u.password_hash, current)) {
        fe_add(fe, "current_password", "wrong_password", "The current password is not correct");
        audit(x, "password.change_failed", "user", audit_id(x, u.id), 0, NULL);
        return OS_ERR_INVALID;
    }
    char pw[128];
    if (secret_pw_hash(next, pw)) return OS_ERR_NOMEM;
    if ((e = store_tx_begin(x->c))) return e;
    /* A change committed since the current password was checked wins: this one is refused
     * as if the password had been wrong. */
    e = password_unchanged(x, &u);
    if (e == OS_ERR_UNAUTHENTICATED) {
        fe_add(fe, "current_password", "wrong_password", "The current password is not correct");
        e = OS_ERR_INVALID;
    }
    if (!e) e = st_user_set_password(x->c, u.id, pw, x->now);
    if (!e) e = st_sessions_end_user(x->c, u.id, session_id);
    if (!e) e = notify_password_changed(x, &u);
    if (!e) e = audit(x, "password.changed", "user", audit_id(x, u.id), 0, NULL);
    e = store_tx_end(x->c, e);
    if (!e) outbox_wake(x->app->mail);
    return e;
}

os_err account_update_profile(op_ctx *x, const char *name, const char *language, user_rec *out) {
    os_err e = store_tx_begin(x->c);
    if (e) return e;
    e = st_user_update_profile(x->c, x->actor_id, name, language, x->now);
    if (!e) e = audit(x, "account.updated", "user", audit_id(x, x->actor_id), 0,
                      json_pairs(x->a, "name", name, "language", language, NULL));
    e = store_tx_end(x->c, e);
    if (!e) e = st_user_by_id(x->c, x->a, x->actor_id, out);
    return e;
}

os_err account_ensure_verified(op_ctx *x, const char *name, const char *email, const char *password,
                               const char *language) {
    user_rec u;
    os_err e = st_user_by_email(x->c, x->a, email, &u);
    if (e == OS_OK) return OS_OK;
    if (e != OS_ERR_NOT_FOUND) return e;
    char pw[128];
    if (secret_pw_hash(password, pw)) return OS_ERR_NOMEM;
    if ((e = store_tx_begin(x->c))) return e;
    int64_t id;
    e = st_user_create(x->c, email, name, pw, language, x->now, &id);
    if (!e) e = st_user_set_verified(x->c, id, x->now);
    if (!e) e = audit(x, "account.created", "user", audit_id(x, id), 0, json_pairs(x->a, "source", "demo", NULL));
    return store_tx_end(x->c, e);
}
