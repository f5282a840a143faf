/* json_write.c — see json_write.h. */
#include "json_write.h"
#include <inttypes.h>
#include <string.h>

void jw_init(jw *w, buf *out) {
    memset(w, 0, sizeof *w);
    w->out = out;
    w->first[0] = true;
}

static bool live(jw *w) {
    if (w->error || w->out->overflow) { w->error = true; return false; }
    return true;
}

/* Comma and nesting bookkeeping before any value. Inside an object a value must follow
 * a key; at the top level only one value may be written. */
static bool before_value(jw *w) {
    if (w->after_key) { w->after_key = false; return true; }
    if (w->is_obj[w->depth] || (w->depth == 0 && !w->first[0])) { w->error = true; return false; }
    if (!w->first[w->depth]) buf_putc(w->out, ',');
    w->first[w->depth] = false;
    return true;
}

static void open(jw *w, char c) {
    if (!live(w)) return;
    if (w->depth >= LIMIT_JSON_DEPTH) { w->error = true; return; }
    if (!before_value(w)) return;
    buf_putc(w->out, c);
    w->depth++;
    w->first[w->depth] = true;
    w->is_obj[w->depth] = c == '{';
}

static void close_(jw *w, char c) {
    if (!live(w)) return;
    if (w->depth == 0 || w->after_key || w->is_obj[w->depth] != (c == '}')) { w->error = true; return; }
    w->depth--;
    buf_putc(w->out, c);
}

void jw_obj(jw *w) { open(w, '{'); }
void jw_obj_end(jw *w) { close_(w, '}'); }
void jw_arr(jw *w) { open(w, '['); }
void jw_arr_end(jw *w) { close_(w, ']'); }

/* Length of the valid UTF-8 sequence starting at s[0] (a non-ASCII lead byte), 0 if none. */
static size_t utf8_seq(const unsigned char *s, size_t left) {
    unsigned char c = s[0];
    size_t len;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) { len = 2; cp = c & 0x1F; }
    else if (c >= 0xE0 && c <= 0xEF) { len = 3; cp = c & 0x0F; }
    else if (c >= 0xF0 && c <= 0xF4) { len = 4; cp = c & 0x07; }
    else return 0;
    if (left < len) return 0;
    for (size_t k = 1; k < len; k++) {
        if ((s[k] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (s[k] & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

size_t utf8_valid_prefix(const char *str, size_t n) {
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < n) {
        if (s[i] < 0x80) { i++; continue; }
        size_t len = utf8_seq(s + i, n - i);
        if (!len) return i;
        i += len;
    }
    return n;
}

/* One pass: checks the UTF-8 and escapes, copying runs that need neither in one go. The
 * subscribers page writes some 700 strings per answer; this is its hottest loop. */
static void put_string(jw *w, const char *str, size_t n) {
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)str;
    buf *o = w->out;
    buf_putc(o, '"');
    size_t run = 0;  /* start of the pending run of bytes that need no escaping */
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') { i++; continue; }
        if (c >= 0x80) {
            size_t len = utf8_seq(s + i, n - i);
            if (!len) { w->error = true; return; }
            i += len;
            continue;
        }
        buf_append(o, str + run, i - run);
        run = ++i;
        switch (c) {
        case '"': buf_append(o, "\\\"", 2); break;
        case '\\': buf_append(o, "\\\\", 2); break;
        case '\n': buf_append(o, "\\n", 2); break;
        case '\r': buf_append(o, "\\r", 2); break;
        case '\t': buf_append(o, "\\t", 2); break;
        default: {
            char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            buf_append(o, e, 6);
        }
        }
    }
    buf_append(o, str + run, n - run);
    buf_putc(o, '"');
}

void jw_key(jw *w, const char *key) {
    if (!live(w)) return;
    if (w->depth == 0 || w->after_key || !w->is_obj[w->depth]) { w->error = true; return; }
    if (!w->first[w->depth]) buf_putc(w->out, ',');
    w->first[w->depth] = false;
    put_string(w, key, strlen(key));
    buf_putc(w->out, ':');
    w->after_key = true;
}

void jw_strn(jw *w, const char *s, size_t n) {
    if (!live(w) || !before_value(w)) return;
    put_string(w, s, n);
}

void jw_str(jw *w, const char *s) {
    if (!s) { jw_null(w); return; }
    jw_strn(w, s, strlen(s));
}

void jw_int(jw *w, int64_t v) {
    if (!live(w) || !before_value(w)) return;
    char d[24], *p = d + sizeof d;   /* digits from the right; no printf on the hot path */
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do { *--p = (char)('0' + u % 10); u /= 10; } while (u);
    if (v < 0) *--p = '-';
    buf_append(w->out, p, (size_t)(d + sizeof d - p));
}

void jw_bool(jw *w, bool v) {
    if (!live(w) || !before_value(w)) return;
    buf_puts(w->out, v ? "true" : "false");
}

void jw_null(jw *w) {
    if (!live(w) || !before_value(w)) return;
    buf_puts(w->out, "null");
}

void jw_raw(jw *w, const char *json) {
    if (!live(w) || !before_value(w)) return;
    buf_puts(w->out, json);
}

void jw_kstr(jw *w, const char *k, const char *s) { jw_key(w, k); jw_str(w, s); }
void jw_kraw_opt(jw *w, const char *k, const char *json) {
    if (!json) return;
    jw_key(w, k);
    jw_raw(w, json);
}
void jw_kint(jw *w, const char *k, int64_t v) { jw_key(w, k); jw_int(w, v); }
void jw_kbool(jw *w, const char *k, bool v) { jw_key(w, k); jw_bool(w, v); }
void jw_knull(jw *w, const char *k) { jw_key(w, k); jw_null(w); }

bool jw_ok(const jw *w) { return !w->error && !w->out->overflow && w->depth == 0 && !w->after_key; }

jw *jw_params_begin(jw_params *p, arena *a) {
    buf_init(&p->b, a, LIMIT_PARAMS_BYTES);
    jw_init(&p->w, &p->b);
    jw_obj(&p->w);
    return &p->w;
}

const char *jw_params_end(jw_params *p) {
    jw_obj_end(&p->w);
    return jw_ok(&p->w) ? p->b.data : NULL;
}
