/* embed.c — lookups over the generated table; see embed.h. */
#include "embed.h"
#include <string.h>

const embed_file *embed_find(const char *name) {
    unsigned lo = 0, hi = embed_count;
    while (lo < hi) {
        unsigned mid = (lo + hi) / 2;
        int c = strcmp(name, embed_files[mid].name);
        if (c == 0) return &embed_files[mid];
        if (c < 0) hi = mid; else lo = mid + 1;
    }
    return NULL;
}

void embed_each(const char *prefix, void (*fn)(const embed_file *f, void *ud), void *ud) {
    size_t pl = strlen(prefix);
    for (unsigned i = 0; i < embed_count; i++)
        if (strncmp(embed_files[i].name, prefix, pl) == 0) fn(&embed_files[i], ud);
}
