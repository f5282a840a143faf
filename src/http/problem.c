/* problem.c — the one place errors become HTTP: RFC 9457 application/problem+json.
 *
 * `code` is stable and machine-readable (the UI translates by it); `errors` lists every
 * field that failed validation, so a form can mark all of them at once. An error's `params`
 * (when the domain gave any) carries the values its English message states, so the UI can
 * word them in the reader's language without parsing the message.
 */
#include <stdio.h>
#include <string.h>
#include "http.h"

typedef struct kind {
    os_err err;
    int status;
    const char *code, *title;
} kind;

static const kind kinds[] = {
    {OS_ERR_INVALID, 422, "validation", "Invalid input"},
    {OS_ERR_UNAUTHENTICATED, 401, "unauthenticated", "Sign-in required"},
    {OS_ERR_FORBIDDEN, 403, "forbidden", "Not allowed"},
    {OS_ERR_NOT_FOUND, 404, "not_found", "Not found"},
    {OS_ERR_CONFLICT, 409, "conflict", "Conflict"},
    {OS_ERR_PRECONDITION, 412, "precondition_failed", "Changed by someone else"},
    {OS_ERR_GONE, 410, "link_invalid", "Link invalid or expired"},
    {OS_ERR_THROTTLED, 429, "throttled", "Too many attempts"},
    {OS_ERR_TOO_LARGE, 413, "too_large", "Request too large"},
    {OS_ERR_UNSUPPORTED, 415, "unsupported_media_type", "Unsupported media type"},
    {OS_ERR_BUSY, 503, "unavailable", "Busy, try again"},
};

static const char *title_for_status(int status) {
    switch (status) {
    case 400: return "Bad request";
    case 401: return "Sign-in required";
    case 403: return "Not allowed";
    case 404: return "Not found";
    case 405: return "Method not allowed";
    case 409: return "Conflict";
    case 410: return "Link invalid or expired";
    case 412: return "Changed by someone else";
    case 413: return "Request too large";
    case 415: return "Unsupported media type";
    case 422: return "Invalid input";
    case 428: return "Precondition required";
    case 429: return "Too many attempts";
    case 503: return "Service unavailable";
    default: return status >= 500 ? "Internal error" : "Error";
    }
}

int problem_status(os_err err) {
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (kinds[i].err == err) return kinds[i].status;
    return 500;
}

void problem_members(jw *w, arena *a, int status, const char *code, const char *title, const char *detail,
                     const char *instance, const char *request_id) {
    jw_obj(w);
    jw_kstr(w, "type", arena_printf(a, "urn:openseat:problem:%s", code));
    jw_kstr(w, "title", title ? title : title_for_status(status));
    jw_kint(w, "status", status);
    if (detail) jw_kstr(w, "detail", detail);
    jw_kstr(w, "instance", instance ? instance : "/");
    if (request_id) jw_kstr(w, "request_id", request_id);
    jw_kstr(w, "code", code);
}

/* A SCIM route's refusal is the error SCIM clients read (RFC 7644 §3.12): its schema, the
 * status as a string, scimType when there is one, the detail; the problem's code is kept as
 * an extension member so the same words reach the logs and tests. */
static bool scim_route(const req *r) { return r->route && strstr(r->route->pattern, "/scim/v2"); }

static jw *open_scim_error(req *r, jw *w, int status, const char *code, const char *title, const char *detail) {
    r->content_type = "application/scim+json";
    jw_obj(w);
    jw_key(w, "schemas");
    jw_arr(w);
    jw_str(w, "urn:ietf:params:scim:api:messages:2.0:Error");
    jw_arr_end(w);
    jw_kstr(w, "status", arena_printf(&r->a, "%d", status));
    if (r->scim_type) jw_kstr(w, "scimType", r->scim_type);
    else if (status == 400 && fe_any(&r->fe)) jw_kstr(w, "scimType", "invalidValue");
    const char *d = detail ? detail : title;
    if (fe_any(&r->fe)) d = arena_printf(&r->a, "%s: %s", r->fe.head->field, r->fe.head->message);
    jw_kstr(w, "detail", d);
    jw_kstr(w, "code", code);
    return w;
}

static jw *open_problem(req *r, int status, const char *code, const char *title, const char *detail) {
    /* Drop anything a handler may have half-written before failing. */
    buf_reset(&r->out);
    r->nheaders = 0;
    /* SCIM has no 422: an invalid value is a 400 there. */
    if (scim_route(r) && status == 422) status = 400;
    jw *w = reply_json(r, status);
    if (scim_route(r)) return open_scim_error(r, w, status, code, title, detail);
    r->content_type = "application/problem+json";
    problem_members(w, &r->a, status, code, title, detail, r->path, r->request_id);
    if (status == 429 && r->retry_after > 0) {
        jw_kint(w, "retry_after", r->retry_after);
        reply_header(r, "Retry-After", arena_printf(&r->a, "%lld", (long long)r->retry_after));
    }
    if (fe_any(&r->fe)) {
        jw_key(w, "errors");
        jw_arr(w);
        for (field_error *e = r->fe.head; e; e = e->next) {
            jw_obj(w);
            jw_kstr(w, "field", e->field);
            jw_kstr(w, "code", e->code);
            jw_kstr(w, "message", e->message);
            jw_kraw_opt(w, "params", e->params);
            jw_obj_end(w);
        }
        jw_arr_end(w);
    }
    return w;
}

static void write_problem(req *r, int status, const char *code, const char *title, const char *detail) {
    jw_obj_end(open_problem(r, status, code, title, detail));
}

void problem_reply_status(req *r, int status, const char *code, const char *detail) {
    write_problem(r, status, code, title_for_status(status), detail);
}

jw *problem_open(req *r, int status, const char *code, const char *detail) {
    return open_problem(r, status, code, title_for_status(status), detail);
}

void problem_reply(req *r, os_err err) {
    const kind *k = NULL;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (kinds[i].err == err) k = &kinds[i];
    if (!k) {
        write_problem(r, 500, "internal", "Internal error",
                      "Something went wrong on our side; the request id helps us find it");
        return;
    }
    const char *detail = r->problem_detail;
    if (!detail && err == OS_ERR_INVALID && fe_any(&r->fe))
        detail = r->fe.count == 1 ? "1 field is invalid" : arena_printf(&r->a, "%d fields are invalid", r->fe.count);
    write_problem(r, k->status, r->problem_code ? r->problem_code : k->code, k->title, detail);
}
