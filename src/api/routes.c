/* routes.c — THE route table. Every URL the server answers is listed here with its
 * method, who may call it and, for an agreement's routes, the capability a partner must hold
 * (CAP_*, domain/access.h; customer super admins and admins hold all of them, partner
 * managers none), what body it takes, which handler serves it and whether that handler gets
 * the database, so that permissions can be reviewed in one place. Keep docs/openapi.yaml in
 * step with it.
 */
#include "api.h"
#include "domain/access.h"
#include "http/static.h"

/* The context column: CTX_DOMAIN gives the handler the domain context, r->x, with this
 * thread's database connection (none to be had: 503 before the handler runs). CTX_NONE
 * gives none and costs no connection: static files and the OpenAPI text need no database;
 * health and metrics reach it themselves, to report it away rather than be refused; the
 * session's read and end use it only for a signed-in caller, whose context the identify
 * step built when it read the session (r->x). */
#define R(m, p, acc, cap, body, ctx, fn, name) {m, p, acc, body, fn, name, ctx, cap, false}
/* RS: a session-only route. An API token (Authorization: Bearer) gets 403 `session_required`
 * there: signing in and out, the account's password and profile, and the person's tokens
 * themselves, so a leaked token can neither take over the account nor make more tokens. */
#define RS(m, p, acc, cap, body, ctx, fn, name) {m, p, acc, body, fn, name, ctx, cap, true}

const route api_routes[] = {
    /* JSON API */
    RS("GET",   "/api/v1/session",                 ACCESS_PUBLIC, CAP_NONE, BODY_NONE, CTX_NONE,   h_session_get,     "session_get"),
    RS("POST",  "/api/v1/session",                 ACCESS_PUBLIC, CAP_NONE, BODY_JSON, CTX_DOMAIN, h_session_create,  "session_create"),
    RS("DELETE","/api/v1/session",                 ACCESS_PUBLIC, CAP_NONE, BODY_NONE, CTX_NONE,   h_session_delete,  "session_delete"),
    /* Sign-in's second step, for an account with two-step sign-in on. */
    RS("POST",  "/api/v1/session/mfa",             ACCESS_PUBLIC, CAP_NONE, BODY_JSON, CTX_DOMAIN, h_session_mfa,     "session_mfa"),
    /* Signing in with an OpenID Connect provider (domain/sso.h): top-level GETs, the start
     * and the provider's redirect back, so no CSRF token; the state is the callback's. */
    RS("GET",   "/api/v1/sso/provider",            ACCESS_PUBLIC, CAP_NONE, BODY_NONE, CTX_NONE,   h_sso_provider,    "sso_provider"),
    RS("GET",   "/api/v1/sso/start",               ACCESS_PUBLIC, CAP_NONE, BODY_NONE, CTX_DOMAIN, h_sso_start,       "sso_start"),
    RS("GET",   "/api/v1/sso/callback",            ACCESS_PUBLIC, CAP_NONE, BODY_NONE, CTX_DOMAIN, h_sso_callback,    "sso_callback"),
    R("POST",   "/api/v1/signup",                  ACCESS_PUBLIC, CAP_NONE, BODY_JSON, CTX_DOMAIN, h_signup,          "signup"),
    R("POST",   "/api/v1/verify",                  ACCESS_PUBLIC, CAP_NONE, BODY_JSON, CTX_DOMAIN, h_verify,          "verify"),
    R("POST",   "/api/v1/verify/resend",           ACCESS_PUBLIC, CAP_NONE, BODY_JSON, CTX_DOMAIN, h_verify_resend,   "verify_resend"),
    RS("POST",  "/api/v1/password-reset",          ACCESS_PUBLIC, CAP_NONE, BODY_JSON, CTX_DOMAIN, h_reset_request,   "reset_request"),
    RS("POST",  "/api/v1/password-reset/confirm",  ACCESS_PUBLIC, CAP_NONE, BODY_JSON, CTX_DOMAIN, h_reset_confirm,   "reset_confirm"),
    RS("PUT",   "/api/v1/account/password",        ACCESS_USER, CAP_NONE,   BODY_JSON, CTX_DOMAIN, h_account_password,"account_password"),
    RS("PATCH", "/api/v1/account",                 ACCESS_USER, CAP_NONE,   BODY_JSON, CTX_DOMAIN, h_account_update,  "account_update"),
    /* The account's second factor (session-only: a token cannot turn it off or read codes). */
    RS("POST",  "/api/v1/account/mfa",             ACCESS_USER, CAP_NONE,   BODY_NONE, CTX_DOMAIN, h_mfa_enrol,       "mfa_enrol"),
    RS("DELETE","/api/v1/account/mfa",             ACCESS_USER, CAP_NONE,   BODY_JSON, CTX_DOMAIN, h_mfa_disable,     "mfa_disable"),
    RS("POST",  "/api/v1/account/mfa/confirm",     ACCESS_USER, CAP_NONE,   BODY_JSON, CTX_DOMAIN, h_mfa_confirm,     "mfa_confirm"),
    RS("POST",  "/api/v1/account/mfa/recovery-codes", ACCESS_USER, CAP_NONE, BODY_JSON, CTX_DOMAIN, h_mfa_recovery_codes, "mfa_recovery_codes"),
    /* The person's own API tokens (session-only: a token does not manage tokens). */
    RS("GET",   "/api/v1/tokens",                  ACCESS_USER, CAP_NONE,   BODY_NONE, CTX_DOMAIN, h_tokens_list,     "tokens_list"),
    RS("POST",  "/api/v1/tokens",                  ACCESS_USER, CAP_NONE,   BODY_JSON, CTX_DOMAIN, h_tokens_create,   "tokens_create"),
    RS("DELETE","/api/v1/tokens/{id}",             ACCESS_USER, CAP_NONE,   BODY_NONE, CTX_DOMAIN, h_token_revoke,    "token_revoke"),
    R("GET",    "/api/v1/levels",                  ACCESS_USER, CAP_NONE,   BODY_NONE, CTX_DOMAIN, h_levels,          "levels"),
    R("GET",    "/api/v1/agreements",              ACCESS_USER, CAP_NONE,   BODY_NONE, CTX_DOMAIN, h_portal_agreements, "agreements"),
    R("GET",    "/api/v1/lsc/relationships",       ACCESS_USER, CAP_NONE,   BODY_NONE, CTX_DOMAIN, h_lsc_relationships, "lsc_relationships"),
    R("GET",    "/api/v1/lsc/licenses/{license}",  ACCESS_USER, CAP_NONE,   BODY_NONE, CTX_DOMAIN, h_lsc_license,     "lsc_license"),
    R("GET",    "/api/v1/lsc/licenses/{license}/handoff", ACCESS_USER, CAP_NONE, BODY_NONE, CTX_DOMAIN, h_lsc_handoff, "lsc_handoff"),
    R("POST",   "/api/v1/lsc/orders",              ACCESS_USER, CAP_NONE,   BODY_JSON, CTX_DOMAIN, h_order_create,    "order_create"),
    R("POST",   "/api/v1/partner-registrations",   ACCESS_USER, CAP_NONE,   BODY_JSON, CTX_DOMAIN, h_partner_register, "partner_register"),
    R("POST",   "/api/v1/handoff",                 ACCESS_USER, CAP_NONE,   BODY_JSON, CTX_DOMAIN, h_handoff,         "handoff"),
    /* The partner organization's own page: its handlers check membership (404 to others). */
    R("GET",    "/api/v1/partner-organizations",   ACCESS_USER, CAP_NONE,   BODY_NONE, CTX_DOMAIN, h_porgs_list,      "porgs_list"),
    R("GET",    "/api/v1/partner-organizations/{org}", ACCESS_USER, CAP_NONE, BODY_NONE, CTX_DOMAIN, h_porg_get,      "porg_get"),
    R("POST",   "/api/v1/partner-organizations/{org}/people", ACCESS_USER, CAP_NONE, BODY_JSON, CTX_DOMAIN, h_porg_person_add, "porg_person_add"),
    R("DELETE", "/api/v1/partner-organizations/{org}/people/{id}", ACCESS_USER, CAP_NONE, BODY_NONE, CTX_DOMAIN, h_porg_person_remove, "porg_person_remove"),
    R("PUT",    "/api/v1/partner-organizations/{org}/relationships/{id}/people", ACCESS_USER, CAP_NONE, BODY_JSON, CTX_DOMAIN, h_porg_rel_people, "porg_rel_people"),
    /* Its webhooks: its admins (checked by the domain, as above). */
    R("GET",    "/api/v1/partner-organizations/{org}/webhooks", ACCESS_USER, CAP_NONE, BODY_NONE, CTX_DOMAIN, h_webhooks_list, "porg_webhooks_list"),
    R("POST",   "/api/v1/partner-organizations/{org}/webhooks", ACCESS_USER, CAP_NONE, BODY_JSON, CTX_DOMAIN, h_webhook_create, "porg_webhook_create"),
    R("GET",    "/api/v1/partner-organizations/{org}/webhooks/{id}", ACCESS_USER, CAP_NONE, BODY_NONE, CTX_DOMAIN, h_webhook_get, "porg_webhook_get"),
    R("PATCH",  "/api/v1/partner-organizations/{org}/webhooks/{id}", ACCESS_USER, CAP_NONE, BODY_JSON, CTX_DOMAIN, h_webhook_update, "porg_webhook_update"),
    R("DELETE", "/api/v1/partner-organizations/{org}/webhooks/{id}", ACCESS_USER, CAP_NONE, BODY_NONE, CTX_DOMAIN, h_webhook_delete, "porg_webhook_delete"),
    R("POST",   "/api/v1/partner-organizations/{org}/webhooks/{id}/secret", ACCESS_USER, CAP_NONE, BODY_NONE, CTX_DOMAIN, h_webhook_rotate, "porg_webhook_rotate"),
    R("POST",   "/api/v1/partner-organizations/{org}/webhooks/{id}/ping", ACCESS_USER, CAP_NONE, BODY_NONE, CTX_DOMAIN, h_webhook_ping, "porg_webhook_ping"),
    R("GET",    "/api/v1/partner-organizations/{org}/webhooks/{id}/deliveries", ACCESS_USER, CAP_NONE, BODY_NONE, CTX_DOMAIN, h_webhook_deliveries, "porg_webhook_deliveries"),
    R("GET",    "/api/v1/partner-organizations/{org}/webhooks/{id}/deliveries/{delivery}", ACCESS_USER, CAP_NONE, BODY_NONE, CTX_DOMAIN, h_webhook_delivery, "porg_webhook_delivery"),
    R("POST",   "/api/v1/partner-organizations/{org}/webhooks/{id}/deliveries/{delivery}/redeliver", ACCESS_USER, CAP_NONE, BODY_NONE, CTX_DOMAIN, h_webhook_redeliver, "porg_webhook_redeliver"),
    R("GET",    "/api/v1/agreements/{license}",    ACCESS_AGREEMENT, CAP_NONE, BODY_NONE, CTX_DOMAIN, h_agreement_get, "agreement_get"),
    R("GET",    "/api/v1/agreements/{license}/partners", ACCESS_AGREEMENT_PARTNERS, CAP_NONE, BODY_NONE, CTX_DOMAIN, h_partners_list, "partners_list"),
    R("DELETE", "/api/v1/agreements/{license}/partners/{id}", ACCESS_AGREEMENT_PARTNERS, CAP_NONE, BODY_NONE, CTX_DOMAIN, h_partner_remove, "partner_remove"),
    R("DELETE", "/api/v1/agreements/{license}/partner-blocks/{id}", ACCESS_AGREEMENT_PARTNERS, CAP_NONE, BODY_NONE, CTX_DOMAIN, h_partner_block_lift, "partner_block_lift"),
    R("PATCH",  "/api/v1/agreements/{license}/partners/{id}", ACCESS_AGREEMENT_PARTNERS, CAP_NONE, BODY_JSON, CTX_DOMAIN, h_partner_amend, "partner_amend"),
    R("POST",   "/api/v1/agreements/{license}/partner-requests/{id}/approve", ACCESS_AGREEMENT_PARTNERS, CAP_NONE, BODY_JSON, CTX_DOMAIN, h_partner_request_approve, "partner_request_approve"),
    R("POST",   "/api/v1/agreements/{license}/partner-requests/{id}/deny", ACCESS_AGREEMENT_PARTNERS, CAP_NONE, BODY_JSON, CTX_DOMAIN, h_partner_request_deny, "partner_request_deny"),
    R("GET",    "/api/v1/agreements/{license}/overview", ACCESS_AGREEMENT, CAP_READ, BODY_NONE, CTX_DOMAIN, h_overview, "overview"),
    R("GET",    "/api/v1/agreements/{license}/subscriptions", ACCESS_AGREEMENT, CAP_READ, BODY_NONE, CTX_DOMAIN, h_subs_list, "subs_list"),
    R("POST",   "/api/v1/agreements/{license}/subscriptions", ACCESS_AGREEMENT, CAP_ASSIGN, BODY_JSON, CTX_DOMAIN, h_subs_add, "subs_add"),
    R("POST",   "/api/v1/agreements/{license}/subscriptions/remove", ACCESS_AGREEMENT, CAP_ASSIGN, BODY_JSON, CTX_DOMAIN, h_subs_remove, "subs_remove"),
    R("POST",   "/api/v1/agreements/{license}/subscriptions/bulk", ACCESS_AGREEMENT, CAP_BULK, BODY_UPLOAD, CTX_DOMAIN, h_subs_bulk_add, "subs_bulk_add"),
    R("POST",   "/api/v1/agreements/{license}/subscriptions/bulk-edit", ACCESS_AGREEMENT, CAP_BULK, BODY_UPLOAD, CTX_DOMAIN, h_subs_bulk_edit, "subs_bulk_edit"),
    R("POST",   "/api/v1/agreements/{license}/subscriptions/bulk-remove", ACCESS_AGREEMENT, CAP_BULK, BODY_UPLOAD, CTX_DOMAIN, h_subs_bulk_remove, "subs_bulk_remove"),
    R("GET",    "/api/v1/agreements/{license}/jobs", ACCESS_AGREEMENT, CAP_BULK, BODY_NONE, CTX_DOMAIN, h_jobs_list, "jobs_list"),
    R("GET",    "/api/v1/agreements/{license}/jobs/{job}", ACCESS_AGREEMENT, CAP_BULK, BODY_NONE, CTX_DOMAIN, h_job_get, "job_get"),
    R("DELETE", "/api/v1/agreements/{license}/jobs/{job}", ACCESS_AGREEMENT, CAP_BULK, BODY_NONE, CTX_DOMAIN, h_job_delete, "job_delete"),
    R("GET",    "/api/v1/agreements/{license}/jobs/{job}/annotated", ACCESS_AGREEMENT, CAP_BULK, BODY_NONE, CTX_DOMAIN, h_job_annotated, "job_annotated"),
    R("GET",    "/api/v1/agreements/{license}/jobs/{job}/changes", ACCESS_AGREEMENT, CAP_BULK, BODY_NONE, CTX_DOMAIN, h_job_changes, "job_changes"),
    R("POST",   "/api/v1/agreements/{license}/jobs/{job}/cancel", ACCESS_AGREEMENT, CAP_BULK, BODY_NONE, CTX_DOMAIN, h_job_cancel, "job_cancel"),
    R("POST",   "/api/v1/agreements/{license}/subscriptions/resend", ACCESS_AGREEMENT, CAP_ASSIGN, BODY_JSON, CTX_DOMAIN, h_subs_resend, "subs_resend"),
    /* Before {id}: the first matching pattern wins. */
    R("GET",    "/api/v1/agreements/{license}/subscriptions/export", ACCESS_AGREEMENT, CAP_READ, BODY_NONE, CTX_DOMAIN, h_subs_export, "subs_export"),
    R("GET",    "/api/v1/agreements/{license}/subscriptions/template", ACCESS_AGREEMENT, CAP_READ, BODY_NONE, CTX_DOMAIN, h_subs_template, "subs_template"),
    R("GET",    "/api/v1/agreements/{license}/subscriptions/{id}", ACCESS_AGREEMENT, CAP_READ, BODY_NONE, CTX_DOMAIN, h_subs_get, "subs_get"),
    R("PATCH",  "/api/v1/agreements/{license}/subscriptions/{id}", ACCESS_AGREEMENT, CAP_ASSIGN, BODY_JSON, CTX_DOMAIN, h_subs_update, "subs_update"),
    R("DELETE", "/api/v1/agreements/{license}/subscriptions/{id}", ACCESS_AGREEMENT, CAP_ASSIGN, BODY_NONE, CTX_DOMAIN, h_subs_delete, "subs_delete"),
    R("GET",    "/api/v1/agreements/{license}/admins", ACCESS_AGREEMENT_SUPER, CAP_NONE, BODY_NONE, CTX_DOMAIN, h_admins_list, "admins_list"),
    R("POST",   "/api/v1/agreements/{license}/admins", ACCESS_AGREEMENT_SUPER, CAP_NONE, BODY_JSON, CTX_DOMAIN, h_admins_add, "admins_add"),
    R("DELETE", "/api/v1/agreements/{license}/admins/{id}", ACCESS_AGREEMENT_SUPER, CAP_NONE, BODY_NONE, CTX_DOMAIN, h_admins_remove, "admins_remove"),
    R("DELETE", "/api/v1/agreements/{license}/admin-invites/{id}", ACCESS_AGREEMENT_SUPER, CAP_NONE, BODY_NONE, CTX_DOMAIN, h_admin_invite_remove, "admin_invite_remove"),
    R("GET",    "/api/v1/agreements/{license}/activity", ACCESS_AGREEMENT, CAP_ACTIVITY, BODY_NONE, CTX_DOMAIN, h_activity, "activity"),
    R("GET",    "/api/v1/agreements/{license}/activity.csv", ACCESS_AGREEMENT, CAP_ACTIVITY, BODY_NONE, CTX_DOMAIN, h_activity_csv, "activity_csv"),
    R("GET",    "/api/v1/agreements/{license}/tokens", ACCESS_AGREEMENT_SUPER, CAP_NONE, BODY_NONE, CTX_DOMAIN, h_agreement_tokens, "agreement_tokens"),
    R("DELETE", "/api/v1/agreements/{license}/tokens/{id}", ACCESS_AGREEMENT_SUPER, CAP_NONE, BODY_NONE, CTX_DOMAIN, h_agreement_token_revoke, "agreement_token_revoke"),
    R("GET",    "/api/v1/agreements/{license}/preferences", ACCESS_AGREEMENT_SUPER, CAP_NONE, BODY_NONE, CTX_DOMAIN, h_prefs_get, "prefs_get"),
    R("PUT",    "/api/v1/agreements/{license}/preferences", ACCESS_AGREEMENT_SUPER, CAP_NONE, BODY_JSON, CTX_DOMAIN, h_prefs_put, "prefs_put"),
    /* Webhooks: the agreement's super admins. */
    R("GET",    "/api/v1/agreements/{license}/webhooks", ACCESS_AGREEMENT_SUPER, CAP_NONE, BODY_NONE, CTX_DOMAIN, h_webhooks_list, "webhooks_list"),
    R("POST",   "/api/v1/agreements/{license}/webhooks", ACCESS_AGREEMENT_SUPER, CAP_NONE, BODY_JSON, CTX_DOMAIN, h_webhook_create, "webhook_create"),
    R("GET",    "/api/v1/agreements/{license}/webhooks/{id}", ACCESS_AGREEMENT_SUPER, CAP_NONE, BODY_NONE, CTX_DOMAIN, h_webhook_get, "webhook_get"),
    R("PATCH",  "/api/v1/agreements/{license}/webhooks/{id}", ACCESS_AGREEMENT_SUPER, CAP_NONE, BODY_JSON, CTX_DOMAIN, h_webhook_update, "webhook_update"),
    R("DELETE", "/api/v1/agreements/{license}/webhooks/{id}", ACCESS_AGREEMENT_SUPER, CAP_NONE, BODY_NONE, CTX_DOMAIN, h_webhook_delete, "webhook_delete"),
    R("POST",   "/api/v1/agreements/{license}/webhooks/{id}/secret", ACCESS_AGREEMENT_SUPER, CAP_NONE, BODY_NONE, CTX_DOMAIN, h_webhook_rotate, "webhook_rotate"),
    R("POST",   "/api/v1/agreements/{license}/webhooks/{id}/ping", ACCESS_AGREEMENT_SUPER, CAP_NONE, BODY_NONE, CTX_DOMAIN, h_webhook_ping, "webhook_ping"),
    R("GET",    "/api/v1/agreements/{license}/webhooks/{id}/deliveries", ACCESS_AGREEMENT_SUPER, CAP_NONE, BODY_NONE, CTX_DOMAIN, h_webhook_deliveries, "webhook_deliveries"),
    R("GET",    "/api/v1/agreements/{license}/webhooks/{id}/deliveries/{delivery}", ACCESS_AGREEMENT_SUPER, CAP_NONE, BODY_NONE, CTX_DOMAIN, h_webhook_delivery, "webhook_delivery"),
    R("POST",   "/api/v1/agreements/{license}/webhooks/{id}/deliveries/{delivery}/redeliver", ACCESS_AGREEMENT_SUPER, CAP_NONE, BODY_NONE, CTX_DOMAIN, h_webhook_redeliver, "webhook_redeliver"),
    /* SCIM 2.0 (docs/scim.md): an identity provider with a token holding provisioning, of a
     * super admin, named to the agreement; a session never (domain/access.h). */
    R("GET",   "/api/v1/agreements/{license}/scim/v2/ServiceProviderConfig", ACCESS_AGREEMENT_SUPER, CAP_PROVISIONING, BODY_NONE, CTX_DOMAIN, h_scim_config, "scim_config"),
    R("GET",   "/api/v1/agreements/{license}/scim/v2/ResourceTypes", ACCESS_AGREEMENT_SUPER, CAP_PROVISIONING, BODY_NONE, CTX_DOMAIN, h_scim_resource_types, "scim_resource_types"),
    R("GET",   "/api/v1/agreements/{license}/scim/v2/Schemas", ACCESS_AGREEMENT_SUPER, CAP_PROVISIONING, BODY_NONE, CTX_DOMAIN, h_scim_schemas, "scim_schemas"),
    R("GET",   "/api/v1/agreements/{license}/scim/v2/Users", ACCESS_AGREEMENT_SUPER, CAP_PROVISIONING, BODY_NONE, CTX_DOMAIN, h_scim_users_list, "scim_users_list"),
    R("POST",  "/api/v1/agreements/{license}/scim/v2/Users", ACCESS_AGREEMENT_SUPER, CAP_PROVISIONING, BODY_SCIM, CTX_DOMAIN, h_scim_user_create, "scim_user_create"),
    R("GET",   "/api/v1/agreements/{license}/scim/v2/Users/{id}", ACCESS_AGREEMENT_SUPER, CAP_PROVISIONING, BODY_NONE, CTX_DOMAIN, h_scim_user_get, "scim_user_get"),
    R("PUT",   "/api/v1/agreements/{license}/scim/v2/Users/{id}", ACCESS_AGREEMENT_SUPER, CAP_PROVISIONING, BODY_SCIM, CTX_DOMAIN, h_scim_user_put, "scim_user_put"),
    R("PATCH", "/api/v1/agreements/{license}/scim/v2/Users/{id}", ACCESS_AGREEMENT_SUPER, CAP_PROVISIONING, BODY_SCIM, CTX_DOMAIN, h_scim_user_patch, "scim_user_patch"),
    R("DELETE","/api/v1/agreements/{license}/scim/v2/Users/{id}", ACCESS_AGREEMENT_SUPER, CAP_PROVISIONING, BODY_NONE, CTX_DOMAIN, h_scim_user_delete, "scim_user_delete"),
    R("GET",   "/api/v1/agreements/{license}/scim/v2/Groups", ACCESS_AGREEMENT_SUPER, CAP_PROVISIONING, BODY_NONE, CTX_DOMAIN, h_scim_groups_list, "scim_groups_list"),
    R("POST",  "/api/v1/agreements/{license}/scim/v2/Groups", ACCESS_AGREEMENT_SUPER, CAP_PROVISIONING, BODY_SCIM, CTX_DOMAIN, h_scim_group_create, "scim_group_create"),
    R("GET",   "/api/v1/agreements/{license}/scim/v2/Groups/{id}", ACCESS_AGREEMENT_SUPER, CAP_PROVISIONING, BODY_NONE, CTX_DOMAIN, h_scim_group_get, "scim_group_get"),
    R("PUT",   "/api/v1/agreements/{license}/scim/v2/Groups/{id}", ACCESS_AGREEMENT_SUPER, CAP_PROVISIONING, BODY_SCIM, CTX_DOMAIN, h_scim_group_put, "scim_group_put"),
    R("PATCH", "/api/v1/agreements/{license}/scim/v2/Groups/{id}", ACCESS_AGREEMENT_SUPER, CAP_PROVISIONING, BODY_SCIM, CTX_DOMAIN, h_scim_group_patch, "scim_group_patch"),
    R("DELETE","/api/v1/agreements/{license}/scim/v2/Groups/{id}", ACCESS_AGREEMENT_SUPER, CAP_PROVISIONING, BODY_NONE, CTX_DOMAIN, h_scim_group_delete, "scim_group_delete"),
    /* The group → seat rules: the super admins. */
    R("GET",    "/api/v1/agreements/{license}/provisioning/mappings", ACCESS_AGREEMENT_SUPER, CAP_NONE, BODY_NONE, CTX_DOMAIN, h_scim_mappings_list, "scim_mappings_list"),
    R("PUT",    "/api/v1/agreements/{license}/provisioning/mappings", ACCESS_AGREEMENT_SUPER, CAP_NONE, BODY_JSON, CTX_DOMAIN, h_scim_mapping_put, "scim_mapping_put"),
    R("DELETE", "/api/v1/agreements/{license}/provisioning/mappings/{id}", ACCESS_AGREEMENT_SUPER, CAP_NONE, BODY_NONE, CTX_DOMAIN, h_scim_mapping_delete, "scim_mapping_delete"),
    R("POST",   "/api/v1/agreements/{license}/provisioning/mappings/preview", ACCESS_AGREEMENT_SUPER, CAP_NONE, BODY_JSON, CTX_DOMAIN, h_scim_mapping_preview, "scim_mapping_preview"),
    R("GET",    "/api/v1/agreements/{license}/provisioning/groups", ACCESS_AGREEMENT_SUPER, CAP_NONE, BODY_NONE, CTX_DOMAIN, h_scim_groups_summary, "scim_groups_summary"),
    R("GET",    "/api/v1/agreements/{license}/usage", ACCESS_AGREEMENT, CAP_USAGE, BODY_NONE, CTX_DOMAIN, h_usage, "usage"),
    R("GET",    "/api/v1/agreements/{license}/usage.csv", ACCESS_AGREEMENT, CAP_USAGE, BODY_NONE, CTX_DOMAIN, h_usage_csv, "usage_csv"),
    R("GET",    "/api/v1/me/subscriptions",        ACCESS_USER, CAP_NONE,   BODY_NONE, CTX_DOMAIN, h_my_subscriptions, "my_subscriptions"),
    R("POST",   "/api/v1/me/questions",            ACCESS_USER, CAP_NONE,   BODY_JSON, CTX_DOMAIN, h_my_question,     "my_question"),
    R("GET",    "/api/v1/openapi.yaml",            ACCESS_PUBLIC, CAP_NONE, BODY_NONE, CTX_NONE,   h_openapi,         "openapi"),
    /* partner requests: a partner organization asks to change its access (membership checked by the handler's domain call) */
    R("POST",   "/api/v1/partner-organizations/{org}/relationships/{id}/amendments", ACCESS_USER, CAP_NONE, BODY_JSON, CTX_DOMAIN, h_partner_amendment_create, "partner_amendment_create"),
    /* operations */
    R("GET",    "/healthz",                        ACCESS_PUBLIC, CAP_NONE, BODY_NONE, CTX_NONE,   h_healthz,         "healthz"),
    R("GET",    "/metrics",                        ACCESS_PUBLIC, CAP_NONE, BODY_NONE, CTX_NONE,   h_metrics,         "metrics"),
    /* web UI: pages of the single-page app, then its static files */
    R("GET",    "/",                               ACCESS_PUBLIC, CAP_NONE, BODY_NONE, CTX_NONE,   static_page,       "page"),
    R("GET",    "/signin",                         ACCESS_PUBLIC, CAP_NONE, BODY_NONE, CTX_NONE,   static_page,       "page"),
    R("GET",    "/signup",                         ACCESS_PUBLIC, CAP_NONE, BODY_NONE, CTX_NONE,   static_page,       "page"),
    R("GET",    "/verify",                         ACCESS_PUBLIC, CAP_NONE, BODY_NONE, CTX_NONE,   static_page,       "page"),
    R("GET",    "/reset",                          ACCESS_PUBLIC, CAP_NONE, BODY_NONE, CTX_NONE,   static_page,       "page"),
    R("GET",    "/home",                           ACCESS_PUBLIC, CAP_NONE, BODY_NONE, CTX_NONE,   static_page,       "page"),
    R("GET",    "/account",                        ACCESS_PUBLIC, CAP_NONE, BODY_NONE, CTX_NONE,   static_page,       "page"),
    R("GET",    "/account/tokens",                 ACCESS_PUBLIC, CAP_NONE, BODY_NONE, CTX_NONE,   static_page,       "page"),
    R("GET",    "/handoff",                        ACCESS_PUBLIC, CAP_NONE, BODY_NONE, CTX_NONE,   static_page,       "page"),
    R("GET",    "/agreements/*",                   ACCESS_PUBLIC, CAP_NONE, BODY_NONE, CTX_NONE,   static_page,       "page"),
    R("GET",    "/lsc",                            ACCESS_PUBLIC, CAP_NONE, BODY_NONE, CTX_NONE,   static_page,       "page"),
    R("GET",    "/lsc/orders/new",                 ACCESS_PUBLIC, CAP_NONE, BODY_NONE, CTX_NONE,   static_page,       "page"),
    R("GET",    "/lsc/licenses/*",                 ACCESS_PUBLIC, CAP_NONE, BODY_NONE, CTX_NONE,   static_page,       "page"),
    R("GET",    "/partner-organization",           ACCESS_PUBLIC, CAP_NONE, BODY_NONE, CTX_NONE,   static_page,       "page"),
    R("GET",    "/css/*",                          ACCESS_PUBLIC, CAP_NONE, BODY_NONE, CTX_NONE,   static_file,       "static"),
    R("GET",    "/js/*",                           ACCESS_PUBLIC, CAP_NONE, BODY_NONE, CTX_NONE,   static_file,       "static"),
    R("GET",    "/i18n/*",                         ACCESS_PUBLIC, CAP_NONE, BODY_NONE, CTX_NONE,   static_file,       "static"),
    R("GET",    "/img/*",                          ACCESS_PUBLIC, CAP_NONE, BODY_NONE, CTX_NONE,   static_file,       "static"),
    R("GET",    "/favicon.ico",                    ACCESS_PUBLIC, CAP_NONE, BODY_NONE, CTX_NONE,   static_file,       "static"),
};

const int api_route_count = (int)(sizeof api_routes / sizeof api_routes[0]);
