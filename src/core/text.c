/* text.c — see text.h. */
#include "text.h"
#include <string.h>
#include <time.h>
#include "json_write.h"
#include "limits.h"

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }

char *text_trim(arena *a, const char *s) {
    size_t n = strlen(s);
    size_t i = 0;
    while (i < n && is_space(s[i])) i++;
    while (n > i && is_space(s[n - 1])) n--;
    return arena_strndup(a, s + i, n - i);
}

char *email_normalize(arena *a, const char *s) {
    if (!s) return NULL;
    char *e = text_trim(a, s);
    size_t n = strlen(e);
    if (n < 3 || n > LIMIT_EMAIL_BYTES) return NULL;
    if (utf8_valid_prefix(e, n) != n) return NULL;
    const char *at = NULL;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)e[i];
        if (c <= 0x20 || c == 0x7f || c == '<' || c == '>' || c == '(' || c == ')' || c == ',' ||
            c == ';' || c == ':' || c == '\\' || c == '"' || c == '[' || c == ']')
            return NULL;
        if (c == '@') {
            if (at) return NULL;
            at = e + i;
        }
        if (c >= 'A' && c <= 'Z') e[i] = (char)(c + 32);
    }
    if (!at || at == e || (size_t)(at - e) > 64) return NULL;
    const char *dom = at + 1;
    size_t dl = strlen(dom);
    if (dl < 3 || !strchr(dom, '.') || dom[0] == '.' || dom[dl - 1] == '.' || strstr(dom, ".."))
        return NULL;
    if (e[0] == '.' || at[-1] == '.' || strstr(e, "..")) return NULL;
    return e;
}

bool text_day_parse(const char *s, int64_t *start) {
    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-') return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9')) return false;
    int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    int m = (s[5] - '0') * 10 + (s[6] - '0'), d = (s[8] - '0') * 10 + (s[9] - '0');
    if (m < 1 || m > 12 || d < 1 || d > 31) return false;
    /* Days from civil (the inverse of text_day's arithmetic). */
    int64_t yy = y - (m <= 2);
    int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
    int64_t yoe = yy - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    int64_t t = (era * 146097 + doe - 719468) * 86400;
    char back[11];
    text_day(t, back);
    if (strcmp(back, s)) return false;   /* 31 April and the like */
    *start = t;
    return true;
}

void text_day(int64_t t, char out[11]) {
    /* Days since 1970-01-01 to a proleptic Gregorian date, by 400-year eras; gmtime_r
     * takes a lock for the time zone on every call, and lists print one date per row. */
    int64_t z = (t >= 0 ? t : t - 86399) / 86400 + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int d = (int)(doy - (153 * mp + 2) / 5 + 1), m = (int)(mp < 10 ? mp + 3 : mp - 9);
    int64_t y = yoe + era * 400 + (m <= 2);
    if (y < 0 || y > 9999) y = m = d = 0;   /* outside what a 10-character date can say */
    int yy = (int)y;
    char v[11] = {(char)('0' + yy / 1000), (char)('0' + yy / 100 % 10), (char)('0' + yy / 10 % 10),
                  (char)('0' + yy % 10), '-', (char)('0' + m / 10), (char)('0' + m % 10), '-',
                  (char)('0' + d / 10), (char)('0' + d % 10), 0};
    memcpy(out, v, sizeof v);
}

void text_iso_time_into(int64_t t, char out[32]) {
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

const char *text_iso_time(arena *a, int64_t t) {
    char s[32];
    text_iso_time_into(t, s);
    return arena_strdup(a, s);
}

size_t utf8_chars(const char *s) {
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80) n++;
    return n;
}

const char *email_domain(const char *email) {
    const char *at = strchr(email, '@');
    return at ? at + 1 : "";
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

char *url_decode(arena *a, const char *s, size_t n, bool form) {
    char *out = arena_alloc(a, n + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            if (i + 2 >= n) return NULL;
            int h = hexval(s[i + 1]), l = hexval(s[i + 2]);
            if (h < 0 || l < 0) return NULL;
            char d = (char)(h * 16 + l);
            if (d == 0) return NULL;
            out[o++] = d;
            i += 2;
        } else if (c == '+' && form) {
            out[o++] = ' ';
        } else if (c == 0) {
            return NULL;
        } else {
            out[o++] = c;
        }
    }
    out[o] = 0;
    if (utf8_valid_prefix(out, o) != o) return NULL;
    return out;
}

char *url_encode(arena *a, const char *s) {
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(s);
    char *out = arena_alloc(a, n * 3 + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
            c == '_' || c == '.' || c == '~') {
            out[o++] = (char)c;
        } else {
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    out[o] = 0;
    return out;
}

bool qs_parse(arena *a, const char *query, size_t len, int max, qs *out) {
    out->items = NULL;
    out->count = 0;
    if (!query || len == 0) return true;
    int cap = 0;   /* non-empty segments: "a=1&&b=2" holds two parameters */
    for (size_t i = 0; i < len; i++)
        if (query[i] != '&' && (i == 0 || query[i - 1] == '&')) cap++;
    if (cap > max) return false;
    out->items = arena_alloc(a, sizeof(qs_param) * (size_t)(cap ? cap : 1));
    size_t i = 0;
    while (i <= len) {
        size_t j = i;
        while (j < len && query[j] != '&') j++;
        if (j > i) {
            size_t eq = i;
            while (eq < j && query[eq] != '=') eq++;
            char *name = url_decode(a, query + i, eq - i, true);
            char *value = eq < j ? url_decode(a, query + eq + 1, j - eq - 1, true) : arena_strdup(a, "");
            if (!name || !value) return false;
            out->items[out->count].name = name;
            out->items[out->count].value = value;
            out->count++;
        }
        i = j + 1;
    }
    return true;
}

const char *qs_get(const qs *q, const char *name) {
    for (int i = 0; i < q->count; i++)
        if (strcmp(q->items[i].name, name) == 0) return q->items[i].value;
    return NULL;
}
