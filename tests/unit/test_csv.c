/* test_csv.c — the CSV reader: what spreadsheets and editors write, and the row numbers
 * its errors (and later, per-row validation) quote.
 *
 * Row numbers are the spreadsheet's: blank lines count, a CRLF is one line end, a line
 * break inside a quoted cell is not a new row. Each refusal names the row, so the user can
 * find it.
 */
#include "unit.h"

#include "io/columns.h"
#include "io/csv.h"
#include "io/table.h"

static io_table TB;
static char ERR[256];

static os_err read_n(const char *data, size_t len, int max_rows) {
    ERR[0] = 0;
    os_err e = csv_read(&A, data, len, max_rows, &TB, ERR, sizeof ERR);
    if (e) assert_int_equal(TB.nrows, 0);
    return e;
}

static void ok(const char *data) {
    os_err e = read_n(data, strlen(data), 1000);
    if (e) fail_msg("refused (%s): %s", os_err_name(e), ERR);
}

static void refused(const char *data, size_t len, os_err code, const char *message) {
    os_err e = read_n(data, len, 1000);
    if (e != code) fail_msg("%s \"%s\", expected %s", os_err_name(e), ERR, os_err_name(code));
    if (strcmp(ERR, message)) fail_msg("\"%s\", expected \"%s\"", ERR, message);
}

/* Row r: its row number and exactly these cells (NULL-terminated list). */
static void expect_row(int r, int rownum, ...) {
    assert_true(r < TB.nrows);
    assert_int_equal(TB.rownum[r], rownum);
    va_list ap;
    va_start(ap, rownum);
    int c = 0;
    for (const char *want; (want = va_arg(ap, const char *)); c++) {
        if (c >= TB.ncells[r]) fail_msg("row %d: %d cells, expected more (\"%s\")", rownum, TB.ncells[r], want);
        if (strcmp(TB.rows[r][c], want)) fail_msg("row %d, cell %d: \"%s\", expected \"%s\"", rownum, c, TB.rows[r][c], want);
    }
    va_end(ap);
    assert_int_equal(TB.ncells[r], c);
}

static void test_bom_semicolons_crlf(void **state) {
    ok("\xEF\xBB\xBFname;email;note\r\nZoë;zoe@example.com;a, b\r\n\r\nLi;li@example.com;\r\n");
    assert_int_equal(TB.nrows, 3);
    expect_row(0, 1, "name", "email", "note", NULL);   /* no BOM in the first header */
    expect_row(1, 2, "Zoë", "zoe@example.com", "a, b", NULL);
    expect_row(2, 4, "Li", "li@example.com", NULL);   /* trailing empty cell dropped */
}

static void test_commas_and_lf(void **state) {
    ok("a,b;c\nx,\"y;z\"\nlast,row");   /* no line end at the end */
    assert_int_equal(TB.nrows, 3);
    expect_row(0, 1, "a", "b;c", NULL);
    expect_row(1, 2, "x", "y;z", NULL);
    expect_row(2, 3, "last", "row", NULL);
}

static void test_quotes(void **state) {
    ok("name,note,other\r\n\"Doe, Jane\",\"she said \"\"hi\"\"\",\"two\r\nlines\"\r\nnext,\"\",\"x\ny\"\n\"\"\"\",end\n");
    assert_int_equal(TB.nrows, 4);
    expect_row(0, 1, "name", "note", "other", NULL);
    expect_row(1, 2, "Doe, Jane", "she said \"hi\"", "two\r\nlines", NULL);
    expect_row(2, 3, "next", "", "x\ny", NULL);   /* the line break inside a cell is not a row */
    expect_row(3, 4, "\"", "end", NULL);
}

static void test_spaces_kept(void **state) {
    ok(" a ; b \n  ;x\n");
    expect_row(0, 1, " a ", " b ", NULL);
    expect_row(1, 2, "  ", "x", NULL);
}

static void test_blank_lines_skipped_but_counted(void **state) {
    ok("\n\nh1,h2\n\n,\n,,,,\r\n\r\n\rv1,v2\r\rw\n");
    assert_int_equal(TB.nrows, 3);
    expect_row(0, 3, "h1", "h2", NULL);
    expect_row(1, 9, "v1", "v2", NULL);   /* lines 4-8: empty, "," and ",,,," and bare CRs */
    expect_row(2, 11, "w", NULL);         /* a lone CR ends a row too (old Mac files) */
}

static void test_invalid_utf8_names_its_row(void **state) {
    static const char d[] = "name\nok\n\n\"caf\xE9\"\n";
    refused(d, sizeof d - 1, OS_ERR_INVALID, "row 4: invalid UTF-8 (save the file as CSV UTF-8)");
    static const char overlong[] = "a\n\xC0\xAF\n";
    refused(overlong, sizeof overlong - 1, OS_ERR_INVALID, "row 2: invalid UTF-8 (save the file as CSV UTF-8)");
    static const char nul[] = "a\nb\x00" "c\n";
    refused(nul, sizeof nul - 1, OS_ERR_INVALID, "row 2: a NUL byte: this is not a text file");
    static const char utf16[] = "\xFF\xFEn\0a\0m\0e\0";
    refused(utf16, sizeof utf16 - 1, OS_ERR_INVALID, "the file is UTF-16 text: save it as CSV UTF-8");
}

static void test_misplaced_quotes(void **state) {
    refused("a,b\n\"x\"y,z\n", strlen("a,b\n\"x\"y,z\n"), OS_ERR_INVALID,
            "row 2: a quote is misplaced (a quoted cell must be quoted whole, with its quotes doubled)");
    refused("a,b\n5\" screen,z\n", strlen("a,b\n5\" screen,z\n"), OS_ERR_INVALID,
            "row 2: a quote is misplaced (a quoted cell must be quoted whole, with its quotes doubled)");
    const char *open = "a,b\n\nc,\"never closed\nd,e\n";
    refused(open, strlen(open), OS_ERR_INVALID, "row 3: a quoted cell is not closed");
}

static char *repeat_fields(int n, const char *last) {
    size_t cap = (size_t)n * 8 + 64, o = 0;
    char *s = arena_alloc(&A, cap);
    for (int i = 0; i < n; i++) o += (size_t)snprintf(s + o, cap - o, "%sc%d", i ? "," : "", i + 1);
    snprintf(s + o, cap - o, "%s\n", last);
    return s;
}

static void test_columns_bounded(void **state) {
    char *d = arena_printf(&A, "h\n%s", repeat_fields(64, ""));
    ok(d);
    assert_int_equal(TB.ncells[1], 64);
    assert_string_equal(TB.rows[1][63], "c64");
    /* Empty fields past the 64th are formatting an export left behind. */
    ok(arena_printf(&A, "h\n%s", repeat_fields(64, ",,,,,,,,,,")));
    assert_int_equal(TB.ncells[1], 64);
    char *too_many = arena_printf(&A, "h\n\n%s", repeat_fields(65, ""));
    refused(too_many, strlen(too_many), OS_ERR_INVALID, "row 3: too many columns (at most 64)");
}

static void test_cell_size_bounded(void **state) {
    char *cell = arena_alloc(&A, IO_MAX_CELL + 2);
    memset(cell, 'x', IO_MAX_CELL);
    ok(arena_printf(&A, "h\n%s\n", cell));
    assert_int_equal(strlen(TB.rows[1][0]), IO_MAX_CELL);
    cell[IO_MAX_CELL] = 'x';
    char *d = arena_printf(&A, "h\n\"%s\"\n", cell);
    refused(d, strlen(d), OS_ERR_INVALID, "row 2: a cell is too long (at most 4096 bytes)");
}

static void test_rows_bounded(void **state) {
    const char *d = "h\n1\n\n\n2\n";
    assert_int_equal(read_n(d, strlen(d), 3), OS_OK);   /* blank lines are not rows */
    assert_int_equal(read_n(d, strlen(d), 2), OS_ERR_TOO_LARGE);
    assert_string_equal(ERR, "too many rows (at most 2)");
}

static void test_nothing_to_read(void **state) {
    refused("", 0, OS_ERR_INVALID, "the file is empty");
    refused("\xEF\xBB\xBF", 3, OS_ERR_INVALID, "the file is empty");
    refused("\r\n\n,,\n", 6, OS_ERR_INVALID, "the file has no rows");
}

static void test_arena_exhausted(void **state) {
    const char *d = "name,email\nAna,ana@example.com\nBo,bo@example.com\n";
    int refusals = 0;
    for (size_t limit = 16; limit <= 16384; limit *= 2) {
        arena small;
        arena_init(&small, limit);
        os_err e = csv_read(&small, d, strlen(d), 10, &TB, ERR, sizeof ERR);
        if (e) {
            assert_int_equal(e, OS_ERR_TOO_LARGE);
            assert_string_equal(ERR + strlen(ERR) - strlen("too large to read"), "too large to read");
            refusals++;
        } else {
            assert_int_equal(TB.nrows, 3);
        }
        arena_free(&small);
    }
    assert_true(refusals > 0);
}

static void test_io_column(void **state) {
    ok("  Email ,NAME,name\nx,y,z\n");
    assert_int_equal(io_column(&TB, "email"), 0);
    assert_int_equal(io_column(&TB, "name"), 1);   /* the first of two */
    assert_int_equal(io_column(&TB, "mail"), -1);
    assert_int_equal(io_column(&TB, ""), -1);
}

static void test_libreoffice_fixture(void **state) {
    FILE *f = fopen("tests/fixtures/xlsx/libreoffice.csv", "rb");
    if (!f) fail_msg("cannot open tests/fixtures/xlsx/libreoffice.csv (run from the repository root)");
    char d[1024];
    size_t n = fread(d, 1, sizeof d, f);
    fclose(f);
    assert_int_equal(read_n(d, n, 100), OS_OK);
    /* The same cells as Calc's .xlsx of this file (test_xlsx.c), except what Calc typed:
     * its booleans, and its numbers, are written back as typed here. */
    assert_int_equal(TB.nrows, 5);
    expect_row(0, 1, "name", "email", "seats", "ratio", "active", "note", NULL);
    expect_row(2, 3, "Émile 😀 Dupont", "emile@example.fr", "42", "0.25", "FALSE", "line one\nline two", NULL);
    expect_row(3, 4, "Li Wei", "", "7", "-3.75", "", "last", NULL);
    expect_row(4, 6, "Ngozi", "ngozi@example.ng", "1000000", "1.5", "TRUE", "quoted \"word\", comma", NULL);
}

/* An upload as io_table_read_upload reads it; its reason in ERR. */
static os_err read_upload(const char *data, size_t len, io_encoding enc, bool excel) {
    ERR[0] = 0;
    return io_table_read_upload(&A, data, len, 1000, enc, excel, &TB, ERR, sizeof ERR);
}

static void test_windows_1252(void **state) {
    /* "Zoë" and "Müller" as Excel's plain CSV writes them on Windows: 2 of 3 rows changed. */
    static const char d[] = "Name,Email\r\nZo\xEB,z@x.example\r\nPlain,p@x.example\r\nM\xFCller \x80,m@x.example\r\n";
    assert_int_equal(read_upload(d, sizeof d - 1, IO_UTF8, false), OS_ERR_INVALID);
    if (!strstr(ERR, "looks like Windows-1252") || !strstr(ERR, ": 2 rows affected")) fail_msg("%s", ERR);
    assert_int_equal(read_upload(d, sizeof d - 1, IO_WINDOWS_1252, false), OS_OK);
    expect_row(1, 2, "Zoë", "z@x.example", NULL);
    expect_row(3, 4, "Müller €", "m@x.example", NULL);
    /* A byte the code page leaves undefined is not Windows-1252 either. */
    static const char undefined[] = "Name\nA\x81\n";
    assert_int_equal(read_upload(undefined, sizeof undefined - 1, IO_WINDOWS_1252, false), OS_ERR_INVALID);
    assert_string_equal(ERR, "this is not Windows-1252 text");
    /* UTF-8 with a BOM stays UTF-8 whatever was asked. */
    static const char bom[] = "\xEF\xBB\xBFName\nZo\xC3\xAB\n";
    assert_int_equal(read_upload(bom, sizeof bom - 1, IO_WINDOWS_1252, false), OS_OK);
    expect_row(1, 2, "Zoë", NULL);
    assert_int_equal(io_encoding_parse("Windows-1252"), IO_WINDOWS_1252);
    assert_int_equal(io_encoding_parse("UTF-8"), IO_UTF8);
    assert_int_equal(io_encoding_parse("latin1"), -1);
    assert_int_equal(io_encoding_parse(NULL), -1);
}

static void test_not_a_spreadsheet(void **state) {
    static const char junk[] = "\x00\x01\x02\xFF binary";
    assert_int_equal(read_upload(junk, sizeof junk - 1, IO_UTF8, true), OS_ERR_INVALID);
    if (!strstr(ERR, "not an Excel file (.xlsx)")) fail_msg("%s", ERR);
    assert_int_equal(read_upload(junk, sizeof junk - 1, IO_UTF8, false), OS_ERR_INVALID);
    assert_string_equal(ERR, "this is not a CSV file (text) nor an Excel file (.xlsx)");
    /* A CSV sent under an .xlsx name is still read. */
    assert_int_equal(read_upload("Name\nAda\n", 9, IO_UTF8, true), OS_OK);
}

static void test_header_names(void **state) {
    assert_int_equal(columns_match("Identifiant d’abonnement"), SUBCOL_ID);
    assert_int_equal(columns_match("IDENTIFIANT D'ABONNEMENT"), SUBCOL_ID);
    assert_int_equal(columns_match("n° d'abonnement"), SUBCOL_ID);
    assert_int_equal(columns_match("E-mail"), SUBCOL_SIGN_IN_EMAIL);
    assert_int_equal(columns_match("Courriel"), SUBCOL_SIGN_IN_EMAIL);
    assert_int_equal(columns_match("adresse e mail"), SUBCOL_SIGN_IN_EMAIL);
    assert_int_equal(columns_match("Full  Name"), SUBCOL_NAME);
    assert_int_equal(columns_match("Réf."), SUBCOL_REFERENCE);
    assert_int_equal(columns_match("Added on"), -1);
    const char *s = NULL;
    assert_int_equal(columns_suggest("Refrence", &s), SUBCOL_REFERENCE);
    assert_string_equal(s, "Reference");
    assert_int_equal(columns_suggest("Pays client", &s), SUBCOL_COUNTRY);
    assert_string_equal(s, "Pays");
    assert_int_equal(columns_suggest("Sign-in Emial", &s), SUBCOL_SIGN_IN_EMAIL);
    assert_string_equal(s, "Sign-in Email");
    /* Short names take no edits: "To" is not "ID", "Non" not "Nom". */
    assert_int_equal(columns_suggest("To", &s), -1);
    assert_int_equal(columns_suggest("Non", &s), -1);
    assert_int_equal(columns_suggest("Added on", &s), -1);
    assert_int_equal(columns_suggest("Notes", &s), -1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        T(test_bom_semicolons_crlf),
        T(test_commas_and_lf),
        T(test_quotes),
        T(test_spaces_kept),
        T(test_blank_lines_skipped_but_counted),
        T(test_invalid_utf8_names_its_row),
        T(test_misplaced_quotes),
        T(test_columns_bounded),
        T(test_cell_size_bounded),
        T(test_rows_bounded),
        T(test_nothing_to_read),
        T(test_arena_exhausted),
        T(test_io_column),
        T(test_libreoffice_fixture),
        T(test_windows_1252),
        T(test_not_a_spreadsheet),
        T(test_header_names),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
