/* system.c — operational routes: health, metrics, the OpenAPI description. */
#include <string.h>
#include "api.h"
#include "core/embed.h"
#include "domain/throttle.h"
#include "http/metrics.h"

os_err h_healthz(req *r) {
    store_conn *c = store_conn_get(r->app->st);
    int v = c ? store_schema_version(c) : -1;
    if (v < 0) {
        problem_reply_status(r, 503, "unavailable", "The database is not reachable");
        return OS_OK;
    }
    jw *w = reply_json(r, 200);
    jw_obj(w);
    jw_kstr(w, "status", "ok");
    jw_kint(w, "schema_version", v);
    jw_obj_end(w);
    return OS_OK;
}

os_err h_metrics(req *r) {
    buf b;
    buf_init(&b, &r->a, 4u * 1024 * 1024);
    if (r->app->metrics) metrics_write(r->app->metrics, &b);
    store_conn *c = store_conn_get(r->app->st);
    int64_t depth = -1;
    if (c && st_outbox_depth(c, &depth)) depth = -1;   /* unknown: the gauge says so rather than fail the scrape */
    buf_printf(&b, "# HELP openseat_outbox_depth E-mails queued and not yet delivered.\n"
                   "# TYPE openseat_outbox_depth gauge\nopenseat_outbox_depth %lld\n", (long long)depth);
    buf_printf(&b, "# HELP openseat_mail_suppressed_total E-mails to unproven addresses not sent: the recipient's or the"
                   " client address's hourly limit was reached.\n# TYPE openseat_mail_suppressed_total counter\n"
                   "openseat_mail_suppressed_total{limit=\"recipient\"} %llu\n"
                   "openseat_mail_suppressed_total{limit=\"client_address\"} %llu\n",
               (unsigned long long)throttle_mail_suppressed_count("recipient"),
               (unsigned long long)throttle_mail_suppressed_count("client_address"));
    reply_bytes(r, 200, "text/plain; version=0.0.4; charset=utf-8", b.data, b.len);
    return OS_OK;
}

os_err h_openapi(req *r) {
    const embed_file *f = embed_find("docs/openapi.yaml");
    if (!f) return OS_ERR_NOT_FOUND;
    reply_bytes(r, 200, "application/yaml; charset=utf-8", (const char *)f->data, f->len);
    return OS_OK;
}
