/* fuzz_xlsx.c — arbitrary bytes through xlsx_read, two ways.
 *
 *  - An input starting with "PK" is read as the workbook itself: zip directory, entry
 *    sizes, inflating.
 *  - Any other input is the XML of the parts, separated by NUL bytes (which XML cannot
 *    contain): worksheet, shared strings, workbook, workbook relationships. They are
 *    stored uncompressed in a zip built here, so mutations reach the XML handlers instead
 *    of stopping at a CRC. Without a workbook part the worksheet is found as
 *    xl/worksheets/sheet1.xml; seeds with one name it there through the relationships.
 *
 * Property checked (abort() on violation, so libFuzzer records the input): the io_table
 * contract (fuzz_table.h) — a bounded, valid UTF-8, well-numbered table, or an empty one
 * with a reason. Crashes, leaks and undefined behaviour are the sanitizers'.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>

#include "core/arena.h"
#include "core/limits.h"
#include "io/xlsx.h"

#include "fuzz_table.h"

#define MAX_ROWS 100

static const char *const part_names[] = {"xl/worksheets/sheet1.xml", "xl/sharedStrings.xml", "xl/workbook.xml",
                                         "xl/_rels/workbook.xml.rels"};

/* A zip (malloc'd) of the NUL-separated parts of data, stored; NULL if libzip fails. */
static char *build_zip(const uint8_t *data, size_t size, size_t *len) {
    zip_error_t ze;
    zip_error_init(&ze);
    zip_source_t *src = zip_source_buffer_create(NULL, 0, 0, &ze);
    CHECK(src != NULL);
    zip_source_keep(src);
    zip_t *z = zip_open_from_source(src, ZIP_TRUNCATE, &ze);
    CHECK(z != NULL);
    size_t at = 0;
    for (int i = 0; i < 4 && at <= size; i++) {
        const uint8_t *end = memchr(data + at, 0, size - at);
        size_t n = end ? (size_t)(end - (data + at)) : size - at;
        if (n || i == 0) {
            zip_source_t *s = zip_source_buffer(z, data + at, n, 0);
            zip_int64_t idx = s ? zip_file_add(z, part_names[i], s, 0) : -1;
            CHECK(idx >= 0);
            zip_set_file_compression(z, (zip_uint64_t)idx, ZIP_CM_STORE, 0);
        }
        if (!end) break;
        at += n + 1;
    }
    CHECK(zip_close(z) == 0);
    zip_stat_t st;
    char *out = NULL;
    if (zip_source_open(src) == 0) {
        if (zip_source_stat(src, &st) == 0 && (out = malloc(st.size ? st.size : 1)) &&
            zip_source_read(src, out, st.size) != (zip_int64_t)st.size) {
            free(out);
            out = NULL;
        }
        zip_source_close(src);
    }
    zip_source_free(src);
    CHECK(out != NULL);
    *len = st.size;
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    arena a;
    arena_init(&a, LIMIT_ARENA_BYTES);
    io_table t;
    char err[256] = "";
    os_err e;
    if (size >= 2 && data[0] == 'P' && data[1] == 'K') {
        e = xlsx_read(&a, (const char *)data, size, MAX_ROWS, &t, err, sizeof err);
    } else {
        size_t n;
        char *zip = build_zip(data, size, &n);
        e = xlsx_read(&a, zip, n, MAX_ROWS, &t, err, sizeof err);
        free(zip);
    }
    check_table(e, &t, MAX_ROWS, err);
    arena_free(&a);
    return 0;
}
