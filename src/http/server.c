/* server.c — libmicrohttpd glue and the one request pipeline.
 *
 * Order, fixed here and nowhere else: route match → size limits → identify (session)
 * → CSRF (state-changing methods) → access rule → JSON body → handler → reply.
 * A handler therefore never sees an oversized, unauthenticated, forged or malformed
 * request. libmicrohttpd calls the access handler several times per request; the
 * request object is created by the URI-log callback (the first thing MHD does for a
 * request) and destroyed by the completion callback, after the reply has been sent,
 * which is why replies can point straight into the request arena.
 */
#include "server.h"
#include <arpa/inet.h>
#include <microhttpd.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include "core/limits.h"
#include "core/log.h"
#include "core/secret.h"
#include "http/metrics.h"

struct server {
    struct MHD_Daemon *d;
    const app *app;
    const route *routes;
    int nroutes;
    server_hooks hooks;
    atomic_int in_flight;
    int port;
};

typedef enum { STAGE_NEW, STAGE_BODY } stage;

typedef struct conn_req {
    req r;                 /* first member: a conn_req* is a req* */
    server *srv;
    stage stage;
} conn_req;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- reply helpers (declared in http.h) ---- */

/* A reply replacing a file reply (a problem after reply_file) must not leak its descriptor. */
static void drop_file(req *r) {
    if (r->file_fd >= 0) close(r->file_fd);
    r->file_fd = -1;
    r->file_size = 0;
}

jw *reply_json(req *r, int status) {
    drop_file(r);
    r->status = status;
    r->content_type = "application/json";
    r->replied = true;
    buf_reset(&r->out);
    jw_init(&r->w, &r->out);
    return &r->w;
}

void reply_bytes(req *r, int status, const char *content_type, const char *data, size_t len) {
    drop_file(r);
    r->w.out = NULL;   /* not written by the JSON writer: nothing for send_reply to check */
    r->status = status;
    r->content_type = content_type;
    r->replied = true;
    buf_reset(&r->out);
    r->out.max = len > r->out.max ? len : r->out.max;
    buf_append(&r->out, data, len);
}

void reply_empty(req *r, int status) {
    drop_file(r);
    r->w.out = NULL;
    r->status = status;
    r->content_type = NULL;
    r->replied = true;
    buf_reset(&r->out);
}

/* RFC 8187 attr-char: what may stand unescaped in filename*=UTF-8''… */
static bool attr_char(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || strchr("!#$&+-.^_`|~", c);
}

void reply_file(req *r, int status, const char *content_type, int fd, uint64_t size, const char *download_name) {
    reply_empty(r, status);
    r->content_type = content_type;
    r->file_fd = fd;
    r->file_size = size;
    /* filename="…" for clients that only know the quoted form (ASCII; anything else, and
     * quotes or backslashes that would end or escape it, become '_'), filename*= for the
     * exact name. */
    buf b;
    buf_init(&b, &r->a, 4096);
    buf_puts(&b, "attachment; filename=\"");
    for (const unsigned char *p = (const unsigned char *)download_name; *p; p++)
        buf_putc(&b, *p < 0x20 || *p >= 0x7f || *p == '"' || *p == '\\' ? '_' : (char)*p);
    buf_puts(&b, "\"; filename*=UTF-8''");
    for (const unsigned char *p = (const unsigned char *)download_name; *p; p++)
        if (attr_char(*p)) buf_putc(&b, (char)*p);
        else buf_printf(&b, "%%%02X", *p);
    reply_header(r, "Content-Disposition", b.overflow ? "attachment" : b.data);
}

void reply_header(req *r, const char *name, const char *value) {
    if (r->nheaders < MAX_RESP_HEADERS) r->headers[r->nheaders++] = (header_kv){name, value};
}

void reply_redirect(req *r, const char *location) {
    reply_empty(r, 303);
    reply_header(r, "Location", location);
}

void reply_cookie(req *r, const char *name, const char *value, const char *same_site, long max_age) {
    buf b;
    buf_init(&b, &r->a, 1024);
    buf_printf(&b, "%s=%s; Path=/; HttpOnly; SameSite=%s", name, value, same_site);
    if (max_age >= 0) buf_printf(&b, "; Max-Age=%ld", max_age);
    if (r->app->cookie_secure || r->https) buf_puts(&b, "; Secure");
    reply_header(r, "Set-Cookie", b.data);
}

const char *req_header(req *r, const char *name) {
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *req_cookie(req *r, const char *name) {
    return MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, name);
}

const char *req_param(req *r, int i) { return i >= 0 && i < r->nparams ? r->params[i] : NULL; }

bool req_param_id(req *r, int i, int64_t *id) {
    const char *p = req_param(r, i);
    char *end;
    if (!p || *p < '1' || *p > '9') return false;
    long long v = strtoll(p, &end, 10);
    if (*end || v <= 0) return false;
    *id = v;
    return true;
}

/* ---- routing ---- */

int route_match(const route *routes, int nroutes, const char *method, const char *path, const char **params,
                int *nparams, bool *path_matched) {
    *path_matched = false;
    for (int i = 0; i < nroutes; i++) {
        const char *p = routes[i].pattern, *u = path;
        int np = 0;
        bool ok = true;
        while (*p && ok) {
            if (*p == '*' && p[1] == 0) { u += strlen(u); p++; break; }
            if (*p == '{') {
                const char *close = strchr(p, '}');
                size_t n = strcspn(u, "/");
                if (!close || n == 0 || np >= MAX_PATH_PARAMS) { ok = false; break; }
                if (params) params[np] = u;   /* fixed up below: caller copies with length */
                np++;
                u += n;
                p = close + 1;
                continue;
            }
            if (*p != *u) ok = false;
            p++;
            u++;
        }
        if (!ok || *p || *u) continue;
        *path_matched = true;
        if (strcmp(routes[i].method, method) == 0 ||
            (strcmp(method, "HEAD") == 0 && strcmp(routes[i].method, "GET") == 0)) {
            if (nparams) *nparams = np;
            return i;
        }
    }
    return -1;
}

/* Copies each {param} capture (up to the next '/') into the arena. */
static void capture_params(req *r) {
    for (int i = 0; i < r->nparams; i++) {
        size_t n = strcspn(r->params[i], "/");
        r->params[i] = url_decode(&r->a, r->params[i], n, false);
    }
}

static void allow_header(req *r, const route *routes, int nroutes) {
    buf b;
    buf_init(&b, &r->a, 256);
    for (int i = 0; i < nroutes; i++) {
        bool pm;
        const char *m = routes[i].method;
        if (route_match(&routes[i], 1, m, r->path, NULL, NULL, &pm) == 0) {
            if (b.len) buf_puts(&b, ", ");
            buf_puts(&b, m);
        }
    }
    reply_header(r, "Allow", b.data ? b.data : "");
}

/* ---- MHD callbacks ---- */

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn) {
    server *s = cls;
    conn_req *cr = calloc(1, sizeof *cr);
    if (!cr) return NULL;
    req *r = &cr->r;
    cr->srv = s;
    atomic_fetch_add(&s->in_flight, 1);
    arena_init(&r->a, LIMIT_ARENA_BYTES);
    r->app = s->app;
    r->conn = conn;
    r->t_start = now_s();
    r->now = (int64_t)time(NULL);
    r->route_index = -1;
    r->status = 500;
    r->file_fd = -1;
    fe_init(&r->fe, &r->a);
    buf_init(&r->out, &r->a, 64u * 1024 * 1024);
    const char *q = strchr(uri, '?');
    if (q) r->raw_query = arena_strdup(&r->a, q + 1);
    secret_request_id(r->request_id);
    return cr;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
    server *s = cls;
    conn_req *cr = *con_cls;
    if (!cr) return;
    req *r = &cr->r;
    double dt = now_s() - r->t_start;
    if (r->method) {
        metrics_observe(s->app->metrics, r->route_index, r->status, dt);
        char ms[32], st[8], uid[24];
        snprintf(ms, sizeof ms, "%.3f", dt * 1000);
        snprintf(st, sizeof st, "%d", r->status);
        snprintf(uid, sizeof uid, "%lld", (long long)r->user_id);
        log_event(LOG_INFO, "request", "request_id", r->request_id, "method", r->method, "path", r->path,
                  "route", r->route ? r->route->name : "-", "status", st, "ms", ms, "user", uid,
                  "client", r->client_addr ? r->client_addr : "-",
                  "completed", toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "ok" : "aborted", NULL);
    }
    if (r->json) json_decref(r->json);
    drop_file(r);   /* a file reply that was never queued */
    arena_free(&r->a);
    free(cr);
    *con_cls = NULL;
    atomic_fetch_sub(&s->in_flight, 1);
}

static const char *client_address(req *r, bool trust_proxy) {
    if (trust_proxy) {
        const char *xff = req_header(r, "X-Forwarded-For");
        if (xff && *xff) {
            /* The last hop is the one our own load balancer appended. */
            const char *last = strrchr(xff, ',');
            const char *v = text_trim(&r->a, last ? last + 1 : xff);
            if (strlen(v) <= 64 && *v) return v;
        }
    }
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    char tmp[INET6_ADDRSTRLEN] = "?";
    if (ci && ci->client_addr) {
        const struct sockaddr *sa = ci->client_addr;
        if (sa->sa_family == AF_INET)
            inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, tmp, sizeof tmp);
        else if (sa->sa_family == AF_INET6)
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, tmp, sizeof tmp);
    }
    return arena_strdup(&r->a, tmp);
}

static bool is_state_changing(const char *m) {
    return strcmp(m, "GET") && strcmp(m, "HEAD") && strcmp(m, "OPTIONS");
}

/* Documents get the full policy. Other answers (JSON, scripts, styles) cannot run anything
 * when opened on their own, so a short deny-all policy protects them with fewer bytes on
 * every API call. */
static void add_security_headers(struct MHD_Response *resp, const req *r) {
    bool html = r->content_type && !strncmp(r->content_type, "text/html", 9);
    if (html) {
        MHD_add_response_header(resp, "Content-Security-Policy",
                                "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                                "connect-src 'self'; font-src 'self'; object-src 'none'; frame-ancestors 'none'; "
                                "base-uri 'none'; form-action 'self'");
        MHD_add_response_header(resp, "X-Frame-Options", "DENY");
        MHD_add_response_header(resp, "Cross-Origin-Opener-Policy", "same-origin");
        MHD_add_response_header(resp, "Permissions-Policy", "camera=(), microphone=(), geolocation=()");
    } else {
        MHD_add_response_header(resp, "Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
    }
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    /* Reset and verification tokens travel in URLs: never leak them in a Referer. */
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(resp, "Cross-Origin-Resource-Policy", "same-origin");
    if (r->https) MHD_add_response_header(resp, "Strict-Transport-Security", "max-age=31536000");
}

static enum MHD_Result send_reply(req *r) {
    if (!r->replied) problem_reply(r, OS_ERR_INTERNAL);
    if (r->w.out && !jw_ok(&r->w)) {
        /* The writer refused something (invalid UTF-8 from the database, overflow):
         * never send half a document. */
        log_event(LOG_ERROR, "response JSON invalid", "request_id", r->request_id, NULL);
        r->fe.count = 0;
        r->fe.head = r->fe.tail = NULL;
        problem_reply(r, OS_ERR_INTERNAL);
    }
    bool head = r->method && strcmp(r->method, "HEAD") == 0;
    struct MHD_Response *resp;
    if (r->file_fd >= 0) {
        /* MHD sends the file (sendfile where it can) and closes fd with the response. */
        resp = MHD_create_response_from_fd64(r->file_size, r->file_fd);
        if (!resp) {
            drop_file(r);
            return MHD_NO;
        }
        r->file_fd = -1;
    } else {
        resp = MHD_create_response_from_buffer(head ? 0 : r->out.len, r->out.data ? r->out.data : (void *)"",
                                               MHD_RESPMEM_PERSISTENT);
    }
    if (!resp) return MHD_NO;
    if (r->content_type) {
        const char *ct = r->content_type;
        if (!strcmp(ct, "application/json") || !strcmp(ct, "application/problem+json"))
            ct = arena_printf(&r->a, "%s; charset=utf-8", ct);
        MHD_add_response_header(resp, "Content-Type", ct);
    }
    add_security_headers(resp, r);
    MHD_add_response_header(resp, "X-Request-Id", r->request_id);
    bool has_cache = false;
    for (int i = 0; i < r->nheaders; i++) {
        MHD_add_response_header(resp, r->headers[i].name, r->headers[i].value);
        if (!strcasecmp(r->headers[i].name, "Cache-Control")) has_cache = true;
    }
    if (!has_cache) MHD_add_response_header(resp, "Cache-Control", "no-store");
    enum MHD_Result ret = MHD_queue_response(r->conn, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static void run_pipeline(server *s, req *r) {
    const route *rt = r->route;
    os_err e;
    if ((e = s->hooks.identify(r))) { problem_reply(r, e); return; }
    if (is_state_changing(r->method) && !s->hooks.csrf_ok(r)) {
        problem_reply_status(r, 403, "csrf", "Missing or invalid CSRF token; reload the page and try again");
        return;
    }
    if (rt->access != ACCESS_PUBLIC && r->user_id == 0) {
        problem_reply_status(r, 401, "unauthenticated", "Sign in to continue");
        return;
    }
    if (rt->access == ACCESS_AGREEMENT || rt->access == ACCESS_AGREEMENT_SUPER) {
        /* The hook applies the route's rule (super admins only, read-only agreements) and
         * answers a refusal itself. */
        if ((e = s->hooks.agreement(r))) {
            problem_reply(r, e);
            return;
        }
        if (r->replied) return;
    }
    if (rt->body == BODY_JSON) {
        char detail[256];
        if (body_parse_json(r->body.data ? r->body.data : "", r->body.len, &r->json, detail, sizeof detail)) {
            problem_reply_status(r, 400, "malformed_json", arena_strdup(&r->a, detail));
            return;
        }
    }
    e = rt->fn(r);
    if (e) problem_reply(r, e);
    else if (!r->replied) reply_empty(r, 204);
}

static bool content_type_is_json(const char *ct) {
    if (!ct) return false;
    size_t n = strcspn(ct, ";");
    while (n && ct[n - 1] == ' ') n--;
    return n == 16 && strncasecmp(ct, "application/json", 16) == 0;
}

/* 413 naming the limit: uploads in megabytes (a person chose a file), bodies in bytes. */
static void too_large(req *r, size_t limit) {
    const char *what = r->route && r->route->body == BODY_UPLOAD
                           ? arena_printf(&r->a, "The file is larger than the %zu MB limit", limit / (1024 * 1024))
                           : arena_printf(&r->a, "The request body is larger than %zu bytes", limit);
    problem_reply_status(r, 413, "too_large", what);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls) {
    server *s = cls;
    conn_req *cr = *con_cls;
    if (!cr) return MHD_NO;   /* allocation failed in on_uri */
    req *r = &cr->r;

    if (cr->stage == STAGE_NEW) {
        cr->stage = STAGE_BODY;
        r->method = arena_strdup(&r->a, method);
        r->path = arena_strdup(&r->a, url);
        r->client_addr = client_address(r, s->app->cfg->trust_proxy);
        const char *proto = s->app->cfg->trust_proxy ? req_header(r, "X-Forwarded-Proto") : NULL;
        r->https = proto && !strcasecmp(proto, "https");
        bool path_matched;
        r->route_index = route_match(s->routes, s->nroutes, method, url, r->params, &r->nparams, &path_matched);
        if (strlen(url) > LIMIT_URL_BYTES || (r->raw_query && strlen(r->raw_query) > LIMIT_URL_BYTES)) {
            problem_reply_status(r, 414, "too_large", "The URL is too long");
            return send_reply(r);
        }
        if (!qs_parse(&r->a, r->raw_query, r->raw_query ? strlen(r->raw_query) : 0, LIMIT_QUERY_PARAMS, &r->query)) {
            problem_reply_status(r, 400, "bad_query", "The query string is malformed or has too many parameters");
            return send_reply(r);
        }
        if (r->route_index < 0) {
            r->route_index = -1;
            if (path_matched) {
                problem_reply_status(r, 405, "method_not_allowed", "This method is not allowed on this path");
                allow_header(r, s->routes, s->nroutes);   /* after: a problem reply resets headers */
            } else {
                problem_reply_status(r, 404, "not_found", "No such page or API route");
            }
            return send_reply(r);
        }
        r->route = &s->routes[r->route_index];
        capture_params(r);
        size_t limit = r->route->body == BODY_UPLOAD ? (size_t)s->app->cfg->max_upload
                     : r->route->body == BODY_JSON   ? (size_t)s->app->cfg->max_body
                                                     : 0;
        /* An upload is held in the request's memory, then its table of cells, then what is
         * made of its rows: room for all three, on top of an ordinary request's. */
        if (r->route->body == BODY_UPLOAD) r->a.limit += LIMIT_UPLOAD_ARENA_FACTOR * limit;
        buf_init(&r->body, &r->a, limit);
        const char *cl = req_header(r, "Content-Length");
        if (cl && strtoull(cl, NULL, 10) > limit && r->route->body != BODY_NONE) {
            too_large(r, limit);
            return send_reply(r);
        }
        if (r->route->body == BODY_JSON && is_state_changing(method) &&
            !content_type_is_json(req_header(r, "Content-Type"))) {
            problem_reply_status(r, 415, "unsupported_media_type", "Send the body as application/json");
            return send_reply(r);
        }
        return MHD_YES;
    }

    if (*upload_data_size) {
        /* Keep draining so the connection stays usable; remember that it overflowed. */
        if (r->route->body != BODY_NONE && !r->body_too_large && !buf_append(&r->body, upload_data, *upload_data_size))
            r->body_too_large = true;
        *upload_data_size = 0;
        return MHD_YES;
    }

    if (r->body_too_large) {
        too_large(r, r->body.max);
        return send_reply(r);
    }
    run_pipeline(s, r);
    return send_reply(r);
}

/* ---- start / stop ---- */

server *server_start(const app *a, const route *routes, int nroutes, const server_hooks *hooks, char *err,
                     size_t errlen) {
    server *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->app = a;
    s->routes = routes;
    s->nroutes = nroutes;
    s->hooks = *hooks;
    struct sockaddr_in6 sa6;
    struct sockaddr_in sa4;
    struct sockaddr *sa;
    unsigned flags = MHD_USE_AUTO | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG;
    memset(&sa4, 0, sizeof sa4);
    memset(&sa6, 0, sizeof sa6);
    if (inet_pton(AF_INET, a->cfg->bind, &sa4.sin_addr) == 1) {
        sa4.sin_family = AF_INET;
        sa4.sin_port = htons((uint16_t)a->cfg->port);
        sa = (struct sockaddr *)&sa4;
    } else if (inet_pton(AF_INET6, a->cfg->bind, &sa6.sin6_addr) == 1) {
        sa6.sin6_family = AF_INET6;
        sa6.sin6_port = htons((uint16_t)a->cfg->port);
        sa = (struct sockaddr *)&sa6;
        flags |= MHD_USE_IPv6;
    } else {
        snprintf(err, errlen, "--bind: \"%s\" is not an IPv4 or IPv6 address", a->cfg->bind);
        free(s);
        return NULL;
    }
    s->d = MHD_start_daemon(flags, (uint16_t)a->cfg->port, NULL, NULL, on_request, s,
                            MHD_OPTION_SOCK_ADDR, sa,
                            MHD_OPTION_URI_LOG_CALLBACK, on_uri, s,
                            MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                            MHD_OPTION_THREAD_POOL_SIZE, (unsigned)a->cfg->threads,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)LIMIT_CONN_TIMEOUT_S,
                            MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)LIMIT_HEADER_BYTES * 2,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)LIMIT_CONNECTIONS,
                            MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)LIMIT_CONN_PER_IP,
                            MHD_OPTION_END);
    if (!s->d) {
        snprintf(err, errlen, "cannot listen on %s:%ld (port in use, or no permission)", a->cfg->bind, a->cfg->port);
        free(s);
        return NULL;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di ? di->port : (int)a->cfg->port;
    return s;
}

int server_port(const server *s) { return s->port; }

void server_stop(server *s) {
    if (!s) return;
    /* Stop accepting; requests already being served finish (up to the grace period). */
    MHD_socket fd = MHD_quiesce_daemon(s->d);
    double until = now_s() + LIMIT_SHUTDOWN_GRACE_S;
    while (atomic_load(&s->in_flight) > 0 && now_s() < until) usleep(10000);
    MHD_stop_daemon(s->d);
    if (fd != MHD_INVALID_SOCKET) close(fd);
    free(s);
}
