/* audit_log.h — the operator's audit log: every entry of the audit trail (every agreement's
 * and the account-level ones) written as one JSON object a line to a file or to syslog, by a
 * background thread that follows the trail in the database — never from a request, so a
 * change committed is logged even when the process dies right after.
 *
 * The thread reads the trail as a stream (store.h, audit_pos: nothing skipped or repeated
 * while writes continue, on either database) from a cursor kept beside the sink (PATH.cursor
 * for a file, DATA/audit-log.syslog.cursor for syslog). A batch (up to 1,000 lines) is
 * written and, for a file, fdatasync'd before the cursor moves past it (the cursor file is
 * rewritten in place and synced too): a crash between the two writes the batch again when
 * the process restarts — at least once, never lost. A partial write is cut back off the
 * file, so no line is left half-written.
 *
 * The file is opened for appending; it is opened again (by name) on audit_log_reopen (SIGHUP)
 * and whenever the name no longer leads to the file held (renamed or deleted away, as
 * logrotate does): the next batch goes to the new file.
 *
 * One process writes a sink at a time: the cursor file is locked (flock) for as long as the
 * process runs; another process given the same sink waits, logs that it does, and takes
 * over from the cursor when the lock is released. Processes given different sinks (each
 * instance its own file) each write a full copy.
 */
#ifndef OPENSEAT_AUDIT_LOG_H
#define OPENSEAT_AUDIT_LOG_H
#include <stddef.h>
#include "app.h"

typedef struct audit_log audit_log;

/* Starts the thread for a->cfg->audit_log ("syslog" or a file path); NULL with a message in
 * err when the sink or its cursor file cannot be opened. */
audit_log *audit_log_start(const app *a, char *err, size_t errlen);
void audit_log_reopen(audit_log *l);   /* NULL-safe; from any thread */
void audit_log_stop(audit_log *l);     /* finishes the batch in hand, then joins; NULL-safe */

#endif
