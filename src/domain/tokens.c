/* tokens.c — personal API tokens. Contract in tokens.h. */
#include "tokens.h"
#include <pthread.h>
#include <string.h>
#include <time.h>
#include "core/buf.h"
#include "core/json_write.h"
#include "core/limits.h"
#include "core/secret.h"
#include "domain/access.h"
#include "domain/audit.h"

const char *tokens_status(const api_token_rec *t, int64_t now) {
    if (t->revoked_at) return "revoked";
    return t->expires_at <= now ? "expired" : "active";
}

/* What the actor holds on the agreement, as token capabilities: the role's, and CAP_MANAGE
 * where the role reaches the super admins' or partner managers' routes. false: no role. */
static os_err held_on(op_ctx *x, const char *license_number, int64_t *agreement_id, unsigned *held, bool *role) {
    static const access_need any = {WHO_ANY_ROLE, CAP_NONE, false};
    agreement_access g;
    os_err e = access_agreement(x, license_number, x->actor_id, &any, &g);
    if (e) return e;
    *role = g.verdict != AGR_NO_ROLE;
    *agreement_id = g.agreement_id;
    *held = g.capabilities;
    if (*role && (!strcmp(g.role, "super_admin") || !strcmp(g.role, "partner_manager"))) *held |= CAP_MANAGE;
    return OS_OK;
}

static const char *token_details(op_ctx *x, const api_token_rec *t) {
    const char *names[CAP_TOKEN_COUNT];
    int n = cap_token_names(t->capabilities, names);
    buf b;
    buf_init(&b, x->a, 1024);
    jw w;
    jw_init(&w, &b);
    jw_obj(&w);
    jw_kstr(&w, "name", t->name);
    jw_kstr(&w, "prefix", t->prefix);
    if (t->license_number) jw_kstr(&w, "agreement", t->license_number);
    else jw_knull(&w, "agreement");
    jw_key(&w, "capabilities");
    jw_arr(&w);
    for (int i = 0; i < n; i++) jw_str(&w, names[i]);
    jw_arr_end(&w);
    jw_kstr(&w, "owner", t->owner_email);
    jw_obj_end(&w);
    return jw_ok(&w) ? b.data : NULL;
}

os_err tokens_create(op_ctx *x, const token_request *in, field_errors *fe, api_token_rec *out, const char **secret) {
    char pub[13], priv[65];
    secret_random_hex(pub, 6);
    secret_random_hex(priv, 32);
    char *s = arena_printf(x->a, "ost_%s%s", pub, priv);
    char hash[SECRET_HASH_HEX];
    secret_hash_hex(s, strlen(s), hash);
    memset(out, 0, sizeof *out);
    *out = (api_token_rec){.user_id = x->actor_id,
                           .name = in->name,
                           .license_number = in->license_number,
                           .prefix = arena_strndup(x->a, s, TOKEN_PREFIX_CHARS),
                           .capabilities = in->capabilities,
                           .created_at = x->now,
                           .expires_at = in->expires_at,
                           .owner_email = x->actor_email,
                           .owner_name = x->actor_name,
                           /* A token made from a strong session may act where strong
                            * authentication is required; one made from a password-only
                            * session may not (access.h). */
                           .method = x->auth_method};
    os_err e = store_tx_begin(x->c);
    if (e) return e;
    int64_t live = 0;
    e = st_api_tokens_live_count(x->c, x->actor_id, x->now, &live);
    if (!e && live >= LIMIT_TOKENS_LIVE) e = OS_ERR_CONFLICT;
    if (!e && (in->capabilities & CAP_PROVISIONING) && !in->license_number) {
        /* An identity provider is given one agreement's SCIM base URL and acts there alone. */
        fe_add(fe, "agreement", "required", "A token with provisioning is named to one agreement");
        e = OS_ERR_INVALID;
    }
    if (!e && in->license_number) {
        unsigned held = 0;
        bool role = false;
        e = held_on(x, in->license_number, &out->agreement_id, &held, &role);
        if (!e && !role) {
            /* Unknown or not the actor's: one answer, so a number's existence is not told. */
            fe_add(fe, "agreement", "unknown_agreement", "No agreement you may act on has this number");
            e = OS_ERR_INVALID;
        } else if (!e && (in->capabilities & ~held)) {
            const char *names[CAP_TOKEN_COUNT];
            int n = cap_token_names(in->capabilities & ~held, names);
            buf b;
            buf_init(&b, x->a, 256);
            for (int i = 0; i < n; i++) buf_printf(&b, "%s%s", i ? ", " : "", names[i]);
            fe_add_params(fe, "capabilities", "capability_not_held",
                          arena_printf(x->a, "Your access to this agreement does not include: %s", b.data),
                          json_pairs(x->a, "capabilities", b.data, NULL));
            e = OS_ERR_INVALID;
        }
    }
    if (!e) {
        e = st_api_token_create(x->c, out, hash, &out->id);
        /* A prefix already taken (48 random bits): not the person's doing. */
        if (e == OS_ERR_CONFLICT) e = OS_ERR_INTERNAL;
    }
    if (!e) e = audit(x, "token.created", "token", audit_id(x, out->id), out->agreement_id, token_details(x, out));
    e = store_tx_end(x->c, e);
    if (!e) *secret = s;
    return e;
}

os_err tokens_list(op_ctx *x, api_token_rec **rows, int *n) {
    return st_api_tokens_of_user(x->c, x->a, x->actor_id, LIMIT_TOKENS_LISTED, rows, n);
}

static os_err revoke(op_ctx *x, const api_token_rec *t, int64_t agreement_id) {
    bool revoked = false;
    os_err e = st_api_token_revoke(x->c, t->id, x->actor_id, x->now, &revoked);
    if (!e && revoked) e = audit(x, "token.revoked", "token", audit_id(x, t->id), agreement_id, token_details(x, t));
    return e;
}

os_err tokens_revoke_own(op_ctx *x, int64_t id) {
    os_err e = store_tx_begin(x->c);
    if (e) return e;
    api_token_rec t;
    e = st_api_token_of_user(x->c, x->a, x->actor_id, id, &t);
    if (!e) e = revoke(x, &t, t.agreement_id);
    return store_tx_end(x->c, e);
}

os_err tokens_of_agreement(op_ctx *x, int64_t agreement_id, api_token_rec **rows, int *n) {
    return st_api_tokens_of_agreement(x->c, x->a, agreement_id, x->now, LIMIT_TOKENS_LISTED, rows, n);
}

os_err tokens_revoke_on_agreement(op_ctx *x, int64_t agreement_id, int64_t id) {
    /* Store-wide: the token and its owner's roles are not this agreement's rows alone, and
     * revoking changes nothing the agreement's lists show (its data version stays). */
    os_err e = store_tx_begin(x->c);
    if (e) return e;
    api_token_rec t;
    e = st_api_token_of_agreement(x->c, x->a, agreement_id, id, x->now, &t);
    if (!e) e = revoke(x, &t, agreement_id);
    return store_tx_end(x->c, e);
}

static bool well_formed(const char *s) {
    if (strlen(s) != TOKEN_SECRET_CHARS || strncmp(s, "ost_", 4)) return false;
    for (const char *p = s + 4; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))) return false;
    return true;
}

os_err tokens_authenticate(op_ctx *x, const char *secret, const char *license_number, api_token_rec *t,
                           user_rec *owner, session_access_rec *rows) {
    if (!well_formed(secret)) return OS_ERR_NOT_FOUND;
    char prefix[TOKEN_PREFIX_CHARS + 1];
    memcpy(prefix, secret, TOKEN_PREFIX_CHARS);
    prefix[TOKEN_PREFIX_CHARS] = 0;
    const char *stored;
    os_err e = st_api_token_access(x->c, x->a, prefix, license_number, x->now, t, &stored, owner, rows);
    if (e) return e;
    char hash[SECRET_HASH_HEX];
    secret_hash_hex(secret, TOKEN_SECRET_CHARS, hash);
    if (!stored || !secret_equal(hash, stored)) return OS_ERR_NOT_FOUND;
    if (t->revoked_at || t->expires_at <= x->now) return OS_ERR_NOT_FOUND;
    /* Best effort and at most once a minute: the request is served either way, and the next
     * one records the use again. */
    if (x->now - t->last_used_at >= LIMIT_TOKEN_TOUCH_S) os_ignore(st_api_token_touch(x->c, t->id, x->now, x->address));
    return OS_OK;
}

/* ---- the rate limit: a fixed, set-associative table of token buckets ---- */

typedef struct bucket {
    int64_t token_id;       /* 0: free */
    double level;           /* requests left */
    int64_t at_ms;          /* when level was computed; also the slot's last use */
} bucket;

#define RATE_SETS (LIMIT_TOKEN_RATE_SLOTS / LIMIT_TOKEN_RATE_WAYS)
static bucket buckets[RATE_SETS][LIMIT_TOKEN_RATE_WAYS];
static pthread_mutex_t buckets_lock = PTHREAD_MUTEX_INITIALIZER;

static int64_t monotonic_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool tokens_rate_take(const app *ap, int64_t token_id, int64_t *retry_after) {
    double per_minute = (double)(ap->cfg->token_rate > 0 ? ap->cfg->token_rate : LIMIT_TOKEN_RATE_DEFAULT);
    int64_t now = monotonic_ms();
    uint64_t h = (uint64_t)token_id * 0x9E3779B97F4A7C15ull;
    bucket *set = buckets[(h >> 32) % RATE_SETS];
    bool ok;
    pthread_mutex_lock(&buckets_lock);
    bucket *b = NULL, *victim = &set[0];
    for (int i = 0; i < LIMIT_TOKEN_RATE_WAYS; i++) {
        if (set[i].token_id == token_id) {
            b = &set[i];
            break;
        }
        if (!victim->token_id) continue;   /* a free slot found: it is the one */
        if (!set[i].token_id || set[i].at_ms < victim->at_ms) victim = &set[i];
    }
    if (!b) {   /* a new token, or one evicted since: a full bucket */
        b = victim;
        *b = (bucket){token_id, per_minute, now};
    }
    b->level += (double)(now - b->at_ms) * per_minute / 60000.0;
    if (b->level > per_minute) b->level = per_minute;
    b->at_ms = now;
    ok = b->level >= 1.0;
    if (ok) b->level -= 1.0;
    else {
        double wait_s = (1.0 - b->level) * 60.0 / per_minute;
        *retry_after = (int64_t)wait_s + 1;
    }
    pthread_mutex_unlock(&buckets_lock);
    return ok;
}

os_err tokens_narrow(op_ctx *x, int64_t user_id, int64_t token_id, bool *live) {
    api_token_rec t;
    *live = false;
    os_err e = st_api_token_of_user(x->c, x->a, user_id, token_id, &t);
    if (e == OS_ERR_NOT_FOUND) return OS_OK;
    if (e) return e;
    if (strcmp(tokens_status(&t, x->now), "active")) return OS_OK;
    *live = true;
    x->token_id = t.id;
    x->token_agreement_id = t.agreement_id;
    x->token_capabilities = t.capabilities;
    x->auth_method = t.method;
    return OS_OK;
}
