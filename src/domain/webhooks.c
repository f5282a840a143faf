/* webhooks.c — see webhooks.h. */
#include "webhooks.h"
#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <string.h>
#include "core/limits.h"
#include "core/secret.h"
#include "domain/audit.h"
#include "domain/events.h"
#include "domain/partner_orgs.h"
#include "webhook/worker.h"

/* ---- owners and their transactions --------------------------------------------------- */

/* Begins the write transaction of the owner's scope and, for an organization, checks
 * inside it that the caller is still one of its admins. */
static os_err owner_begin(op_ctx *x, webhook_owner o) {
    if (o.agreement_id) return store_tx_begin_agreement(x->c, o.agreement_id);
    os_err e = store_tx_begin(x->c);
    if (e) return e;
    partner_org_rec org;
    e = porg_member(x, o.org_id, true, &org);
    return e ? store_tx_end(x->c, e) : OS_OK;
}

/* Reads: an organization's endpoints only to its admins. */
static os_err owner_may_read(op_ctx *x, webhook_owner o) {
    if (o.agreement_id) return OS_OK;
    partner_org_rec org;
    return porg_member(x, o.org_id, true, &org);
}

/* An audit entry's details: the endpoint's URL (with its filter and state when asked) and,
 * for an organization's endpoint, the organization. */
static const char *audit_details(op_ctx *x, webhook_owner o, const webhook_rec *w, bool state) {
    const char *org = o.org_id ? audit_id(x, o.org_id) : NULL;
    return state ? json_pairs(x->a, "url", w->url, "event_types", w->event_types[0] ? w->event_types : "*",
                              "enabled", w->enabled ? "true" : "false", org ? "partner_org" : NULL, org, NULL)
                 : json_pairs(x->a, "url", w->url, org ? "partner_org" : NULL, org, NULL);
}

/* ---- secrets ------------------------------------------------------------------------- */

static void new_secret(const app *a, char clear[WEBHOOK_SECRET_MAX], char **sealed, arena *ar) {
    unsigned char key[32];
    secret_random(key, sizeof key);
    size_t p = strlen(WEBHOOK_SECRET_PREFIX);
    memcpy(clear, WEBHOOK_SECRET_PREFIX, p);
    secret_b64std(key, sizeof key, clear + p, WEBHOOK_SECRET_MAX - p);
    size_t n = secret_seal_len(strlen(clear)) + 1;
    *sealed = arena_alloc(ar, n);
    secret_seal(a->keys.webhook_seal, clear, *sealed, n);
}

bool webhooks_secret_open(const app *a, const char *sealed, char out[WEBHOOK_SECRET_MAX]) {
    return sealed && secret_open(a->keys.webhook_seal, sealed, out, WEBHOOK_SECRET_MAX);
}

/* ---- addresses ----------------------------------------------------------------------- */

static bool v4_allowed(uint32_t ip) {
    uint8_t a = (uint8_t)(ip >> 24), b = (uint8_t)(ip >> 16);
    if (a == 0 || a == 10 || a == 127) return false;           /* this network, private, loopback */
    if (a == 100 && (b & 0xC0) == 64) return false;             /* shared address space (carrier NAT) */
    if (a == 169 && b == 254) return false;                     /* link-local (cloud metadata) */
    if (a == 172 && (b & 0xF0) == 16) return false;             /* private */
    if (a == 192 && b == 168) return false;                     /* private */
    if (a == 192 && b == 0 && (uint8_t)(ip >> 8) == 0) return false;   /* protocol assignments */
    if (a == 198 && (b & 0xFE) == 18) return false;             /* benchmarking */
    if (a >= 224) return false;                                 /* multicast, reserved, broadcast */
    return true;
}

bool webhooks_address_allowed(const struct sockaddr *sa, bool allow_private) {
    if (allow_private) return true;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)(const void *)sa;
        return v4_allowed(ntohl(s4->sin_addr.s_addr));
    }
    if (sa->sa_family != AF_INET6) return false;
    const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)sa;
    const uint8_t *b = s6->sin6_addr.s6_addr;
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static const uint8_t nat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
    /* An IPv4 address inside IPv6 (mapped, or NAT64's well-known prefix) is judged as IPv4. */
    if (!memcmp(b, mapped, 12) || !memcmp(b, nat64, 12))
        return v4_allowed((uint32_t)b[12] << 24 | (uint32_t)b[13] << 16 | (uint32_t)b[14] << 8 | b[15]);
    static const uint8_t zero[15] = {0};
    if (!memcmp(b, zero, 15) && (b[15] == 0 || b[15] == 1)) return false;   /* unspecified, loopback */
    if (!memcmp(b, zero, 12)) return false;                     /* IPv4-compatible (deprecated) */
    if (b[0] == 0xff) return false;                             /* multicast */
    if ((b[0] & 0xfe) == 0xfc) return false;                    /* unique-local */
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return false;    /* link-local */
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) return false;    /* site-local (deprecated) */
    return true;
}

/* Refuses, on `url`, what delivery would refuse anyway: what is not an absolute http(s)
 * URL, http:// and literal private addresses (without --webhooks-allow-private), a user
 * name or password. Names are resolved only when sending (their addresses may change). */
static void check_url(op_ctx *x, const char *url, field_errors *fe) {
    bool allow = x->app->cfg->webhooks_allow_private;
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *user = NULL, *pass = NULL;
    if (!u || curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) || curl_url_get(u, CURLUPART_HOST, &host, 0) || !*host) {
        fe_add(fe, "url", "url_invalid", "Enter a full address such as https://example.com/webhooks");
    } else if (strcmp(scheme, "https") && !(allow && !strcmp(scheme, "http"))) {
        fe_add(fe, "url", "url_not_https", "Use an https:// address");
    } else if (!curl_url_get(u, CURLUPART_USER, &user, 0) || !curl_url_get(u, CURLUPART_PASSWORD, &pass, 0)) {
        fe_add(fe, "url", "url_credentials", "Leave the user name and password out of the address");
    } else if (!allow) {
        /* A literal address (brackets stripped for IPv6), or the loopback name. */
        char lit[64] = "";
        size_t hl = strlen(host);
        if (host[0] == '[' && hl > 2 && hl - 2 < sizeof lit) memcpy(lit, host + 1, hl - 2);
        else if (hl < sizeof lit) memcpy(lit, host, hl);
        struct sockaddr_in s4 = {.sin_family = AF_INET};
        struct sockaddr_in6 s6 = {.sin6_family = AF_INET6};
        bool refused = false;
        if (inet_pton(AF_INET, lit, &s4.sin_addr) == 1)
            refused = !webhooks_address_allowed((const struct sockaddr *)&s4, false);
        else if (inet_pton(AF_INET6, lit, &s6.sin6_addr) == 1)
            refused = !webhooks_address_allowed((const struct sockaddr *)&s6, false);
        else
            refused = !strcasecmp(lit, "localhost") || (hl > 10 && !strcasecmp(host + hl - 10, ".localhost"));
        if (refused) fe_add(fe, "url", "url_private", "Use an address on the public internet");
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(user);
    curl_free(pass);
    curl_url_cleanup(u);
}

/* ",a,b," from the listed types (each a known one, else a field error naming it). */
static const char *types_text(op_ctx *x, const char *const *types, int n, field_errors *fe) {
    if (n == 0) return "";
    const char *acc = ",";
    for (int i = 0; i < n; i++) {
        if (!event_type_find(types[i])) {
            fe_add_params(fe, "event_types", "unknown_event_type", arena_printf(x->a, "Unknown event type %s", types[i]),
                          json_pairs(x->a, "type", types[i], NULL));
            continue;
        }
        if (strstr(acc, arena_printf(x->a, ",%s,", types[i]))) continue;    /* named twice: once is enough */
        acc = arena_printf(x->a, "%s%s,", acc, types[i]);
    }
    return acc;
}

int webhooks_types(arena *a, const char *stored, const char ***types) {
    int n = 0;
    for (const char *p = stored; p && *p; p++) n += *p == ',';
    *types = arena_alloc(a, sizeof **types * (size_t)(n > 0 ? n : 1));
    int k = 0;
    for (const char *p = stored; p && *p;) {
        const char *q = strchr(p + 1, ',');
        if (*p == ',' && q && q > p + 1) (*types)[k++] = arena_strndup(a, p + 1, (size_t)(q - p - 1));
        p = q ? q : p + strlen(p);
        if (q && !q[1]) break;
    }
    return k;
}

/* ---- endpoints ----------------------------------------------------------------------- */

os_err webhooks_list(op_ctx *x, webhook_owner o, webhook_rec **rows, int *n) {
    os_err e = owner_may_read(x, o);
    return e ? e : st_webhook_list(x->c, x->a, o, rows, n);
}

os_err webhooks_get(op_ctx *x, webhook_owner o, int64_t id, webhook_rec *out) {
    os_err e = owner_may_read(x, o);
    return e ? e : st_webhook_get(x->c, x->a, o, id, out);
}

os_err webhooks_create(op_ctx *x, webhook_owner o, const webhook_change *in, field_errors *fe, webhook_rec *out,
                       char secret[WEBHOOK_SECRET_MAX]) {
    webhook_rec w = {.owner = o, .description = in->description ? in->description : "", .enabled = in->enabled != 0,
                     .created_at = x->now, .updated_at = x->now, .created_by = x->actor_id};
    if (!in->url) fe_add(fe, "url", "required", "This field is required");
    else check_url(x, in->url, fe);
    w.url = in->url;
    w.event_types = types_text(x, in->types, in->set_types ? in->ntypes : 0, fe);
    if (!w.enabled) w.disabled_reason = "owner";
    if (fe_any(fe)) return OS_ERR_INVALID;
    char *sealed;
    new_secret(x->app, secret, &sealed, x->a);
    w.secret = sealed;
    os_err e = owner_begin(x, o);
    if (e) return e;
    int64_t have = 0;
    e = st_webhook_count(x->c, o, &have);
    if (!e && have >= LIMIT_WEBHOOKS_PER_OWNER) e = OS_ERR_CONFLICT;
    if (!e) e = st_webhook_add(x->c, &w, &w.id);
    if (!e)
        e = audit(x, "webhook.created", "webhook", audit_id(x, w.id), o.agreement_id,
                  audit_details(x, o, &w, true));
    if (!e) e = st_webhook_get(x->c, x->a, o, w.id, out);
    return store_tx_end(x->c, e);
}

os_err webhooks_update(op_ctx *x, webhook_owner o, int64_t id, const webhook_change *in, field_errors *fe,
                       webhook_rec *out) {
    if (in->url) check_url(x, in->url, fe);
    const char *types = in->set_types ? types_text(x, in->types, in->ntypes, fe) : NULL;
    if (fe_any(fe)) return OS_ERR_INVALID;
    os_err e = owner_begin(x, o);
    if (e) return e;
    webhook_rec w;
    e = st_webhook_get(x->c, x->a, o, id, &w);
    if (!e) {
        if (in->url) w.url = in->url;
        if (in->description) w.description = in->description;
        if (types) w.event_types = types;
        if (in->enabled == 1) {
            w.enabled = true;
            w.disabled_reason = NULL;
        } else if (in->enabled == 0 && w.enabled) {
            w.enabled = false;
            w.disabled_reason = "owner";
        }
        w.updated_at = x->now;
        e = st_webhook_update(x->c, &w);
    }
    if (!e)
        e = audit(x, "webhook.updated", "webhook", audit_id(x, w.id), o.agreement_id,
                  audit_details(x, o, &w, true));
    if (!e) e = st_webhook_get(x->c, x->a, o, id, out);
    return store_tx_end(x->c, e);
}

os_err webhooks_delete(op_ctx *x, webhook_owner o, int64_t id) {
    os_err e = owner_begin(x, o);
    if (e) return e;
    webhook_rec w;
    int64_t changed = 0;
    e = st_webhook_get(x->c, x->a, o, id, &w);
    if (!e) e = st_webhook_delete(x->c, o, id, &changed);
    if (!e && !changed) e = OS_ERR_NOT_FOUND;
    if (!e)
        e = audit(x, "webhook.deleted", "webhook", audit_id(x, w.id), o.agreement_id,
                  audit_details(x, o, &w, false));
    return store_tx_end(x->c, e);
}

os_err webhooks_rotate(op_ctx *x, webhook_owner o, int64_t id, webhook_rec *out, char secret[WEBHOOK_SECRET_MAX]) {
    char *sealed;
    new_secret(x->app, secret, &sealed, x->a);
    os_err e = owner_begin(x, o);
    if (e) return e;
    webhook_rec w;
    e = st_webhook_get(x->c, x->a, o, id, &w);
    if (!e) e = st_webhook_rotate(x->c, o, id, sealed, x->now + LIMIT_WEBHOOK_ROTATION_S, x->now);
    if (!e)
        e = audit(x, "webhook.secret_rotated", "webhook", audit_id(x, w.id), o.agreement_id,
                  audit_details(x, o, &w, false));
    if (!e) e = st_webhook_get(x->c, x->a, o, id, out);
    return store_tx_end(x->c, e);
}

os_err webhooks_ping(op_ctx *x, webhook_owner o, int64_t id, int64_t *delivery_id) {
    os_err e = owner_begin(x, o);
    if (e) return e;
    webhook_rec w;
    e = st_webhook_get(x->c, x->a, o, id, &w);
    if (!e) e = st_webhook_delivery_add(x->c, id, "webhook.ping", x->now, delivery_id);
    return store_tx_end(x->c, e);
}

os_err webhooks_deliveries(op_ctx *x, webhook_owner o, int64_t id, int64_t before_id, int limit,
                           webhook_delivery_rec **rows, int *n) {
    webhook_rec w;
    os_err e = webhooks_get(x, o, id, &w);
    return e ? e : st_webhook_deliveries(x->c, x->a, id, before_id, limit, rows, n);
}

os_err webhooks_delivery(op_ctx *x, webhook_owner o, int64_t id, int64_t delivery_id, webhook_delivery_rec *out,
                         webhook_attempt_rec **attempts, int *nattempts) {
    webhook_rec w;
    os_err e = webhooks_get(x, o, id, &w);
    if (!e) e = st_webhook_delivery_get(x->c, x->a, id, delivery_id, out);
    if (!e) e = st_webhook_attempts(x->c, x->a, delivery_id, LIMIT_WEBHOOK_ATTEMPTS_SHOWN, attempts, nattempts);
    return e;
}

os_err webhooks_redeliver(op_ctx *x, webhook_owner o, int64_t id, int64_t delivery_id) {
    os_err e = owner_begin(x, o);
    if (e) return e;
    webhook_rec w;
    e = st_webhook_get(x->c, x->a, o, id, &w);
    if (!e) e = st_webhook_redeliver(x->c, id, delivery_id, x->now);
    return store_tx_end(x->c, e);
}

/* ---- fan-out, retries, pruning --------------------------------------------------------- */

os_err webhooks_fanout(op_ctx *x, int64_t event_id, int64_t agreement_id, const char *type, int64_t relationship_id) {
    const event_type *t = event_type_find(type);
    if (!t) return OS_ERR_INTERNAL;
    x->webhooks_queued = true;
    return st_webhook_fanout(x->c, event_id, agreement_id, type, t->partner_capability, relationship_id, x->now);
}

void webhooks_wake(const op_ctx *x) {
    if (x && x->webhooks_queued) webhook_worker_wake(x->app->hooks);
}

int64_t webhooks_backoff(int64_t attempts) {
    /* About a day in all: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h; then it has failed. */
    static const int64_t after[] = {5, 300, 1800, 7200, 18000, 36000, 36000};
    if (attempts < 1 || attempts > (int64_t)(sizeof after / sizeof after[0])) return 0;
    return after[attempts - 1];
}

os_err webhooks_prune(store_conn *c, int64_t now) {
    return st_webhook_prune(c, now - (int64_t)LIMIT_WEBHOOK_KEEP_DAYS * 86400);
}
