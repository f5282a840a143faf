/* template.c — see template.h.
 *
 * Rendering happens once into plain text together with a parallel byte mask that
 * records which bytes may start or continue a link (template text and *_link values).
 * The HTML part is then produced from that text, so paragraphs, line breaks and links
 * follow exactly what the text part says.
 *
 * Dates reach the templates in the form the server stores ("2029-12-05", "2026-12-06
 * 11:21 UTC"); the date filters write them the way the reader's language writes a date in
 * running text ("5 décembre 2029", "December 5, 2029"), so no e-mail shows an ISO date.
 */
#include "template.h"
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "core/buf.h"
#include "core/embed.h"

#define KEY_MAX 64

typedef struct tpl_parts {
    const char *subject;
    size_t subject_len;
    const char *body;
    size_t body_len;
} tpl_parts;

static bool is_key_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* Template names become part of an embedded-file path: keep them to a plain word so a
 * caller cannot reach some other embedded file. */
static bool valid_name(const char *s) {
    size_t n = 0;
    for (; s[n]; n++)
        if (!((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= '0' && s[n] <= '9') || s[n] == '_')) return false;
    return n > 0 && n <= KEY_MAX;
}

/* Primary language subtag, lower-cased, or "" when lang is not a tag. */
static void primary_lang(const char *lang, char out[9]) {
    size_t n = 0;
    out[0] = 0;
    if (!lang) return;
    for (; lang[n] && lang[n] != '-' && lang[n] != '_'; n++) {
        char c = lang[n];
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if (c < 'a' || c > 'z' || n >= 8) { out[0] = 0; return; }
        out[n] = c;
    }
    out[n] = 0;
}

/* tag receives the language actually used. */
static const embed_file *find_template(const char *name, const char *lang, char tag[9]) {
    char path[128];
    primary_lang(lang, tag);
    if (tag[0]) {
        snprintf(path, sizeof path, "mail/%s/%s.txt", tag, name);
        const embed_file *f = embed_find(path);
        if (f) return f;
    }
    snprintf(path, sizeof path, "mail/en/%s.txt", name);
    memcpy(tag, "en", 3);
    return embed_find(path);
}

/* Split a template file into its subject and body; tolerant of CRLF files. */
static bool split_template(const char *d, size_t n, tpl_parts *p) {
    static const char hdr[] = "Subject: ";
    if (n < sizeof hdr - 1 || memcmp(d, hdr, sizeof hdr - 1) != 0) return false;
    const char *nl = memchr(d, '\n', n);
    if (!nl) return false;
    p->subject = d + sizeof hdr - 1;
    p->subject_len = (size_t)(nl - p->subject);
    if (p->subject_len && p->subject[p->subject_len - 1] == '\r') p->subject_len--;
    const char *rest = nl + 1, *end = d + n;
    if (rest < end && *rest == '\r') rest++;
    if (rest >= end || *rest != '\n') return false;
    p->body = rest + 1;
    p->body_len = (size_t)(end - p->body);
    return true;
}

static bool linkable_key(const char *key) {
    size_t n = strlen(key);
    return strcmp(key, "link") == 0 || (n > 5 && strcmp(key + n - 5, "_link") == 0);
}

static void put_mask(buf *mask, char v, size_t n) {
    while (n--) buf_putc(mask, v);
}

static const char *const MONTHS_EN[12] = {"January", "February", "March",     "April",   "May",      "June",
                                           "July",    "August",   "September", "October", "November", "December"};
/* French month names are common nouns: lower-case. */
static const char *const MONTHS_FR[12] = {"janvier", "février", "mars",      "avril",   "mai",      "juin",
                                          "juillet", "août",    "septembre", "octobre", "novembre", "décembre"};

static bool digits(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9') return false;
    return true;
}

static int number(const char *s, size_t n) {
    int v = 0;
    for (size_t i = 0; i < n; i++) v = v * 10 + (s[i] - '0');
    return v;
}

/* Writes value s (YYYY-MM-DD, optionally followed by " HH:MM" and a zone when `with_time`)
 * as the language's long date. Returns false, writing nothing, when s is not such a date:
 * the caller then inserts it unchanged, as a mail with a raw date beats no mail. */
static bool long_date(buf *out, const char *s, size_t n, bool fr, bool with_time) {
    if (n < 10 || !digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) || s[7] != '-' || !digits(s + 8, 2)) return false;
    int year = number(s, 4), month = number(s + 5, 2), day = number(s + 8, 2);
    static const int days_in[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (month < 1 || month > 12 || day < 1 || day > days_in[month - 1]) return false;
    const char *clock = NULL, *zone = "";
    size_t zone_len = 0;
    if (with_time) {
        /* "YYYY-MM-DD HH:MM" then, optionally, " ZONE" */
        if (n < 16 || (s[10] != ' ' && s[10] != 'T') || !digits(s + 11, 2) || s[13] != ':' || !digits(s + 14, 2))
            return false;
        clock = s + 11;
        if (n > 16) {
            if (s[16] != ' ') return false;
            zone = s + 16;
            zone_len = n - 16;
        }
    } else if (n != 10) {
        return false;
    }
    if (fr) {
        /* Le premier du mois s'écrit « 1er ». */
        if (day == 1) buf_printf(out, "1er %s %d", MONTHS_FR[month - 1], year);
        else buf_printf(out, "%d %s %d", day, MONTHS_FR[month - 1], year);
    } else {
        buf_printf(out, "%s %d, %d", MONTHS_EN[month - 1], day, year);
    }
    if (clock) {
        buf_puts(out, fr ? " à " : ", ");
        buf_append(out, clock, 5);
        buf_append(out, zone, zone_len);
    }
    return true;
}

typedef enum { FILTER_NONE, FILTER_DATE, FILTER_DATETIME } tpl_filter;

/* "|date" or "|datetime" at t[0..n): the filter and its length, or FILTER_NONE and 0. */
static tpl_filter filter_at(const char *t, size_t n, size_t *len) {
    *len = 0;
    if (n >= 9 && memcmp(t, "|datetime", 9) == 0) { *len = 9; return FILTER_DATETIME; }
    if (n >= 5 && memcmp(t, "|date", 5) == 0 && !(n > 5 && is_key_char(t[5]))) { *len = 5; return FILTER_DATE; }
    return FILTER_NONE;
}

/* Expand {{key}} and {{key|date}} / {{key|datetime}} in tpl[0..n) into out. In subject mode
 * the template's CRs are dropped and control characters in values become spaces. mask (may
 * be NULL) receives one byte per output byte: 1 where a link may appear. */
static os_err substitute(const char *tpl, size_t n, json_t *data, bool fr, bool subject, buf *out, buf *mask) {
    size_t i = 0;
    while (i < n) {
        if (tpl[i] == '{' && i + 1 < n && tpl[i + 1] == '{') {
            size_t k = i + 2;
            while (k < n && is_key_char(tpl[k])) k++;
            size_t klen = k - (i + 2), flen;
            tpl_filter filter = filter_at(tpl + k, n - k, &flen);
            size_t close = k + flen;
            if (klen > 0 && klen <= KEY_MAX && close + 1 < n && tpl[close] == '}' && tpl[close + 1] == '}') {
                char key[KEY_MAX + 1];
                memcpy(key, tpl + i + 2, klen);
                key[klen] = 0;
                json_t *v = data ? json_object_get(data, key) : NULL;
                if (!v) return OS_ERR_INVALID;
                const char *s = json_string_value(v);
                size_t sl = json_string_length(v);
                if (filter != FILTER_NONE) {
                    size_t before = out->len;
                    if (long_date(out, s, sl, fr, filter == FILTER_DATETIME)) {
                        /* Built from digits and month names only: never a link, never a control. */
                        if (mask) put_mask(mask, 0, out->len - before);
                        i = close + 2;
                        continue;
                    }
                }
                if (subject) {
                    for (size_t j = 0; j < sl; j++) {
                        unsigned char c = (unsigned char)s[j];
                        buf_putc(out, c < 0x20 || c == 0x7f ? ' ' : (char)c);
                    }
                } else {
                    buf_append(out, s, sl);
                }
                if (mask) put_mask(mask, linkable_key(key) ? 1 : 0, sl);
                i = close + 2;
                continue;
            }
        }
        if (!(subject && tpl[i] == '\r')) {
            buf_putc(out, tpl[i]);
            if (mask) put_mask(mask, 1, 1);
        }
        i++;
    }
    return OS_OK;
}

static void html_escape(buf *b, const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) {
        switch (s[i]) {
        case '&': buf_puts(b, "&amp;"); break;
        case '<': buf_puts(b, "&lt;"); break;
        case '>': buf_puts(b, "&gt;"); break;
        case '"': buf_puts(b, "&quot;"); break;
        case '\'': buf_puts(b, "&#39;"); break;
        default: buf_putc(b, s[i]);
        }
    }
}

static bool is_alnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* Length of the http(s) URL starting at t[i], or 0. A URL stops at white space,
 * quotes, angle brackets, non-ASCII (so French « » guillemets stay outside) or where
 * the mask says the bytes came from a value that may not be linked. Trailing
 * sentence punctuation is not part of it. */
static size_t url_at(const char *t, const char *mask, size_t i, size_t n) {
    size_t scheme;
    if (!mask[i] || (i > 0 && is_alnum(t[i - 1]))) return 0;
    if (n - i >= 8 && strncmp(t + i, "https://", 8) == 0) scheme = 8;
    else if (n - i >= 7 && strncmp(t + i, "http://", 7) == 0) scheme = 7;
    else return 0;
    size_t e = i;
    while (e < n && mask[e]) {
        unsigned char c = (unsigned char)t[e];
        if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\'' || c == '<' || c == '>' || c == '`') break;
        e++;
    }
    while (e > i + scheme && strchr(".,;:!?)]", t[e - 1])) e--;
    return e > i + scheme ? e - i : 0;
}

static void html_line(buf *b, const char *t, const char *mask, size_t from, size_t to) {
    size_t i = from, lit = from;
    while (i < to) {
        size_t ul = url_at(t, mask, i, to);
        if (ul) {
            html_escape(b, t + lit, i - lit);
            buf_puts(b, "<a href=\"");
            html_escape(b, t + i, ul);
            buf_puts(b, "\">");
            html_escape(b, t + i, ul);
            buf_puts(b, "</a>");
            i += ul;
            lit = i;
        } else {
            i++;
        }
    }
    html_escape(b, t + lit, to - lit);
}

static bool blank_line(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r') return false;
    return true;
}

static void html_document(buf *b, const char *lang, const char *subject, const char *t,
                          const char *mask, size_t n) {
    buf_printf(b, "<!DOCTYPE html>\n<html lang=\"%s\">\n<head>\n<meta charset=\"UTF-8\">\n"
                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>", lang);
    html_escape(b, subject, strlen(subject));
    buf_puts(b, "</title>\n</head>\n"
                "<body style=\"font-family: sans-serif; font-size: 16px; line-height: 1.5; color: #222;\">\n");
    bool in_para = false;
    size_t i = 0;
    while (i < n) {
        const char *nl = memchr(t + i, '\n', n - i);
        size_t e = nl ? (size_t)(nl - t) : n;
        size_t le = e;
        if (le > i && t[le - 1] == '\r') le--;
        if (blank_line(t + i, le - i)) {
            if (in_para) buf_puts(b, "</p>\n");
            in_para = false;
        } else {
            buf_puts(b, in_para ? "<br>\n" : "<p>");
            in_para = true;
            html_line(b, t, mask, i, le);
        }
        i = e + 1;
    }
    if (in_para) buf_puts(b, "</p>\n");
    buf_puts(b, "</body>\n</html>\n");
}

os_err mail_render(arena *a, const char *name, const char *lang, const char *data_json,
                   mail_rendered *out) {
    if (!name || !valid_name(name)) return OS_ERR_NOT_FOUND;
    char lang_used[9];
    const embed_file *f = find_template(name, lang, lang_used);
    if (!f) return OS_ERR_NOT_FOUND;
    tpl_parts p;
    if (!split_template((const char *)f->data, f->len, &p)) return OS_ERR_INTERNAL;

    json_t *data = NULL;
    if (data_json) {
        json_error_t jerr;
        data = json_loads(data_json, JSON_REJECT_DUPLICATES, &jerr);
        if (!data || !json_is_object(data)) { json_decref(data); return OS_ERR_INVALID; }
        const char *k;
        json_t *v;
        json_object_foreach(data, k, v) {
            if (!json_is_string(v)) { json_decref(data); return OS_ERR_INVALID; }
        }
    }

    buf subj, text, mask, html;
    buf_init(&subj, a, MAIL_RENDER_MAX);
    buf_init(&text, a, MAIL_RENDER_MAX);
    buf_init(&mask, a, MAIL_RENDER_MAX);
    buf_init(&html, a, MAIL_RENDER_MAX);
    bool fr = strcmp(lang_used, "fr") == 0;
    os_err e = substitute(p.subject, p.subject_len, data, fr, true, &subj, NULL);
    if (e == OS_OK) e = substitute(p.body, p.body_len, data, fr, false, &text, &mask);
    json_decref(data);
    if (e != OS_OK) return e;
    /* Empty outputs never allocated; give callers a string either way. */
    buf_puts(&subj, "");
    buf_puts(&text, "");
    buf_puts(&mask, "");
    if (subj.overflow || text.overflow || mask.overflow) return OS_ERR_TOO_LARGE;

    html_document(&html, lang_used, subj.data, text.data, mask.data, text.len);
    if (html.overflow) return OS_ERR_TOO_LARGE;
    out->subject = subj.data;
    out->text = text.data;
    out->html = html.data;
    return OS_OK;
}
