/* message.c — see message.h.
 *
 * Everything is written 7-bit: headers use encoded words, bodies quoted-printable.
 * That keeps the message valid through relays that do not offer 8BITMIME and lets a
 * Maildir copy be read by any client.
 */
#include "message.h"
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "core/json_write.h"
#include "core/secret.h"

#define LINE_MAX_CHARS 78       /* RFC 5322 recommended line length */
#define WORD_MAX_CHARS 75       /* RFC 2047 encoded-word length */
#define QP_LINE_CHARS 76        /* RFC 2045 */
#define WORD_OVERHEAD 12        /* "=?UTF-8?B?" + "?=" */

static const char HEX[] = "0123456789ABCDEF";

static bool has_ctl(const char *s) {
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f) return true;
    return false;
}

static bool has_crlf(const char *s) { return strpbrk(s, "\r\n") != NULL; }

static bool is_utf8(const char *s) {
    size_t n = strlen(s);
    return utf8_valid_prefix(s, n) == n;
}

static void base64(buf *b, const unsigned char *p, size_t n) {
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16;
        if (i + 1 < n) v |= (unsigned)p[i + 1] << 8;
        if (i + 2 < n) v |= p[i + 2];
        char q[4] = {t[(v >> 18) & 63], t[(v >> 12) & 63], i + 1 < n ? t[(v >> 6) & 63] : '=',
                     i + 2 < n ? t[v & 63] : '='};
        buf_append(b, q, 4);
    }
}

/* Write s as RFC 2047 B encoded words starting at column col, folding between words.
 * Each word holds whole UTF-8 characters (RFC 2047 §5) and fits both the 75-character
 * word limit and the 78-character line. Returns the column after the last word. */
static size_t put_encoded_words(buf *b, const char *s, size_t n, size_t col) {
    size_t i = 0;
    while (i < n) {
        size_t room = LINE_MAX_CHARS - col;
        if (room > WORD_MAX_CHARS) room = WORD_MAX_CHARS;
        size_t raw = room > WORD_OVERHEAD ? (room - WORD_OVERHEAD) / 4 * 3 : 0;
        if (raw < 4) {                       /* not even one character fits: fold first */
            buf_puts(b, "\r\n ");
            col = 1;
            continue;
        }
        size_t k = n - i < raw ? n - i : raw;
        if (i + k < n) {
            size_t back = k;
            while (back > 0 && ((unsigned char)s[i + back] & 0xC0) == 0x80) back--;
            if (back > 0) k = back;
        }
        buf_puts(b, "=?UTF-8?B?");
        base64(b, (const unsigned char *)s + i, k);
        buf_puts(b, "?=");
        col += WORD_OVERHEAD + (k + 2) / 3 * 4;
        i += k;
        if (i < n) {
            buf_puts(b, "\r\n ");
            col = 1;
        }
    }
    return col;
}

static bool needs_encoding(const char *s, size_t n, size_t col) {
    if (col + n > LINE_MAX_CHARS) return true;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c >= 0x7f) return true;
        /* Literal text that looks like an encoded word would be decoded by readers. */
        if (c == '=' && i + 1 < n && s[i + 1] == '?') return true;
    }
    return false;
}

static void put_unstructured(buf *b, const char *name, const char *v) {
    size_t col = strlen(name) + 2, n = strlen(v);
    buf_printf(b, "%s: ", name);
    if (needs_encoding(v, n, col)) put_encoded_words(b, v, n, col);
    else buf_append(b, v, n);
    buf_puts(b, "\r\n");
}

static const char *skip_ws(const char *s) {
    while (*s == ' ' || *s == '\t') s++;
    return s;
}

const char *mail_addr_spec(arena *a, const char *from) {
    if (!from) return NULL;
    const char *s = skip_ws(from), *e = s + strlen(s);
    const char *lt = strrchr(s, '<');
    if (lt) {
        const char *gt = strchr(lt, '>');
        if (!gt || *skip_ws(gt + 1)) return NULL;
        s = lt + 1;
        e = gt;
    } else {
        while (e > s && (e[-1] == ' ' || e[-1] == '\t')) e--;
    }
    const char *at = NULL;
    for (const char *p = s; p < e; p++) {
        unsigned char c = (unsigned char)*p;
        if (c <= 0x20 || c == 0x7f || c == '<' || c == '>') return NULL;
        if (c == '@') at = p;
    }
    if (!at || at == s || at + 1 == e) return NULL;
    return arena_strndup(a, s, (size_t)(e - s));
}

/* Characters that force a display name into a quoted-string (RFC 5322 specials). */
static bool phrase_needs_quotes(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (strchr("()<>[]:;@\\,.\"", s[i])) return true;
    return false;
}

/* From/To: rebuilt from display name and address so a name with a comma or non-ASCII
 * cannot be misread as two addresses or as raw 8-bit. */
static os_err put_address(arena *a, buf *b, const char *name, const char *v) {
    if (has_ctl(v) || !is_utf8(v)) return OS_ERR_INVALID;
    const char *addr = mail_addr_spec(a, v);
    if (!addr) return OS_ERR_INVALID;
    for (const char *p = addr; *p; p++)
        if ((unsigned char)*p >= 0x80) return OS_ERR_INVALID;

    const char *lt = strrchr(v, '<');
    const char *ds = skip_ws(v), *de = lt ? lt : ds;
    while (de > ds && (de[-1] == ' ' || de[-1] == '\t')) de--;
    /* A display name that is already a quoted-string: use its content. */
    char *disp = NULL;
    size_t dn = 0;
    if (de - ds >= 2 && *ds == '"' && de[-1] == '"') {
        disp = arena_alloc(a, (size_t)(de - ds));
        for (const char *p = ds + 1; p < de - 1; p++) {
            if (*p == '\\' && p + 1 < de - 1) p++;
            disp[dn++] = *p;
        }
    } else {
        disp = arena_strndup(a, ds, (size_t)(de - ds));
        dn = (size_t)(de - ds);
    }

    size_t col = strlen(name) + 2;
    buf_printf(b, "%s: ", name);
    if (dn > 0) {
        if (needs_encoding(disp, dn, col)) {
            col = put_encoded_words(b, disp, dn, col);
        } else if (phrase_needs_quotes(disp, dn)) {
            buf_putc(b, '"');
            for (size_t i = 0; i < dn; i++) {
                if (disp[i] == '"' || disp[i] == '\\') buf_putc(b, '\\');
                buf_putc(b, disp[i]);
            }
            buf_putc(b, '"');
            col += dn + 2;
        } else {
            buf_append(b, disp, dn);
            col += dn;
        }
        size_t al = strlen(addr) + 3;
        if (col + al > LINE_MAX_CHARS) buf_puts(b, "\r\n");
        buf_printf(b, " <%s>\r\n", addr);
    } else {
        buf_printf(b, "%s\r\n", addr);
    }
    return OS_OK;
}

static bool valid_message_id(const char *id) {
    size_t n = strlen(id);
    if (n < 5 || n > 250 || id[0] != '<' || id[n - 1] != '>') return false;
    const char *at = NULL;
    for (size_t i = 1; i + 1 < n; i++) {
        unsigned char c = (unsigned char)id[i];
        if (c <= 0x20 || c >= 0x7f || c == '<' || c == '>') return false;
        if (c == '@') at = id + i;
    }
    return at && at > id + 1 && at < id + n - 2;
}

/* Locale-independent, because setlocale() elsewhere must not change the header. */
static bool put_date(buf *b, int64_t unix_s) {
    static const char *const wd[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t t = (time_t)unix_s;
    struct tm tm;
    if (!gmtime_r(&t, &tm) || tm.tm_year + 1900 > 9999 || tm.tm_year + 1900 < 1900) return false;
    buf_printf(b, "Date: %s, %02d %s %04d %02d:%02d:%02d +0000\r\n", wd[tm.tm_wday], tm.tm_mday,
               mon[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return true;
}

/* Quoted-printable (RFC 2045 §6.7). Any of CRLF, LF or CR in the input is a hard line
 * break and comes out as CRLF. */
static void qp_encode(buf *b, const char *s, size_t n) {
    size_t i = 0;
    for (;;) {
        size_t e = i;
        while (e < n && s[e] != '\r' && s[e] != '\n') e++;
        size_t col = 0;
        /* "From " at the start of a line gets mangled by mbox tools; encoding the F keeps
         * the decoded text intact. */
        bool from_line = e - i >= 5 && memcmp(s + i, "From ", 5) == 0;
        for (size_t j = i; j < e; j++) {
            unsigned char c = (unsigned char)s[j];
            bool last = j + 1 == e;
            bool lit = (c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !last);
            if (j == i && from_line) lit = false;
            size_t t = lit ? 1 : 3;
            if (col + t > (last ? QP_LINE_CHARS : QP_LINE_CHARS - 1)) {
                buf_puts(b, "=\r\n");
                col = 0;
            }
            if (lit) {
                buf_putc(b, (char)c);
            } else {
                char q[3] = {'=', HEX[c >> 4], HEX[c & 15]};
                buf_append(b, q, 3);
            }
            col += t;
        }
        if (e >= n) break;
        buf_puts(b, "\r\n");
        i = e + (s[e] == '\r' && e + 1 < n && s[e + 1] == '\n' ? 2 : 1);
    }
}

static void put_part(buf *b, const char *boundary, const char *type, const char *body) {
    if (boundary) buf_printf(b, "--%s\r\n", boundary);
    buf_printf(b, "Content-Type: %s; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n",
               type);
    size_t n = strlen(body);
    qp_encode(b, body, n);
    if (b->len < 2 || memcmp(b->data + b->len - 2, "\r\n", 2) != 0) buf_puts(b, "\r\n");
}

os_err mail_compose(arena *a, const char *from, const char *to, const char *message_id,
                    int64_t date_unix, const mail_rendered *m, buf *out) {
    return mail_compose_reply(a, from, to, NULL, message_id, date_unix, m, out);
}

os_err mail_compose_reply(arena *a, const char *from, const char *to, const char *reply_to, const char *message_id,
                          int64_t date_unix, const mail_rendered *m, buf *out) {
    if (!from || !to || !message_id || !m || !m->subject || !m->text) return OS_ERR_INVALID;
    if (has_crlf(from) || has_crlf(to) || (reply_to && has_crlf(reply_to)) || has_crlf(message_id) ||
        has_crlf(m->subject))
        return OS_ERR_INVALID;
    if (!valid_message_id(message_id) || !is_utf8(m->subject) || !is_utf8(m->text) ||
        (m->html && !is_utf8(m->html)))
        return OS_ERR_INVALID;

    os_err e = put_address(a, out, "From", from);
    if (e == OS_OK) e = put_address(a, out, "To", to);
    /* The same checks as From and To: one address, no control characters, ASCII. */
    if (e == OS_OK && reply_to) e = put_address(a, out, "Reply-To", reply_to);
    if (e != OS_OK) return e;
    put_unstructured(out, "Subject", m->subject);
    if (!put_date(out, date_unix)) return OS_ERR_INVALID;
    buf_printf(out, "Message-ID: %s\r\nMIME-Version: 1.0\r\n", message_id);
    /* Transactional mail: ask auto-responders not to answer (RFC 3834). */
    buf_puts(out, "Auto-Submitted: auto-generated\r\n");

    if (!m->html) {
        put_part(out, NULL, "text/plain", m->text);
    } else {
        /* "=_" cannot occur in quoted-printable output, so the boundary cannot collide
         * with the encoded bodies. */
        unsigned char rnd[16];
        char boundary[3 + 2 * sizeof rnd + 1] = "=_b";
        secret_random(rnd, sizeof rnd);
        for (size_t i = 0; i < sizeof rnd; i++) {
            boundary[3 + 2 * i] = HEX[rnd[i] >> 4];
            boundary[3 + 2 * i + 1] = HEX[rnd[i] & 15];
        }
        boundary[sizeof boundary - 1] = 0;
        buf_printf(out, "Content-Type: multipart/alternative;\r\n boundary=\"%s\"\r\n\r\n", boundary);
        put_part(out, boundary, "text/plain", m->text);
        put_part(out, boundary, "text/html", m->html);
        buf_printf(out, "--%s--\r\n", boundary);
    }
    return out->overflow ? OS_ERR_TOO_LARGE : OS_OK;
}

static bool domain_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

const char *mail_new_message_id(arena *a, const char *from) {
    const char *addr = mail_addr_spec(a, from);
    const char *dom = addr ? strrchr(addr, '@') + 1 : NULL;
    char *d = dom ? arena_strdup(a, dom) : NULL;
    if (d) {
        for (char *p = d; *p; p++) {
            if (*p >= 'A' && *p <= 'Z') *p = (char)(*p - 'A' + 'a');
            if (!domain_char(*p)) { d = NULL; break; }
        }
    }
    if (!d || !*d || *d == '.') d = "localhost";
    unsigned char rnd[16];
    char hex[2 * sizeof rnd + 1];
    secret_random(rnd, sizeof rnd);
    for (size_t i = 0; i < sizeof rnd; i++) {
        hex[2 * i] = (char)(HEX[rnd[i] >> 4] | 0x20);
        hex[2 * i + 1] = (char)(HEX[rnd[i] & 15] | 0x20);
    }
    hex[sizeof hex - 1] = 0;
    return arena_printf(a, "<%.16s.%s@%s>", hex, hex + 16, d);
}
