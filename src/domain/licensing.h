/* licensing.h — the licensing service center: partner organizations, orders (F1),
 * agreements and pools, relationship summary and license details, and the customer's
 * recognition as super admin at sign-in (F2).
 *
 * Who may see what: a license is visible to members of a partner organization related
 * to it in the licensing center and to its customer (the order's e-mail, or a super
 * admin). Anyone else gets OS_ERR_NOT_FOUND, never FORBIDDEN, so existence is not
 * revealed. Authorization numbers are stored as a keyed hash plus a sealed copy; they
 * are unsealed only for those entitled.
 */
#ifndef OPENSEAT_LICENSING_H
#define OPENSEAT_LICENSING_H
#include "domain/ctx.h"
#include "domain/numbers.h"

#define ORDER_MAX_LINES 20
#define ORDER_MAX_QUANTITY 100000

typedef struct order_line_in {
    const char *level;        /* level code */
    int64_t quantity;
} order_line_in;

typedef struct order_in {
    const char *customer_name, *customer_email, *customer_country, *language;
    const char *license_number;     /* re-order of an existing license, or NULL */
    const char *po_reference;
    const order_line_in *lines;
    int nlines;
    const char *idempotency_key;    /* NULL: none */
    const char *request_hash;       /* canonical hash of the request, with a key */
} order_in;

typedef struct order_out {
    int64_t order_id;
    bool replayed;                  /* an earlier order with the same key */
    const char *license_number;
} order_out;

/* OS_ERR_FORBIDDEN: not a partner user. OS_ERR_INVALID: fe lists the fields.
 * OS_ERR_CONFLICT: same idempotency key, different request. OS_ERR_NOT_FOUND: re-order
 * of a license the partner is not related to. */
os_err licensing_place_order(op_ctx *x, const order_in *in, field_errors *fe, order_out *out);

/* A license's details for the licensing service center: the agreement, its pools, its
 * orders (at most 1,000) with every order's lines, its contacts, the authorization number
 * (shown to both relations), whether the reader is its partner (else its customer), and the
 * reader's language for level names. OS_ERR_NOT_FOUND when the reader is neither.
 * Arena-owned. */
typedef struct license_detail {
    agreement_rec g;
    bool is_partner;
    const char *authorization_number;
    const char *language;
    pool_rec *pools;
    int npools;
    order_rec *orders;
    int norders;
    order_line_rec *lines;        /* of every order; each carries its order_id */
    int nlines;
    contact_rec *contacts;
    int ncontacts;
} license_detail;
os_err licensing_license(op_ctx *x, const char *license_number, license_detail *out);
/* The relationship summary: the agreements the reader placed (partner) or holds (customer),
 * each tagged with that relation. */
os_err licensing_relationships(op_ctx *x, agreement_summary_rec **rows, int *n);
/* The agreements the reader may manage in the portal, each tagged with the reader's role. */
os_err licensing_portal_agreements(op_ctx *x, agreement_summary_rec **rows, int *n);
/* Every level a partner may order. */
os_err licensing_levels(op_ctx *x, level_rec **rows, int *n);

/* The hand-off URL for a partner related to the license; OS_ERR_NOT_FOUND otherwise. */
os_err licensing_handoff_url(op_ctx *x, const char *license_number, const char **url);

/* F2: makes the signed-in verified user super admin of the agreements ordered for their
 * address (once each, audited). */
os_err licensing_on_signin(op_ctx *x, int64_t user_id, const char *email);

/* Operator tools. */
os_err licensing_partner_add(op_ctx *x, const char *org, const char *country, const char *email, bool admin);

#define PROGRAM_NAME_MAX 100              /* characters */
#define PROGRAM_REASSIGN_DAYS_MAX 3650    /* the schema's bound too */
/* Sets how many days a freed seat of the program's agreements waits before going to a
 * different person (0: no wait), creating the program when new; audited. The caller has
 * checked name (1..PROGRAM_NAME_MAX characters) and days (0..PROGRAM_REASSIGN_DAYS_MAX). */
os_err licensing_program_set(op_ctx *x, const char *name, int64_t reassign_days);

typedef struct import_row {
    const char *license_number, *authorization_number, *customer_name, *customer_country, *customer_email,
        *partner_name, *start_date, *end_date, *lines;
    int row;   /* the row number the user sees in the file, for error messages */
} import_row;
/* Validates every row (fe fields are "row N, column C"), then imports all or nothing. */
os_err licensing_import(op_ctx *x, const import_row *rows, int n, field_errors *fe, int *imported);

/* Agreement status by dates and the disabled flag, for today (UTC). */
const char *licensing_status(const char *end_date, bool disabled, int64_t now);

#endif
