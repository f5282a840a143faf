/* admins.h — the agreement's administrators (super admins only manage them) and its
 * activity log.
 *
 * Adding an address with a verified account grants the role at once; otherwise an
 * invitation waits until the owner of the address signs in with it verified (nothing is
 * granted to an unverified address). Either way an e-mail goes out in the chosen
 * language. The last super admin cannot be removed.
 */
#ifndef OPENSEAT_ADMINS_H
#define OPENSEAT_ADMINS_H
#include "core/buf.h"
#include "core/json_write.h"
#include "domain/ctx.h"
#include "io/export.h"

os_err admins_write_list(op_ctx *x, int64_t agreement_id, jw *w);
/* OS_ERR_CONFLICT when it would turn the last super admin into a plain admin. */
os_err admins_add(op_ctx *x, int64_t agreement_id, const char *name, const char *email, const char *language,
                  bool super_admin);
/* OS_ERR_CONFLICT: the last super admin. */
os_err admins_remove(op_ctx *x, int64_t agreement_id, int64_t user_id);
os_err admins_remove_invite(op_ctx *x, int64_t agreement_id, int64_t invite_id);
/* Invitations for this verified address become roles (at sign-in; audited). */
os_err admins_claim(op_ctx *x, int64_t user_id, const char *email);

/* {"events":[…], "next_before": id|null}. Each event's client address only when
 * q->with_address (the caller decides who may see it: super admins). */
os_err activity_write(op_ctx *x, activity_query *q, jw *w);
/* The same events, every page, as rows of f (io/export.h: its header row is the caller's;
 * a cell that a spreadsheet would take for a formula is defused there): time, actor,
 * action, target type, target, address (only when q->with_address), details. Reads a page
 * at a time into scratch memory: constant memory whatever the log's length. */
os_err activity_csv(op_ctx *x, activity_query *q, export_file *f);

#endif
