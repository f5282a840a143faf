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

void secret_random_hex(char *out, size_t nbytes) {
    unsigned char raw[SECRET_RANDOM_HEX_MAX];
    if (nbytes > sizeof raw) nbytes = sizeof raw;
    randombytes_buf(raw, nbytes);
    sodium_bin2hex(out, 2 * nbytes + 1, raw, nbytes);
}

void secret_request_id(char out[17]) { secret_random_hex(out, 8); }

void secret_hmac(const unsigned char key[32], const void *msg, size_t n, unsigned char out[32]) {
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, key, 32);
    crypto_auth_hmacsha256_update(&st, msg, n);
    crypto_auth_hmacsha256_final(&st, out);
}

void secret_hmac_hex(const unsigned char key[32], const char *msg, size_t n, char out[SECRET_HASH_HEX]) {
    unsigned char mac[32];
    secret_hmac(key, msg, n, mac);
    sodium_bin2hex(out, SECRET_HASH_HEX, mac, sizeof mac);
}

void secret_subkey(const unsigned char master[32], uint64_t id, const char ctx[8], unsigned char out[32]) {
    crypto_kdf_derive_from_key(out, 32, id, ctx, master);
}

size_t secret_b64_len(size_t n) {
    return sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

void secret_b64(const void *in, size_t n, char *out, size_t outlen) {
    sodium_bin2base64(out, outlen, in, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

long secret_unb64(const char *in, void *out, size_t outlen) {
    size_t len = 0;
    if (sodium_base642bin(out, outlen, in, strlen(in), NULL, &len, NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING))
        return -1;
    return (long)len;
}

size_t secret_b64std_len(size_t n) {
    return sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
}

void secret_b64std(const void *in, size_t n, char *out, size_t outlen) {
    sodium_bin2base64(out, outlen, in, n, sodium_base64_VARIANT_ORIGINAL);
}

long secret_unb64std(const char *in, void *out, size_t outlen) {
    size_t len = 0;
    if (sodium_base642bin(out, outlen, in, strlen(in), NULL, &len, NULL, sodium_base64_VARIANT_ORIGINAL)) return -1;
    return (long)len;
}

size_t secret_seal_len(size_t n) {
    return secret_b64_len(crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + n);
}

void secret_seal(const unsigned char key[32], const char *text, char *out, size_t outlen) {
    size_t n = strlen(text);
    unsigned char box[crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + 256];
    if (n > 256) { if (outlen) out[0] = 0; return; }
    randombytes_buf(box, crypto_secretbox_NONCEBYTES);
    crypto_secretbox_easy(box + crypto_secretbox_NONCEBYTES, (const unsigned char *)text, n, box, key);
    secret_b64(box, crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + n, out, outlen);
}

bool secret_open(const unsigned char key[32], const char *sealed, char *out, size_t outlen) {
    unsigned char box[crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + 256];
    long len = secret_unb64(sealed, box, sizeof box);
    if (len < (long)(crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES)) return false;
    size_t n = (size_t)len - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES;
    if (n + 1 > outlen) return false;
    if (crypto_secretbox_open_easy((unsigned char *)out, box + crypto_secretbox_NONCEBYTES,
                                   (size_t)len - crypto_secretbox_NONCEBYTES, box, key))
        return false;
    out[n] = 0;
    return true;
}

bool secret_hex32(const char *hex, unsigned char out[32]) {
    size_t len = 0;
    if (strlen(hex) != 64) return false;
    return sodium_hex2bin(out, 32, hex, 64, NULL, &len, NULL) == 0 && len == 32;
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
    bool ok = crypto_pwhash_str_verify(hash, pw, strlen(pw)) == 0;
    /* A hash made at another cost than the current one takes another time to check: one
     * made at a lower cost answers a wrong password far sooner than an unknown address
     * (checked against the dummy, at the current cost) — an oracle for which addresses have
     * accounts. So a failed check of such a hash also spends one check at the current cost:
     * the answer then costs at least what an unknown address costs. (A right password
     * replaces the hash at the current cost, see account_signin; a hash made at a higher
     * cost than the current one stays slower until then, which no work can hide.) */
    if (!ok && secret_pw_needs_rehash(hash)) secret_pw_dummy(pw);
    return ok;
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
