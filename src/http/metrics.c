/* metrics.c — see metrics.h. */
#include "metrics.h"
#include <stdatomic.h>
#include <stdlib.h>

static const int statuses[] = {200, 201, 202, 204, 301, 302, 303, 304, 400, 401, 403, 404, 405,
                               409, 410, 412, 413, 415, 422, 429, 500, 503};
#define NSTATUS ((int)(sizeof statuses / sizeof statuses[0]) + 1)   /* + "other" */
static const double bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};
#define NBUCKET ((int)(sizeof bounds / sizeof bounds[0]))

typedef struct route_stats {
    atomic_uint_fast64_t by_status[NSTATUS];
    atomic_uint_fast64_t buckets[NBUCKET + 1];   /* last: +Inf */
    atomic_uint_fast64_t sum_us;
} route_stats;

struct metrics {
    const route *routes;
    int nroutes;
    route_stats *stats;       /* nroutes + 1; the last is "unmatched" */
    atomic_uint_fast64_t too_costly;
};

metrics *metrics_new(const route *routes, int nroutes) {
    metrics *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->routes = routes;
    m->nroutes = nroutes;
    m->stats = calloc((size_t)nroutes + 1, sizeof *m->stats);
    if (!m->stats) { free(m); return NULL; }
    return m;
}

void metrics_free(metrics *m) {
    if (!m) return;
    free(m->stats);
    free(m);
}

void metrics_observe(metrics *m, int route_index, int status, double seconds) {
    if (!m) return;
    route_stats *s = &m->stats[route_index < 0 || route_index >= m->nroutes ? m->nroutes : route_index];
    int si = NSTATUS - 1;
    for (int i = 0; i < NSTATUS - 1; i++)
        if (statuses[i] == status) { si = i; break; }
    atomic_fetch_add_explicit(&s->by_status[si], 1, memory_order_relaxed);
    int b = NBUCKET;
    for (int i = 0; i < NBUCKET; i++)
        if (seconds <= bounds[i]) { b = i; break; }
    atomic_fetch_add_explicit(&s->buckets[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->sum_us, (uint_fast64_t)(seconds * 1e6), memory_order_relaxed);
}

void metrics_too_costly(metrics *m) {
    if (m) atomic_fetch_add_explicit(&m->too_costly, 1, memory_order_relaxed);
}

/* Labels: method and path pattern, unique per route (names may repeat, e.g. "page"). */
static const char *route_label(metrics *m, int i) { return i < m->nroutes ? m->routes[i].pattern : "unmatched"; }
static const char *method_label(metrics *m, int i) { return i < m->nroutes ? m->routes[i].method : "any"; }

void metrics_write(metrics *m, buf *out) {
    buf_puts(out, "# HELP openseat_http_requests_total HTTP requests by route and status.\n"
                  "# TYPE openseat_http_requests_total counter\n");
    for (int i = 0; i <= m->nroutes; i++)
        for (int k = 0; k < NSTATUS; k++) {
            uint64_t v = atomic_load_explicit(&m->stats[i].by_status[k], memory_order_relaxed);
            if (!v) continue;
            if (k < NSTATUS - 1)
                buf_printf(out, "openseat_http_requests_total{method=\"%s\",route=\"%s\",status=\"%d\"} %llu\n",
                           method_label(m, i), route_label(m, i), statuses[k], (unsigned long long)v);
            else
                buf_printf(out, "openseat_http_requests_total{method=\"%s\",route=\"%s\",status=\"other\"} %llu\n",
                           method_label(m, i), route_label(m, i), (unsigned long long)v);
        }
    buf_printf(out, "# HELP openseat_requests_too_costly_total Requests stopped for running out of their memory.\n"
                    "# TYPE openseat_requests_too_costly_total counter\nopenseat_requests_too_costly_total %llu\n",
               (unsigned long long)atomic_load_explicit(&m->too_costly, memory_order_relaxed));
    buf_puts(out, "# HELP openseat_http_request_duration_seconds Time from request start to response queued.\n"
                  "# TYPE openseat_http_request_duration_seconds histogram\n");
    for (int i = 0; i <= m->nroutes; i++) {
        route_stats *s = &m->stats[i];
        uint64_t cum = 0;
        for (int b = 0; b <= NBUCKET; b++) cum += atomic_load_explicit(&s->buckets[b], memory_order_relaxed);
        if (!cum) continue;
        uint64_t run = 0;
        for (int b = 0; b < NBUCKET; b++) {
            run += atomic_load_explicit(&s->buckets[b], memory_order_relaxed);
            buf_printf(out, "openseat_http_request_duration_seconds_bucket{method=\"%s\",route=\"%s\",le=\"%g\"} %llu\n",
                       method_label(m, i), route_label(m, i), bounds[b], (unsigned long long)run);
        }
        buf_printf(out, "openseat_http_request_duration_seconds_bucket{method=\"%s\",route=\"%s\",le=\"+Inf\"} %llu\n",
                   method_label(m, i), route_label(m, i), (unsigned long long)cum);
        buf_printf(out, "openseat_http_request_duration_seconds_sum{method=\"%s\",route=\"%s\"} %.6f\n", method_label(m, i), route_label(m, i),
                   (double)atomic_load_explicit(&s->sum_us, memory_order_relaxed) / 1e6);
        buf_printf(out, "openseat_http_request_duration_seconds_count{method=\"%s\",route=\"%s\"} %llu\n", method_label(m, i), route_label(m, i),
                   (unsigned long long)cum);
    }
}
