/* smtp.h — deliver one finished message to an SMTP relay with libcurl.
 *
 * smtp://host[:port] speaks plain SMTP and upgrades with STARTTLS according to tls:
 * "try" (use it when offered), "required" (fail without it) or "none". smtps:// is
 * TLS from the first byte whatever tls says. Credentials come from the URL
 * (smtp://user:pass@host:587); certificates are verified.
 *
 * The caller must have called curl_global_init() once at program start; this module
 * never does, because that call is not thread-safe and smtp_send runs on the mail
 * worker thread. A session belongs to one thread at a time; different sessions (and
 * smtp_send calls) may run concurrently.
 */
#ifndef OPENSEAT_MAIL_SMTP_H
#define OPENSEAT_MAIL_SMTP_H
#include <stddef.h>
#include "core/error.h"

typedef struct smtp_conf {
    const char *url;     /* smtp://… or smtps://…; borrowed */
    const char *tls;     /* "try" | "required" | "none"; NULL means "try" */
    long timeout_s;      /* whole transaction; <= 0 means 60 */
} smtp_conf;

/* Send msg[0..len) (CRLF line endings, as mail_compose writes it) from from_addr to
 * to_addr, both bare addresses ("x@y", see mail_addr_spec).
 * OS_ERR_IO when delivery failed (connection, TLS, authentication, or the server
 * refused the sender, recipient or data); the transfer may be retried.
 * OS_ERR_INVALID for a configuration or argument that no retry can fix (URL that is
 * not smtp:// or smtps://, unknown tls value, address with CR, LF or angle brackets).
 * On any failure err receives a one-line reason (the curl error and the server's last
 * reply; never the URL, which may hold a password). err may be NULL. */
os_err smtp_send(const smtp_conf *c, const char *from_addr, const char *to_addr, const char *msg,
                 size_t len, char *err, size_t errlen);

/* A connection to the relay kept from one message to the next (a sender thread keeps one
 * session): smtp_session_send is smtp_send on it. A kept connection the relay has closed
 * meanwhile costs a second try on a new one, within the same call; one idle for a minute
 * is not reused. NULL when out of memory. */
typedef struct smtp_session smtp_session;
smtp_session *smtp_session_new(void);
os_err smtp_session_send(smtp_session *s, const smtp_conf *c, const char *from_addr, const char *to_addr,
                         const char *msg, size_t len, char *err, size_t errlen);
/* Ends the kept connection (QUIT) and frees the session; NULL is allowed. */
void smtp_session_free(smtp_session *s);

#endif
