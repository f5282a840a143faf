/* countries.h — the ISO 3166-1 alpha-2 country codes (every officially assigned one, in
 * alphabetical order), for the lists offered in files (the bulk-add template's drop-down)
 * and for checking a code against the standard rather than only its shape.
 *
 * Static data; thread-safe.
 */
#ifndef OPENSEAT_COUNTRIES_H
#define OPENSEAT_COUNTRIES_H
#include <stdbool.h>

#define COUNTRY_COUNT 249

extern const char *const country_codes[COUNTRY_COUNT];

/* True when code is one of country_codes (exact, capitals). */
bool country_code_known(const char *code);

#endif
