/* secret.c — see secret.h. */
#include "secret.h"
#include <sodium.h>
#include <string.h>

static unsigned long long pw_ops;
static size_t pw_mem;
static char dummy_hash[crypto_pwhash_STRBYTES];

int secret_init(void) {
    if (sodium_init() < 0) return -1;
    pw_ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
    pw_mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;
    return 0;
}

void secret_random(void *out, size_t n) { randombytes_buf(out, n); }

void secret_token(char out[SECRET_TOKEN_CHARS + 1]) {
    unsigned char raw[SECRET_TOKEN_BYTES];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2base64(out, SECRET_TOKEN_CHARS + 1, raw, sizeof raw,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
}

void secret_hash_hex(const char *s, size_t n, char out[SECRET_HASH_HEX]) {
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)s, n);
    sodium_bin2hex(out, SECRET_HASH_HEX, h, sizeof h);
}

bool secret_equal(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    if (la != lb || la == 0) return false;
    return sodium_memcmp(a, b, la) == 0;
}

void secret_request_id(char out[17]) {
    unsigned char raw[8];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(out, 17, raw, sizeof raw);
}

void secret_pw_limits(unsigned long long ops, size_t mem) {
    pw_ops = ops;
    pw_mem = mem;
    dummy_hash[0] = 0;
}

int secret_pw_hash(const char *pw, char out[128]) {
    _Static_assert(crypto_pwhash_STRBYTES <= 128, "hash buffer");
    return crypto_pwhash_str_alg(out, pw, strlen(pw), pw_ops, pw_mem, crypto_pwhash_ALG_ARGON2ID13);
}

bool secret_pw_verify(const char *hash, const char *pw) {
    return crypto_pwhash_str_verify(hash, pw, strlen(pw)) == 0;
}

void secret_pw_dummy(const char *pw) {
    /* Computed lazily with the configured limits; a benign race only wastes work. */
    if (!dummy_hash[0]) {
        char tmp[crypto_pwhash_STRBYTES];
        if (crypto_pwhash_str_alg(tmp, "openseat-dummy", 14, pw_ops, pw_mem,
                                  crypto_pwhash_ALG_ARGON2ID13) != 0) return;
        memcpy(dummy_hash, tmp, sizeof tmp);
    }
    if (crypto_pwhash_str_verify(dummy_hash, pw, strlen(pw)) == 0) return;  /* result unused: timing only */
}

bool secret_pw_needs_rehash(const char *hash) {
    return crypto_pwhash_str_needs_rehash(hash, pw_ops, pw_mem) != 0;
}
