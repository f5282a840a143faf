/* keys.h — loading the server's secret keys at start-up.
 *
 * The master key seals authorization numbers and keys their hashes. It must NOT live in
 * the database (a leaked database alone must not reveal the numbers), so it comes from
 * --secret-key or from DATA/secret.key (created once, mode 0600). Several instances on
 * one database must be given the same key. The hand-off signing key may live in the
 * database (it only protects short-lived links): --handoff-key, else generated once.
 */
#ifndef OPENSEAT_KEYS_H
#define OPENSEAT_KEYS_H
#include "app.h"

os_err keys_load(app *a, char *err, size_t errlen);

#endif
