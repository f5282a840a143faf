/* store_lifecycle.c — an agreement's life: its state read on every request (so a lapse or
 * a disabling takes effect at once), the agreements nearing their end, the expiry
 * reminders claimed once each and who receives them. Contract in store.h (agreement
 * lifecycle). */
#include "store.h"
#include "store_util.h"

typedef struct state_ud {
    arena *a;
    int64_t id, data_version;
    const char *end;
    bool disabled, found;
} state_ud;

static int state_row(void *ud, db_row *r) {
    state_ud *s = ud;
    s->id = db_int(r, 0);
    s->end = st_dup(s->a, r, 1);
    s->disabled = db_int(r, 2) != 0;
    s->data_version = db_int(r, 3);
    s->found = true;
    return 1;
}

os_err st_agreement_state(store_conn *c, arena *a, const char *license_number, int64_t *id, const char **end_date,
                          bool *disabled, int64_t *data_version) {
    state_ud s = {a, 0, 0, NULL, false, false};
    os_err e = db_exec(c, "SELECT id, end_date, disabled, data_version FROM agreements WHERE license_number = ?1",
                       DB_ARGS(DV_TEXT(license_number)), state_row, &s);
    if (e) return e;
    if (!s.found) return OS_ERR_NOT_FOUND;
    *id = s.id;
    *end_date = s.end;
    *disabled = s.disabled;
    *data_version = s.data_version;
    return OS_OK;
}

static void fill_ending(arena *a, db_row *r, void *dst) {
    agreement_rec *g = dst;
    g->id = db_int(r, 0);
    g->license_number = st_dup(a, r, 1);
    g->end_date = st_dup(a, r, 2);
    g->customer_name = st_dup(a, r, 3);
}

os_err st_agreements_ending(store_conn *c, arena *a, const char *from, const char *until, agreement_rec **rows, int *n) {
    return st_list(c, a,
                   "SELECT g.id, g.license_number, g.end_date, co.name FROM agreements g"
                   " JOIN organizations co ON co.id = g.customer_org_id"
                   " WHERE g.disabled = 0 AND g.end_date >= ?1 AND g.end_date <= ?2 ORDER BY g.end_date LIMIT 10000",
                   DB_ARGS(DV_TEXT(from), DV_TEXT(until)), sizeof(agreement_rec), fill_ending, (void **)rows, n);
}

os_err st_expiry_notice_claim(store_conn *c, int64_t agreement_id, int days, int64_t now, bool *claimed) {
    int64_t changed = 0;
    os_err e = db_exec_changes(c,
                               "INSERT INTO expiry_notices (agreement_id, days, sent_at) VALUES (?1, ?2, ?3)"
                               " ON CONFLICT (agreement_id, days) DO NOTHING",
                               DB_ARGS(DV_INT(agreement_id), DV_INT(days), DV_INT(now)), &changed);
    *claimed = changed > 0;
    return e;
}

os_err st_admin_recipients(store_conn *c, arena *a, int64_t agreement_id, recipient_rec **rows, int *n) {
    return st_list(c, a,
                   "SELECT u.email, u.name, u.language FROM admin_roles ar JOIN users u ON u.id = ar.user_id"
                   " WHERE ar.agreement_id = ?1 ORDER BY u.email",
                   DB_ARGS(DV_INT(agreement_id)), sizeof(recipient_rec), st_fill_recipient, (void **)rows, n);
}
