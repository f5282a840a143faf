/* sso.c — see sso.h. */
#include "sso.h"
#include <cjose/cjose.h>
#include <curl/curl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include "core/limits.h"
#include "core/log.h"
#include "core/text.h"
#include "domain/audit.h"
#include "domain/webhooks.h"

struct sso_provider {
    char *name, *issuer, *client_id, *client_secret;
    char **domains;
    int ndomains;
    bool required;
    bool allow_private;
    /* Discovered on first use, then kept; the key set also fetched again for an unknown kid:
     * the first time at once, then at most once per LIMIT_SSO_JWKS_REFRESH_S. The first
     * fetch does not count: a provider that rotates its key soon after the server started
     * must not have its people refused for a minute. */
    pthread_mutex_t mu;
    char *authorization_endpoint, *token_endpoint, *jwks_uri;
    json_t *jwks;
    int64_t jwks_refreshed_at;   /* the last fetch an unknown kid asked for; 0: none yet */
};

struct sso_registry {
    sso_provider *p;
    int n;
};

/* ---- the operator's file ---------------------------------------------------------------- */

static char *dup_field(json_t *o, const char *k, bool required, const char *path, int i, char *err, size_t errlen) {
    json_t *v = json_object_get(o, k);
    if (!v && !required) return NULL;
    if (!json_is_string(v) || !json_string_length(v) || json_string_length(v) > 2000) {
        snprintf(err, errlen, "%s: providers[%d].%s must be a non-empty string", path, i, k);
        return NULL;
    }
    return strdup(json_string_value(v));
}

static bool url_allowed(const char *u, bool allow_private) {
    return !strncmp(u, "https://", 8) || (allow_private && !strncmp(u, "http://", 7));
}

sso_registry *sso_load(const char *path, bool allow_private, char *err, size_t errlen) {
    json_error_t je;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        snprintf(err, errlen, "%s: line %d: %s", path, je.line, je.text);
        return NULL;
    }
    json_t *list = json_object_get(root, "providers");
    if (!json_is_array(list) || json_array_size(list) > LIMIT_SSO_PROVIDERS) {
        snprintf(err, errlen, "%s: \"providers\" must be an array of at most %d providers", path, LIMIT_SSO_PROVIDERS);
        json_decref(root);
        return NULL;
    }
    sso_registry *r = calloc(1, sizeof *r);
    r->p = calloc(json_array_size(list) + 1, sizeof *r->p);
    bool ok = true;
    for (size_t i = 0; ok && i < json_array_size(list); i++) {
        json_t *o = json_array_get(list, i);
        sso_provider *p = &r->p[r->n++];
        pthread_mutex_init(&p->mu, NULL);
        p->allow_private = allow_private;
        if (!json_is_object(o)) {
            snprintf(err, errlen, "%s: providers[%zu] must be an object", path, i);
            ok = false;
            break;
        }
        ok = (p->name = dup_field(o, "name", true, path, (int)i, err, errlen)) &&
             (p->issuer = dup_field(o, "issuer", true, path, (int)i, err, errlen)) &&
             (p->client_id = dup_field(o, "client_id", true, path, (int)i, err, errlen)) &&
             (p->client_secret = dup_field(o, "client_secret", true, path, (int)i, err, errlen));
        if (!ok) break;
        if (!url_allowed(p->issuer, allow_private)) {
            snprintf(err, errlen, "%s: providers[%zu].issuer must be an https:// URL (http:// only with --sso-allow-private)",
                     path, i);
            ok = false;
            break;
        }
        size_t il = strlen(p->issuer);
        if (p->issuer[il - 1] == '/') p->issuer[il - 1] = 0;
        json_t *req = json_object_get(o, "required");
        if (req && !json_is_boolean(req)) {
            snprintf(err, errlen, "%s: providers[%zu].required must be true or false", path, i);
            ok = false;
            break;
        }
        p->required = json_is_true(req);
        json_t *doms = json_object_get(o, "domains");
        if (!json_is_array(doms) || !json_array_size(doms) || json_array_size(doms) > LIMIT_SSO_DOMAINS) {
            snprintf(err, errlen, "%s: providers[%zu].domains must list from 1 to %d e-mail domains", path, i,
                     LIMIT_SSO_DOMAINS);
            ok = false;
            break;
        }
        p->domains = calloc(json_array_size(doms), sizeof *p->domains);
        for (size_t k = 0; ok && k < json_array_size(doms); k++) {
            json_t *d = json_array_get(doms, k);
            const char *s = json_string_value(d);
            if (!s || !*s || strlen(s) > 253 || strchr(s, '@')) {
                snprintf(err, errlen, "%s: providers[%zu].domains[%zu] must be a domain such as example.com", path,
                         i, k);
                ok = false;
                break;
            }
            char *low = strdup(s);
            for (char *c = low; *c; c++)
                if (*c >= 'A' && *c <= 'Z') *c = (char)(*c - 'A' + 'a');
            /* One domain, one provider: the sign-in page must know where to send an address. */
            for (int q = 0; q < r->n; q++)
                for (int m = 0; m < r->p[q].ndomains; m++)
                    if (!strcmp(r->p[q].domains[m], low)) {
                        snprintf(err, errlen, "%s: the domain %s is listed twice", path, low);
                        ok = false;
                    }
            p->domains[p->ndomains++] = low;
        }
        for (int q = 0; ok && q < r->n - 1; q++)
            if (!strcmp(r->p[q].name, p->name)) {
                snprintf(err, errlen, "%s: two providers are named %s", path, p->name);
                ok = false;
            }
    }
    json_decref(root);
    if (!ok) {
        sso_free(r);
        return NULL;
    }
    return r;
}

void sso_free(sso_registry *r) {
    if (!r) return;
    for (int i = 0; i < r->n; i++) {
        sso_provider *p = &r->p[i];
        free(p->name);
        free(p->issuer);
        free(p->client_id);
        if (p->client_secret) sodium_memzero(p->client_secret, strlen(p->client_secret));
        free(p->client_secret);
        for (int k = 0; k < p->ndomains; k++) free(p->domains[k]);
        free(p->domains);
        free(p->authorization_endpoint);
        free(p->token_endpoint);
        free(p->jwks_uri);
        json_decref(p->jwks);
        pthread_mutex_destroy(&p->mu);
    }
    free(r->p);
    free(r);
}

sso_provider *sso_for_email(const sso_registry *r, const char *email) {
    const char *at = email ? strrchr(email, '@') : NULL;
    if (!r || !at) return NULL;
    for (int i = 0; i < r->n; i++)
        for (int k = 0; k < r->p[i].ndomains; k++)
            if (!strcmp(r->p[i].domains[k], at + 1)) return &r->p[i];
    return NULL;
}

sso_provider *sso_by_name(const sso_registry *r, const char *name) {
    for (int i = 0; r && i < r->n; i++)
        if (!strcmp(r->p[i].name, name)) return &r->p[i];
    return NULL;
}

const char *sso_provider_name(const sso_provider *p) { return p->name; }
bool sso_provider_required(const sso_provider *p) { return p->required; }

bool sso_required_for(const sso_registry *r, const char *email) {
    const sso_provider *p = sso_for_email(r, email);
    return p && p->required;
}

void sso_password_refused(op_ctx *x, const sso_provider *p, const char *email) {
    audit(x, "signin.failed", "email", email, 0,
          json_pairs(x->a, "reason", "sso_required", "provider", p->name, NULL));
}

/* ---- outbound HTTP ------------------------------------------------------------------------ */

typedef struct fetch {
    char *buf;
    size_t len;
    bool too_big;
    bool allow_private;
} fetch;

static size_t keep_body(char *data, size_t size, size_t n, void *ud) {
    fetch *f = ud;
    size_t k = size * n;
    if (f->len + k > LIMIT_SSO_RESPONSE_BYTES) {
        f->too_big = true;
        return 0;
    }
    char *nb = realloc(f->buf, f->len + k + 1);
    if (!nb) return 0;
    f->buf = nb;
    memcpy(f->buf + f->len, data, k);
    f->len += k;
    f->buf[f->len] = 0;
    return k;
}

/* The same address rule as webhooks: a provider's URLs may not lead into the operator's
 * network unless --sso-allow-private says so. */
static curl_socket_t open_socket(void *ud, curlsocktype purpose, struct curl_sockaddr *addr) {
    fetch *f = ud;
    if (purpose != CURLSOCKTYPE_IPCXN || !webhooks_address_allowed(&addr->addr, f->allow_private))
        return CURL_SOCKET_BAD;
    return socket(addr->family, addr->socktype, addr->protocol);
}

/* GET (form NULL) or POST a form to url; the JSON answer when the status is 200. */
static json_t *http_json(const sso_provider *p, const char *url, const char *form, long *status) {
    *status = 0;
    if (!url_allowed(url, p->allow_private)) return NULL;
    CURL *h = curl_easy_init();
    if (!h) return NULL;
    fetch f = {.allow_private = p->allow_private};
    struct curl_slist *hd = curl_slist_append(NULL, "Accept: application/json");
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, p->allow_private ? "http,https" : "https");
    curl_easy_setopt(h, CURLOPT_PROXY, "");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)LIMIT_SSO_TIMEOUT_S);
    curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, open_socket);
    curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, &f);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, keep_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &f);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
    if (form) curl_easy_setopt(h, CURLOPT_POSTFIELDS, form);
    CURLcode rc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
    curl_slist_free_all(hd);
    curl_easy_cleanup(h);
    json_t *j = NULL;
    if (rc == CURLE_OK && *status == 200 && f.buf) j = json_loadb(f.buf, f.len, JSON_REJECT_DUPLICATES, NULL);
    else
        log_event(LOG_WARN, "sso_fetch_failed", "provider", p->name, "url", url, "error", curl_easy_strerror(rc),
                  NULL);
    free(f.buf);
    if (j && !json_is_object(j)) {
        json_decref(j);
        j = NULL;
    }
    return j;
}

static char *dup_str(json_t *o, const char *k) {
    const char *s = json_string_value(json_object_get(o, k));
    return s ? strdup(s) : NULL;
}

/* Under p->mu: discovery once, then the key set (again when `refresh` and the last fetch is
 * older than the refresh interval). false when the provider could not be read. */
static bool discover_locked(sso_provider *p, int64_t now, bool refresh) {
    if (!p->token_endpoint) {
        char *url = NULL;
        if (asprintf(&url, "%s/.well-known/openid-configuration", p->issuer) < 0) return false;
        long st;
        json_t *d = http_json(p, url, NULL, &st);
        free(url);
        if (!d) return false;
        char *iss = dup_str(d, "issuer"), *ae = dup_str(d, "authorization_endpoint"),
             *te = dup_str(d, "token_endpoint"), *ju = dup_str(d, "jwks_uri");
        json_decref(d);
        /* The document must speak for the configured issuer (OpenID Connect Discovery §4.3). */
        bool good = iss && ae && te && ju && url_allowed(ae, p->allow_private) && url_allowed(te, p->allow_private) &&
                    url_allowed(ju, p->allow_private);
        if (good) {
            size_t il = strlen(iss);
            good = (il == strlen(p->issuer) && !strncmp(iss, p->issuer, il)) ||
                   (il == strlen(p->issuer) + 1 && !strncmp(iss, p->issuer, il - 1) && iss[il - 1] == '/');
        }
        if (!good) {
            log_event(LOG_WARN, "sso_discovery_refused", "provider", p->name, NULL);
            free(iss), free(ae), free(te), free(ju);
            return false;
        }
        free(iss);
        p->authorization_endpoint = ae, p->token_endpoint = te, p->jwks_uri = ju;
    }
    bool again = refresh && (!p->jwks_refreshed_at || now - p->jwks_refreshed_at >= LIMIT_SSO_JWKS_REFRESH_S);
    if (!p->jwks || again) {
        long st;
        json_t *k = http_json(p, p->jwks_uri, NULL, &st);
        if (again) p->jwks_refreshed_at = now;
        if (k && json_is_array(json_object_get(k, "keys"))) {
            json_decref(p->jwks);
            p->jwks = k;
        } else {
            json_decref(k);
        }
    }
    return p->jwks != NULL;
}

/* ---- the ID token --------------------------------------------------------------------------- */

static bool str_is(json_t *v, const char *want) {
    const char *s = json_string_value(v);
    return s && want && !strcmp(s, want);
}

os_err sso_check_id_token(const char *jwt, const json_t *jwks, const char *issuer, const char *client_id,
                          const char *nonce, int64_t now, json_t **claims, const char **why) {
    *claims = NULL;
    *why = "malformed";
    cjose_err ce;
    cjose_jws_t *jws = cjose_jws_import(jwt, strlen(jwt), &ce);
    if (!jws) return OS_ERR_UNAUTHENTICATED;
    os_err e = OS_ERR_UNAUTHENTICATED;
    json_t *hdr = (json_t *)cjose_jws_get_protected(jws);
    const char *alg = json_string_value(json_object_get(hdr, "alg"));
    const char *kid = json_string_value(json_object_get(hdr, "kid"));
    /* The allow-list is ours, never the token's: no "none", no HMAC with a public key. */
    const char *kty = alg && !strcmp(alg, "RS256") ? "RSA" : alg && !strcmp(alg, "ES256") ? "EC" : NULL;
    if (!kty) {
        *why = "algorithm";
        goto out;
    }
    json_t *keys = json_object_get(jwks, "keys"), *key = NULL;
    size_t i;
    json_t *k;
    json_array_foreach(keys, i, k) {
        if (!str_is(json_object_get(k, "kty"), kty)) continue;
        if (kid ? !str_is(json_object_get(k, "kid"), kid) : json_object_get(k, "kid") != NULL) continue;
        const char *use = json_string_value(json_object_get(k, "use"));
        if (use && strcmp(use, "sig")) continue;
        if (!strcmp(kty, "EC") && !str_is(json_object_get(k, "crv"), "P-256")) continue;
        key = k;
        break;
    }
    if (!key) {
        *why = "unknown_key";
        e = OS_ERR_NOT_FOUND;
        goto out;
    }
    cjose_jwk_t *jwk = cjose_jwk_import_json((cjose_header_t *)key, &ce);
    bool good = jwk && cjose_jws_verify(jws, jwk, &ce);
    cjose_jwk_release(jwk);
    if (!good) {
        *why = "signature";
        goto out;
    }
    uint8_t *pt;
    size_t ptlen;
    if (!cjose_jws_get_plaintext(jws, &pt, &ptlen, &ce)) goto out;
    json_t *c = json_loadb((const char *)pt, ptlen, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(c)) {
        json_decref(c);
        goto out;
    }
    json_t *aud = json_object_get(c, "aud"), *azp = json_object_get(c, "azp");
    bool aud_ok = str_is(aud, client_id);
    if (json_is_array(aud)) {
        json_t *a;
        json_array_foreach(aud, i, a) aud_ok = aud_ok || str_is(a, client_id);
        /* Several audiences: the token must have been issued to us (OpenID Connect Core §3.1.3.7). */
        if (json_array_size(aud) > 1 && !azp) aud_ok = false;
    }
    json_t *exp = json_object_get(c, "exp"), *iat = json_object_get(c, "iat");
    if (!str_is(json_object_get(c, "iss"), issuer)) *why = "issuer";
    else if (!aud_ok || (azp && !str_is(azp, client_id))) *why = "audience";
    else if (!json_is_integer(exp) || json_integer_value(exp) + LIMIT_SSO_SKEW_S <= now) *why = "expired";
    else if (!json_is_integer(iat) || json_integer_value(iat) - LIMIT_SSO_SKEW_S > now) *why = "issued_in_future";
    else if (!str_is(json_object_get(c, "nonce"), nonce)) *why = "nonce";
    else if (!json_is_string(json_object_get(c, "sub")) || !json_string_length(json_object_get(c, "sub")) ||
             json_string_length(json_object_get(c, "sub")) > 255)
        *why = "subject";
    else {
        *why = NULL;
        *claims = c;
        e = OS_OK;
    }
    if (e) json_decref(c);
out:
    cjose_jws_release(jws);
    return e;
}

/* ---- the flow ------------------------------------------------------------------------------- */

static const char *callback_url(op_ctx *x) { return arena_printf(x->a, "%s/api/v1/sso/callback", x->app->base_url); }

/* base64url(SHA-256(verifier)), RFC 7636 §4.2. */
static const char *s256(op_ctx *x, const char *verifier) {
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)verifier, strlen(verifier));
    char *out = arena_alloc(x->a, sodium_base64_ENCODED_LEN(sizeof h, sodium_base64_VARIANT_URLSAFE_NO_PADDING));
    sodium_bin2base64(out, sodium_base64_ENCODED_LEN(sizeof h, sodium_base64_VARIANT_URLSAFE_NO_PADDING), h, sizeof h,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    return out;
}

os_err sso_start(op_ctx *x, sso_provider *p, const char *language, const char **url) {
    pthread_mutex_lock(&p->mu);
    bool ok = discover_locked(p, x->now, false);
    const char *authz = ok ? arena_strdup(x->a, p->authorization_endpoint) : NULL;
    pthread_mutex_unlock(&p->mu);
    if (!ok) return OS_ERR_IO;
    char state[SECRET_TOKEN_CHARS + 1], nonce[SECRET_TOKEN_CHARS + 1], verifier[SECRET_TOKEN_CHARS + 1];
    char hash[SECRET_HASH_HEX];
    secret_token(state);
    secret_token(nonce);
    secret_token(verifier);
    secret_hash_hex(state, strlen(state), hash);
    os_err e = store_tx_begin(x->c);
    if (!e) e = st_sso_request_create(x->c, hash, p->name, nonce, verifier, language, x->now,
                                        x->now + LIMIT_SSO_REQUEST_TTL_S);
    e = store_tx_end(x->c, e);
    if (e) return e;
    *url = arena_printf(x->a,
                        "%s%cresponse_type=code&scope=openid%%20email%%20profile&client_id=%s&redirect_uri=%s"
                        "&state=%s&nonce=%s&code_challenge=%s&code_challenge_method=S256",
                        authz, strchr(authz, '?') ? '&' : '?', url_encode(x->a, p->client_id),
                        url_encode(x->a, callback_url(x)), state, nonce, s256(x, verifier));
    return OS_OK;
}

static const char *form_pair(op_ctx *x, const char *k, const char *v) {
    return arena_printf(x->a, "%s=%s", k, url_encode(x->a, v));
}

/* Redeems the code and checks the ID token; *claims on success. */
static const char *redeem(op_ctx *x, sso_provider *p, const char *code, const sso_request_rec *q, json_t **claims) {
    pthread_mutex_lock(&p->mu);
    bool ok = discover_locked(p, x->now, false);
    const char *te = ok ? arena_strdup(x->a, p->token_endpoint) : NULL;
    pthread_mutex_unlock(&p->mu);
    if (!ok) return "sso_unavailable";
    const char *form = arena_printf(x->a, "grant_type=authorization_code&%s&%s&%s&%s&%s", form_pair(x, "code", code),
                                    form_pair(x, "redirect_uri", callback_url(x)),
                                    form_pair(x, "code_verifier", q->verifier),
                                    form_pair(x, "client_id", p->client_id),
                                    form_pair(x, "client_secret", p->client_secret));
    long status;
    json_t *tok = http_json(p, te, form, &status);
    const char *idt = json_string_value(json_object_get(tok, "id_token"));
    if (!idt) {
        log_event(LOG_WARN, "sso_refused", "provider", p->name, "reason", "token_endpoint", NULL);
        json_decref(tok);
        return status >= 500 || status == 0 ? "sso_unavailable" : "sso_failed";
    }
    idt = arena_strdup(x->a, idt);
    json_decref(tok);
    const char *why = NULL;
    for (int attempt = 0; attempt < 2; attempt++) {
        pthread_mutex_lock(&p->mu);
        if (attempt) discover_locked(p, x->now, true);
        json_t *keys = json_incref(p->jwks);
        pthread_mutex_unlock(&p->mu);
        os_err e = sso_check_id_token(idt, keys, p->issuer, p->client_id, q->nonce, x->now, claims, &why);
        json_decref(keys);
        if (e != OS_ERR_NOT_FOUND) break;   /* an unknown kid: the provider may have rotated */
    }
    if (*claims) return NULL;
    log_event(LOG_WARN, "sso_refused", "provider", p->name, "reason", why, NULL);
    return "sso_failed";
}

/* The account for the token's person, linked or created in the caller's transaction. A
 * refused first use sets *refused_email to the address the token names (NULL: none usable). */
static os_err account_for(op_ctx *x, const sso_provider *p, json_t *claims, const char *language, user_rec *u,
                          const char **reason, const char **refused_email) {
    const char *sub = json_string_value(json_object_get(claims, "sub"));
    int64_t uid = 0;
    os_err e = st_sso_identity_user(x->c, p->issuer, sub, &uid);
    if (!e) {
        if ((e = st_sso_identity_touch(x->c, p->issuer, sub, x->now))) return e;
        return st_user_by_id(x->c, x->a, uid, u);
    }
    if (e != OS_ERR_NOT_FOUND) return e;
    /* First use: the provider must vouch for the address, or it could claim anyone's account. */
    const char *raw = json_string_value(json_object_get(claims, "email"));
    const char *email = raw ? email_normalize(x->a, raw) : NULL;
    if (!email || !json_is_true(json_object_get(claims, "email_verified"))) {
        *reason = "sso_email_unverified";
        *refused_email = email;
        return OS_ERR_FORBIDDEN;
    }
    e = st_user_by_email(x->c, x->a, email, u);
    if (e == OS_ERR_NOT_FOUND) {
        const char *name = json_string_value(json_object_get(claims, "name"));
        if (!name || !*name || strlen(name) > LIMIT_NAME_BYTES) name = email;   /* jansson: valid UTF-8 */
        /* No password: "!" is no Argon2 string, so no password ever matches it. */
        if ((e = st_user_create(x->c, email, name, "!", language, x->now, &uid))) return e;
        if ((e = st_user_set_verified(x->c, uid, x->now))) return e;
        if ((e = st_user_by_id(x->c, x->a, uid, u))) return e;
        x->actor_id = uid;
        x->actor_email = email;
        e = audit(x, "account.created", "user", audit_id(x, uid), 0,
                  json_pairs(x->a, "email", email, "source", "sso", "provider", p->name, NULL));
    } else if (!e && !u->verified_at) {
        /* The provider proved the address: the account's owner is who the link was meant for. */
        e = st_user_set_verified(x->c, u->id, x->now);
    }
    if (e) return e;
    x->actor_id = u->id;
    x->actor_email = u->email;
    if ((e = st_sso_identity_link(x->c, p->issuer, sub, u->id, x->now))) return e;
    return audit(x, "sso.linked", "user", audit_id(x, u->id), 0,
                 json_pairs(x->a, "provider", p->name, "issuer", p->issuer, "subject", sub, NULL));
}

os_err sso_finish(op_ctx *x, const char *state, const char *code, const char *user_agent, signin_result *out,
                  const char **reason) {
    memset(out, 0, sizeof *out);
    *reason = "sso_expired";
    char hash[SECRET_HASH_HEX];
    secret_hash_hex(state, strlen(state), hash);
    sso_request_rec q;
    /* Consumed before anything else, in its own transaction: a replay finds it used even
     * when this attempt fails further on. */
    os_err e = store_tx_begin(x->c);
    if (!e) e = st_sso_request_consume(x->c, x->a, hash, x->now, &q);
    if ((e = store_tx_end(x->c, e))) return e == OS_ERR_GONE ? OS_ERR_UNAUTHENTICATED : e;
    sso_provider *p = sso_by_name(x->app->sso, q.provider);
    if (!p) return OS_ERR_UNAUTHENTICATED;   /* the operator removed it meanwhile */
    if (!code) {
        *reason = "sso_cancelled";
        return OS_ERR_UNAUTHENTICATED;
    }
    json_t *claims = NULL;
    const char *r = redeem(x, p, code, &q, &claims);
    if (r) {
        *reason = r;
        return OS_ERR_UNAUTHENTICATED;
    }
    char th[SECRET_HASH_HEX], csrf[SECRET_TOKEN_CHARS + 1];
    secret_token(out->token);
    secret_token(csrf);
    secret_hash_hex(out->token, strlen(out->token), th);
    *reason = "sso_failed";
    if ((e = store_tx_begin(x->c))) {
        json_decref(claims);
        return e;
    }
    const char *refused_email = NULL;
    e = account_for(x, p, claims, q.language, &out->user, reason, &refused_email);
    json_decref(claims);
    if (!e) e = st_session_create(x->c, th, out->user.id, csrf, x->now, x->now + x->app->cfg->session_max_s,
                                  x->address, user_agent, "sso");
    if (!e) e = audit(x, "signin", "user", audit_id(x, out->user.id), 0,
                      json_pairs(x->a, "method", "sso", "provider", p->name, NULL));
    e = store_tx_end(x->c, e);
    if (e == OS_ERR_FORBIDDEN) {
        /* The signature held, so the address is the provider's word: the refusal goes on the
         * trail where a refused password for it would (after the rollback, in its own write). */
        log_event(LOG_WARN, "sso_refused", "provider", p->name, "reason", *reason, NULL);
        if (refused_email)
            audit(x, "signin.failed", "email", refused_email, 0,
                  json_pairs(x->a, "reason", *reason, "provider", p->name, NULL));
    }
    if (e) return e;
    *reason = NULL;
    out->csrf = arena_strdup(x->a, csrf);
    return OS_OK;
}
