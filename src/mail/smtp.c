/* smtp.c — see smtp.h.
 *
 * A session is one libcurl easy handle kept across messages: libcurl keeps the relay
 * connection open in it after each message, and the next one to the same URL goes out on
 * it (MAIL FROM straight away), so a queue of mail costs one connection, not one each.
 *
 * curl's own error text ("Failed sending RCPT", "Login denied") rarely says why the
 * relay refused, so the server's last 4xx/5xx reply line is captured through the debug
 * callback and added to the reason: an operator reading the outbox sees "550 5.1.1
 * user unknown", not just "RCPT failed".
 */
#include "smtp.h"
#include <curl/curl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct upload {
    const char *p;
    size_t left;
} upload;

typedef struct last_reply {
    char failure[256];   /* last 4xx/5xx line; the very last reply is QUIT's 221 */
} last_reply;

static size_t read_cb(char *ptr, size_t size, size_t nmemb, void *ud) {
    upload *u = ud;
    size_t room = size * nmemb, n = u->left < room ? u->left : room;
    memcpy(ptr, u->p, n);
    u->p += n;
    u->left -= n;
    return n;
}

static int debug_cb(CURL *h, curl_infotype type, char *data, size_t size, void *ud) {
    if (type != CURLINFO_HEADER_IN) return 0;
    last_reply *r = ud;
    while (size > 0 && (data[size - 1] == '\r' || data[size - 1] == '\n')) size--;
    if (size == 0) return 0;
    /* A multi-line reply can arrive in one piece: keep its final line. */
    const char *s = data;
    for (size_t i = 0; i < size; i++)
        if (data[i] == '\n') s = data + i + 1;
    size_t n = size - (size_t)(s - data);
    if (n == 0 || (s[0] != '4' && s[0] != '5')) return 0;
    if (n >= sizeof r->failure) n = sizeof r->failure - 1;
    memcpy(r->failure, s, n);
    r->failure[n] = 0;
    return 0;
}

/* One printable line, whatever the server or curl put in it. */
static void set_reason(char *err, size_t errlen, const char *what, const char *reply) {
    if (!err || errlen == 0) return;
    if (reply && *reply) snprintf(err, errlen, "%s; server said: %s", what, reply);
    else snprintf(err, errlen, "%s", what);
    for (char *p = err; *p; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f) *p = ' ';
}

static bool bad_addr(const char *s) {
    return !s || !*s || strpbrk(s, "\r\n<>") != NULL;
}

struct smtp_session {
    CURL *h;
};

smtp_session *smtp_session_new(void) {
    smtp_session *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    if (!(s->h = curl_easy_init())) {
        free(s);
        return NULL;
    }
    return s;
}

void smtp_session_free(smtp_session *s) {
    if (!s) return;
    curl_easy_cleanup(s->h);   /* QUIT on a connection still open */
    free(s);
}

/* The failures a connection kept from an earlier message can meet when the relay closed it
 * meanwhile: the message is sent again once, on a new connection. */
static bool stale_connection(CURLcode rc) {
    return rc == CURLE_SEND_ERROR || rc == CURLE_RECV_ERROR || rc == CURLE_GOT_NOTHING ||
           rc == CURLE_WEIRD_SERVER_REPLY;
}

os_err smtp_session_send(smtp_session *s, const smtp_conf *c, const char *from_addr, const char *to_addr,
                         const char *msg, size_t len, char *err, size_t errlen) {
    if (err && errlen) err[0] = 0;
    if (!c || !c->url || (strncmp(c->url, "smtp://", 7) != 0 && strncmp(c->url, "smtps://", 8) != 0)) {
        set_reason(err, errlen, "smtp url must start with smtp:// or smtps://", NULL);
        return OS_ERR_INVALID;
    }
    const char *tls = c->tls ? c->tls : "try";
    curl_usessl use_ssl;
    if (strcmp(tls, "try") == 0) use_ssl = CURLUSESSL_TRY;
    else if (strcmp(tls, "required") == 0) use_ssl = CURLUSESSL_ALL;
    else if (strcmp(tls, "none") == 0) use_ssl = CURLUSESSL_NONE;
    else {
        set_reason(err, errlen, "smtp tls must be try, required or none", NULL);
        return OS_ERR_INVALID;
    }
    if (strncmp(c->url, "smtps://", 8) == 0) use_ssl = CURLUSESSL_ALL;
    if (bad_addr(from_addr) || bad_addr(to_addr) || !msg) {
        set_reason(err, errlen, "invalid sender or recipient address", NULL);
        return OS_ERR_INVALID;
    }

    char from[512], rcpt[512];
    snprintf(from, sizeof from, "<%s>", from_addr);
    snprintf(rcpt, sizeof rcpt, "<%s>", to_addr);
    struct curl_slist *rcpts = curl_slist_append(NULL, rcpt);
    if (!rcpts) {
        set_reason(err, errlen, "out of memory", NULL);
        return OS_ERR_NOMEM;
    }
    char ebuf[CURL_ERROR_SIZE] = "";
    last_reply reply = {""};
    long timeout = c->timeout_s > 0 ? c->timeout_s : 60;
    CURLcode rc = CURLE_OK;
    for (int attempt = 0; attempt < 2; attempt++) {
        upload up = {msg, len};
        reply.failure[0] = 0;
        ebuf[0] = 0;
        CURL *h = s->h;
        /* Options back to their defaults; the open connection stays in the handle, so the
         * next message to the same relay goes out on it: no new TCP, TLS or EHLO. */
        curl_easy_reset(h);
        curl_easy_setopt(h, CURLOPT_URL, c->url);
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
        curl_easy_setopt(h, CURLOPT_USE_SSL, (long)use_ssl);
        curl_easy_setopt(h, CURLOPT_MAIL_FROM, from);
        curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpts);
        curl_easy_setopt(h, CURLOPT_READFUNCTION, read_cb);
        curl_easy_setopt(h, CURLOPT_READDATA, &up);
        curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
        curl_easy_setopt(h, CURLOPT_TIMEOUT, timeout);
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, timeout);
        /* A connection idle this long is not reused: relays end idle sessions after a few
         * minutes (RFC 5321 suggests 5), and one already closed would cost a failed try. */
        curl_easy_setopt(h, CURLOPT_MAXAGE_CONN, 60L);
        if (attempt) curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
        /* Signals for DNS timeouts are unsafe on a worker thread. */
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf);
        curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, debug_cb);
        curl_easy_setopt(h, CURLOPT_DEBUGDATA, &reply);
        curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);   /* feeds debug_cb; nothing is printed */
        rc = curl_easy_perform(h);
        long connects = 1;
        curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &connects);
        /* Only a kept connection is retried: on a new one the failure is the relay's answer. */
        if (rc == CURLE_OK || connects > 0 || !stale_connection(rc)) break;
    }
    curl_slist_free_all(rcpts);
    if (rc == CURLE_OK) return OS_OK;

    char what[CURL_ERROR_SIZE + 64];
    snprintf(what, sizeof what, "%s (curl %d)", ebuf[0] ? ebuf : curl_easy_strerror(rc), (int)rc);
    set_reason(err, errlen, what, reply.failure);
    return OS_ERR_IO;
}

os_err smtp_send(const smtp_conf *c, const char *from_addr, const char *to_addr, const char *msg, size_t len,
                 char *err, size_t errlen) {
    smtp_session *s = smtp_session_new();
    if (!s) {
        if (err && errlen) snprintf(err, errlen, "curl_easy_init failed");
        return OS_ERR_IO;
    }
    os_err e = smtp_session_send(s, c, from_addr, to_addr, msg, len, err, errlen);
    smtp_session_free(s);
    return e;
}
