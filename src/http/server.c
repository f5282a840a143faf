/* server.c — libmicrohttpd glue and the one request pipeline.
 *
 * Order, fixed here and nowhere else (docs/architecture.md walks it): head checks (size,
 * Host, URL length) → route match on the raw path → body limits → body → identify
 * (API token or session; a session-only route refuses a token) → CSRF (state-changing
 * methods) → access rule → JSON body → domain context
 * (routes that use the database, route.ctx) → handler → reply.
 * A handler therefore never sees an oversized, unauthenticated, forged or malformed
 * request. libmicrohttpd calls the access handler several times per request; the
 * request object is created by the URI-log callback (the first thing MHD does for a
 * request) and destroyed by the completion callback, after the reply has been sent,
 * which is why replies can point straight into the request arena.
 *
 * With the route match, the path as sent is checked (route.c): a NUL, a malformed escape
 * or bytes that are not UTF-8 are a 400 `bad_path`; before it, an HTTP/1.1 request
 * without Host is a 400 `missing_host` and a head over LIMIT_HEADER_BYTES a 431.
 *
 * Slow clients. libmicrohttpd's timeout is an idle timeout: a client that sends one
 * header line every few seconds is never idle and could hold a connection for ever, and
 * enough of them fill every slot. So every connection is tracked from accept to close
 * (MHD_OPTION_NOTIFY_CONNECTION) with its phase — waiting for a request head, receiving
 * a body, being answered — and a sweeper thread checks the deadlines every
 * LIMIT_SWEEP_MS: a head not complete --head-timeout seconds after its first byte, or a
 * body below --body-min-rate over a --body-rate-window, gets its socket shut down.
 * shutdown(2), not close(2): the descriptor stays libmicrohttpd's, which sees the end
 * of the stream in its own thread and closes and accounts for the connection as usual,
 * so nothing is freed under it and the descriptor number cannot be reused while we
 * still hold it (the registry lock is held across the shutdown, and a connection leaves
 * the registry before libmicrohttpd closes its descriptor). The first byte of a head is
 * seen through TCP_INFO (time since data last arrived), so a kept-alive connection that
 * is merely idle between requests is left to the idle timeout. Caps on connections in
 * total (bounded by the open-file limit, raised to its hard maximum at start) and per
 * client address are libmicrohttpd's; near the total cap, connections waiting for a head
 * longer than LIMIT_PRESSURE_WAIT_MS are closed to make room. Polling is epoll (poll
 * where there is none), never select, which cannot watch descriptors past FD_SETSIZE.
 */
#include "server.h"
#include <arpa/inet.h>
#include <microhttpd.h>
#include <setjmp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "core/limits.h"
#include "core/log.h"
#include "core/secret.h"
#include "http/fault.h"
#include "http/metrics.h"

/* A connection's phase, for the sweeper. */
enum { PHASE_HEAD = 0, PHASE_BODY = 1, PHASE_BUSY = 2 };

/* One open connection, from libmicrohttpd's "started" notification to its "closed" one. */
typedef struct conn_track {
    struct conn_track *prev, *next;   /* the registry list (under server.lock) */
    int fd;
    /* Written by the connection's thread: the phase and when it began, in one word
     * (ms << 2 | phase) so the sweeper never pairs one phase with another's start. */
    _Atomic uint64_t state;
    _Atomic uint64_t body_bytes;      /* bytes of the current body received so far */
    /* The sweeper's own, valid for the state seen_state. */
    uint64_t seen_state;
    int64_t first_byte_ms;            /* PHASE_HEAD: when the head's first byte came; 0: not yet */
    int64_t window_ms;                /* PHASE_BODY: start of the rate window */
    uint64_t window_bytes;            /* body_bytes at that start */
    bool cut;                         /* shut down; waiting for libmicrohttpd to close it */
} conn_track;

struct server {
    struct MHD_Daemon *d;
    const app *app;
    const route *routes;
    int nroutes;
    server_hooks hooks;
    atomic_int in_flight;
    int port;
    /* connection registry and deadlines */
    pthread_mutex_t lock;
    conn_track *conns;
    long nconns;
    long max_conns;                   /* the cap in force (after the open-file limit) */
    pthread_t sweeper;
    bool sweeper_started;
    atomic_bool stopping;
};

typedef enum { STAGE_NEW, STAGE_BODY } stage;

typedef struct conn_req {
    req r;                 /* first member: a conn_req* is a req* */
    server *srv;
    stage stage;
    conn_track *track;     /* NULL when it could not be allocated */
    const char *raw_path;  /* the request target's path as sent, up to '?' */
    size_t raw_uri_len;    /* strlen of the request target as libmicrohttpd gave it */
} conn_req;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void track_phase(conn_track *t, int phase) {
    if (!t) return;
    if (phase == PHASE_BODY) atomic_store(&t->body_bytes, 0);
    atomic_store(&t->state, (uint64_t)now_ms() << 2 | (uint64_t)phase);
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

void reply_fd(req *r, int status, const char *content_type, int fd, uint64_t size) {
    reply_empty(r, status);
    r->content_type = content_type;
    r->file_fd = fd;
    r->file_size = size;
}

void reply_file(req *r, int status, const char *content_type, int fd, uint64_t size, const char *download_name) {
    reply_fd(r, status, content_type, fd, size);
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

bool req_if_none_match(req *r, const char *etag) {
    const char *h = req_header(r, "If-None-Match");
    if (!h || !etag) return false;
    size_t want = strlen(etag);
    /* A list of entity tags separated by commas; the header's length is bounded by the
     * request's header limit. */
    for (const char *p = h; *p;) {
        while (*p == ' ' || *p == '\t' || *p == ',') p++;
        if (!*p) break;
        const char *end = p;
        if (*p == '"' || !strncmp(p, "W/\"", 3)) {
            if (*p == 'W') p += 2;
            end = strchr(p + 1, '"');
            if (!end) return false;
            end++;
        } else {
            while (*end && *end != ',' && *end != ' ' && *end != '\t') end++;
            if (end - p == 1 && *p == '*') return true;
        }
        if ((size_t)(end - p) == want && !memcmp(p, etag, want)) return true;
        p = end;
    }
    return false;
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

/* ---- routing (route.c) ---- */

/* The path as sent, for the problem's instance and the log when it cannot be decoded:
 * anything but printable ASCII escaped, so it is always valid UTF-8 and has no NUL. */
static const char *printable_path(arena *a, const char *raw, size_t n) {
    buf b;
    buf_init(&b, a, 3 * n + 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)raw[i];
        if (c > 0x20 && c < 0x7f) buf_putc(&b, (char)c);
        else buf_printf(&b, "%%%02X", c);
    }
    return b.data ? b.data : "";
}

static void allow_header(req *r, const route *routes, int nroutes) {
    buf b;
    buf_init(&b, &r->a, 256);
    for (int i = 0; i < nroutes; i++) {
        bool pm;
        const char *m = routes[i].method;
        if (route_match(&routes[i], 1, m, ((conn_req *)r)->raw_path, NULL, NULL, &pm) == 0) {
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
    arena_init(&r->a, (size_t)s->app->cfg->request_memory);
    r->app = s->app;
    r->conn = conn;
    r->t_start = now_s();
    r->now = (int64_t)time(NULL);
    r->route_index = -1;
    r->status = 500;
    r->file_fd = -1;
    fe_init(&r->fe, &r->a);
    buf_init(&r->out, &r->a, 64u * 1024 * 1024);
    /* The target as sent, before libmicrohttpd decodes it in place: routing and the path
     * checks work on this. */
    cr->raw_uri_len = strlen(uri);
    const char *q = strchr(uri, '?');
    cr->raw_path = arena_strndup(&r->a, uri, q ? (size_t)(q - uri) : cr->raw_uri_len);
    if (q) r->raw_query = arena_strdup(&r->a, q + 1);
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    cr->track = ci ? ci->socket_context : NULL;
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
    /* The connection now waits for its next request head (if it stays open). */
    track_phase(cr->track, PHASE_HEAD);
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

/* The last resort when even the internal-error problem cannot be written (no memory
 * left in the request's arena): static, so it needs none. Not const only because the reply
 * buffer's type is writable; nothing writes it. */
static char internal_problem[] =
    "{\"type\":\"urn:openseat:problem:internal\",\"title\":\"Internal error\",\"status\":500,"
    "\"detail\":\"Something went wrong on our side\",\"instance\":\"/\",\"code\":\"internal\"}";

static enum MHD_Result send_reply(req *r) {
    conn_req *cr = (conn_req *)r;
    track_phase(cr->track, PHASE_BUSY);
    if (!r->replied) problem_reply(r, OS_ERR_INTERNAL);
    if (r->w.out && !jw_ok(&r->w)) {
        /* The writer refused something (invalid UTF-8 from the database, overflow):
         * never send half a document. The replacement is written only from values that
         * are known to be valid — not the handler's field errors or problem details, and
         * the path in its printable form — or it would fail the same way and go out cut
         * where the writer stopped. */
        log_event(LOG_ERROR, "response JSON invalid", "request_id", r->request_id, NULL);
        r->fe.count = 0;
        r->fe.head = r->fe.tail = NULL;
        r->problem_code = r->problem_detail = NULL;
        r->path = printable_path(&r->a, cr->raw_path, strlen(cr->raw_path));
        problem_reply(r, OS_ERR_INTERNAL);
        if (!jw_ok(&r->w)) {
            r->w.out = NULL;
            r->status = 500;
            r->content_type = "application/problem+json";
            r->nheaders = 0;
            r->out.data = internal_problem;
            r->out.len = sizeof internal_problem - 1;
        }
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

static void pipeline_steps(server *s, req *r) {
    const route *rt = r->route;
    os_err e;
    if ((e = s->hooks.identify(r))) { problem_reply(r, e); return; }
    if (r->replied) return;
    if (rt->session_only && r->token_id) {
        problem_reply_status(r, 403, "session_required", "Sign in to do this: an API token cannot");
        return;
    }
    if (is_state_changing(r->method) && !s->hooks.csrf_ok(r)) {
        problem_reply_status(r, 403, "csrf", "Missing or invalid CSRF token; reload the page and try again");
        return;
    }
    if (rt->access != ACCESS_PUBLIC && r->user_id == 0) {
        problem_reply_status(r, 401, "unauthenticated", "Sign in to continue");
        return;
    }
    if (rt->access == ACCESS_AGREEMENT || rt->access == ACCESS_AGREEMENT_PARTNERS ||
        rt->access == ACCESS_AGREEMENT_SUPER) {
        /* The hook applies the route's rule (who it admits, the capability it needs,
         * read-only agreements) and answers a refusal itself. */
        if ((e = s->hooks.agreement(r))) {
            problem_reply(r, e);
            return;
        }
        if (r->replied) return;
    }
    if (rt->body == BODY_JSON || rt->body == BODY_SCIM) {
        char detail[256];
        if (body_parse_json(r->body.data ? r->body.data : "", r->body.len, &r->json, detail, sizeof detail)) {
            problem_reply_status(r, 400, "malformed_json", arena_strdup(&r->a, detail));
            return;
        }
    }
    if (rt->ctx == CTX_DOMAIN && (e = s->hooks.context(r))) {
        problem_reply(r, e);
        return;
    }
    e = rt->fn(r);
    if (s->hooks.finish) s->hooks.finish(r);
    if (e) problem_reply(r, e);
    else if (!r->replied) reply_empty(r, 204);
}

/* The request ran out of its memory somewhere in the steps above (core/arena.h): whatever
 * those frames held outside the arena is released by its cleanups when the arena is
 * freed; here the thread's database connection is left clean for the next request, a
 * file reply already opened is closed, and the request alone gets its answer. */
static void too_costly(server *s, req *r) {
    size_t used = r->a.used_total, limit = r->a.limit;
    r->a.limit = used + LIMIT_TOO_COSTLY_RESERVE;
    if (s->hooks.abandon) s->hooks.abandon(r);
    drop_file(r);
    char u[24], l[24];
    snprintf(u, sizeof u, "%zu", used);
    snprintf(l, sizeof l, "%zu", limit);
    log_event(LOG_WARN, "request too costly", "request_id", r->request_id, "route", r->route->name, "used", u,
              "limit", l, NULL);
    metrics_too_costly(s->app->metrics);
    r->fe.count = 0;
    r->fe.head = r->fe.tail = NULL;
    r->problem_code = NULL;
    r->problem_detail = NULL;
    problem_reply_status(r, 503, "request_too_costly",
                         "This request needs more memory than the server gives one request: "
                         "narrow it (fewer rows, a shorter period) and try again");
}

/* The steps run with the request's arena armed: running out of it jumps back here
 * instead of stopping the process. */
static void run_pipeline(server *s, req *r) {
    jmp_buf escape;
    if (setjmp(escape)) {
        arena_arm(&r->a, NULL);
        too_costly(s, r);
        return;
    }
    arena_arm(&r->a, &escape);
    pipeline_steps(s, r);
    arena_arm(&r->a, NULL);
}

static bool content_type_is_json(const char *ct) {
    if (!ct) return false;
    size_t n = strcspn(ct, ";");
    while (n && ct[n - 1] == ' ') n--;
    /* SCIM clients (RFC 7644 §3.1) send application/scim+json: JSON by another name. */
    return (n == 16 && strncasecmp(ct, "application/json", 16) == 0) ||
           (n == 21 && strncasecmp(ct, "application/scim+json", 21) == 0);
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
        size_t raw_len = strlen(cr->raw_path);
        r->path = printable_path(&r->a, cr->raw_path, raw_len);   /* until it is decoded */
        r->client_addr = client_address(r, s->app->cfg->trust_proxy);
        const char *proto = s->app->cfg->trust_proxy ? req_header(r, "X-Forwarded-Proto") : NULL;
        r->https = proto && !strcasecmp(proto, "https");
        const union MHD_ConnectionInfo *hs = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
        if (hs && hs->header_size > LIMIT_HEADER_BYTES) {
            problem_reply_status(r, 431, "header_too_large",
                                 arena_printf(&r->a, "The request's line and headers are larger than %d bytes",
                                              LIMIT_HEADER_BYTES));
            return send_reply(r);
        }
        /* RFC 9112 §3.2: a server must answer 400 to an HTTP/1.1 request without Host. */
        if (!strcmp(version, MHD_HTTP_VERSION_1_1) && !req_header(r, "Host")) {
            problem_reply_status(r, 400, "missing_host", "An HTTP/1.1 request needs a Host header");
            return send_reply(r);
        }
        if (raw_len > LIMIT_URL_BYTES || (r->raw_query && strlen(r->raw_query) > LIMIT_URL_BYTES)) {
            problem_reply_status(r, 414, "too_large", "The URL is too long");
            return send_reply(r);
        }
        /* A raw NUL in the request target ends the string libmicrohttpd hands us, so it
         * cannot be seen in the target itself; but libmicrohttpd parses the request line
         * by length and gives the target and the version as pointers into that one line:
         * a target longer than its string held a NUL. It counts in raw_len, so the path
         * is refused below like an escaped one. */
        uintptr_t u = (uintptr_t)url, v = (uintptr_t)version;
        if (*version && v > u && v - u - 1 > cr->raw_uri_len && v - u <= 2 * LIMIT_CONN_BUFFER_BYTES) raw_len++;
        route_result rr;
        route_outcome ro = route_request(&r->a, s->routes, s->nroutes, method, cr->raw_path, raw_len, &rr);
        if (ro == ROUTE_BAD_PATH) {
            problem_reply_status(r, 400, "bad_path",
                                 "The path has a NUL byte, a malformed %-escape or bytes that are not UTF-8");
            return send_reply(r);
        }
        r->path = rr.path;
        if (!qs_parse(&r->a, r->raw_query, r->raw_query ? strlen(r->raw_query) : 0, LIMIT_QUERY_PARAMS, &r->query)) {
            problem_reply_status(r, 400, "bad_query", "The query string is malformed or has too many parameters");
            return send_reply(r);
        }
        if (ro != ROUTE_FOUND) {
            r->route_index = -1;
            if (ro == ROUTE_WRONG_METHOD) {
                problem_reply_status(r, 405, "method_not_allowed", "This method is not allowed on this path");
                allow_header(r, s->routes, s->nroutes);   /* after: a problem reply resets headers */
            } else {
                problem_reply_status(r, 404, "not_found", "No such page or API route");
            }
            return send_reply(r);
        }
        r->route_index = rr.index;
        r->route = &s->routes[r->route_index];
        r->nparams = rr.nparams;
        for (int k = 0; k < rr.nparams; k++) r->params[k] = rr.params[k];
        size_t max_body = (size_t)s->app->cfg->max_body;
        /* Identity providers may send a group whole, every member in one body. */
        size_t scim_body = max_body > LIMIT_SCIM_BODY_BYTES ? max_body : LIMIT_SCIM_BODY_BYTES;
        size_t limit = r->route->body == BODY_UPLOAD ? (size_t)s->app->cfg->max_upload
                     : r->route->body == BODY_JSON   ? max_body
                     : r->route->body == BODY_SCIM   ? scim_body
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
        if ((r->route->body == BODY_JSON || r->route->body == BODY_SCIM) && is_state_changing(method) &&
            !content_type_is_json(req_header(r, "Content-Type"))) {
            problem_reply_status(r, 415, "unsupported_media_type", "Send the body as application/json");
            return send_reply(r);
        }
        track_phase(cr->track, PHASE_BODY);
        return MHD_YES;
    }

    if (*upload_data_size) {
        if (cr->track) atomic_fetch_add(&cr->track->body_bytes, (uint64_t)*upload_data_size);
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
    /* The body is in: what follows is the server's work, which no client rate bounds. */
    track_phase(cr->track, PHASE_BUSY);
    bool faults = fault_request_begin(r);
    run_pipeline(s, r);
    if (faults) fault_request_end(r);
    return send_reply(r);
}

/* ---- connection registry and deadlines ---- */

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code) {
    server *s = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        conn_track *t = ci ? calloc(1, sizeof *t) : NULL;
        *socket_context = t;
        if (!t) return;   /* served without deadlines: only the idle timeout applies */
        t->fd = ci->connect_fd;
        track_phase(t, PHASE_HEAD);
        pthread_mutex_lock(&s->lock);
        t->next = s->conns;
        if (s->conns) s->conns->prev = t;
        s->conns = t;
        s->nconns++;
        pthread_mutex_unlock(&s->lock);
        return;
    }
    conn_track *t = *socket_context;
    if (!t) return;
    /* libmicrohttpd closes the descriptor after this returns: once out of the registry,
     * the sweeper can no longer shut it down. */
    pthread_mutex_lock(&s->lock);
    if (t->prev) t->prev->next = t->next;
    else s->conns = t->next;
    if (t->next) t->next->prev = t->prev;
    s->nconns--;
    pthread_mutex_unlock(&s->lock);
    free(t);
    *socket_context = NULL;
}

/* When the latest bytes on the socket arrived (monotonic ms), from the kernel's TCP
 * state; -1 when it cannot tell. */
static int64_t last_data_ms(int fd, int64_t now) {
    struct tcp_info ti;
    socklen_t len = sizeof ti;
    memset(&ti, 0, sizeof ti);
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0) return -1;
    return now - (int64_t)ti.tcpi_last_data_recv;
}

/* One pass over the registry; counts what it cut. The caller holds s->lock. */
static void sweep(server *s, int64_t now, int *cut_head, int *cut_body, int *cut_room) {
    const config *c = s->app->cfg;
    int64_t head_ms = c->head_timeout_s * 1000, window_ms = c->body_rate_window_s * 1000;
    bool pressure = s->nconns * 100 >= s->max_conns * LIMIT_PRESSURE_PERCENT;
    for (conn_track *t = s->conns; t; t = t->next) {
        if (t->cut) continue;
        uint64_t st = atomic_load(&t->state);
        int phase = (int)(st & 3);
        int64_t since = (int64_t)(st >> 2);
        if (st != t->seen_state) {   /* a new phase: start its clocks */
            t->seen_state = st;
            t->first_byte_ms = 0;
            t->window_ms = since;
            t->window_bytes = 0;
        }
        int *why = NULL;
        if (phase == PHASE_HEAD) {
            if (!t->first_byte_ms) {
                /* Bytes that arrived after the phase began belong to this head (50 ms
                 * of margin for the kernel's coarser clock keep the previous request's
                 * last bytes out); until one is seen the connection is idle, which is
                 * the idle timeout's business. */
                int64_t last = last_data_ms(t->fd, now);
                if (last > since + 50) t->first_byte_ms = last;
            }
            if (t->first_byte_ms && now - t->first_byte_ms > head_ms) why = cut_head;
            else if (pressure && now - since > LIMIT_PRESSURE_WAIT_MS) why = cut_room;
        } else if (phase == PHASE_BODY && c->body_min_rate > 0 && now - t->window_ms >= window_ms) {
            uint64_t got = atomic_load(&t->body_bytes);
            if (got - t->window_bytes < (uint64_t)c->body_min_rate * (uint64_t)c->body_rate_window_s) why = cut_body;
            t->window_ms = now;
            t->window_bytes = got;
        }
        if (why) {
            shutdown(t->fd, SHUT_RDWR);
            t->cut = true;
            (*why)++;
        }
    }
}

static void *sweeper_main(void *arg) {
    server *s = arg;
    while (!atomic_load(&s->stopping)) {
        usleep(LIMIT_SWEEP_MS * 1000);
        int head = 0, body = 0, room = 0;
        pthread_mutex_lock(&s->lock);
        sweep(s, now_ms(), &head, &body, &room);
        long open = s->nconns;
        pthread_mutex_unlock(&s->lock);
        /* One line per pass, not one per connection: a flood must not flood the log. */
        if (head || body || room) {
            char h[16], b[16], r[16], o[24];
            snprintf(h, sizeof h, "%d", head);
            snprintf(b, sizeof b, "%d", body);
            snprintf(r, sizeof r, "%d", room);
            snprintf(o, sizeof o, "%ld", open);
            log_event(LOG_WARN, "slow connections closed", "head_overdue", h, "body_too_slow", b,
                      "to_make_room", r, "open", o, NULL);
        }
    }
    return NULL;
}

/* Raises the soft open-file limit to the hard one and returns the connection cap the
 * limit leaves room for (each connection is one descriptor; the rest of the process —
 * database connections, downloads, mail — gets LIMIT_FD_RESERVE and two per thread). */
static long connection_cap(const config *c) {
    struct rlimit rl;
    long cap = c->max_connections;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return cap;
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < rl.rlim_max) {
        struct rlimit want = {rl.rlim_max, rl.rlim_max};
        if (setrlimit(RLIMIT_NOFILE, &want) == 0) rl = want;
    }
    if (rl.rlim_cur == RLIM_INFINITY) return cap;
    long room = (long)rl.rlim_cur - LIMIT_FD_RESERVE - 2 * c->threads;
    if (room < cap) {
        char want[24], got[24], lim[24];
        snprintf(want, sizeof want, "%ld", cap);
        snprintf(got, sizeof got, "%ld", room > 16 ? room : 16);
        snprintf(lim, sizeof lim, "%ld", (long)rl.rlim_cur);
        log_event(LOG_WARN, "--max-connections lowered to fit the open-file limit (raise ulimit -n)",
                  "max_connections", want, "in_force", got, "open_files", lim, NULL);
        cap = room > 16 ? room : 16;
    }
    return cap;
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
    /* epoll (or poll): select() cannot watch a descriptor past FD_SETSIZE (1024). */
    unsigned flags = (MHD_is_feature_supported(MHD_FEATURE_EPOLL) == MHD_YES ? MHD_USE_EPOLL : MHD_USE_POLL) |
                     MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG;
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
    pthread_mutex_init(&s->lock, NULL);
    s->max_conns = connection_cap(a->cfg);
    s->d = MHD_start_daemon(flags, (uint16_t)a->cfg->port, NULL, NULL, on_request, s,
                            MHD_OPTION_SOCK_ADDR, sa,
                            MHD_OPTION_URI_LOG_CALLBACK, on_uri, s,
                            MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                            MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
                            MHD_OPTION_THREAD_POOL_SIZE, (unsigned)a->cfg->threads,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)LIMIT_CONN_TIMEOUT_S,
                            MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)LIMIT_CONN_BUFFER_BYTES,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)s->max_conns,
                            MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)a->cfg->max_connections_per_address,
                            MHD_OPTION_END);
    if (!s->d) {
        snprintf(err, errlen, "cannot listen on %s:%ld (port in use, or no permission)", a->cfg->bind, a->cfg->port);
        pthread_mutex_destroy(&s->lock);
        free(s);
        return NULL;
    }
    if (pthread_create(&s->sweeper, NULL, sweeper_main, s) != 0) {
        snprintf(err, errlen, "cannot start the connection deadline thread");
        MHD_stop_daemon(s->d);
        pthread_mutex_destroy(&s->lock);
        free(s);
        return NULL;
    }
    s->sweeper_started = true;
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
    /* The sweeper goes first: it must not shut down descriptors libmicrohttpd is closing. */
    atomic_store(&s->stopping, true);
    if (s->sweeper_started) pthread_join(s->sweeper, NULL);
    MHD_stop_daemon(s->d);
    if (fd != MHD_INVALID_SOCKET) close(fd);
    pthread_mutex_destroy(&s->lock);
    free(s);
}
