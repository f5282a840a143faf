/* handoff.c — see handoff.h. */
#include "handoff.h"
#include <jansson.h>
#include <string.h>
#include "core/buf.h"
#include "core/json_write.h"
#include "core/secret.h"
#include <sodium.h>

const char *handoff_issue(arena *a, const unsigned char key[32], const char *license_number, const char *email,
                          int64_t now) {
    char nonce[SECRET_TOKEN_CHARS + 1];
    secret_token(nonce);
    buf b;
    buf_init(&b, a, 4096);
    jw w;
    jw_init(&w, &b);
    jw_obj(&w);
    jw_kstr(&w, "lic", license_number);
    jw_kstr(&w, "email", email);
    jw_kint(&w, "exp", now + HANDOFF_TTL_S);
    jw_kstr(&w, "nonce", nonce);
    jw_obj_end(&w);
    size_t plen = secret_b64_len(b.len);
    char *payload = arena_alloc(a, plen);
    secret_b64(b.data, b.len, payload, plen);
    unsigned char mac[32];
    secret_hmac(key, payload, strlen(payload), mac);
    char macs[64];
    secret_b64(mac, sizeof mac, macs, sizeof macs);
    return arena_printf(a, "%s.%s", payload, macs);
}

os_err handoff_verify(arena *a, const unsigned char key[32], const char *token, int64_t now, handoff_claims *out) {
    memset(out, 0, sizeof *out);
    if (!token || strlen(token) > 2048) return OS_ERR_INVALID;
    const char *dot = strchr(token, '.');
    if (!dot || strchr(dot + 1, '.')) return OS_ERR_INVALID;
    size_t plen = (size_t)(dot - token);
    unsigned char mac[32], want[32];
    if (secret_unb64(dot + 1, mac, sizeof mac) != 32) return OS_ERR_INVALID;
    secret_hmac(key, token, plen, want);
    if (sodium_memcmp(mac, want, sizeof mac)) return OS_ERR_INVALID;   /* constant time */
    char *payload_b64 = arena_strndup(a, token, plen);
    char *json = arena_alloc(a, plen + 1);
    long n = secret_unb64(payload_b64, json, plen + 1);
    if (n <= 0) return OS_ERR_INVALID;
    /* Room for the three strings taken before the document exists: nothing is allocated
     * while it does, so a request running out of memory cannot leave it behind
     * (core/arena.h). Decoded strings are never longer than their JSON text. */
    char *room = arena_alloc(a, (size_t)n + 3);
    json_t *j = json_loadb(json, (size_t)n, 0, NULL);
    if (!j) return OS_ERR_INVALID;
    const char *lic = json_string_value(json_object_get(j, "lic"));
    const char *email = json_string_value(json_object_get(j, "email"));
    const char *nonce = json_string_value(json_object_get(j, "nonce"));
    json_t *exp = json_object_get(j, "exp");
    os_err e = OS_OK;
    if (!lic || !email || !nonce || !json_is_integer(exp)) e = OS_ERR_INVALID;
    else {
        out->license_number = room;
        room = stpcpy(room, lic) + 1;
        out->email = room;
        room = stpcpy(room, email) + 1;
        out->nonce = room;
        stpcpy(room, nonce);
        out->expires_at = json_integer_value(exp);
        if (out->expires_at <= now) e = OS_ERR_GONE;
    }
    json_decref(j);
    return e;
}

os_err handoff_consume(store_conn *c, arena *a, const unsigned char key[32], const char *token, int64_t now,
                       handoff_claims *out) {
    os_err e = handoff_verify(a, key, token, now, out);
    if (e) return e;
    e = st_handoff_nonce_use(c, out->nonce, now, out->expires_at);
    return e == OS_ERR_CONFLICT ? OS_ERR_GONE : e;
}
