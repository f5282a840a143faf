/* static.h — the web UI's files: embedded in the binary, or read from --web-dir.
 *
 * Handlers for the route table: static_file serves the request path under web/ (with
 * a content type by extension, never a directory listing, never outside web/);
 * static_page serves index.html for the single-page UI's paths.
 */
#ifndef OPENSEAT_STATIC_H
#define OPENSEAT_STATIC_H
#include "http/http.h"

os_err static_file(req *r);
os_err static_page(req *r);

#endif
