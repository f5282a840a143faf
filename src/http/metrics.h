/* metrics.h — request counters and latency histograms, exposed in Prometheus text format.
 *
 * Counters are per route (by index into the route table, plus one slot for requests that
 * matched no route) and per status code, updated with relaxed atomics from any thread.
 */
#ifndef OPENSEAT_METRICS_H
#define OPENSEAT_METRICS_H
#include <stdint.h>
#include "core/buf.h"
#include "http/http.h"

typedef struct metrics metrics;

metrics *metrics_new(const route *routes, int nroutes);
void     metrics_free(metrics *m);
/* route_index -1: no route. */
void     metrics_observe(metrics *m, int route_index, int status, double seconds);
/* A request answered request_too_costly: it ran out of its memory (--request-memory). */
void     metrics_too_costly(metrics *m);
/* Appends the exposition; extra gauges (outbox depth) are written by the caller. */
void     metrics_write(metrics *m, buf *out);

#endif
