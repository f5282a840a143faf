/* http.h — the request object, the route type and the reply helpers handlers use.
 *
 * The pipeline (server.c) owns every request: it enforces limits, authenticates,
 * checks CSRF and the route's access rule, parses the JSON body, and only then calls
 * the handler. A handler either writes a reply with the helpers below and returns
 * OS_OK, or returns an error, optionally after naming fields (r->fe) or a specific
 * problem code (r->problem_code / r->problem_detail); problem.c turns that into
 * application/problem+json. Everything hanging off a request is arena-owned and
 * freed when the response has been sent.
 */
#ifndef OPENSEAT_HTTP_H
#define OPENSEAT_HTTP_H
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include "app.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/error.h"
#include "core/json_write.h"
#include "core/text.h"

struct MHD_Connection;
typedef struct req req;
typedef os_err (*handler_fn)(req *r);

/* Who may call a route. Agreement-scoped roles join this list as the domain grows. */
typedef enum access_rule {
    ACCESS_PUBLIC,           /* anyone; a session is read if present */
    ACCESS_USER,             /* a signed-in, verified user */
    /* Agreement-scoped: the route's first {param} is a license number. A user with no
     * role on it gets 404, so an agreement's existence is never revealed. */
    ACCESS_AGREEMENT,        /* any role: super admin, admin, partner manager, partner */
    ACCESS_AGREEMENT_PARTNERS, /* super admins and partner managers (others with a role: 403) */
    ACCESS_AGREEMENT_SUPER,  /* super admins only (others with a role: 403) */
} access_rule;

/* What the pipeline prepares for the handler beyond the request itself. */
typedef enum route_ctx {
    CTX_DOMAIN,        /* r->x: the domain context, with this thread's database connection
                        * (none to be had: 503 `unavailable`, before the handler runs) */
    CTX_NONE,          /* nothing: the handler needs no database, or copes without one */
} route_ctx;

typedef enum body_kind {
    BODY_NONE,         /* a request body is refused */
    BODY_JSON,         /* application/json object, up to max-body bytes */
    BODY_SCIM,         /* BODY_JSON for SCIM clients: up to LIMIT_SCIM_BODY_BYTES (or max-body if larger) */
    BODY_UPLOAD,       /* raw bytes up to max-upload (file upload routes only) */
} body_kind;

typedef struct route {
    const char *method;
    const char *pattern;       /* "/api/v1/things/{id}"; a trailing "*" matches any rest */
    access_rule access;
    body_kind body;
    handler_fn fn;
    const char *name;          /* metrics label */
    route_ctx ctx;             /* zero (CTX_DOMAIN) unless the table says otherwise */
    unsigned capability;       /* agreement routes: the capability bit the caller must hold
                                * (domain/access.h CAP_*); 0: none beyond the access rule */
    bool session_only;         /* refused to an API token (403 `session_required`): signing in
                                * and out, the account's password and profile, the tokens */
} route;

#define MAX_PATH_PARAMS 4
#define MAX_RESP_HEADERS 12

typedef struct header_kv {
    const char *name, *value;
} header_kv;

typedef struct user_rec user_rec;
struct op_ctx;   /* domain/ctx.h: built by the API layer's hooks, opaque to HTTP */

struct req {
    arena a;
    const app *app;
    struct MHD_Connection *conn;
    /* request */
    const char *method, *path, *raw_query;
    qs query;
    const route *route;
    int route_index;                      /* -1: none matched */
    const char *params[MAX_PATH_PARAMS];  /* {name} captures, in order */
    int nparams;
    buf body;
    bool body_too_large;
    json_t *json;                         /* parsed BODY_JSON body (decref'd by the pipeline) */
    char request_id[33];
    const char *client_addr;
    bool https;
    int64_t now;
    double t_start;
    /* identity (set by the authenticate step) */
    int64_t user_id;                      /* 0: anonymous */
    const char *user_email, *user_name, *user_language;
    int64_t session_id;
    const char *session_hash, *session_csrf;
    int64_t token_id;                     /* the API token the request came with; 0: none (then
                                           * any identity is the session's) */
    /* agreement scope (set by the authorize step on agreement routes) */
    int64_t agreement_id;
    const char *agreement_license, *agreement_role;   /* "super_admin" | "admin" | "partner_manager" | "partner" */
    unsigned agreement_capabilities;                  /* what the caller holds (domain/access.h CAP_*) */
    bool agreement_writable;                          /* false: expired past grace, or disabled */
    int64_t agreement_data_version;                   /* what its lists show: see domain/access.h */
    /* What the authorize step decides from, when the identify step read it with the
     * session (the API layer's hooks, api/auth.c); NULL: the authorize step reads it. */
    const void *agreement_rows;
    /* The domain context (who acts, when, this thread's connection, the request arena),
     * built by the pipeline's context hook: set before a CTX_DOMAIN route's handler runs,
     * and on any request the identify or authorize step read the database for (a signed-in
     * one, an agreement route); NULL otherwise. */
    struct op_ctx *x;
    /* reply */
    int status;
    const char *content_type;
    buf out;
    jw w;
    header_kv headers[MAX_RESP_HEADERS];
    int nheaders;
    bool replied;
    int file_fd;                          /* reply_file's descriptor until MHD takes it; -1: none */
    uint64_t file_size;
    /* error details for problem.c */
    field_errors fe;
    const char *problem_code, *problem_detail;
    const char *scim_type;                /* a SCIM route's scimType (RFC 7644 §3.12); NULL: none */
    int64_t retry_after;                  /* seconds, for 429 */
};

/* ---- routing (route.c) ---- */
/* The index of the route matching path (as sent, not decoded) and method, or -1; when
 * the path matches but not the method, *path_matched is set. Each params[i] points into
 * path; its extent is up to the next '/'. HEAD matches GET routes. */
int route_match(const route *routes, int nroutes, const char *method, const char *path, const char **params,
                int *nparams, bool *path_matched);

typedef enum route_outcome {
    ROUTE_FOUND,
    ROUTE_BAD_PATH,       /* a NUL, a malformed escape, or not UTF-8 once decoded */
    ROUTE_NO_PATH,        /* 404 */
    ROUTE_WRONG_METHOD,   /* 405 */
} route_outcome;

typedef struct route_result {
    int index;                                  /* -1 unless ROUTE_FOUND */
    const char *path;                           /* the decoded path; NULL for a bad path */
    const char *params[MAX_PATH_PARAMS];        /* decoded {param} captures, in order */
    const char *raw_params[MAX_PATH_PARAMS];    /* the same as sent (into the arena's copy) */
    size_t raw_param_len[MAX_PATH_PARAMS];
    int nparams;
} route_result;

/* Validates the path as sent (raw_len bytes, which may hold a NUL: that is refused),
 * decodes it, and matches it against the table. Allocations come from a. */
route_outcome route_request(arena *a, const route *routes, int nroutes, const char *method, const char *raw,
                            size_t raw_len, route_result *out);

/* ---- reply helpers ---- */
jw  *reply_json(req *r, int status);                /* then write one JSON value with the writer */
void reply_bytes(req *r, int status, const char *content_type, const char *data, size_t len);
void reply_empty(req *r, int status);
void reply_header(req *r, const char *name, const char *value);  /* value arena-owned or static */
void reply_redirect(req *r, const char *location);
/* A download: the body is size bytes read from fd (a regular file, at offset 0), sent by
 * libmicrohttpd without passing through the arena, so a file of any size costs no memory.
 * The request owns fd from this call on: it is closed once sent, or when another reply
 * replaces this one, or when the request ends. Content-Disposition says "attachment" with
 * download_name (an ASCII fallback and its UTF-8 form, RFC 6266/8187); the usual security
 * headers apply. */
void reply_file(req *r, int status, const char *content_type, int fd, uint64_t size, const char *download_name);
/* An answer read from fd (a temporary file holding a JSON answer too long for memory),
 * shown in place rather than downloaded; fd as reply_file's. */
void reply_fd(req *r, int status, const char *content_type, int fd, uint64_t size);

/* ---- request helpers ---- */
const char *req_header(req *r, const char *name);
/* Whether the request's If-None-Match names etag (a quoted strong tag such as "\"d7-…\"")
 * or is "*": the client holds the current representation. Compared weakly, as RFC 9110
 * asks of If-None-Match (a W/ prefix is ignored). */
bool req_if_none_match(req *r, const char *etag);
const char *req_cookie(req *r, const char *name);
const char *req_param(req *r, int i);
/* Path parameter i as a positive integer id; false when it is not one. */
bool req_param_id(req *r, int i, int64_t *id);

/* Set-Cookie with the project's attributes (Path=/, HttpOnly, SameSite, Secure when
 * configured). max_age < 0 omits Max-Age (session cookie); 0 deletes. */
void reply_cookie(req *r, const char *name, const char *value, const char *same_site, long max_age);

/* ---- problem+json (problem.c) ---- */
/* Writes the problem for err (using r->fe, r->problem_code, r->problem_detail). */
void problem_reply(req *r, os_err err);
/* A problem with an explicit status/code, for the pipeline's own refusals. */
void problem_reply_status(req *r, int status, const char *code, const char *detail);
/* The same problem, left open for extension members: the caller adds keys, then closes it
 * with jw_obj_end. */
jw *problem_open(req *r, int status, const char *code, const char *detail);
int  problem_status(os_err err);
/* A problem's opening and standard members written into any writer (a background job's
 * answer has no request): the caller adds members and closes the object. title NULL: the
 * status's; request_id NULL: left out. */
void problem_members(jw *w, arena *a, int status, const char *code, const char *title, const char *detail,
                     const char *instance, const char *request_id);

/* ---- JSON body fields (body.c) ---- */
/* Parse a request body: valid UTF-8, nesting at most LIMIT_JSON_DEPTH, an object.
 * On failure returns OS_ERR_INVALID and writes a human-readable reason to detail. */
os_err body_parse_json(const char *data, size_t len, json_t **out, char *detail, size_t detail_len);

/* Read a string field from the parsed body with bounds; records a field error in fe
 * when required and absent, of the wrong type, empty after trimming, or longer than
 * max characters (code points; the body limit bounds the bytes). Returns the trimmed arena copy, or NULL (absent or invalid). */
const char *body_str(req *r, const char *field, size_t max, bool required);
/* Same, without trimming (passwords). */
const char *body_str_raw(req *r, const char *field, size_t min, size_t max, bool required);
/* A normalised e-mail address (field error invalid_email otherwise). */
const char *body_email(req *r, const char *field, bool required);
/* One of the allowed values (NULL-terminated list), or NULL when absent. */
const char *body_enum(req *r, const char *field, const char *const *allowed, bool required);
/* body_enum whose invalid_value has this message and params (a JSON object, NULL for none):
 * for a field whose problem can name the values. */
const char *body_choice(req *r, const char *field, const char *const *allowed, bool required, const char *message,
                        const char *params);
/* An ISO 3166-1 alpha-2 code in capitals; otherwise invalid_value, with params (a JSON
 * object, NULL for none). */
const char *body_country(req *r, const char *field, bool required, const char *params);

/* ---- query-string parameters (query.c) ----
 * Bounded readers over r->query, after Kore's http_argument_get_*: each returns the value,
 * or the caller's default when the parameter is absent, and records what is wrong with one
 * in r->fe under the parameter's name, like the body's readers (a handler reads all its
 * input, then answers 400 with every problem before it uses any). The first of a repeated
 * name counts. A parameter sent empty (`?sort=`) is a value like any other to the typed
 * readers, refused unless "" is one of an enumeration's names; query_str reads it as
 * absent (a cleared filter box). Values are UTF-8 without NUL (the pipeline refused any
 * other query string), so the readers check only what their type asks. */

/* Text of at most max_chars characters (code points), or NULL when absent or empty. Longer:
 * `too_long` "At most N characters"; the text is still returned, for further checks of the
 * caller's own. */
const char *query_str(req *r, const char *name, size_t max_chars);
/* A value the server handed out (a page's cursor), as sent — empty included, which the
 * caller refuses as it refuses any it did not give — or NULL when absent. Longer than
 * max_chars: `too_long`, and NULL. */
const char *query_token(req *r, const char *name, size_t max_chars);
/* A whole number from min to max, read as strtoll reads one (leading blanks and a sign
 * allowed, nothing after the digits; past the int64 range it reads as that range's end), or
 * dflt when absent. Anything else: `out_of_range` "From min to max", and dflt. */
int64_t query_int(req *r, const char *name, int64_t min, int64_t max, int64_t dflt);
/* A positive id an earlier answer handed out (where the next keyset page starts), read as
 * query_int reads a number, or 0 when absent. Anything else: `invalid_value` with hint. */
int64_t query_id(req *r, const char *name, const char *hint);
/* The index of the value among names (NULL-terminated), or dflt when absent. Anything else:
 * `invalid_value` with hint (what the value may be), and -1. */
int query_enum(req *r, const char *name, const char *const *names, int dflt, const char *hint);
/* true or false, or dflt when absent. Anything else: `invalid_value` "Use true or false",
 * and dflt. */
bool query_bool(req *r, const char *name, bool dflt);
/* A date YYYY-MM-DD as the Unix time of its first second (UTC), or of its last with
 * end_of_day; 0 when absent or empty. Anything else: `invalid_value` "Use a date
 * YYYY-MM-DD", and 0. */
int64_t query_date(req *r, const char *name, bool end_of_day);

#endif
