/* xlsx.c — see xlsx.h.
 *
 * Four parts are read, in this order, each streamed through its own expat parser:
 * xl/workbook.xml (the sheets in tab order), xl/_rels/workbook.xml.rels (where each
 * sheet and the shared strings are), the shared strings, the worksheet. Element names
 * are compared by local name (expat's namespace mode), so prefixed documents
 * (<x:row>) and the Strict namespace read the same as the usual ones; element depths
 * are tracked, so a <c> counts only as a child of a <row> of <sheetData>.
 */
#include "xlsx.h"
#include <expat.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <zip.h>

#define CHUNK (64 * 1024)            /* bytes inflated and parsed at a time */
#define MAX_SHEETS 64                /* <sheet> entries considered when looking for a worksheet */
#define MAX_ID_BYTES 255             /* r:id values and targets longer than this are ignored */
#define MAX_ROW 1048576              /* Excel's last row */
/* Raw text kept for one string or cell: an _xHHHH_ escape (7 bytes) decodes to at least
 * one byte, so raw text over this many bytes can only decode to more than IO_MAX_CELL. */
#define RAW_CAP (7 * IO_MAX_CELL + 7)

enum part { P_WORKBOOK, P_RELS, P_STRINGS, P_SHEET };
enum ctype { T_NUMBER, T_SHARED, T_INLINE, T_BOOL, T_STR, T_OTHER };

typedef struct sheet_ref {
    char *rid;
    char *target;        /* zip entry name once resolved, else NULL */
    bool related;        /* its relationship was found */
    bool worksheet;      /* the relationship's type is a worksheet (not a chart sheet) */
} sheet_ref;

typedef struct xreader {
    arena *a;
    zip_t *z;
    char *err;
    size_t errlen;
    os_err e;                     /* first failure; its reason is already in err */
    uint64_t inflated;            /* bytes inflated so far, all parts */

    XML_Parser p;                 /* the part being parsed */
    const char *part_name;
    int depth;                    /* of the element being parsed */

    sheet_ref sheets[MAX_SHEETS];
    int nsheets;
    char *strings_target;         /* from the relationships, else NULL */

    char **sst;                   /* shared strings; too_long for those over IO_MAX_CELL */
    int nsst, capsst;

    char *text;                   /* raw text of the string or cell being read */
    size_t ntext;
    bool text_overflow;
    int collect_depth;            /* depth whose character data goes into text, or -1 */
    int si_depth, rph_depth;      /* open <si>/<is>, <rPh>: 0 when none */

    int data_depth, row_depth, cell_depth;   /* open <sheetData>, <row>, <c>: 0 when none */
    int row, last_row;            /* current and previous row numbers */
    int next_col, col;
    enum ctype type;
    char *cells[IO_MAX_COLS];
    int ncells;
    io_table *t;
    int cap, max_rows;
} xreader;

static char too_long[] = "";   /* marks a shared string over IO_MAX_CELL by address */

__attribute__((format(printf, 3, 4)))
static void fail(xreader *x, os_err code, const char *fmt, ...) {
    if (x->e) return;
    x->e = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(x->err, x->errlen, fmt, ap);
    va_end(ap);
    if (x->p) XML_StopParser(x->p, XML_FALSE);
}

static void *xalloc(xreader *x, size_t n) {
    void *p = arena_try_alloc(x->a, n);
    if (!p) fail(x, OS_ERR_TOO_LARGE, "too large to read");
    return p;
}

static char *xstrndup(xreader *x, const char *s, size_t n) {
    char *c = xalloc(x, n + 1);
    if (c) memcpy(c, s, n);
    return c;
}

/* Local part of an expat namespace-mode name ("URI local" or "local"). */
static const char *local(const char *name) {
    const char *sp = strrchr(name, ' ');
    return sp ? sp + 1 : name;
}

/* Value of the attribute with this local name: with want_ns, only one in a namespace
 * (r:id), else only an unprefixed one. */
static const char *attr(const char **atts, const char *name, bool want_ns) {
    for (int i = 0; atts[i]; i += 2) {
        bool ns = strchr(atts[i], ' ') != NULL;
        if (ns == want_ns && !strcmp(local(atts[i]), name)) return atts[i + 1];
    }
    return NULL;
}

static bool ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

/* ---- text of strings and cells ------------------------------------------------------- */

static void text_start(xreader *x) {
    x->ntext = 0;
    x->text_overflow = false;
    x->collect_depth = -1;
}

static void on_text(void *ud, const XML_Char *s, int len) {
    xreader *x = ud;
    if (x->e || x->collect_depth != x->depth || x->text_overflow) return;
    if ((size_t)len > RAW_CAP - x->ntext) { x->text_overflow = true; return; }
    memcpy(x->text + x->ntext, s, (size_t)len);
    x->ntext += (size_t)len;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Decodes Excel's _xHHHH_ escapes (characters XML cannot carry, such as a carriage
 * return, and "_x005F_" for a literal underscore) in place; returns the new length. A
 * NUL or a lone surrogate is left as written. */
static size_t unescape(char *s, size_t n) {
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        if (s[i] == '_' && n - i >= 7 && s[i + 1] == 'x' && s[i + 6] == '_') {
            unsigned cp = 0;
            bool hex = true;
            for (size_t k = i + 2; k < i + 6 && hex; k++) {
                int h = hexval(s[k]);
                hex = h >= 0;
                cp = cp << 4 | (unsigned)h;
            }
            if (hex && cp && (cp < 0xD800 || cp > 0xDFFF)) {
                if (cp < 0x80) {
                    s[o++] = (char)cp;
                } else if (cp < 0x800) {
                    s[o++] = (char)(0xC0 | cp >> 6);
                    s[o++] = (char)(0x80 | (cp & 0x3F));
                } else {
                    s[o++] = (char)(0xE0 | cp >> 12);
                    s[o++] = (char)(0x80 | (cp >> 6 & 0x3F));
                    s[o++] = (char)(0x80 | (cp & 0x3F));
                }
                i += 7;
                continue;
            }
        }
        s[o++] = s[i++];
    }
    return o;
}

/* A number as written, except that an integer value written with a fraction or an
 * exponent ("42.0", "4.2E1", "1E3") becomes plain digits ("42", "1000"): identifiers
 * typed as numbers must not grow a ".0". The text is read as decimal digits, never
 * through a double, so nothing is rounded. Returns NULL to keep s as it is. */
static const char *integer_text(xreader *x, const char *s, size_t n) {
    if (!memchr(s, '.', n) && !memchr(s, 'e', n) && !memchr(s, 'E', n)) return NULL;
    char digits[64];
    size_t nd = 0, i = 0;
    bool neg = false;
    long point = 0;   /* digits before the decimal point */
    if (i < n && (s[i] == '-' || s[i] == '+')) neg = s[i++] == '-';
    size_t start = i;
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
        if (nd == sizeof digits) return NULL;
        digits[nd++] = s[i];
        point++;
    }
    if (i < n && s[i] == '.')
        for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
            if (nd == sizeof digits) return NULL;
            digits[nd++] = s[i];
        }
    if (nd == 0 || i == start) return NULL;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        bool eneg = false;
        if (i < n && (s[i] == '-' || s[i] == '+')) eneg = s[i++] == '-';
        if (i == n) return NULL;
        long exp = 0;
        for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
            exp = exp * 10 + (s[i] - '0');
            if (exp > 1000) return NULL;
        }
        point += eneg ? -exp : exp;
    }
    if (i != n) return NULL;
    /* Integer when every digit after the point is zero. */
    for (long k = point < 0 ? 0 : point; k < (long)nd; k++)
        if (digits[k] != '0') return NULL;
    char out[40];
    size_t o = 0;
    for (long k = 0; k < point; k++) {
        char d = k < (long)nd ? digits[k] : '0';
        if (o == 0 && d == '0') continue;   /* leading zeros */
        if (o + 2 >= sizeof out) return NULL;   /* past any double's integers: keep as written */
        out[o++] = d;
    }
    if (o == 0) return "0";
    if (neg) {
        memmove(out + 1, out, o++);
        out[0] = '-';
    }
    return xstrndup(x, out, o);
}

/* ---- workbook.xml and its relationships ----------------------------------------------- */

static void wb_start(void *ud, const XML_Char *name, const XML_Char **atts) {
    xreader *x = ud;
    if (x->e) return;   /* expat may still call back after a stop */
    x->depth++;
    if (strcmp(local(name), "sheet") || x->nsheets == MAX_SHEETS) return;
    const char *rid = attr(atts, "id", true);
    if (!rid || strlen(rid) > MAX_ID_BYTES) return;
    x->sheets[x->nsheets].rid = xstrndup(x, rid, strlen(rid));
    x->nsheets++;
}

/* The zip entry a relationship target names: relative to xl/ unless absolute; "." and
 * ".." segments resolved. NULL when it climbs out of the package. */
static char *resolve_target(xreader *x, const char *target) {
    char path[2 * MAX_ID_BYTES + 8];
    size_t n = 0;
    const char *s = target;
    if (*s == '/') s++;
    else { memcpy(path, "xl", 2); n = 2; }
    while (*s) {
        const char *e = strchr(s, '/');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        if (len == 0 || (len == 1 && s[0] == '.')) {
            /* nothing */
        } else if (len == 2 && s[0] == '.' && s[1] == '.') {
            if (n == 0) return NULL;
            while (n > 0 && path[n - 1] != '/') n--;
            if (n > 0) n--;
        } else {
            if (n) path[n++] = '/';
            memcpy(path + n, s, len);
            n += len;
        }
        s += len;
        if (*s == '/') s++;
    }
    return n ? xstrndup(x, path, n) : NULL;
}

static void rels_start(void *ud, const XML_Char *name, const XML_Char **atts) {
    xreader *x = ud;
    if (x->e) return;   /* expat may still call back after a stop */
    x->depth++;
    if (strcmp(local(name), "Relationship")) return;
    const char *id = attr(atts, "Id", false), *type = attr(atts, "Type", false);
    const char *target = attr(atts, "Target", false), *mode = attr(atts, "TargetMode", false);
    if (!id || !type || !target || strlen(target) > MAX_ID_BYTES || (mode && !strcmp(mode, "External"))) return;
    if (ends_with(type, "/sharedStrings")) {
        if (!x->strings_target) x->strings_target = resolve_target(x, target);
        return;
    }
    for (int i = 0; i < x->nsheets; i++)
        if (!x->sheets[i].related && !strcmp(x->sheets[i].rid, id)) {
            x->sheets[i].related = true;
            x->sheets[i].target = resolve_target(x, target);
            x->sheets[i].worksheet = ends_with(type, "/worksheet");
        }
}

/* ---- sharedStrings.xml ------------------------------------------------------------------ */

/* <si> and <is> hold either one <t> or rich-text runs <r><t>; <rPh> runs are phonetic
 * guides (furigana) shown above the text, not part of it. */
static void string_child_start(xreader *x, const char *l) {
    if (!strcmp(l, "rPh") && !x->rph_depth) x->rph_depth = x->depth;
    else if (!strcmp(l, "t") && !x->rph_depth) x->collect_depth = x->depth;
}

static void string_child_end(xreader *x) {
    if (x->collect_depth == x->depth) x->collect_depth = -1;
    if (x->rph_depth == x->depth) x->rph_depth = 0;
}

static void sst_start(void *ud, const XML_Char *name, const XML_Char **atts) {
    xreader *x = ud;
    if (x->e) return;   /* expat may still call back after a stop */
    x->depth++;
    const char *l = local(name);
    if (x->si_depth) string_child_start(x, l);
    else if (!strcmp(l, "si")) {
        x->si_depth = x->depth;
        text_start(x);
    }
}

static void sst_end(void *ud, const XML_Char *name) {
    xreader *x = ud;
    if (x->e) return;
    if (x->si_depth == x->depth) {
        x->si_depth = 0;
        if (x->nsst == XLSX_MAX_SHARED_STRINGS) {
            fail(x, OS_ERR_TOO_LARGE, "too many different texts (at most %d)", XLSX_MAX_SHARED_STRINGS);
        } else {
            if (x->nsst == x->capsst) {
                int cap = x->capsst ? x->capsst * 2 : 256;
                if (cap > XLSX_MAX_SHARED_STRINGS) cap = XLSX_MAX_SHARED_STRINGS;
                char **s = xalloc(x, sizeof(char *) * (size_t)cap);
                if (s && x->nsst) memcpy(s, x->sst, sizeof(char *) * (size_t)x->nsst);
                x->sst = s;
                x->capsst = cap;
            }
            size_t n = x->text_overflow ? RAW_CAP + 1 : unescape(x->text, x->ntext);
            if (x->sst) x->sst[x->nsst++] = n > IO_MAX_CELL ? too_long : xstrndup(x, x->text, n);
        }
    } else if (x->si_depth) {
        string_child_end(x);
    }
    x->depth--;
}

/* ---- the worksheet ------------------------------------------------------------------------ */

/* Column index of a cell reference ("C5" → 2), or -1 when it has no letters. Columns
 * past the limit come out as IO_MAX_COLS or more. */
static int ref_col(const char *r) {
    int col = 0, letters = 0;
    for (; (*r >= 'A' && *r <= 'Z') || (*r >= 'a' && *r <= 'z'); r++) {
        if (++letters > 3) return IO_MAX_COLS;   /* past XFD, surely past BL */
        col = col * 26 + ((*r | 0x20) - 'a' + 1);
    }
    return letters ? col - 1 : -1;
}

static void row_start(xreader *x, const char **atts) {
    const char *r = attr(atts, "r", false);
    int row = x->last_row + 1;
    if (r) {
        row = 0;
        for (const char *c = r; *c; c++) {
            if (*c < '0' || *c > '9' || row > MAX_ROW) { row = 0; break; }
            row = row * 10 + (*c - '0');
        }
    }
    if (row < 1 || row > MAX_ROW) { fail(x, OS_ERR_INVALID, "the file is damaged: a row number is not valid"); return; }
    if (row <= x->last_row) { fail(x, OS_ERR_INVALID, "the file is damaged: row %d comes after row %d", row, x->last_row); return; }
    x->row = row;
    x->row_depth = x->depth;
    x->next_col = 0;
    x->ncells = 0;
    memset(x->cells, 0, sizeof x->cells);
}

static void cell_start(xreader *x, const char **atts) {
    const char *r = attr(atts, "r", false), *t = attr(atts, "t", false);
    int col = r ? ref_col(r) : -1;
    x->col = col >= 0 ? col : x->next_col;
    x->type = !t || !strcmp(t, "n") ? T_NUMBER
              : !strcmp(t, "s")         ? T_SHARED
              : !strcmp(t, "inlineStr") ? T_INLINE
              : !strcmp(t, "b")         ? T_BOOL
              : !strcmp(t, "str")       ? T_STR
                                        : T_OTHER;   /* "e" (#N/A…), "d" (ISO date): as written */
    x->cell_depth = x->depth;
    text_start(x);
}

static void cell_end(xreader *x) {
    x->cell_depth = 0;
    if (x->col < IO_MAX_COLS) x->next_col = x->col + 1;
    else x->next_col = IO_MAX_COLS;
    const char *v = NULL;
    char *shared = NULL;          /* a shared string: in the arena already */
    size_t n = x->ntext;
    if (x->text_overflow) {
        v = too_long;
    } else if (x->type == T_SHARED) {
        if (n == 0) return;   /* no value: an empty cell */
        long i = 0;
        for (size_t k = 0; k < n; k++) {
            if (x->text[k] < '0' || x->text[k] > '9' || i > XLSX_MAX_SHARED_STRINGS) { i = -1; break; }
            i = i * 10 + (x->text[k] - '0');
        }
        if (i < 0 || i >= x->nsst) {
            fail(x, OS_ERR_INVALID, "the file is damaged: row %d refers to a missing text", x->row);
            return;
        }
        v = shared = x->sst[i];
    } else {
        if (x->type == T_INLINE || x->type == T_STR) n = unescape(x->text, n);
        x->text[n] = 0;
        if (x->type == T_BOOL && n == 1 && (x->text[0] == '0' || x->text[0] == '1'))
            v = x->text[0] == '1' ? "TRUE" : "FALSE";
        else if (x->type == T_NUMBER)
            v = integer_text(x, x->text, n);
        if (!v) v = x->text;
    }
    if (v != too_long && !v[0]) return;   /* empty: a gap, if anything */
    if (x->col >= IO_MAX_COLS) {
        fail(x, OS_ERR_INVALID, "row %d: too many columns (at most %d)", x->row, IO_MAX_COLS);
        return;
    }
    if (v == too_long || strlen(v) > IO_MAX_CELL) {
        fail(x, OS_ERR_INVALID, "row %d: a cell is too long (at most %d bytes)", x->row, IO_MAX_CELL);
        return;
    }
    char *c = shared ? shared : xstrndup(x, v, v == x->text ? n : strlen(v));
    if (!c) return;
    x->cells[x->col] = c;
    if (x->col + 1 > x->ncells) x->ncells = x->col + 1;
}

static void row_end(xreader *x) {
    x->row_depth = 0;
    x->last_row = x->row;
    os_err e = io_table_add(x->a, x->t, &x->cap, x->max_rows, x->cells, x->ncells, x->row);
    if (e == OS_ERR_TOO_LARGE) fail(x, e, "too many rows (at most %d)", x->max_rows);
    else if (e) fail(x, OS_ERR_TOO_LARGE, "too large to read");
}

static void sheet_start(void *ud, const XML_Char *name, const XML_Char **atts) {
    xreader *x = ud;
    if (x->e) return;   /* expat may still call back after a stop */
    x->depth++;
    const char *l = local(name);
    if (!x->data_depth) {
        if (!strcmp(l, "sheetData")) x->data_depth = x->depth;
    } else if (!x->row_depth) {
        if (x->depth == x->data_depth + 1 && !strcmp(l, "row")) row_start(x, atts);
    } else if (!x->cell_depth) {
        if (x->depth == x->row_depth + 1 && !strcmp(l, "c")) cell_start(x, atts);
    } else if (x->si_depth) {
        string_child_start(x, l);
    } else if (x->depth == x->cell_depth + 1) {
        /* <v> is the value; <is> the inline string; <f> (the formula) is not read. */
        if (!strcmp(l, "v") && x->type != T_INLINE) x->collect_depth = x->depth;
        else if (!strcmp(l, "is") && x->type == T_INLINE) x->si_depth = x->depth;
    }
}

static void sheet_end(void *ud, const XML_Char *name) {
    xreader *x = ud;
    if (x->e) return;
    if (x->si_depth == x->depth) x->si_depth = 0;
    else if (x->si_depth) string_child_end(x);
    else if (x->collect_depth == x->depth) x->collect_depth = -1;
    else if (x->cell_depth == x->depth) cell_end(x);
    else if (x->row_depth == x->depth) row_end(x);
    else if (x->data_depth == x->depth) x->data_depth = 0;
    x->depth--;
}

static void plain_end(void *ud, const XML_Char *name) {
    xreader *x = ud;
    x->depth--;
}

/* ---- zip parts ------------------------------------------------------------------------------ */

/* A DTD is where entities are declared; no part of a workbook has one. */
static void on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid, const XML_Char *pubid, int internal) {
    xreader *x = ud;
    fail(x, OS_ERR_INVALID, "the file is damaged: %s declares a DTD (not accepted)", x->part_name);
}

static void on_entity(void *ud, const XML_Char *name, int param, const XML_Char *value, int len,
                      const XML_Char *base, const XML_Char *sysid, const XML_Char *pubid, const XML_Char *notation) {
    xreader *x = ud;
    fail(x, OS_ERR_INVALID, "the file is damaged: %s declares an entity (not accepted)", x->part_name);
}

static void zip_failed(xreader *x, zip_error_t *ze) {
    fail(x, OS_ERR_INVALID, "the file is damaged: %s: %s", x->part_name, zip_error_strerror(ze));
}

/* Streams the zip entry `name` through expat with the handlers of `part`. Sets *found to
 * whether the entry exists; a missing entry is not a failure here. */
static void parse_part(xreader *x, const char *name, enum part part, bool *found) {
    *found = false;
    if (x->e) return;
    zip_int64_t idx = zip_name_locate(x->z, name, ZIP_FL_NOCASE);
    if (idx < 0) return;
    *found = true;
    x->part_name = name;
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(x->z, (zip_uint64_t)idx, 0, &st) != 0) { zip_failed(x, zip_get_error(x->z)); return; }
    zip_file_t *zf = zip_fopen_index(x->z, (zip_uint64_t)idx, 0);
    if (!zf) { zip_failed(x, zip_get_error(x->z)); return; }
    XML_Parser p = XML_ParserCreateNS(NULL, ' ');
    if (!p) {
        zip_fclose(zf);
        fail(x, OS_ERR_NOMEM, "out of memory");
        return;
    }
#if XML_MAJOR_VERSION > 2 || (XML_MAJOR_VERSION == 2 && XML_MINOR_VERSION >= 1)
    /* Expat seeds its own salt; a kernel one is at least as good where available. */
    unsigned long salt;
    if (getrandom(&salt, sizeof salt, GRND_NONBLOCK) == (ssize_t)sizeof salt) XML_SetHashSalt(p, salt);
#endif
    x->p = p;
    x->depth = 0;
    x->collect_depth = -1;
    XML_SetUserData(p, x);
    XML_SetStartDoctypeDeclHandler(p, on_doctype);
    XML_SetEntityDeclHandler(p, on_entity);
    XML_SetCharacterDataHandler(p, on_text);
    switch (part) {
    case P_WORKBOOK: XML_SetElementHandler(p, wb_start, plain_end); break;
    case P_RELS: XML_SetElementHandler(p, rels_start, plain_end); break;
    case P_STRINGS: XML_SetElementHandler(p, sst_start, sst_end); break;
    case P_SHEET: XML_SetElementHandler(p, sheet_start, sheet_end); break;
    }
    uint64_t got = 0;
    for (;;) {
        void *buf = XML_GetBuffer(p, CHUNK);
        if (!buf) { fail(x, OS_ERR_NOMEM, "out of memory"); break; }
        zip_int64_t n = zip_fread(zf, buf, CHUNK);
        if (n < 0) { zip_failed(x, zip_file_get_error(zf)); break; }
        /* The declared sizes were checked on opening; these count what really comes out. */
        got += (uint64_t)n;
        x->inflated += (uint64_t)n;
        if (got > st.size) {
            fail(x, OS_ERR_TOO_LARGE, "too large once unpacked");
            break;
        }
        if (got > XLSX_MAX_PART_BYTES || x->inflated > XLSX_MAX_TOTAL_BYTES ||
            (got > XLSX_RATIO_FROM_BYTES && got / XLSX_MAX_RATIO > st.comp_size)) {
            fail(x, OS_ERR_TOO_LARGE, "too large once unpacked");
            break;
        }
        if (XML_ParseBuffer(p, (int)n, n == 0) != XML_STATUS_OK) {
            if (!x->e)
                fail(x, OS_ERR_INVALID, "the file is damaged: %s: %s at line %lu", name,
                     XML_ErrorString(XML_GetErrorCode(p)), (unsigned long)XML_GetCurrentLineNumber(p));
            break;
        }
        if (x->e || n == 0) break;
    }
    x->p = NULL;
    XML_ParserFree(p);
    zip_fclose(zf);
}

/* Declared sizes of every entry, before anything is inflated. */
static void check_sizes(xreader *x) {
    zip_int64_t n = zip_get_num_entries(x->z, 0);
    uint64_t total = 0;
    for (zip_int64_t i = 0; i < n && !x->e; i++) {
        zip_stat_t st;
        zip_stat_init(&st);
        if (zip_stat_index(x->z, (zip_uint64_t)i, 0, &st) != 0 ||
            (st.valid & (ZIP_STAT_SIZE | ZIP_STAT_COMP_SIZE)) != (ZIP_STAT_SIZE | ZIP_STAT_COMP_SIZE)) {
            fail(x, OS_ERR_INVALID, "the file is damaged: the zip directory is not readable");
            return;
        }
        if (st.size > XLSX_MAX_PART_BYTES || (total += st.size) > XLSX_MAX_TOTAL_BYTES ||
            (st.size > XLSX_RATIO_FROM_BYTES && st.size / XLSX_MAX_RATIO > st.comp_size))
            fail(x, OS_ERR_TOO_LARGE, "too large once unpacked");
    }
}

static void read_workbook(xreader *x) {
    bool found;
    const char *sheet = NULL;
    parse_part(x, "xl/workbook.xml", P_WORKBOOK, &found);
    if (x->e) return;
    if (!found) {
        sheet = "xl/worksheets/sheet1.xml";
    } else {
        parse_part(x, "xl/_rels/workbook.xml.rels", P_RELS, &found);
        if (x->e) return;
        /* Chart sheets before the first worksheet are passed over; a sheet whose
         * relationship is missing is damage, not a reason to read another one. */
        int i = 0;
        while (i < x->nsheets && x->sheets[i].related && !x->sheets[i].worksheet) i++;
        if (i == x->nsheets) {
            fail(x, OS_ERR_INVALID, "the file is damaged: the workbook has no worksheet");
            return;
        }
        if (!x->sheets[i].related || !(sheet = x->sheets[i].target)) {
            fail(x, OS_ERR_INVALID, "the file is damaged: the first worksheet is missing");
            return;
        }
    }
    x->text = xalloc(x, RAW_CAP + 1);
    if (!x->text) return;
    parse_part(x, x->strings_target ? x->strings_target : "xl/sharedStrings.xml", P_STRINGS, &found);
    if (x->e) return;
    x->si_depth = x->rph_depth = 0;
    parse_part(x, sheet, P_SHEET, &found);
    if (x->e) return;
    if (!found && !x->nsheets) fail(x, OS_ERR_INVALID, "not an Excel file (.xlsx)");
    else if (!found) fail(x, OS_ERR_INVALID, "the file is damaged: the first worksheet is missing");
    else if (x->t->nrows == 0) fail(x, OS_ERR_INVALID, "the first sheet is empty");
}

os_err xlsx_read(arena *a, const char *data, size_t len, int max_rows, io_table *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    if (errlen) err[0] = 0;
    if (len == 0) {
        snprintf(err, errlen, "the file is empty");
        return OS_ERR_INVALID;
    }
    if (len >= 8 && !memcmp(data, "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8)) {
        /* The OLE container of .xls, and of every encrypted workbook. */
        snprintf(err, errlen, "an old Excel file (.xls) or a password-protected workbook: "
                              "save it as .xlsx without a password");
        return OS_ERR_INVALID;
    }
    zip_error_t ze;
    zip_error_init(&ze);
    zip_source_t *src = zip_source_buffer_create(data, len, 0, &ze);
    zip_t *z = src ? zip_open_from_source(src, ZIP_RDONLY, &ze) : NULL;
    if (!z) {
        if (src) zip_source_free(src);
        zip_error_fini(&ze);
        if (len >= 2 && data[0] == 'P' && data[1] == 'K')
            snprintf(err, errlen, "the file is damaged: the zip archive is incomplete or corrupt");
        else
            snprintf(err, errlen, "not an Excel file (.xlsx)");
        return OS_ERR_INVALID;
    }
    zip_error_fini(&ze);
    xreader *x = arena_try_alloc(a, sizeof *x);
    if (!x) {
        zip_discard(z);
        snprintf(err, errlen, "too large to read");
        return OS_ERR_TOO_LARGE;
    }
    *x = (xreader){.a = a, .z = z, .err = err, .errlen = errlen, .t = out, .max_rows = max_rows,
                   .collect_depth = -1};
    check_sizes(x);
    if (!x->e) read_workbook(x);
    zip_discard(z);
    os_err e = x->e;
    if (e) memset(out, 0, sizeof *out);
    return e;
}
