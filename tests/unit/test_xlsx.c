/* test_xlsx.c — the .xlsx reader over the workbooks in tests/fixtures/xlsx/.
 *
 * Real files from two writers (openpyxl, LibreOffice) and hand-edited ones pin every cell
 * of the first sheet, including the row numbers later error messages will quote. The
 * hostile files must each be refused with their own reason, and nothing damaged may
 * crash or abort: truncations and byte flips of a valid file are swept, and the arena is
 * made too small on purpose. A few packages are built here with libzip, where a committed
 * file would be large (a million shared strings) or where only the zip's structure
 * matters (targets, fall-backs, row bounds).
 *
 * Fixture paths are relative to the repository root, where tests/run-all.sh runs the unit
 * binaries (make unit).
 */
#define UNIT_ARENA_BYTES (256 * 1024 * 1024)
#define UNIT_SETUP xlsx_setup
#include "unit.h"

#include <zip.h>

#include "core/json_write.h"
#include "io/table.h"
#include "io/xlsx.h"

#ifndef FIXTURES
#define FIXTURES "tests/fixtures/xlsx/"
#endif

static char ERR[256];

static int xlsx_setup(void **state) {
    ERR[0] = 0;
    return unit_setup(state);
}

static char *slurp(const char *name, size_t *len) {
    char path[512];
    snprintf(path, sizeof path, FIXTURES "%s", name);
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("cannot open %s (run from the repository root)", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *d = malloc((size_t)n + 1);
    assert_non_null(d);
    assert_int_equal(fread(d, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return d;
}

/* The io_table contract, whatever the file. */
static void check_shape(const io_table *t, int max_rows) {
    assert_true(t->nrows >= 1 && t->nrows <= max_rows);
    for (int r = 0; r < t->nrows; r++) {
        assert_true(t->ncells[r] >= 1 && t->ncells[r] <= IO_MAX_COLS);
        assert_true(t->rows[r][t->ncells[r] - 1][0] != 0);
        if (r) assert_true(t->rownum[r] > t->rownum[r - 1]);
        assert_true(t->rownum[r] >= 1);
        for (int c = 0; c < t->ncells[r]; c++) {
            size_t n = strlen(t->rows[r][c]);
            assert_true(n <= IO_MAX_CELL);
            assert_int_equal(utf8_valid_prefix(t->rows[r][c], n), n);
        }
    }
}

static os_err read_buf(const char *d, size_t n, int max_rows, io_table *t) {
    ERR[0] = 0;
    os_err e = xlsx_read(&A, d, n, max_rows, t, ERR, sizeof ERR);
    if (e == OS_OK) check_shape(t, max_rows);
    else assert_true(ERR[0] != 0);
    return e;
}

static os_err read_fixture(const char *name, int max_rows, io_table *t) {
    size_t n;
    char *d = slurp(name, &n);
    os_err e = read_buf(d, n, max_rows, t);
    free(d);
    return e;
}

static void ok_fixture(const char *name, io_table *t) {
    os_err e = read_fixture(name, 1000, t);
    if (e) fail_msg("%s: %s (%s)", name, ERR, os_err_name(e));
}

/* Row r: its spreadsheet number and exactly these cells (NULL-terminated list). */
static void expect_row(const io_table *t, int r, int rownum, ...) {
    assert_true(r < t->nrows);
    assert_int_equal(t->rownum[r], rownum);
    va_list ap;
    va_start(ap, rownum);
    int c = 0;
    for (const char *want; (want = va_arg(ap, const char *)); c++) {
        if (c >= t->ncells[r]) fail_msg("row %d: %d cells, expected more (\"%s\")", rownum, t->ncells[r], want);
        if (strcmp(t->rows[r][c], want))
            fail_msg("row %d, cell %d: \"%s\", expected \"%s\"", rownum, c, t->rows[r][c], want);
    }
    va_end(ap);
    assert_int_equal(t->ncells[r], c);
}

static void expect_refused(const char *name, os_err code, const char *message) {
    io_table t;
    os_err e = read_fixture(name, 1000, &t);
    if (e != code) fail_msg("%s: %s \"%s\", expected %s", name, os_err_name(e), ERR, os_err_name(code));
    if (strcmp(ERR, message)) fail_msg("%s: \"%s\", expected \"%s\"", name, ERR, message);
    assert_int_equal(t.nrows, 0);
}

/* ---- real files --------------------------------------------------------------------------- */

static void expect_basic(const io_table *t) {
    assert_int_equal(t->nrows, 5);   /* row 5 is styled but empty; "Other" is never read */
    expect_row(t, 0, 1, "Name", "Email", "Seats", "Price", "Active", "Note", NULL);
    expect_row(t, 1, 2, "Zoë Ångström", "zoe@example.com", "3", "12.5", "TRUE", "café ☕", NULL);
    expect_row(t, 2, 3, "Émile 😀 Dupont", "emile@example.fr", "42", "0.1", "FALSE", "line one\nline two", NULL);
    expect_row(t, 3, 4, "Li Wei", "", "7", "-3.25", "", "last", NULL);
    /* openpyxl writes 12345678901234567 as 1.234567890123457e+16 and 1e20 as 1e+20: integers. */
    expect_row(t, 4, 7, "Big", "big@example.com", "12345678901234570", "100000000000000000000", "TRUE", NULL);
}

static void test_openpyxl_basic(void **state) {
    io_table t;
    ok_fixture("basic.xlsx", &t);
    expect_basic(&t);
}

static void test_stored_parts(void **state) {
    io_table t;
    ok_fixture("stored.xlsx", &t);
    expect_basic(&t);
}

static void test_libreoffice(void **state) {
    io_table t;
    ok_fixture("libreoffice.xlsx", &t);
    assert_int_equal(t.nrows, 5);
    expect_row(&t, 0, 1, "name", "email", "seats", "ratio", "active", "note", NULL);
    expect_row(&t, 1, 2, "Zoë Ångström", "zoe@example.com", "3", "12.5", "TRUE", "café ☕", NULL);
    expect_row(&t, 2, 3, "Émile 😀 Dupont", "emile@example.fr", "42", "0.25", "FALSE", "line one\nline two", NULL);
    expect_row(&t, 3, 4, "Li Wei", "", "7", "-3.75", "", "last", NULL);
    expect_row(&t, 4, 6, "Ngozi", "ngozi@example.ng", "1000000", "1.5", "TRUE", "quoted \"word\", comma", NULL);
}

static void test_gaps(void **state) {
    io_table t;
    ok_fixture("gaps.xlsx", &t);
    assert_int_equal(t.nrows, 3);
    expect_row(&t, 0, 1, "first", "", "third", "", "", "sixth", NULL);
    expect_row(&t, 1, 3, "", "row three", NULL);
    assert_int_equal(t.rownum[2], 10);
    assert_int_equal(t.ncells[2], 64);
    assert_string_equal(t.rows[2][0], "10");
    for (int c = 1; c < 63; c++) assert_string_equal(t.rows[2][c], "");
    assert_string_equal(t.rows[2][63], "column 64");
}

static void test_first_tab_is_not_sheet1(void **state) {
    io_table t;
    ok_fixture("reordered.xlsx", &t);
    assert_int_equal(t.nrows, 2);
    expect_row(&t, 0, 1, "email", "seats", NULL);
    expect_row(&t, 1, 2, "ana@example.com", "2", NULL);
}

static void test_shared_strings(void **state) {
    io_table t;
    ok_fixture("shared.xlsx", &t);
    assert_int_equal(t.nrows, 3);
    expect_row(&t, 0, 1, "plain", "bold and normal", NULL);            /* rich-text runs joined */
    expect_row(&t, 1, 2, "東京", "a\r\nb", "_x0041_ stays, A is A", NULL);  /* no phonetic run */
    expect_row(&t, 2, 4, "plain", "", "plain", NULL);                 /* row 3: only "" strings */
}

static void test_inline_and_values(void **state) {
    io_table t;
    ok_fixture("inline.xlsx", &t);   /* a chart sheet comes first in the workbook */
    assert_int_equal(t.nrows, 4);
    expect_row(&t, 0, 2, "inline", "rich run", "INLINE", "#DIV/0!", "FALSE", "TRUE", NULL);
    expect_row(&t, 1, 3, "42", "42", "0", "1.50", "1000", "1.5E-3", "0.30000000000000004", "-12", NULL);
    expect_row(&t, 2, 5, "", "tab\there", NULL);   /* D5: a formula without a value */
    expect_row(&t, 3, 7, "last", "_xZZ41_ _x12_ _x0000_ _xD800_ _x", NULL);   /* row 6: empty cells only */
}

static void test_long_string_nobody_uses(void **state) {
    io_table t;
    ok_fixture("long_unused.xlsx", &t);
    assert_int_equal(t.nrows, 1);
    expect_row(&t, 0, 1, "short", NULL);
}

static void test_max_rows(void **state) {
    io_table t;
    assert_int_equal(read_fixture("basic.xlsx", 5, &t), OS_OK);   /* the header counts */
    assert_int_equal(read_fixture("basic.xlsx", 4, &t), OS_ERR_TOO_LARGE);
    assert_string_equal(ERR, "too many rows (at most 4)");
    assert_int_equal(t.nrows, 0);
}

/* ---- hostile and damaged files -------------------------------------------------------------- */

static void test_not_workbooks(void **state) {
    expect_refused("garbage.xlsx", OS_ERR_INVALID, "not an Excel file (.xlsx)");
    expect_refused("no_workbook.xlsx", OS_ERR_INVALID, "not an Excel file (.xlsx)");
    expect_refused("libreoffice.csv", OS_ERR_INVALID, "not an Excel file (.xlsx)");
    expect_refused("old_format.xlsx", OS_ERR_INVALID,
                   "an old Excel file (.xls) or a password-protected workbook: save it as .xlsx without a password");
    io_table t;
    assert_int_equal(xlsx_read(&A, "", 0, 10, &t, ERR, sizeof ERR), OS_ERR_INVALID);
    assert_string_equal(ERR, "the file is empty");
}

static void test_damaged(void **state) {
    expect_refused("truncated.xlsx", OS_ERR_INVALID, "the file is damaged: the zip archive is incomplete or corrupt");
    expect_refused("corrupt.xlsx", OS_ERR_INVALID, "the file is damaged: xl/worksheets/sheet1.xml: Zlib error: data error");
    expect_refused("missing_sheet.xlsx", OS_ERR_INVALID, "the file is damaged: the first worksheet is missing");
    expect_refused("not_xml.xlsx", OS_ERR_INVALID, "the file is damaged: xl/worksheets/sheet1.xml: mismatched tag at line 3");
    expect_refused("bad_index.xlsx", OS_ERR_INVALID, "the file is damaged: row 1 refers to a missing text");
    expect_refused("rows_backwards.xlsx", OS_ERR_INVALID, "the file is damaged: row 3 comes after row 5");
}

static void test_zip_bombs(void **state) {
    expect_refused("bomb.xlsx", OS_ERR_TOO_LARGE, "too large once unpacked");    /* declares 200 MB */
    expect_refused("ratio.xlsx", OS_ERR_TOO_LARGE, "too large once unpacked");   /* 2 MiB at 1000:1 */
    expect_refused("lying.xlsx", OS_ERR_TOO_LARGE, "too large once unpacked");   /* says 512 KiB, gives 4 MiB */
}

static void test_dtds_refused(void **state) {
    expect_refused("billion_laughs.xlsx", OS_ERR_INVALID,
                   "the file is damaged: xl/worksheets/sheet1.xml declares a DTD (not accepted)");
    expect_refused("xxe.xlsx", OS_ERR_INVALID, "the file is damaged: xl/sharedStrings.xml declares a DTD (not accepted)");
}

static void test_row_bounds(void **state) {
    expect_refused("columns65.xlsx", OS_ERR_INVALID, "row 1: too many columns (at most 64)");
    expect_refused("long_cell.xlsx", OS_ERR_INVALID, "row 2: a cell is too long (at most 4096 bytes)");
}

/* Every prefix of a valid file, and a byte flipped every few bytes: refused or read, with
 * a reason or a well-formed table, never a crash (the sanitizers watch). */
static void test_damage_sweep(void **state) {
    size_t n;
    char *d = slurp("basic.xlsx", &n);
    io_table t;
    for (size_t k = 0; k < n; k++) {
        assert_int_not_equal(read_buf(d, k, 1000, &t), OS_OK);
        if (k % 256 == 0) { unit_arena_renew(); }
    }
    for (size_t k = 0; k < n; k += 3) {
        d[k] ^= 0x21;
        read_buf(d, n, 1000, &t);
        d[k] ^= 0x21;
        if (k % 256 == 0) { unit_arena_renew(); }
    }
    free(d);
}

static void test_arena_exhausted(void **state) {
    size_t n;
    char *d = slurp("libreoffice.xlsx", &n);
    int refused = 0, read = 0;
    for (size_t limit = 64; limit <= 128 * 1024; limit = limit * 5 / 4) {
        arena small;
        arena_init(&small, limit);
        io_table t;
        os_err e = xlsx_read(&small, d, n, 1000, &t, ERR, sizeof ERR);
        if (e) {
            assert_int_equal(e, OS_ERR_TOO_LARGE);
            assert_string_equal(ERR, "too large to read");
            refused++;
        } else {
            assert_int_equal(t.nrows, 5);
            read++;
        }
        arena_free(&small);
    }
    assert_true(refused > 0 && read > 0);
    free(d);
}

/* ---- packages built here -------------------------------------------------------------------- */

#define MAIN_NS "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
#define REL_NS "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
#define PKG_NS "http://schemas.openxmlformats.org/package/2006/relationships"
#define SHEET(rows) "<worksheet xmlns=\"" MAIN_NS "\"><sheetData>" rows "</sheetData></worksheet>"
#define WORKBOOK(sheets) "<workbook xmlns=\"" MAIN_NS "\" xmlns:r=\"" REL_NS "\"><sheets>" sheets "</sheets></workbook>"
#define RELS(items) "<Relationships xmlns=\"" PKG_NS "\">" items "</Relationships>"
#define REL(id, type, target) "<Relationship Id=\"" id "\" Type=\"" REL_NS "/" type "\" Target=\"" target "\"/>"

/* A zip of n (name, body) pairs, in memory (malloc'd), entries stored or deflated. */
static char *build_zip(size_t *len, bool store, int n, ...) {
    zip_error_t ze;
    zip_error_init(&ze);
    zip_source_t *src = zip_source_buffer_create(NULL, 0, 0, &ze);
    assert_non_null(src);
    zip_source_keep(src);
    zip_t *z = zip_open_from_source(src, ZIP_TRUNCATE, &ze);
    assert_non_null(z);
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++) {
        const char *name = va_arg(ap, const char *), *body = va_arg(ap, const char *);
        zip_source_t *s = zip_source_buffer(z, body, strlen(body), 0);
        zip_int64_t idx = zip_file_add(z, name, s, ZIP_FL_ENC_UTF_8);
        assert_true(idx >= 0);
        if (store) zip_set_file_compression(z, (zip_uint64_t)idx, ZIP_CM_STORE, 0);
    }
    va_end(ap);
    assert_int_equal(zip_close(z), 0);
    zip_stat_t st;
    assert_int_equal(zip_source_open(src), 0);
    assert_int_equal(zip_source_stat(src, &st), 0);
    char *d = malloc(st.size ? st.size : 1);
    assert_int_equal(zip_source_read(src, d, st.size), (zip_int64_t)st.size);
    zip_source_close(src);
    zip_source_free(src);
    *len = st.size;
    return d;
}

static os_err read_zip(char *d, size_t n, int max_rows, io_table *t) {
    os_err e = read_buf(d, n, max_rows, t);
    free(d);
    return e;
}

static void test_no_workbook_falls_back_to_sheet1(void **state) {
    size_t n;
    char *d = build_zip(&n, false, 1, "xl/worksheets/sheet1.xml",
                        SHEET("<row r=\"3\"><c r=\"B3\" t=\"inlineStr\"><is><t>alone</t></is></c></row>"));
    io_table t;
    assert_int_equal(read_zip(d, n, 10, &t), OS_OK);
    assert_int_equal(t.nrows, 1);
    expect_row(&t, 0, 3, "", "alone", NULL);
}

/* Targets: absolute, with "..", and the shared strings under a name of their own; the
 * workbook's order wins over the relationships' order. */
static void test_relationship_targets(void **state) {
    size_t n;
    char *d = build_zip(
        &n, false, 5, "xl/workbook.xml",
        WORKBOOK("<sheet name=\"B\" sheetId=\"2\" r:id=\"rB\"/><sheet name=\"A\" sheetId=\"1\" r:id=\"rA\"/>"),
        "xl/_rels/workbook.xml.rels",
        RELS(REL("rA", "worksheet", "worksheets/a.xml") REL("rS", "sharedStrings", "/xl/strings/../text/sst.xml")
                 REL("rB", "worksheet", "/xl/./worksheets/../worksheets/b.xml")),
        "xl/worksheets/a.xml", SHEET("<row><c t=\"inlineStr\"><is><t>wrong sheet</t></is></c></row>"),
        "xl/worksheets/b.xml", SHEET("<row><c t=\"s\"><v>1</v></c><c t=\"s\"><v>0</v></c></row>"),
        "xl/text/sst.xml", "<sst xmlns=\"" MAIN_NS "\"><si><t>zero</t></si><si><t>one</t></si></sst>");
    io_table t;
    assert_int_equal(read_zip(d, n, 10, &t), OS_OK);
    assert_int_equal(t.nrows, 1);
    expect_row(&t, 0, 1, "one", "zero", NULL);
}

static void test_sheet_without_relationship(void **state) {
    size_t n;
    char *d = build_zip(&n, false, 3, "xl/workbook.xml",
                        WORKBOOK("<sheet name=\"A\" sheetId=\"1\" r:id=\"rMissing\"/><sheet name=\"B\" sheetId=\"2\" r:id=\"rB\"/>"),
                        "xl/_rels/workbook.xml.rels", RELS(REL("rB", "worksheet", "worksheets/b.xml")),
                        "xl/worksheets/b.xml", SHEET("<row><c><v>1</v></c></row>"));
    io_table t;
    assert_int_equal(read_zip(d, n, 10, &t), OS_ERR_INVALID);
    assert_string_equal(ERR, "the file is damaged: the first worksheet is missing");
}

static void test_empty_sheet(void **state) {
    size_t n;
    char *d = build_zip(&n, false, 1, "xl/worksheets/sheet1.xml",
                        SHEET("<row r=\"1\"><c r=\"A1\" s=\"1\"/></row><row r=\"2\"><c t=\"inlineStr\"><is><t/></is></c></row>"));
    io_table t;
    assert_int_equal(read_zip(d, n, 10, &t), OS_ERR_INVALID);
    assert_string_equal(ERR, "the first sheet is empty");
}

static void test_row_numbers_bounded(void **state) {
    size_t n;
    char *d = build_zip(&n, false, 1, "xl/worksheets/sheet1.xml",
                        SHEET("<row r=\"1048576\"><c r=\"A1048576\"><v>1</v></c></row>"));
    io_table t;
    assert_int_equal(read_zip(d, n, 10, &t), OS_OK);
    assert_int_equal(t.rownum[0], 1048576);
    d = build_zip(&n, false, 1, "xl/worksheets/sheet1.xml",
                  SHEET("<row r=\"1048576\"><c><v>1</v></c></row><row><c><v>2</v></c></row>"));
    assert_int_equal(read_zip(d, n, 10, &t), OS_ERR_INVALID);
    assert_string_equal(ERR, "the file is damaged: a row number is not valid");
    d = build_zip(&n, false, 1, "xl/worksheets/sheet1.xml", SHEET("<row r=\"99999999999999999999\"/>"));
    assert_int_equal(read_zip(d, n, 10, &t), OS_ERR_INVALID);
    assert_string_equal(ERR, "the file is damaged: a row number is not valid");
}

/* Empty cells past column BL are formatting, not data; a value there is an error. */
static void test_empty_cells_past_the_last_column(void **state) {
    size_t n;
    char *d = build_zip(&n, false, 1, "xl/worksheets/sheet1.xml",
                        SHEET("<row r=\"1\"><c r=\"A1\"><v>1</v></c><c r=\"BM1\" s=\"2\"/><c r=\"XFD1\" t=\"inlineStr\"><is><t></t></is></c></row>"));
    io_table t;
    assert_int_equal(read_zip(d, n, 10, &t), OS_OK);
    expect_row(&t, 0, 1, "1", NULL);
    d = build_zip(&n, false, 1, "xl/worksheets/sheet1.xml", SHEET("<row r=\"4\"><c r=\"XFD4\"><v>0</v></c></row>"));
    assert_int_equal(read_zip(d, n, 10, &t), OS_ERR_INVALID);
    assert_string_equal(ERR, "row 4: too many columns (at most 64)");
}

static void test_cell_size_limit(void **state) {
    static char sheet[8192];
    char cell[IO_MAX_CELL + 2];
    memset(cell, 'x', sizeof cell - 1);
    cell[sizeof cell - 1] = 0;
    for (int extra = 0; extra <= 1; extra++) {
        cell[IO_MAX_CELL - 1 + extra] = 'x';
        cell[IO_MAX_CELL + extra] = 0;
        snprintf(sheet, sizeof sheet, SHEET("<row><c t=\"inlineStr\"><is><t>%s</t></is></c></row>"), cell);
        size_t n;
        char *d = build_zip(&n, false, 1, "xl/worksheets/sheet1.xml", sheet);
        io_table t;
        os_err e = read_zip(d, n, 10, &t);
        if (!extra) {
            assert_int_equal(e, OS_OK);
            assert_int_equal(strlen(t.rows[0][0]), IO_MAX_CELL);
        } else {
            assert_int_equal(e, OS_ERR_INVALID);
            assert_string_equal(ERR, "row 1: a cell is too long (at most 4096 bytes)");
        }
    }
}

/* A million and one empty strings: 6 MB of XML, stored, so only the count can refuse it. */
static void test_shared_string_count(void **state) {
    for (int extra = 0; extra <= 1; extra++) {
        int count = XLSX_MAX_SHARED_STRINGS + extra;
        const char *head = "<sst xmlns=\"" MAIN_NS "\">", *tail = "</sst>";
        size_t hl = strlen(head), tl = strlen(tail);
        char *sst = malloc(hl + (size_t)count * 5 + tl + 1);
        memcpy(sst, head, hl);
        for (int i = 0; i < count; i++) memcpy(sst + hl + (size_t)i * 5, "<si/>", 5);
        memcpy(sst + hl + (size_t)count * 5, tail, tl + 1);
        size_t n;
        char *d = build_zip(&n, true, 2, "xl/sharedStrings.xml", sst, "xl/worksheets/sheet1.xml",
                            SHEET("<row><c><v>1</v></c></row>"));
        free(sst);
        io_table t;
        os_err e = read_zip(d, n, 10, &t);
        if (!extra) {
            assert_int_equal(e, OS_OK);
        } else {
            assert_int_equal(e, OS_ERR_TOO_LARGE);
            assert_string_equal(ERR, "too many different texts (at most 1000000)");
        }
        unit_arena_renew();
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        T(test_openpyxl_basic),
        T(test_stored_parts),
        T(test_libreoffice),
        T(test_gaps),
        T(test_first_tab_is_not_sheet1),
        T(test_shared_strings),
        T(test_inline_and_values),
        T(test_long_string_nobody_uses),
        T(test_max_rows),
        T(test_not_workbooks),
        T(test_damaged),
        T(test_zip_bombs),
        T(test_dtds_refused),
        T(test_row_bounds),
        T(test_damage_sweep),
        T(test_arena_exhausted),
        T(test_no_workbook_falls_back_to_sheet1),
        T(test_relationship_targets),
        T(test_sheet_without_relationship),
        T(test_empty_sheet),
        T(test_row_numbers_bounded),
        T(test_empty_cells_past_the_last_column),
        T(test_cell_size_limit),
        T(test_shared_string_count),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
