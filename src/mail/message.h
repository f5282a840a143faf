/* message.h — turn a rendered e-mail into a complete RFC 5322 / MIME message.
 *
 * The message is multipart/alternative (text/plain, then text/html; both UTF-8 and
 * quoted-printable, so every line stays 7-bit and under 78 characters whatever the
 * content). Non-ASCII in the Subject or in a display name is sent as RFC 2047
 * encoded words. Line endings are CRLF throughout, ready for SMTP or a Maildir.
 *
 * Header injection is refused, not repaired: a From, To, Reply-To or Message-ID containing CR,
 * LF or another control character, or a subject containing CR or LF, makes
 * mail_compose fail with OS_ERR_INVALID. Addresses themselves must be ASCII (no
 * SMTPUTF8).
 *
 * The random helpers (boundary, Message-ID) need secret_init() to have run.
 * Thread-safe (no shared state).
 */
#ifndef OPENSEAT_MAIL_MESSAGE_H
#define OPENSEAT_MAIL_MESSAGE_H
#include <stdint.h>
#include "core/arena.h"
#include "core/buf.h"
#include "core/error.h"
#include "template.h"

/* Append the whole message to out (which the caller initialised; its arena or heap
 * owns the bytes). from/to are "x@y" or "Name <x@y>"; message_id is "<…@…>";
 * date_unix is written as UTC. m->html may be NULL for a text-only message.
 * OS_ERR_INVALID for a bad argument (see above, or text that is not UTF-8),
 * OS_ERR_TOO_LARGE when out refuses the bytes. On error out may hold a partial
 * message; reset it before reuse. */
os_err mail_compose(arena *a, const char *from, const char *to, const char *message_id,
                    int64_t date_unix, const mail_rendered *m, buf *out);

/* mail_compose with a Reply-To header naming reply_to ("x@y" or "Name <x@y>", checked
 * like to); reply_to NULL writes none, exactly as mail_compose. */
os_err mail_compose_reply(arena *a, const char *from, const char *to, const char *reply_to, const char *message_id,
                          int64_t date_unix, const mail_rendered *m, buf *out);

/* A fresh "<16hex.16hex@domain>", domain taken from the from-address (lower-cased);
 * "localhost" when from has no usable domain. Arena-owned, never NULL. */
const char *mail_new_message_id(arena *a, const char *from);

/* The bare address "x@y" of "Name <x@y>", "<x@y>" or "x@y" (surrounding white space
 * ignored). Arena-owned; NULL when there is no plausible address (no '@', empty local
 * part or domain, white space, control characters or angle brackets inside it). */
const char *mail_addr_spec(arena *a, const char *from);

#endif
