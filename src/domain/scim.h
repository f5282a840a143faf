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
 * group's users, as a SCIM change would. */
os_err scim_mappings(op_ctx *x, int64_t agreement_id, scim_mapping_rec **rows, int *n);
os_err scim_mapping_put(op_ctx *x, int64_t agreement_id, const char *group_id, const scim_mapping_rec *m,
                        field_errors *fe, scim_fault *f, scim_mapping_rec *out);
os_err scim_mapping_delete(op_ctx *x, int64_t agreement_id, int64_t id, scim_fault *f);

#endif
