/* admins.c — see admins.h. */
#include "admins.h"
#include <string.h>
#include <time.h>
#include "core/json_write.h"
#include "core/text.h"
#include "domain/audit.h"
#include "domain/events.h"
#include "mail/outbox.h"

os_err admins_list(op_ctx *x, int64_t agreement_id, admin_list *out) {
    *out = (admin_list){0};
    os_err e = st_admins(x->c, x->a, agreement_id, &out->rows, &out->n);
    if (!e) e = st_super_admin_count(x->c, agreement_id, &out->super_admins);
    /* One super admin is a single point of failure: the page warns until there are two. */
    out->few_super_admins = out->super_admins < 2;
    return e;
}

/* The role user_id holds on the agreement, as the Admins page lists it. */
static os_err find_admin(op_ctx *x, int64_t agreement_id, int64_t user_id, admin_rec *out) {
    admin_rec *rows;
    int n;
    os_err e = st_admins(x->c, x->a, agreement_id, &rows, &n);
    for (int i = 0; !e && i < n; i++)
        if (!rows[i].pending && rows[i].id == user_id) {
            *out = rows[i];
            return OS_OK;
        }
    return e ? e : OS_ERR_NOT_FOUND;
}

/* admin.added or admin.removed: {agreement, admin: {email, name, role}}. */
static os_err emit_admin(op_ctx *x, int64_t agreement_id, const char *type, const admin_rec *a) {
    agreement_rec g;
    os_err e = st_agreement_by_id(x->c, x->a, agreement_id, &g);
    if (e) return e;
    jw_params p;
    jw *w = jw_params_begin(&p, x->a);
    jw_kstr(w, "email", a->email);
    jw_kstr(w, "name", a->name);
    jw_kstr(w, "role", a->role);
    const char *admin = jw_params_end(&p);
    const char *data = admin ? event_data(x->a, g.license_number, "admin", admin, NULL) : NULL;
    return data ? event_emit(x, agreement_id, type, data) : OS_ERR_INTERNAL;
}

os_err admins_emit_added(op_ctx *x, int64_t agreement_id, int64_t user_id) {
    admin_rec a;
    os_err e = find_admin(x, agreement_id, user_id, &a);
    return e ? e : emit_admin(x, agreement_id, "admin.added", &a);
}

os_err admins_add(op_ctx *x, int64_t agreement_id, const char *name, const char *email, const char *language,
                  const char *role) {
    agreement_rec g;
    bool super_admin = !strcmp(role, "super_admin");
    user_rec u;
    /* Whether the address has an account decides between a role and an invitation: read in
     * the transaction that writes one of them. */
    os_err e = store_tx_begin_agreement(x->c, agreement_id);
    if (e) return e;
    if ((e = st_agreement_by_id(x->c, x->a, agreement_id, &g))) return store_tx_end(x->c, e);
    e = st_user_by_email(x->c, x->a, email, &u);
    if (e && e != OS_ERR_NOT_FOUND) return store_tx_end(x->c, e);
    bool has_account = !e && u.verified_at;
    e = OS_OK;
    if (has_account && !super_admin) {
        /* Making the last super admin a plain admin would leave the agreement without one. */
        role_rec current;
        int64_t supers = 0;
        /* A failed read must stop here, not skip the guard. */
        e = st_agreement_role(x->c, x->a, agreement_id, u.id, x->now, &current);
        if (e == OS_ERR_NOT_FOUND) e = OS_OK;
        else if (!e && !strcmp(current.role, "super_admin") && !(e = st_super_admin_count(x->c, agreement_id, &supers)) &&
                 supers <= 1)
            e = OS_ERR_CONFLICT;
        if (e) return store_tx_end(x->c, e);
    }
    e = has_account ? st_admin_set(x->c, agreement_id, u.id, role, x->actor_id, x->now)
                    : st_admin_invite(x->c, agreement_id, email, name, role, language, x->actor_id, x->now);
    if (!e) e = audit(x, has_account ? "admin.added" : "admin.invited", "email", email, agreement_id,
                      json_pairs(x->a, "role", role, NULL));
    /* An invitation is no admin yet: its event comes when it is accepted (admins_claim). */
    if (!e && has_account) e = admins_emit_added(x, agreement_id, u.id);
    bool fr = !strcmp(language, "fr");
    const char *role_text = super_admin                        ? (fr ? "super-administrateur" : "super admin")
                            : !strcmp(role, "partner_manager") ? (fr ? "gestionnaire des partenaires" : "partner manager")
                                                               : (fr ? "administrateur" : "admin");
    if (!e)
        e = outbox_enqueue(x->app, x->c, x->a, email, "admin_invited", language,
                           json_pairs(x->a, "name", name, "inviter_name", x->actor_name ? x->actor_name : x->actor_email,
                                      "customer_name", g.customer_name, "license_number", g.license_number, "role",
                                      role_text, "email", email, "signin_link",
                                      arena_printf(x->a, "%s/signin", x->app->base_url), NULL),
                           x->now);
    e = store_tx_end(x->c, e);
    if (!e) outbox_wake(x->app->mail);
    return e;
}

os_err admins_remove(op_ctx *x, int64_t agreement_id, int64_t user_id) {
    os_err e = store_tx_begin_agreement(x->c, agreement_id);
    if (e) return e;
    admin_rec was;
    e = find_admin(x, agreement_id, user_id, &was);
    if (!e) e = st_admin_remove(x->c, agreement_id, user_id);
    if (!e) e = audit(x, "admin.removed", "user", arena_printf(x->a, "%lld", (long long)user_id), agreement_id, NULL);
    if (!e) e = emit_admin(x, agreement_id, "admin.removed", &was);
    return store_tx_end(x->c, e);
}

os_err admins_remove_invite(op_ctx *x, int64_t agreement_id, int64_t invite_id) {
    os_err e = store_tx_begin_agreement(x->c, agreement_id);
    if (e) return e;
    e = st_admin_invite_remove(x->c, agreement_id, invite_id);
    if (!e) e = audit(x, "admin.invite_withdrawn", "invite", arena_printf(x->a, "%lld", (long long)invite_id),
                      agreement_id, NULL);
    return store_tx_end(x->c, e);
}

os_err admins_claim(op_ctx *x, int64_t user_id, const char *email) {
    int64_t *ids;
    int n;
    os_err e = st_admin_claim_invites(x->c, x->a, user_id, email, x->now, &ids, &n);
    for (int i = 0; !e && i < n; i++)
        if (!(e = audit(x, "admin.invitation_accepted", "user", arena_printf(x->a, "%lld", (long long)user_id), ids[i],
                        NULL)))
            e = admins_emit_added(x, ids[i], user_id);
    return e;
}

os_err activity_page(op_ctx *x, activity_query *q, activity_list *out) {
    *out = (activity_list){0};
    int want = q->limit;
    q->limit = want + 1;   /* one more tells whether an older page exists */
    os_err e = st_activity(x->c, x->a, q, &out->rows, &out->n);
    if (e) return e;
    if (out->n > want) {
        out->n = want;
        out->next_before = out->rows[want - 1].id;
    }
    return OS_OK;
}

#define ACTIVITY_CSV_PAGE 1000
/* A page of events with their texts: at most 1,000 rows of bounded cells (details are
 * small objects written by audit()). */
#define ACTIVITY_PAGE_MEMORY (16 * 1024 * 1024)

os_err activity_csv(op_ctx *x, activity_query *q, export_file *f) {
    /* Each page's rows in scratch memory emptied before the next: the whole log is read in
     * the memory of one page, whatever its length (the next page starts below an id). */
    arena *page = arena_child(x->a, ACTIVITY_PAGE_MEMORY);
    q->limit = ACTIVITY_CSV_PAGE;
    for (;;) {
        arena_free(page);
        activity_rec *rows;
        int n;
        os_err e = st_activity(x->c, page, q, &rows, &n);
        if (e) return e;
        for (int i = 0; !e && i < n; i++) {
            const activity_rec *ev = &rows[i];
            const char *at = text_iso_time(page, ev->at);
            const char *label = audit_action_label(q->language, ev->action);
            const char *target = audit_target_label(page, ev);
            const char *with[] = {at,          ev->actor_email, ev->action, ev->target_type, ev->target_id, ev->address,
                                  ev->actor_name, label,          target,     ev->details};
            const char *without[] = {at,          ev->actor_email, ev->action, ev->target_type, ev->target_id,
                                     ev->actor_name, label,          target,     ev->details};
            e = export_row(f, q->with_address ? with : without);
        }
        if (e || n < ACTIVITY_CSV_PAGE) return e;
        q->before_id = rows[n - 1].id;
    }
}
