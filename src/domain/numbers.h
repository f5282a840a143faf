/* numbers.h — license and authorization numbers: generation, normalisation, display.
 *
 * License number: 8 decimal digits, never starting with 0 (public identifier).
 * Authorization number: 14 characters from an alphabet with no look-alikes (no 0/O,
 * 1/I/L), shown as XXXXX-XXXX-XXXXX; typed with or without separators, in any case.
 * Pure functions; the caller retries generation on a uniqueness conflict.
 */
#ifndef OPENSEAT_NUMBERS_H
#define OPENSEAT_NUMBERS_H
#include <stdbool.h>

#define LICENSE_DIGITS 8
#define AUTHNO_CHARS 14
#define AUTHNO_ALPHABET "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

void license_number_new(char out[LICENSE_DIGITS + 1]);
/* Copies a trimmed license number into out when it is exactly 8 digits. */
bool license_number_normalize(const char *in, char out[LICENSE_DIGITS + 1]);

void authno_new(char out[AUTHNO_CHARS + 1]);
/* Strips spaces, '-' and '.', upper-cases, and checks length and alphabet. */
bool authno_normalize(const char *in, char out[AUTHNO_CHARS + 1]);
/* "ABCDE-FGHJ-KMNPQ" from a normalised number; out holds 17 bytes. */
void authno_format(const char *norm, char out[AUTHNO_CHARS + 3]);

#endif
