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
void secret_request_id(char out[17]);

/* Password hashing: argon2id via crypto_pwhash_str. Limits are set once at start-up. */
void secret_pw_limits(unsigned long long ops, size_t mem);
int  secret_pw_hash(const char *pw, char out[128]);          /* 0 ok */
bool secret_pw_verify(const char *hash, const char *pw);
/* Burns the same time as a verify, for unknown accounts (no user enumeration by timing). */
void secret_pw_dummy(const char *pw);
bool secret_pw_needs_rehash(const char *hash);

#endif
