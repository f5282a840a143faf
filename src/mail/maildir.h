/* maildir.h — deliver a message into a local Maildir (the default when no relay is set).
 *
 * The message is written to DIR/tmp/ under a unique name (time.pid_random.host),
 * fsync'd, then renamed into DIR/new/ and the directory fsync'd, so a reader never
 * sees a partial file and a delivered message survives a crash. DIR and its tmp, new
 * and cur subdirectories are created (mode 0700) when missing; DIR's parent must
 * exist. Needs secret_init() (random part of the name). Thread-safe.
 */
#ifndef OPENSEAT_MAIL_MAILDIR_H
#define OPENSEAT_MAIL_MAILDIR_H
#include <stddef.h>
#include "core/error.h"

/* OS_ERR_IO on any file-system failure, with a one-line reason (operation, path,
 * strerror) in err (may be NULL); no file is left in tmp/ after a failure. */
os_err maildir_deliver(const char *dir, const char *msg, size_t len, char *err, size_t errlen);

#endif
