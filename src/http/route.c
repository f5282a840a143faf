/* route.c — the router: from the request target's path as sent to a route and its
 * decoded parameters.
 *
 * Routes are matched on the path as the client sent it, before any percent-decoding, so
 * an escaped '/' (%2F) stays data inside its segment instead of becoming a separator,
 * and each {param} is decoded exactly once (%252F is "%2F", not "/"). The whole path
 * must decode to UTF-8 without NUL and without a malformed escape, or the request is
 * refused as a bad path before any route sees it: a NUL would otherwise cut the path
 * short (".../{license}%00/overview" read as ".../{license}") and bytes that are not
 * UTF-8 could not be written into a JSON answer. Nothing here touches libmicrohttpd, so
 * the fuzz target links it alone.
 */
#include <string.h>
#include "http.h"

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
                if (params) params[np] = u;   /* the caller takes each up to the next '/' */
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

route_outcome route_request(arena *a, const route *routes, int nroutes, const char *method, const char *raw,
                            size_t raw_len, route_result *out) {
    memset(out, 0, sizeof *out);
    out->index = -1;
    /* url_decode refuses a NUL (raw or escaped), a malformed escape and bytes that are
     * not UTF-8 once decoded. */
    out->path = url_decode(a, raw, raw_len, false);
    if (!out->path) return ROUTE_BAD_PATH;
    /* A raw NUL was refused above, so the copy below is the whole path as sent. */
    const char *path = arena_strndup(a, raw, raw_len);
    bool path_matched;
    const char *caps[MAX_PATH_PARAMS];
    int np = 0;
    out->index = route_match(routes, nroutes, method, path, caps, &np, &path_matched);
    if (out->index < 0) return path_matched ? ROUTE_WRONG_METHOD : ROUTE_NO_PATH;
    out->nparams = np;
    for (int i = 0; i < np; i++) {
        size_t n = strcspn(caps[i], "/");
        out->raw_params[i] = caps[i];
        out->raw_param_len[i] = n;
        /* A segment of a path that decoded cleanly decodes cleanly: a '/' cannot sit
         * inside a UTF-8 sequence or an escape. Checked all the same. */
        out->params[i] = url_decode(a, caps[i], n, false);
        if (!out->params[i]) return ROUTE_BAD_PATH;
    }
    return ROUTE_FOUND;
}
