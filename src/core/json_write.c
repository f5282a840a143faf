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

size_t utf8_valid_prefix(const char *str, size_t n) {
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        if (c < 0x80) { i++; continue; }
        size_t len;
        uint32_t cp;
        if (c >= 0xC2 && c <= 0xDF) { len = 2; cp = c & 0x1F; }
        else if (c >= 0xE0 && c <= 0xEF) { len = 3; cp = c & 0x0F; }
        else if (c >= 0xF0 && c <= 0xF4) { len = 4; cp = c & 0x07; }
        else return i;
        if (n - i < len) return i;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80) return i;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return i;
        i += len;
    }
    return n;
}

static void put_string(jw *w, const char *s, size_t n) {
    if (utf8_valid_prefix(s, n) != n) { w->error = true; return; }
    static const char hex[] = "0123456789abcdef";
    buf *o = w->out;
    buf_putc(o, '"');
    size_t run = 0;  /* start of the pending run of bytes that need no escaping */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        buf_append(o, s + run, i - run);
        run = i + 1;
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
    buf_append(o, s + run, n - run);
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
    buf_printf(w->out, "%" PRId64, v);
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
void jw_kint(jw *w, const char *k, int64_t v) { jw_key(w, k); jw_int(w, v); }
void jw_kbool(jw *w, const char *k, bool v) { jw_key(w, k); jw_bool(w, v); }
void jw_knull(jw *w, const char *k) { jw_key(w, k); jw_null(w); }

bool jw_ok(const jw *w) { return !w->error && !w->out->overflow && w->depth == 0 && !w->after_key; }
