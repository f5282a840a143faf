/* scim.h — SCIM 2.0 provisioning (RFC 7643/7644) of one agreement by the customer's identity
 * provider (Entra ID, Okta), and the rule that turns its groups into seats.
 *
 * Users and groups are kept per agreement; a user's resource is kept as its provider last
 * wrote it (less id, meta and password), with the attributes the rule reads (userName,
 * externalId, the e-mail, displayName, active) indexed beside it. A group lists users and
 * groups (groups within groups; a cycle is harmless). A super admin maps a group to a level,
 * a language, a country and downloads: every active user under a mapped group, directly or
 * through nested groups, holds one subscription of that level, however many mapped groups of
 * the level they are in; leaving every such group, deletion or `active: false` removes it.
 * Seats are added and removed by subscribers_add_in_tx / subscribers_remove_in_tx, in the
 * same transaction as the SCIM change, so the pool, the reassignment rule, the e-mails, the
 * audit trail and the events apply as to any add or removal; a seat refused (no seat left,
 * reassignment too soon) refuses the whole change: OS_ERR_CONFLICT with f->detail naming the
 * level and the person, and nothing of it is written — only the refusal is kept, afterwards,
 * for the super admins' daily summary (domain/scim_refusals.h). A level the person's address
 * already holds by hand is taken over as it is (provisioning.seat_adopted) instead of added;
 * one another provisioned user holds is OS_ERR_CONFLICT (uniqueness).
 *
 * PATCH (scim_patch_apply) follows RFC 7644 §3.5.2 with the forms Entra ID and Okta send:
 * operation names in any case, attribute names in any case, `members[value eq "…"]` paths,
 * values as arrays, replace without a path (keys may be paths), "True"/"False" strings for
 * booleans, a schema URN before the attribute.
 *
 * Errors: OS_ERR_INVALID (400) and OS_ERR_CONFLICT (409) fill f (scimType, detail);
 * OS_ERR_NOT_FOUND for an id unknown on this agreement. Results are in x->a; json_t
 * results are the caller's to json_decref.
 */
#ifndef OPENSEAT_SCIM_H
#define OPENSEAT_SCIM_H
#include <jansson.h>
#include "domain/ctx.h"

#define SCIM_PAGE_DEFAULT 100
#define SCIM_PAGE_MAX 500
#define SCIM_MEMBERS_MAX 10000
#define SCIM_PATCH_OPS_MAX 1000
#define SCIM_TEXT_MAX 256

typedef struct scim_fault {
    const char *scim_type;   /* RFC 7644 §3.12: invalidValue, invalidPath, noTarget, invalidFilter, uniqueness, … */
    const char *detail;
    /* A seat refused: no_seats_left, reassignment_too_soon (the pool's), duplicate,
     * outside_domain or email_missing (the person's); plan_changed: a rule change's plan no
     * longer holds. NULL otherwise. */
    const char *reason;
} scim_fault;

/* Applies a PatchOp's Operations to resource (changed in place). OS_ERR_INVALID with f. */
os_err scim_patch_apply(arena *a, json_t *resource, json_t *operations, scim_fault *f);

/* A list filter: attribute eq "value". OS_ERR_INVALID (invalidFilter) otherwise. */
os_err scim_filter_parse(arena *a, const char *filter, bool groups, scim_filter_attr *attr, const char **value,
                         scim_fault *f);

/* Users. base: the agreement's SCIM base URL, for meta.location. */
os_err scim_user_create(op_ctx *x, int64_t agreement_id, json_t *body, const char *base, scim_fault *f, json_t **out);
os_err scim_user_get(op_ctx *x, int64_t agreement_id, const char *id, const char *base, json_t **out);
/* patch NULL: body replaces the resource (PUT); else body is the PatchOp. */
os_err scim_user_write(op_ctx *x, int64_t agreement_id, const char *id, json_t *body, bool patch, const char *base,
                       scim_fault *f, json_t **out);
os_err scim_user_delete(op_ctx *x, int64_t agreement_id, const char *id, scim_fault *f);
os_err scim_users_list(op_ctx *x, int64_t agreement_id, scim_filter_attr attr, const char *value, int64_t start,
                       int count, const char *base, json_t **out);

/* Groups; members left out of answers when excluded (excludedAttributes=members). */
os_err scim_group_create(op_ctx *x, int64_t agreement_id, json_t *body, const char *base, scim_fault *f,
                         json_t **out);
os_err scim_group_get(op_ctx *x, int64_t agreement_id, const char *id, bool members, const char *base,
                      json_t **out);
os_err scim_group_write(op_ctx *x, int64_t agreement_id, const char *id, json_t *body, bool patch, const char *base,
                        scim_fault *f, json_t **out);
os_err scim_group_delete(op_ctx *x, int64_t agreement_id, const char *id, scim_fault *f);
os_err scim_groups_list(op_ctx *x, int64_t agreement_id, scim_filter_attr attr, const char *value, int64_t start,
                        int count, bool members, const char *base, json_t **out);

/* Group → seat rules (the super admins'). Setting or removing one applies it at once to the
 * group's users, as a SCIM change would.
 *
 * What a change does is computed by doing it: inside the agreement's transaction the rule is
 * written and every user under the group reconciled (each in scratch memory), each user's
 * seats read before and after. A preview then rolls everything back — the subscriptions,
 * the audit rows, the outbox's e-mails, the events and their webhook deliveries are all rows
 * of that transaction — so a preview and the apply that follows run the very same code.
 * Per person: a seat of a level they did not hold is a gain, one they no longer hold a loss;
 * a loss and a gain of two levels in one change are one change (level → to_level). Seats
 * already held keep their language, country and downloads (the rule gives those to new
 * seats only), so a change of those alone gains and loses nothing. A person whose seat the
 * pool (or their address) refuses is listed in refused with the reason, and also under what
 * else the change did to them; a change with any refusal is never applied.
 * The plan is the SHA-256 (hex) of the agreement, the change asked for and every effect in
 * order; applying with a plan recomputes it and refuses when it differs (OS_ERR_CONFLICT,
 * f->reason "plan_changed"), writing nothing. */
#define SCIM_PREVIEW_LIST_MAX 1000   /* effects listed per kind; the counts are exact */
#define SCIM_GROUPS_LIST_MAX 1000    /* groups listed with their counts */

typedef struct scim_effect {
    const char *scim_id, *email, *name;   /* the person: SCIM user id, address (or userName), name */
    const char *level;                    /* gain, loss, refused: the level; change: the level lost */
    const char *to_level;                 /* change: the level gained */
    const char *reason;                   /* refused: scim_fault.reason */
} scim_effect;

typedef struct scim_outcome {
    scim_effect *gains, *losses, *changes, *refused;   /* the first SCIM_PREVIEW_LIST_MAX of each */
    int ngains, nlosses, nchanges, nrefused;           /* how many are listed */
    int64_t gains_total, losses_total, changes_total, refused_total;
    char plan[65];
} scim_outcome;

/* A rule change: set the rule of group_id to m, or (remove_id > 0) remove a rule. */
typedef struct scim_rule_change {
    const char *group_id;
    const scim_mapping_rec *m;
    int64_t remove_id;
} scim_rule_change;

os_err scim_mappings(op_ctx *x, int64_t agreement_id, scim_mapping_rec **rows, int *n);
/* The agreement's groups (the first SCIM_GROUPS_LIST_MAX by name) with their user counts. */
os_err scim_group_counts(op_ctx *x, int64_t agreement_id, scim_group_count_rec **rows, int *n, int64_t *total);
/* What the change would do, written nowhere. fe: group, level (set) or remove (remove) unknown. */
os_err scim_mapping_preview(op_ctx *x, int64_t agreement_id, const scim_rule_change *ch, field_errors *fe,
                            scim_fault *f, scim_outcome *out);
/* plan NULL: applied whatever it does (refused seats still refuse it); else only when it does
 * what the preview that gave plan showed. did: what it did. */
os_err scim_mapping_put(op_ctx *x, int64_t agreement_id, const char *group_id, const scim_mapping_rec *m,
                        const char *plan, field_errors *fe, scim_fault *f, scim_mapping_rec *out,
                        scim_outcome *did);
os_err scim_mapping_delete(op_ctx *x, int64_t agreement_id, int64_t id, const char *plan, scim_fault *f,
                           scim_outcome *did);

#endif
