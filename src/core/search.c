/* search.c — folding text into search terms with SQLite's unicode61 tokenizer.
 * Contract in search.h. */
#include "search.h"
#include <pthread.h>
#include <sqlite3.h>
#include <string.h>

static struct {
    pthread_once_t once;
    fts5_tokenizer tok;
    void *ctx;
    bool ok;
} g = {.once = PTHREAD_ONCE_INIT};

/* The tokenizer is reached through the fts5_api of a private in-memory connection, which
 * stays open for the life of the process (the tokenizer's code lives in the library; the
 * connection only hands out the pointer). */
static void find_tokenizer(void) {
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    fts5_api *api = NULL;
    if (sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK) goto fail;
    if (sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &st, NULL) != SQLITE_OK) goto fail;
    sqlite3_bind_pointer(st, 1, (void *)&api, "fts5_api_ptr", NULL);
    sqlite3_step(st);
    sqlite3_finalize(st);
    if (!api || api->iVersion < 2) goto fail;
    if (api->xFindTokenizer(api, "unicode61", &g.ctx, &g.tok) != SQLITE_OK) goto fail;
    g.ok = true;
    return;
fail:
    sqlite3_close(db);
}

typedef struct fold_ud {
    char *out;
    size_t len, cap;
} fold_ud;

static bool has_term(const fold_ud *u, const char *t, size_t n) {
    size_t pos = 0, len;
    const char *have;
    while (search_next(u->out, &pos, &have, &len))
        if (len == n && !memcmp(have, t, n)) return true;
    return false;
}

static int on_token(void *ctx, int flags, const char *t, int n, int start, int end) {
    fold_ud *u = ctx;
    if (n <= 0 || has_term(u, t, (size_t)n)) return SQLITE_OK;
    if (u->len + 1 + (size_t)n + 1 > u->cap) return SQLITE_OK;   /* full: later terms are dropped */
    u->out[u->len++] = ' ';
    memcpy(u->out + u->len, t, (size_t)n);
    u->len += (size_t)n;
    u->out[u->len] = 0;
    return SQLITE_OK;
}

bool search_terms(const char *const *texts, int n, char *out, size_t cap) {
    if (cap == 0) return false;
    out[0] = 0;
    pthread_once(&g.once, find_tokenizer);
    if (!g.ok) return false;
    const char *args[] = {"remove_diacritics", "2"};
    Fts5Tokenizer *t = NULL;
    if (g.tok.xCreate(g.ctx, args, 2, &t) != SQLITE_OK) return false;
    fold_ud u = {out, 0, cap};
    for (int i = 0; i < n; i++) {
        if (!texts[i]) continue;
        size_t len = strlen(texts[i]);
        if (len > SEARCH_TERMS_MAX) len = SEARCH_TERMS_MAX;
        g.tok.xTokenize(t, &u, FTS5_TOKENIZE_DOCUMENT, texts[i], (int)len, on_token);
    }
    g.tok.xDelete(t);
    return true;
}

bool search_next(const char *terms, size_t *pos, const char **term, size_t *len) {
    const char *p = terms + *pos;
    while (*p == ' ') p++;
    if (!*p) return false;
    const char *e = strchr(p, ' ');
    if (!e) e = p + strlen(p);
    *term = p;
    *len = (size_t)(e - p);
    *pos = (size_t)(e - terms);
    return true;
}
