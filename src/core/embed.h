/* embed.h — files compiled into the binary (web UI, migrations, mail templates, OpenAPI).
 *
 * The table is generated at build time by tools/embed.c, sorted by name. Names are
 * "web/…", "migrations/sqlite/NNN_name.sql", "mail/LANG/NAME.txt", "docs/openapi.yaml".
 * Data is NUL-terminated (len excludes it) and lives for the whole process.
 */
#ifndef OPENSEAT_EMBED_H
#define OPENSEAT_EMBED_H
#include <stddef.h>

typedef struct embed_file {
    const char *name;
    const unsigned char *data;
    size_t len;
} embed_file;

extern const embed_file embed_files[];
extern const unsigned embed_count;

const embed_file *embed_find(const char *name);
/* Calls fn for every file whose name starts with prefix, in name order. */
void embed_each(const char *prefix, void (*fn)(const embed_file *f, void *ud), void *ud);

#endif
