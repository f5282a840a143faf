/* api.h — the JSON API and page handlers, and the one route table (routes.c).
 *
 * Handlers map HTTP to domain calls and back, nothing else: they read validated input
 * from the request, call a domain function with the request's op_ctx (r->x, built by the
 * pipeline before the handler on every route the table gives the database), and write the
 * reply. The domain hands back records; every JSON view of them is written here, beside the
 * handler that answers with it (docs/conventions.md, "Layers"). Permissions are declared per
 * route in the table, not in handlers.
 */
#ifndef OPENSEAT_API_H
#define OPENSEAT_API_H
#include "domain/ctx.h"
#include "domain/jobs.h"
#include "http/http.h"
#include "http/server.h"

extern const route api_routes[];
extern const int api_route_count;
extern const server_hooks api_hooks;

/* The languages the interface, its e-mails and its accounts speak (NULL-terminated). */
extern const char *const api_languages[];
/* A level's name in the reader's language: French when lang is "fr", else English. */
const char *api_in_language(const char *lang, const char *en, const char *fr);
/* The common head of an agreement object, into an open object: license_number, program,
 * customer{name, country}, start_date, end_date, status (licensing.c). */
void api_write_agreement_head(jw *w, const agreement_rec *g, int64_t now);
/* The request's User-Agent as a session records it: at most 256 bytes; NULL when absent. */
const char *api_user_agent(req *r);
/* Writes the user object {id,name,email,language,verified}. */
void api_write_user(jw *w, int64_t id, const char *name, const char *email, const char *language, bool verified);

/* Partner relationships and requests (partner_view.c). body_capabilities: an array of
 * capability names that includes "read" (absent: dflt, or a `required` error); 0 after an
 * error. body_ends_on: a last day of access "YYYY-MM-DD" from today to two years on, as the
 * instant access ends (the next day's start); 0 when absent or wrong (errors in r->fe). */
unsigned body_capabilities(req *r, const char *field, bool required, unsigned dflt);
int64_t body_ends_on(req *r, const char *field, bool required);
void api_write_capabilities(jw *w, const char *key, unsigned caps);
void api_write_partner_request(jw *w, arena *a, const partner_request_rec *q);
/* people: the agreement's (or organization's) named people, those of x picked by id; open:
 * its open request or NULL. */
void api_write_relationship(jw *w, arena *a, const rel_rec *x, const rel_person_rec *people, int npeople,
                            const partner_request_rec *open);

#define SESSION_COOKIE "os_session"
#define CSRF_COOKIE "os_csrf"

/* The subscribers list's filters and sort from the query string (q, level, country,
 * downloads, sort, order), shared by the list and its export; problems go to r->fe. */
void subs_query_from(req *r, sub_query *q);

/* Background jobs: the job object (with this process's live progress when it runs the job),
 * the job's URL, and the executor the job worker is started with (bulk.c). */
void api_write_job(jw *w, req *r, const job_rec *j);
const char *api_job_url(req *r, const char *id);
os_err api_job_exec(job_run *run, op_ctx *x, const job_rec *j, int *status, const char **result);

/* handlers */
os_err h_tokens_list(req *r);
os_err h_tokens_create(req *r);
os_err h_token_revoke(req *r);
os_err h_agreement_tokens(req *r);
os_err h_agreement_token_revoke(req *r);
os_err h_session_get(req *r);
os_err h_session_create(req *r);
/* A session was opened (signin_result, domain/account.h): the sign-in's consequences
 * (orders and invitations claimed), the cookie and the 200 answer. */
struct signin_result;
os_err api_signed_in(req *r, const struct signin_result *s);
os_err h_session_mfa(req *r);
os_err h_mfa_enrol(req *r);
os_err h_mfa_confirm(req *r);
os_err h_mfa_disable(req *r);
os_err h_mfa_recovery_codes(req *r);
os_err h_session_delete(req *r);
os_err h_sso_provider(req *r);
os_err h_sso_start(req *r);
os_err h_sso_callback(req *r);
os_err h_signup(req *r);
os_err h_verify(req *r);
os_err h_verify_resend(req *r);
os_err h_reset_request(req *r);
os_err h_reset_confirm(req *r);
os_err h_account_password(req *r);
os_err h_account_update(req *r);
os_err h_levels(req *r);
os_err h_lsc_relationships(req *r);
os_err h_lsc_license(req *r);
os_err h_lsc_handoff(req *r);
os_err h_order_create(req *r);
os_err h_portal_agreements(req *r);
os_err h_partner_register(req *r);
os_err h_handoff(req *r);
os_err h_agreement_get(req *r);
os_err h_partners_list(req *r);
os_err h_partner_remove(req *r);
os_err h_partner_block_lift(req *r);
os_err h_partner_amend(req *r);
os_err h_partner_request_approve(req *r);
os_err h_partner_request_deny(req *r);
os_err h_partner_amendment_create(req *r);
os_err h_porgs_list(req *r);
os_err h_porg_get(req *r);
os_err h_porg_person_add(req *r);
os_err h_porg_person_remove(req *r);
os_err h_porg_rel_people(req *r);
os_err h_webhooks_list(req *r);
os_err h_webhook_create(req *r);
os_err h_webhook_get(req *r);
os_err h_webhook_update(req *r);
os_err h_webhook_delete(req *r);
os_err h_webhook_rotate(req *r);
os_err h_webhook_ping(req *r);
os_err h_webhook_deliveries(req *r);
os_err h_webhook_delivery(req *r);
os_err h_webhook_redeliver(req *r);
os_err h_overview(req *r);
os_err h_subs_list(req *r);
os_err h_subs_add(req *r);
os_err h_subs_get(req *r);
os_err h_subs_update(req *r);
os_err h_subs_delete(req *r);
os_err h_subs_remove(req *r);
os_err h_subs_bulk_add(req *r);
os_err h_subs_bulk_edit(req *r);
os_err h_subs_bulk_remove(req *r);
os_err h_jobs_list(req *r);
os_err h_job_get(req *r);
os_err h_job_delete(req *r);
os_err h_job_cancel(req *r);
os_err h_job_changes(req *r);
os_err h_job_annotated(req *r);
os_err h_subs_resend(req *r);
os_err h_subs_export(req *r);
os_err h_subs_template(req *r);
os_err h_admins_list(req *r);
os_err h_admins_add(req *r);
os_err h_admins_remove(req *r);
os_err h_admin_invite_remove(req *r);
os_err h_activity(req *r);
os_err h_activity_csv(req *r);
os_err h_prefs_get(req *r);
os_err h_prefs_put(req *r);
os_err h_usage(req *r);
os_err h_usage_csv(req *r);
os_err h_my_subscriptions(req *r);
os_err h_my_question(req *r);
os_err h_healthz(req *r);
os_err h_metrics(req *r);
os_err h_openapi(req *r);

/* scim.c: an agreement's SCIM 2.0 endpoints and its group → seat rules */
os_err h_scim_config(req *r);
os_err h_scim_resource_types(req *r);
os_err h_scim_schemas(req *r);
os_err h_scim_users_list(req *r);
os_err h_scim_user_create(req *r);
os_err h_scim_user_get(req *r);
os_err h_scim_user_put(req *r);
os_err h_scim_user_patch(req *r);
os_err h_scim_user_delete(req *r);
os_err h_scim_groups_list(req *r);
os_err h_scim_group_create(req *r);
os_err h_scim_group_get(req *r);
os_err h_scim_group_put(req *r);
os_err h_scim_group_patch(req *r);
os_err h_scim_group_delete(req *r);
os_err h_scim_mappings_list(req *r);
os_err h_scim_mapping_put(req *r);
os_err h_scim_mapping_delete(req *r);
os_err h_scim_mapping_preview(req *r);
os_err h_scim_groups_summary(req *r);

#endif
