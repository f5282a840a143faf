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
#include "core/json_write.h"
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

/* Writes the license details object (agreement, pools, orders, contacts, handoff_url for
 * partners, authorization_number when entitled). OS_ERR_NOT_FOUND when not related. */
os_err licensing_write_license(op_ctx *x, const char *license_number, jw *w);
/* Writes {"agreements":[…]} for the relationship summary. */
os_err licensing_write_relationships(op_ctx *x, jw *w);
/* Writes {"agreements":[…]} the user may manage in the portal. */
os_err licensing_write_portal_agreements(op_ctx *x, jw *w);
/* The common head of an agreement object: license_number, program, customer{name,
 * country}, start_date, end_date, status (written into an open object). */
void licensing_write_head(jw *w, const agreement_rec *g, int64_t now);
/* "lines":[{level, quantity}] for one order (order_id), or all lines (0). */
void licensing_write_lines(jw *w, const order_line_rec *lines, int n, int64_t order_id);
/* Writes {"levels":[…]} with names in lang. */
os_err licensing_write_levels(op_ctx *x, const char *lang, jw *w);

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
