/* static.c — see static.h. */
#include "static.h"
#include <stdio.h>
#include <string.h>
#include "core/embed.h"
#include "core/file.h"

static const char *content_type(const char *path) {
    static const struct { const char *ext, *type; } types[] = {
        {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
        {".json", "application/json; charset=utf-8"}, {".svg", "image/svg+xml"},
        {".png", "image/png"}, {".ico", "image/x-icon"}, {".woff2", "font/woff2"},
        {".txt", "text/plain; charset=utf-8"}, {".yaml", "application/yaml; charset=utf-8"},
    };
    const char *dot = strrchr(path, '.');
    if (dot)
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
            if (!strcmp(dot, types[i].ext)) return types[i].type;
    return "application/octet-stream";
}

/* Reject anything that could step outside web/: "..", "//", backslashes, NUL. */
static bool safe_rel(const char *rel) {
    if (!*rel || rel[0] == '/' || strstr(rel, "..") || strstr(rel, "//") || strchr(rel, '\\')) return false;
    for (const char *p = rel; *p; p++)
        if ((unsigned char)*p < 0x20) return false;
    return true;
}

static os_err serve(req *r, const char *rel) {
    if (!safe_rel(rel)) return OS_ERR_NOT_FOUND;
    const char *dir = r->app->cfg->web_dir;
    if (dir) {
        char *data;
        size_t len;
        if (file_read(&r->a, arena_printf(&r->a, "%s/%s", dir, rel), 16u << 20, &data, &len)) return OS_ERR_NOT_FOUND;
        reply_bytes(r, 200, content_type(rel), data, len);
    } else {
        const embed_file *f = embed_find(arena_printf(&r->a, "web/%s", rel));
        if (!f) return OS_ERR_NOT_FOUND;
        reply_bytes(r, 200, content_type(rel), (const char *)f->data, f->len);
    }
    /* No fingerprinted names, so browsers revalidate; still cheap over keep-alive. */
    reply_header(r, "Cache-Control", "no-cache");
    return OS_OK;
}

os_err static_file(req *r) { return serve(r, r->path + 1); }
os_err static_page(req *r) { return serve(r, "index.html"); }
