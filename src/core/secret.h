/* secret.h — random tokens, hashing and constant-time comparison (libsodium).
 *
 * Tokens handed to users (session cookies, e-mail links) are 32 random bytes,
 * base64url without padding (43 chars). Only their SHA-256 is stored, so a database
 * leak does not yield usable tokens; lookups are by hash. secret_init() must run
 * once before any other call (it calls sodium_init).
 */
#ifndef OPENSEAT_SECRET_H
#define OPENSEAT_SECRET_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SECRET_TOKEN_BYTES 32
#define SECRET_TOKEN_CHARS 43         /* base64url, no padding */
#define SECRET_HASH_HEX    65         /* 64 hex + NUL */

int  secret_init(void);
void secret_random(void *out, size_t n);
/* out must hold SECRET_TOKEN_CHARS + 1 bytes */
void secret_token(char out[SECRET_TOKEN_CHARS + 1]);
/* SHA-256 of s as lowercase hex; out must hold SECRET_HASH_HEX bytes */
void secret_hash_hex(const char *s, size_t n, char out[SECRET_HASH_HEX]);
/* Constant-time equality of two strings (length leaks, content does not). */
bool secret_equal(const char *a, const char *b);
/* A random id for logs (16 hex chars); out holds 17 bytes. */
/* nbytes (at most SECRET_RANDOM_HEX_MAX) random bytes as lower-case hex: out holds
 * 2 * nbytes + 1. */
#define SECRET_RANDOM_HEX_MAX 32
void secret_random_hex(char *out, size_t nbytes);
void secret_request_id(char out[17]);

/* Keyed hash: HMAC-SHA256(key, msg) as lowercase hex (SECRET_HASH_HEX bytes). */
void secret_hmac_hex(const unsigned char key[32], const char *msg, size_t n, char out[SECRET_HASH_HEX]);
/* Raw HMAC-SHA256. */
void secret_hmac(const unsigned char key[32], const void *msg, size_t n, unsigned char out[32]);
/* Derives a 32-byte subkey for one purpose (id) from a master key. */
void secret_subkey(const unsigned char master[32], uint64_t id, const char ctx[8], unsigned char out[32]);
/* Authenticated encryption of a short text (XSalsa20-Poly1305, random nonce), as
 * base64url; out holds at least secret_seal_len(n) bytes. Open returns false when the
 * text was altered or the key is wrong; out holds at least n bytes. */
size_t secret_seal_len(size_t n);
void secret_seal(const unsigned char key[32], const char *text, char *out, size_t outlen);
bool secret_open(const unsigned char key[32], const char *sealed, char *out, size_t outlen);
/* base64url without padding; out holds secret_b64_len(n) bytes. decode returns the
 * length, or -1 on bad input or too small a buffer. */
size_t secret_b64_len(size_t n);
void secret_b64(const void *in, size_t n, char *out, size_t outlen);
long secret_unb64(const char *in, void *out, size_t outlen);
/* The same in standard base64 with padding (RFC 4648 section 4), as Standard Webhooks
 * writes secrets and signatures. */
size_t secret_b64std_len(size_t n);
void secret_b64std(const void *in, size_t n, char *out, size_t outlen);
long secret_unb64std(const char *in, void *out, size_t outlen);
/* Parses 64 hex characters into 32 bytes; false when malformed. */
bool secret_hex32(const char *hex, unsigned char out[32]);

/* Password hashing: argon2id via crypto_pwhash_str. Limits are set once at start-up. */
void secret_pw_limits(unsigned long long ops, size_t mem);
int  secret_pw_hash(const char *pw, char out[128]);          /* 0 ok */
/* A wrong password on a hash made at a lower cost than the current one costs at least one
 * check at the current cost, like an unknown account (secret_pw_dummy). */
bool secret_pw_verify(const char *hash, const char *pw);
/* Burns the same time as a verify, for unknown accounts (no user enumeration by timing). */
void secret_pw_dummy(const char *pw);
/* Whether the hash was made with other limits than the current ones (or is not one). */
bool secret_pw_needs_rehash(const char *hash);

#endif
