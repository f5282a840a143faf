/* partner_orgs.h — a partner organization run by its own people: who belongs to it, and
 * who acts under each of its relationships with customers' agreements.
 *
 * Only the organization's people see it (to anyone else it does not exist:
 * OS_ERR_NOT_FOUND); only its admins change it (a plain member: OS_ERR_FORBIDDEN). The
 * access rule (store.h, st_agreement_role) joins the organization's people on every request,
 * so a person removed from it, or left out when a relationship comes to name its people,
 * loses access on their next request — and a running job at its next checkpoint — with
 * nothing else to revoke. Every change is audited: people on the organization's trail
 * (no agreement), who acts under a relationship on the agreement's trail.
 *
 * Records returned are in x->a. Each write is one transaction that checks the caller's
 * membership and role again inside it.
 */
#ifndef OPENSEAT_PARTNER_ORGS_H
#define OPENSEAT_PARTNER_ORGS_H
#include "domain/ctx.h"

/* The caller's organizations, with their role in each. */
os_err porg_list(op_ctx *x, partner_org_rec **rows, int *n);
/* The organization if the caller is one of its people (else OS_ERR_NOT_FOUND) and, with
 * need_admin, one of its admins (else OS_ERR_FORBIDDEN). */
os_err porg_member(op_ctx *x, int64_t org_id, bool need_admin, partner_org_rec *out);

/* The organization's page: its people, its live relationships with the people those name,
 * and their open requests. OS_ERR_NOT_FOUND as porg_member. */
typedef struct porg_page {
    partner_org_rec org;
    partner_person_rec *people;
    int npeople;
    rel_rec *rels;
    int nrels;
    rel_person_rec *named;
    int nnamed;
    partner_request_rec *requests;
    int nrequests;
} porg_page;
os_err porg_page_read(op_ctx *x, int64_t org_id, porg_page *out);

/* Adds a person (email normalised, role "admin" | "member") and e-mails them
 * (partner_member_invited) in language, or when NULL their account's, or else
 * fallback_language: to sign up with the address, or to sign in when an account uses it.
 * OS_ERR_CONFLICT when the address is already one of its people. */
os_err porg_person_add(op_ctx *x, int64_t org_id, const char *email, const char *role, const char *language,
                       const char *fallback_language, partner_person_rec *out);
/* OS_ERR_NOT_FOUND: not one of its people; OS_ERR_CONFLICT: its last admin. */
os_err porg_person_remove(op_ctx *x, int64_t org_id, int64_t member_id);

/* Who acts under one of its live relationships: all its people (named false) or the n
 * members listed (each one of its people: field error `not_member` on member_ids
 * otherwise, OS_ERR_INVALID). OS_ERR_NOT_FOUND: not its relationship; OS_ERR_CONFLICT: the
 * relationship has ended. *out, *people (the people it names) and *open (its open request,
 * NULL when none) are read after the change. */
os_err porg_rel_people(op_ctx *x, int64_t org_id, int64_t rel_id, bool named, const int64_t *member_ids, int n,
                       field_errors *fe, rel_rec *out, rel_person_rec **people, int *npeople,
                       const partner_request_rec **open);

#endif
