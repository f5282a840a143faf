/* handoff.h — the signed link from the licensing center to the portal.
 *
 * A token names a license, the licensing-center user's e-mail, an expiry and a random
 * nonce, and carries an HMAC-SHA256 over them: base64url(JSON) "." base64url(MAC).
 * handoff_issue/handoff_verify are pure (no database); handoff_consume records the
 * nonce so a token works once, across every instance sharing the database.
 */
#ifndef OPENSEAT_HANDOFF_H
#define OPENSEAT_HANDOFF_H
#include <stdint.h>
#include "core/arena.h"
#include "core/error.h"
#include "store/store.h"

#define HANDOFF_TTL_S 600

typedef struct handoff_claims {
    const char *license_number;
    const char *email;
    int64_t expires_at;
    const char *nonce;
} handoff_claims;

/* Arena-owned token. */
const char *handoff_issue(arena *a, const unsigned char key[32], const char *license_number, const char *email,
                          int64_t now);
/* OS_ERR_INVALID: malformed or signature wrong (tampered, other key).
 * OS_ERR_GONE: expired. Claims are arena-owned. */
os_err handoff_verify(arena *a, const unsigned char key[32], const char *token, int64_t now, handoff_claims *out);
/* Verify, then mark the nonce used; OS_ERR_GONE as well when already used. */
os_err handoff_consume(store_conn *c, arena *a, const unsigned char key[32], const char *token, int64_t now,
                       handoff_claims *out);

#endif
