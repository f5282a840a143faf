/* numbers.c — see numbers.h. */
#include "numbers.h"
#include <string.h>
#include <sodium.h>

void license_number_new(char out[LICENSE_DIGITS + 1]) {
    out[0] = (char)('1' + randombytes_uniform(9));
    for (int i = 1; i < LICENSE_DIGITS; i++) out[i] = (char)('0' + randombytes_uniform(10));
    out[LICENSE_DIGITS] = 0;
}

bool license_number_normalize(const char *in, char out[LICENSE_DIGITS + 1]) {
    while (*in == ' ' || *in == '\t') in++;
    size_t n = strlen(in);
    while (n && (in[n - 1] == ' ' || in[n - 1] == '\t')) n--;
    if (n != LICENSE_DIGITS) return false;
    for (size_t i = 0; i < n; i++)
        if (in[i] < '0' || in[i] > '9') return false;
    memcpy(out, in, n);
    out[n] = 0;
    return true;
}

void authno_new(char out[AUTHNO_CHARS + 1]) {
    static const char alpha[] = AUTHNO_ALPHABET;
    for (int i = 0; i < AUTHNO_CHARS; i++) out[i] = alpha[randombytes_uniform(sizeof alpha - 1)];
    out[AUTHNO_CHARS] = 0;
}

bool authno_normalize(const char *in, char out[AUTHNO_CHARS + 1]) {
    size_t k = 0;
    for (const char *p = in; *p; p++) {
        char c = *p;
        if (c == ' ' || c == '-' || c == '.' || c == '\t') continue;
        if (c >= 'a' && c <= 'z') c = (char)(c - 32);
        if (!strchr(AUTHNO_ALPHABET, c) || c == 0) return false;
        if (k == AUTHNO_CHARS) return false;
        out[k++] = c;
    }
    out[k] = 0;
    return k == AUTHNO_CHARS;
}

void authno_format(const char *norm, char out[AUTHNO_CHARS + 3]) {
    memcpy(out, norm, 5);
    out[5] = '-';
    memcpy(out + 6, norm + 5, 4);
    out[10] = '-';
    memcpy(out + 11, norm + 9, 5);
    out[16] = 0;
}
