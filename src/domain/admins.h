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
#include "domain/ctx.h"
#include "io/export.h"

/* The Admins page: the agreement's admins and pending invitations, and how many super
 * admins it has (few: fewer than two, a single point of failure the page warns about). */
typedef struct admin_list {
    admin_rec *rows;
    int n;
    int64_t super_admins;
    bool few_super_admins;
} admin_list;
os_err admins_list(op_ctx *x, int64_t agreement_id, admin_list *out);
/* role: "super_admin", "admin" or "partner_manager". OS_ERR_CONFLICT when it would turn the
 * last super admin into another role. */
os_err admins_add(op_ctx *x, int64_t agreement_id, const char *name, const char *email, const char *language,
                  const char *role);
/* OS_ERR_CONFLICT: the last super admin. */
os_err admins_remove(op_ctx *x, int64_t agreement_id, int64_t user_id);
os_err admins_remove_invite(op_ctx *x, int64_t agreement_id, int64_t invite_id);
/* The admin.added event (domain/events.h) for the role user_id now holds on the agreement,
 * inside the caller's transaction: a grant, an accepted invitation, the customer's own
 * super admin role. */
os_err admins_emit_added(op_ctx *x, int64_t agreement_id, int64_t user_id);
/* Invitations for this verified address become roles (at sign-in; audited). */
os_err admins_claim(op_ctx *x, int64_t user_id, const char *email);

/* One page of the activity log, newest first: at most q->limit events, and the id the next
 * (older) page starts below, 0 when this is the last. The events carry client addresses
 * whatever q->with_address says: the view shows them only when it says so (the caller
 * decides who may see them: super admins). */
typedef struct activity_list {
    activity_rec *rows;
    int n;
    int64_t next_before;
} activity_list;
os_err activity_page(op_ctx *x, activity_query *q, activity_list *out);
/* The same events, every page, as rows of f (io/export.h: its header row is the caller's;
 * a cell that a spreadsheet would take for a formula is defused there): time, actor,
 * action, target type, target, address (only when q->with_address), actor name, action
 * label (in q->language), target label (audit_target_label), details. Reads a page at a
 * time into scratch memory: constant memory whatever the log's length. */
os_err activity_csv(op_ctx *x, activity_query *q, export_file *f);

#endif
