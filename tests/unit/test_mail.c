/* test_mail.c — templates, message composition, Maildir and SMTP delivery.
 *
 * SMTP is exercised against a tiny in-process server on 127.0.0.1 so the real libcurl
 * path (envelope, dot-stuffing, refusals, STARTTLS policy) is covered without network.
 */
#include "unit.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <dirent.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/json_write.h"
#include "core/secret.h"
#include "mail/maildir.h"
#include "mail/message.h"
#include "mail/smtp.h"
#include "mail/template.h"

#define FROM "openseat <no-reply@openseat.example>"
#define MSGID "<abc.def@openseat.example>"

/* ---- helpers ---------------------------------------------------------------------- */

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Strict QP decoder: fails the test on any malformed escape or over-long line. */
static char *qp_decode(const char *s, size_t n) {
    char *out = malloc(n + 1);
    size_t o = 0, col = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        assert_true(c < 0x80);
        if (c == '=') {
            assert_true(i + 2 < n);
            if (s[i + 1] == '\r' && s[i + 2] == '\n') { i += 2; col = 0; continue; }
            int h = hexval(s[i + 1]), l = hexval(s[i + 2]);
            assert_true(h >= 0 && l >= 0);
            out[o++] = (char)(h * 16 + l);
            i += 2;
            col += 3;
        } else if (c == '\r') {
            assert_true(i + 1 < n && s[i + 1] == '\n');
            assert_true(i == 0 || (s[i - 1] != ' ' && s[i - 1] != '\t'));   /* trailing white space */
            out[o++] = '\r';
            out[o++] = '\n';
            i++;
            col = 0;
            continue;
        } else {
            out[o++] = (char)c;
            col++;
        }
        assert_true(col <= 76);
    }
    out[o] = 0;
    return out;
}

static size_t b64_decode(const char *s, size_t n, char *out) {
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    unsigned v = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < n && s[i] != '='; i++) {
        const char *p = strchr(t, s[i]);
        assert_non_null(p);
        v = v << 6 | (unsigned)(p - t);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (char)((v >> bits) & 0xff);
        }
    }
    return o;
}

/* The decoded value of an (unfolded) header made of encoded words. */
static char *decode_words(const char *v) {
    char *out = calloc(1, strlen(v) + 1);
    size_t o = 0;
    const char *p = v;
    while ((p = strstr(p, "=?UTF-8?B?")) != NULL) {
        const char *s = p + 10, *e = strstr(s, "?=");
        assert_non_null(e);
        assert_true((size_t)(e + 2 - p) <= 75);
        size_t k = b64_decode(s, (size_t)(e - s), out + o);
        assert_int_equal(utf8_valid_prefix(out + o, k), k);   /* whole characters per word */
        o += k;
        p = e + 2;
    }
    out[o] = 0;
    return out;
}

/* Header value (unfolded) of name in the header block of msg, or NULL. */
static char *header(const char *msg, const char *name) {
    const char *end = strstr(msg, "\r\n\r\n");
    size_t nl = strlen(name);
    for (const char *p = msg; p && p < end; p = strstr(p, "\r\n") ? strstr(p, "\r\n") + 2 : NULL) {
        if (strncmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1;
            while (*v == ' ') v++;
            char *out = calloc(1, 1000);
            size_t o = 0;
            for (;;) {
                const char *e = strstr(v, "\r\n");
                memcpy(out + o, v, (size_t)(e - v));
                o += (size_t)(e - v);
                if (e[2] != ' ' && e[2] != '\t') break;
                v = e + 2;
            }
            return out;
        }
    }
    return NULL;
}

static void assert_crlf_and_short_lines(const char *s, size_t n) {
    size_t col = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n') {
            assert_true(i > 0 && s[i - 1] == '\r');
            col = 0;
        } else if (s[i] == '\r') {
            assert_true(i + 1 < n && s[i + 1] == '\n');
        } else {
            assert_true((unsigned char)s[i] < 0x80);
            col++;
            assert_true(col <= 78);
        }
    }
}

static const char *render_ok(const char *name, const char *lang, const char *json, mail_rendered *m) {
    os_err e = mail_render(&A, name, lang, json, m);
    assert_int_equal(e, OS_OK);
    assert_non_null(m->subject);
    assert_non_null(m->text);
    assert_non_null(m->html);
    return m->text;
}

/* ---- templates -------------------------------------------------------------------- */

static void test_render_en(void **state) {
    mail_rendered m;
    render_ok("verify_email", "en",
              "{\"name\":\"Ada <b>Lovelace</b> & Co\",\"link\":\"https://os.example/verify?token=abc&x=1\"}", &m);
    assert_string_equal(m.subject, "Confirm your e-mail address for openseat");
    assert_non_null(strstr(m.text, "Hello Ada <b>Lovelace</b> & Co,"));
    assert_non_null(strstr(m.text, "\nhttps://os.example/verify?token=abc&x=1\n"));
    assert_non_null(strstr(m.text, "48 hours"));
    assert_null(strstr(m.text, "{{"));
    assert_non_null(strstr(m.html, "Hello Ada &lt;b&gt;Lovelace&lt;/b&gt; &amp; Co,"));
    assert_null(strstr(m.html, "<b>"));
    assert_non_null(strstr(m.html, "<a href=\"https://os.example/verify?token=abc&amp;x=1\">"
                                   "https://os.example/verify?token=abc&amp;x=1</a>"));
    assert_non_null(strstr(m.html, "<html lang=\"en\">"));
    assert_non_null(strstr(m.html, "<p>Hello"));
    assert_non_null(strstr(m.html, "<br>\nThe openseat team</p>"));
}

static void test_render_fr(void **state) {
    mail_rendered m;
    render_ok("verify_email", "fr", "{\"name\":\"Zoé\",\"link\":\"https://os.example/verify?token=T\"}", &m);
    assert_string_equal(m.subject, "Vérifiez votre adresse e-mail pour openseat");
    assert_non_null(strstr(m.text, "Bonjour Zoé,"));
    assert_non_null(strstr(m.text, "48 heures"));
    assert_non_null(strstr(m.html, "<html lang=\"fr\">"));
    assert_non_null(strstr(m.html, "<a href=\"https://os.example/verify?token=T\">"));

    render_ok("reset_password", "fr", "{\"name\":\"Zoé\",\"link\":\"https://os.example/reset?token=R\"}", &m);
    assert_non_null(strstr(m.text, "1 heure"));
    assert_non_null(strstr(m.html, "<a href=\"https://os.example/reset?token=R\">"));
}

/* Dates in running text are written the reader's way: a long date with the month's name
 * (lower-case in French), never the ISO form the server stores. */
static void test_render_dates(void **state) {
    mail_rendered m;
    const char *json = "{\"name\":\"N\",\"license_number\":\"L1\",\"customer_name\":\"C\","
                       "\"end_date\":\"2029-12-05\",\"days\":\"30\",\"link\":\"https://x.example/l\"}";
    render_ok("agreement_expiring", "fr", json, &m);
    assert_non_null(strstr(m.subject, "le 5 décembre 2029"));
    assert_non_null(strstr(m.text, "le 5 décembre 2029"));
    assert_null(strstr(m.text, "2029-12-05"));
    render_ok("agreement_expiring", "en", json, &m);
    assert_non_null(strstr(m.subject, "December 5, 2029"));
    assert_non_null(strstr(m.text, "December 5, 2029"));
    assert_null(strstr(m.text, "2029-12-05"));

    const char *pa = "{\"partner_org\":\"P\",\"partner_name\":\"N\",\"partner_email\":\"n@x.example\","
                     "\"license_number\":\"L1\",\"customer_name\":\"C\",\"route\":\"r\","
                     "\"when\":\"2026-01-01 09:05 UTC\",\"partners_link\":\"https://x.example/p\","
                     "\"capabilities\":\"c\",\"last_day\":\"2027-01-01\",\"org_note\":\"\"}";
    render_ok("partner_added", "fr", pa, &m);
    assert_non_null(strstr(m.text, "1er janvier 2026 à 09:05 UTC"));
    assert_non_null(strstr(m.text, "1er janvier 2027 inclus"));
    render_ok("partner_added", "en", pa, &m);
    assert_non_null(strstr(m.text, "January 1, 2026, 09:05 UTC"));
    assert_non_null(strstr(m.text, "January 1, 2027 (included)"));

    /* A value that is not a date is written as it came rather than losing the e-mail. */
    const char *odd = "{\"name\":\"N\",\"license_number\":\"L1\",\"customer_name\":\"C\","
                      "\"end_date\":\"2029-13-40\",\"days\":\"30\",\"link\":\"https://x.example/l\"}";
    render_ok("agreement_expiring", "en", odd, &m);
    assert_non_null(strstr(m.text, "2029-13-40"));
}

static void test_render_all_templates(void **state) {
    static const char *const names[] = {"verify_email", "account_exists", "reset_password", "password_changed"};
    static const char *const langs[] = {"en", "fr"};
    const char *json = "{\"name\":\"N\",\"link\":\"https://x.example/l\",\"signin_link\":\"https://x.example/s\","
                       "\"reset_link\":\"https://x.example/r\"}";
    for (size_t i = 0; i < 4; i++) {
        for (size_t j = 0; j < 2; j++) {
            mail_rendered m;
            render_ok(names[i], langs[j], json, &m);
            assert_true(strlen(m.subject) > 5);
            assert_null(strstr(m.text, "{{"));
            assert_null(strstr(m.subject, "{{"));
            assert_non_null(strstr(m.text, "openseat"));
            assert_non_null(strstr(m.html, "<a href=\"https://x.example/"));
            assert_non_null(strstr(m.text, " N,\n"));
        }
    }
    /* Every key the account_exists template needs is really used. */
    mail_rendered m;
    render_ok("account_exists", "en", json, &m);
    assert_non_null(strstr(m.html, "href=\"https://x.example/s\""));
    assert_non_null(strstr(m.html, "href=\"https://x.example/r\""));
    render_ok("password_changed", "fr", json, &m);
    assert_non_null(strstr(m.html, "href=\"https://x.example/r\""));
}

static void test_render_user_value_not_linked(void **state) {
    mail_rendered m;
    render_ok("verify_email", "en", "{\"name\":\"https://evil.example\",\"link\":\"https://ok.example/v\"}", &m);
    assert_non_null(strstr(m.html, "Hello https://evil.example,"));
    assert_null(strstr(m.html, "href=\"https://evil.example"));
    assert_non_null(strstr(m.html, "href=\"https://ok.example/v\""));
}

static void test_render_errors(void **state) {
    mail_rendered m = {0};
    assert_int_equal(mail_render(&A, "no_such_template", "en", "{}", &m), OS_ERR_NOT_FOUND);
    assert_int_equal(mail_render(&A, "../en/verify_email", "en", "{}", &m), OS_ERR_NOT_FOUND);
    assert_int_equal(mail_render(&A, "", "en", "{}", &m), OS_ERR_NOT_FOUND);
    assert_int_equal(mail_render(&A, "verify_email", "en", "{\"name\":\"x\"}", &m), OS_ERR_INVALID);
    assert_int_equal(mail_render(&A, "verify_email", "en", NULL, &m), OS_ERR_INVALID);
    assert_int_equal(mail_render(&A, "verify_email", "en", "{\"name\":", &m), OS_ERR_INVALID);
    assert_int_equal(mail_render(&A, "verify_email", "en", "[\"x\"]", &m), OS_ERR_INVALID);
    assert_int_equal(mail_render(&A, "verify_email", "en", "{\"name\":\"x\",\"link\":5}", &m), OS_ERR_INVALID);
    assert_null(m.subject);
}

static void test_render_lang_fallback(void **state) {
    const char *json = "{\"name\":\"N\",\"link\":\"https://x.example/l\"}";
    mail_rendered m;
    render_ok("reset_password", "de", json, &m);
    assert_string_equal(m.subject, "Reset your openseat password");
    assert_non_null(strstr(m.html, "<html lang=\"en\">"));
    render_ok("reset_password", NULL, json, &m);
    assert_string_equal(m.subject, "Reset your openseat password");
    render_ok("reset_password", "../../x", json, &m);
    assert_string_equal(m.subject, "Reset your openseat password");
    render_ok("reset_password", "fr-CA", json, &m);
    assert_string_equal(m.subject, "Réinitialisez votre mot de passe openseat");
}

/* ---- composition ------------------------------------------------------------------ */

static void compose_ok(const char *to, const mail_rendered *m, int64_t date, buf *out) {
    buf_init(out, &A, 1024 * 1024);
    assert_int_equal(mail_compose(&A, FROM, to, MSGID, date, m, out), OS_OK);
    assert_crlf_and_short_lines(out->data, out->len);
}

static void test_compose_headers(void **state) {
    mail_rendered m;
    render_ok("verify_email", "fr", "{\"name\":\"Zoé\",\"link\":\"https://os.example/verify?token=T\"}", &m);
    struct tm tm = {.tm_year = 2026 - 1900, .tm_mon = 10, .tm_mday = 24, .tm_hour = 9};
    buf out;
    compose_ok("Zoé Dupont <zoe@example.org>", &m, (int64_t)timegm(&tm), &out);
    const char *msg = out.data;

    char *from = header(msg, "From");
    assert_string_equal(from, "openseat <no-reply@openseat.example>");
    char *to = header(msg, "To");
    assert_non_null(strstr(to, "=?UTF-8?B?"));
    assert_non_null(strstr(to, " <zoe@example.org>"));
    char *to_name = decode_words(to);
    assert_string_equal(to_name, "Zoé Dupont");
    char *date = header(msg, "Date");
    assert_string_equal(date, "Tue, 24 Nov 2026 09:00:00 +0000");
    char *id = header(msg, "Message-ID");
    assert_string_equal(id, MSGID);
    char *mime = header(msg, "MIME-Version");
    assert_string_equal(mime, "1.0");
    char *ct = header(msg, "Content-Type");
    assert_non_null(strstr(ct, "multipart/alternative;"));
    char *subj = header(msg, "Subject");
    assert_true(strncmp(subj, "=?UTF-8?B?", 10) == 0);
    char *dec = decode_words(subj);
    assert_string_equal(dec, "Vérifiez votre adresse e-mail pour openseat");

    const char *tp = strstr(msg, "Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable");
    const char *hp = strstr(msg, "Content-Type: text/html; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable");
    assert_non_null(tp);
    assert_non_null(hp);
    assert_true(tp < hp);
    const char *bq = strstr(ct, "boundary=\"");
    assert_non_null(bq);
    char boundary[128];
    snprintf(boundary, sizeof boundary, "\r\n--%.*s--\r\n", (int)(strchr(bq + 10, '"') - (bq + 10)), bq + 10);
    assert_non_null(strstr(msg, boundary));
    free(from); free(to); free(to_name); free(date); free(id); free(mime); free(ct); free(subj); free(dec);
}

static void test_compose_long_subject_folded(void **state) {
    mail_rendered m = {
        .subject = "Réinitialisation — votre mot de passe a été modifié à l’instant, vérifiez "
                   "votre compte très rapidement s’il vous plaît, ça urge énormément",
        .text = "x\n", .html = NULL};
    buf out;
    compose_ok("a@b.example", &m, 0, &out);
    char *subj = header(out.data, "Subject");
    char *dec = decode_words(subj);
    assert_string_equal(dec, m.subject);
    assert_non_null(strstr(out.data, "?=\r\n =?UTF-8?B?"));
    /* A word boundary that would fall inside a two-byte character moves before it. */
    buf acc;
    buf_init(&acc, &A, 4096);
    buf_putc(&acc, 'x');
    for (int i = 0; i < 60; i++) buf_puts(&acc, "é");
    mail_rendered m3 = {.subject = acc.data, .text = "x", .html = NULL};
    compose_ok("a@b.example", &m3, 0, &out);
    char *subj3 = header(out.data, "Subject");
    char *dec3 = decode_words(subj3);
    assert_string_equal(dec3, acc.data);
    free(subj3);
    free(dec3);
    /* ASCII that a reader would take for an encoded word must itself be encoded. */
    mail_rendered m4 = {.subject = "=?UTF-8?B?SGk=?=", .text = "x", .html = NULL};
    compose_ok("a@b.example", &m4, 0, &out);
    char *subj4 = header(out.data, "Subject");
    char *dec4 = decode_words(subj4);
    assert_string_equal(dec4, m4.subject);
    free(subj4);
    free(dec4);
    /* Plain ASCII subjects stay readable. */
    mail_rendered m2 = {.subject = "Hello", .text = "x", .html = NULL};
    compose_ok("a@b.example", &m2, 0, &out);
    assert_non_null(strstr(out.data, "\r\nSubject: Hello\r\n"));
    assert_non_null(strstr(out.data, "Content-Type: text/plain; charset=UTF-8\r\n"));
    free(subj);
    free(dec);
}

static void test_compose_qp_roundtrip(void **state) {
    buf text;
    buf_init(&text, &A, 64 * 1024);
    for (int i = 0; i < 12; i++) buf_puts(&text, "Élève à l’école, 2+2=4 déjà vu; ");
    buf_puts(&text, "fin   \nFrom here on\n\nligne\tavec tab\t\n=\n");
    mail_rendered m = {.subject = "s", .text = text.data, .html = "<p>été</p>\n"};
    buf out;
    compose_ok("a@b.example", &m, 0, &out);

    const char *body = strstr(strstr(out.data, "Content-Type: text/plain"), "\r\n\r\n") + 4;
    const char *end = strstr(body, "\r\n--=_");
    assert_non_null(end);
    char *dec = qp_decode(body, (size_t)(end - body));
    /* Expected: the text with LF as CRLF (the final CRLF belongs to the boundary). */
    buf want;
    buf_init(&want, &A, 128 * 1024);
    for (const char *p = text.data; *p; p++) {
        if (*p == '\n') buf_putc(&want, '\r');
        buf_putc(&want, *p);
    }
    want.len -= 2;
    want.data[want.len] = 0;
    assert_string_equal(dec, want.data);
    assert_non_null(strstr(body, "=3D4"));
    assert_non_null(strstr(body, "fin  =20\r\n"));
    assert_non_null(strstr(body, "\r\n=46rom here"));
    free(dec);

    const char *hbody = strstr(strstr(out.data, "Content-Type: text/html"), "\r\n\r\n") + 4;
    const char *hend = strstr(hbody, "\r\n--=_");
    char *hdec = qp_decode(hbody, (size_t)(hend - hbody));
    assert_string_equal(hdec, "<p>été</p>");
    free(hdec);
}

static void test_compose_rejects_injection(void **state) {
    mail_rendered m = {.subject = "s", .text = "t", .html = NULL};
    buf out;
    buf_init(&out, &A, 1024 * 1024);
    assert_int_equal(mail_compose(&A, FROM, "a@b.example\r\nBcc: x@evil.example", MSGID, 0, &m, &out), OS_ERR_INVALID);
    assert_int_equal(mail_compose(&A, FROM, "a@b.example\nBcc: x@evil.example", MSGID, 0, &m, &out), OS_ERR_INVALID);
    assert_int_equal(mail_compose(&A, FROM, "a@b.example\r", MSGID, 0, &m, &out), OS_ERR_INVALID);
    assert_int_equal(mail_compose(&A, "x@y.example\nBcc: z@evil.example", "a@b.example", MSGID, 0, &m, &out), OS_ERR_INVALID);
    assert_int_equal(mail_compose(&A, FROM, "a@b.example", "<a@b>\r\nX: y", 0, &m, &out), OS_ERR_INVALID);
    assert_int_equal(mail_compose(&A, FROM, "a@b.example", "no-brackets@x", 0, &m, &out), OS_ERR_INVALID);
    assert_int_equal(mail_compose(&A, FROM, "not an address", MSGID, 0, &m, &out), OS_ERR_INVALID);
    mail_rendered bad = {.subject = "s\r\nBcc: x@evil.example", .text = "t", .html = NULL};
    assert_int_equal(mail_compose(&A, FROM, "a@b.example", MSGID, 0, &bad, &out), OS_ERR_INVALID);
    assert_int_equal(mail_compose_reply(&A, FROM, "a@b.example", "c@d.example\r\nBcc: x@evil.example", MSGID, 0, &m,
                                        &out), OS_ERR_INVALID);
    assert_int_equal(mail_compose_reply(&A, FROM, "a@b.example", "c@d.example, x@evil.example", MSGID, 0, &m, &out),
                     OS_ERR_INVALID);
    assert_int_equal(mail_compose_reply(&A, FROM, "a@b.example", "c@d.example\x01", MSGID, 0, &m, &out),
                     OS_ERR_INVALID);
}

static void test_compose_reply_to(void **state) {
    mail_rendered m = {.subject = "s", .text = "t", .html = NULL};
    buf out;
    buf_init(&out, &A, 1024 * 1024);
    assert_int_equal(mail_compose_reply(&A, FROM, "a@b.example", "Dev Asker <asker@c.example>", MSGID, 0, &m, &out),
                     OS_OK);
    assert_non_null(strstr(out.data, "\r\nReply-To: Dev Asker <asker@c.example>\r\n"));
    buf_reset(&out);
    assert_int_equal(mail_compose_reply(&A, FROM, "a@b.example", NULL, MSGID, 0, &m, &out), OS_OK);
    assert_null(strstr(out.data, "Reply-To"));
}

static void test_compose_display_name_quoted(void **state) {
    mail_rendered m = {.subject = "s", .text = "t", .html = NULL};
    buf out;
    compose_ok("Doe, John <john@example.org>", &m, 0, &out);
    assert_non_null(strstr(out.data, "\r\nTo: \"Doe, John\" <john@example.org>\r\n"));
    compose_ok("john@example.org", &m, 0, &out);
    assert_non_null(strstr(out.data, "\r\nTo: john@example.org\r\n"));
}

static void test_addr_and_message_id(void **state) {
    assert_string_equal(mail_addr_spec(&A, "openseat <no-reply@openseat.example>"), "no-reply@openseat.example");
    assert_string_equal(mail_addr_spec(&A, "  a@b.example "), "a@b.example");
    assert_string_equal(mail_addr_spec(&A, "<a@b.example>"), "a@b.example");
    assert_null(mail_addr_spec(&A, "nobody"));
    assert_null(mail_addr_spec(&A, "Name <@b.example>"));
    assert_null(mail_addr_spec(&A, "a b@c.example"));
    assert_null(mail_addr_spec(&A, NULL));

    const char *id1 = mail_new_message_id(&A, "openseat <no-reply@OpenSeat.Example>");
    const char *id2 = mail_new_message_id(&A, "openseat <no-reply@OpenSeat.Example>");
    assert_int_equal(strlen(id1), 1 + 16 + 1 + 16 + 1 + strlen("openseat.example") + 1);
    assert_true(id1[0] == '<' && id1[17] == '.');
    assert_non_null(strstr(id1, "@openseat.example>"));
    assert_string_not_equal(id1, id2);
    assert_non_null(strstr(mail_new_message_id(&A, "junk"), "@localhost>"));
}

/* ---- Maildir ---------------------------------------------------------------------- */

static int count_files(const char *dir, char *name, size_t nlen) {
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        if (name) snprintf(name, nlen, "%s", e->d_name);
        n++;
    }
    closedir(d);
    return n;
}

static void test_maildir_deliver(void **state) {
    char root[] = "/tmp/test_mail.XXXXXX";
    assert_non_null(mkdtemp(root));
    char md[256], sub[300], name[256], path[600], err[256];
    snprintf(md, sizeof md, "%s/Maildir", root);
    const char *msg = "Subject: hi\r\n\r\nbody\r\n";
    assert_int_equal(maildir_deliver(md, msg, strlen(msg), err, sizeof err), OS_OK);

    struct stat st;
    assert_int_equal(stat(md, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    snprintf(sub, sizeof sub, "%s/tmp", md);
    assert_int_equal(count_files(sub, NULL, 0), 0);
    snprintf(sub, sizeof sub, "%s/cur", md);
    assert_int_equal(count_files(sub, NULL, 0), 0);
    snprintf(sub, sizeof sub, "%s/new", md);
    assert_int_equal(count_files(sub, name, sizeof name), 1);
    assert_null(strchr(name, ':'));
    assert_non_null(strchr(name, '_'));

    snprintf(path, sizeof path, "%s/%s", sub, name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char got[128] = {0};
    size_t n = fread(got, 1, sizeof got - 1, f);
    fclose(f);
    assert_int_equal(n, strlen(msg));
    assert_string_equal(got, msg);

    /* A second delivery gets its own name. */
    assert_int_equal(maildir_deliver(md, msg, strlen(msg), err, sizeof err), OS_OK);
    assert_int_equal(count_files(sub, NULL, 0), 2);

    /* Failure is reported with a reason. */
    char bad[300];
    snprintf(bad, sizeof bad, "%s/missing/deeper", root);
    assert_int_equal(maildir_deliver(bad, msg, strlen(msg), err, sizeof err), OS_ERR_IO);
    assert_true(strlen(err) > 0);

    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    assert_int_equal(system(cmd), 0);
}

/* ---- SMTP ------------------------------------------------------------------------- */

typedef struct fake_smtp {
    int lfd;
    int port;
    bool reject_rcpt;
    bool many;                /* accept connection after connection until shut down */
    bool close_after_data;    /* hang up after each message's 250, as a relay's timeout would */
    int connections, messages;
    char mail_from[256], rcpt[256];
    char data[8192];
    size_t data_len;
} fake_smtp;

static void fake_listen(fake_smtp *s) {
    s->lfd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(s->lfd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(s->lfd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(s->lfd, 1), 0);
    socklen_t sl = sizeof sa;
    assert_int_equal(getsockname(s->lfd, (struct sockaddr *)&sa, &sl), 0);
    s->port = ntohs(sa.sin_port);
}

static bool read_line(int fd, char *line, size_t n) {
    size_t o = 0;
    while (o + 1 < n) {
        char c;
        if (read(fd, &c, 1) != 1) return false;
        line[o++] = c;
        if (c == '\n') break;
    }
    line[o] = 0;
    return true;
}

static void say(int fd, const char *s) {
    ssize_t w = write(fd, s, strlen(s));
    (void)w;
}

static void *fake_serve(void *ud) {
    fake_smtp *s = ud;
    int fd;
next:
    fd = accept(s->lfd, NULL, NULL);
    if (fd < 0) return NULL;
    s->connections++;
    char line[1024];
    say(fd, "220 fake ESMTP\r\n");
    while (read_line(fd, line, sizeof line)) {
        if (strncmp(line, "EHLO", 4) == 0) say(fd, "250-fake\r\n250 SIZE 100000\r\n");
        else if (strncmp(line, "HELO", 4) == 0) say(fd, "250 fake\r\n");
        else if (strncmp(line, "MAIL FROM:", 10) == 0) {
            snprintf(s->mail_from, sizeof s->mail_from, "%.*s", (int)strcspn(line + 10, " \r\n"), line + 10);
            say(fd, "250 ok\r\n");
        } else if (strncmp(line, "RCPT TO:", 8) == 0) {
            snprintf(s->rcpt, sizeof s->rcpt, "%.*s", (int)strcspn(line + 8, " \r\n"), line + 8);
            say(fd, s->reject_rcpt ? "550 5.1.1 no such user here\r\n" : "250 ok\r\n");
        } else if (strncmp(line, "DATA", 4) == 0) {
            say(fd, "354 go ahead\r\n");
            while (read_line(fd, line, sizeof line) && strcmp(line, ".\r\n") != 0) {
                const char *p = line[0] == '.' ? line + 1 : line;   /* undo dot-stuffing */
                size_t l = strlen(p);
                if (s->data_len + l < sizeof s->data) {
                    memcpy(s->data + s->data_len, p, l);
                    s->data_len += l;
                }
            }
            say(fd, "250 2.0.0 queued\r\n");
            s->messages++;
            if (s->close_after_data) break;
        } else if (strncmp(line, "QUIT", 4) == 0) {
            say(fd, "221 bye\r\n");
            break;
        } else if (strncmp(line, "RSET", 4) == 0) say(fd, "250 ok\r\n");
        else say(fd, "502 not implemented\r\n");
    }
    close(fd);
    if (s->many) goto next;
    return NULL;
}

static os_err fake_send(fake_smtp *s, const char *tls, const char *msg, char *err, size_t errlen) {
    fake_listen(s);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, fake_serve, s), 0);
    char url[64];
    snprintf(url, sizeof url, "smtp://127.0.0.1:%d", s->port);
    smtp_conf c = {.url = url, .tls = tls, .timeout_s = 10};
    os_err e = smtp_send(&c, "no-reply@openseat.example", "ada@example.org", msg, strlen(msg), err, errlen);
    /* Unblocks accept() when curl never connected (e.g. argument refused). */
    shutdown(s->lfd, SHUT_RDWR);
    pthread_join(th, NULL);
    close(s->lfd);
    return e;
}

static void test_smtp_delivers(void **state) {
    fake_smtp s = {0};
    char err[512] = "x";
    const char *msg = "Subject: hi\r\n\r\n.leading dot\r\nbody\r\n";
    assert_int_equal(fake_send(&s, "try", msg, err, sizeof err), OS_OK);
    assert_string_equal(s.mail_from, "<no-reply@openseat.example>");
    assert_string_equal(s.rcpt, "<ada@example.org>");
    assert_int_equal(s.data_len, strlen(msg));
    assert_memory_equal(s.data, msg, strlen(msg));
}

/* Messages sent one after another through a session share one connection; the relay's
 * hanging up in between costs a new one, not a message. */
static void session_sends(fake_smtp *s, int n) {
    s->many = true;
    fake_listen(s);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, fake_serve, s), 0);
    char url[64], err[512] = "";
    snprintf(url, sizeof url, "smtp://127.0.0.1:%d", s->port);
    smtp_conf c = {.url = url, .tls = "none", .timeout_s = 10};
    smtp_session *ss = smtp_session_new();
    assert_non_null(ss);
    const char *msg = "Subject: x\r\n\r\ny\r\n";
    for (int i = 0; i < n; i++) {
        assert_int_equal(smtp_session_send(ss, &c, "a@b.example", "c@d.example", msg, strlen(msg), err, sizeof err),
                         OS_OK);
        if (s->close_after_data) usleep(20000);   /* the hang-up reaches the client first */
    }
    smtp_session_free(ss);
    shutdown(s->lfd, SHUT_RDWR);
    pthread_join(th, NULL);
    close(s->lfd);
}

static void test_smtp_session_reuses_connection(void **state) {
    fake_smtp s = {0};
    session_sends(&s, 5);
    assert_int_equal(s.messages, 5);
    assert_int_equal(s.connections, 1);
}

static void test_smtp_session_after_hang_up(void **state) {
    fake_smtp s = {.close_after_data = true};
    session_sends(&s, 3);
    assert_int_equal(s.messages, 3);
    assert_int_equal(s.connections, 3);
}

static void test_smtp_refused_recipient(void **state) {
    fake_smtp s = {.reject_rcpt = true};
    char err[512] = "";
    assert_int_equal(fake_send(&s, "none", "Subject: x\r\n\r\ny\r\n", err, sizeof err), OS_ERR_IO);
    print_message("reason: %s\n", err);
    assert_non_null(strstr(err, "550 5.1.1 no such user here"));
    assert_null(strpbrk(err, "\r\n"));
}

static void test_smtp_starttls_required(void **state) {
    fake_smtp s = {0};
    char err[512] = "";
    assert_int_equal(fake_send(&s, "required", "Subject: x\r\n\r\ny\r\n", err, sizeof err), OS_ERR_IO);
    print_message("reason: %s\n", err);
    assert_true(strlen(err) > 0);
    assert_int_equal(s.data_len, 0);
}

static void test_smtp_closed_port(void **state) {
    fake_smtp s = {0};
    fake_listen(&s);
    close(s.lfd);                         /* nothing listens there any more */
    char url[64], err[512] = "";
    snprintf(url, sizeof url, "smtp://127.0.0.1:%d", s.port);
    smtp_conf c = {.url = url, .tls = "try", .timeout_s = 5};
    const char *msg = "Subject: x\r\n\r\ny\r\n";
    assert_int_equal(smtp_send(&c, "a@b.example", "c@d.example", msg, strlen(msg), err, sizeof err), OS_ERR_IO);
    print_message("reason: %s\n", err);
    assert_true(strlen(err) > 0);
    assert_null(strpbrk(err, "\r\n"));

    smtp_conf bad = {.url = "http://127.0.0.1/", .tls = "try", .timeout_s = 5};
    assert_int_equal(smtp_send(&bad, "a@b.example", "c@d.example", msg, strlen(msg), err, sizeof err), OS_ERR_INVALID);
    smtp_conf badtls = {.url = url, .tls = "maybe", .timeout_s = 5};
    assert_int_equal(smtp_send(&badtls, "a@b.example", "c@d.example", msg, strlen(msg), err, sizeof err), OS_ERR_INVALID);
    assert_int_equal(smtp_send(&c, "a@b.example", "c@d.example\r\nRCPT TO:<x@y>", msg, strlen(msg), err, sizeof err),
                     OS_ERR_INVALID);
}

int main(void) {
    if (secret_init() != 0) return 1;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return 1;
    const struct CMUnitTest tests[] = {
        T(test_smtp_session_reuses_connection),
        T(test_smtp_session_after_hang_up),
        T(test_render_en),
        T(test_render_fr),
        T(test_render_dates),
        T(test_render_all_templates),
        T(test_render_user_value_not_linked),
        T(test_render_errors),
        T(test_render_lang_fallback),
        T(test_compose_headers),
        T(test_compose_long_subject_folded),
        T(test_compose_qp_roundtrip),
        T(test_compose_rejects_injection),
        T(test_compose_reply_to),
        T(test_compose_display_name_quoted),
        T(test_addr_and_message_id),
        T(test_maildir_deliver),
        T(test_smtp_delivers),
        T(test_smtp_refused_recipient),
        T(test_smtp_starttls_required),
        T(test_smtp_closed_port),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
