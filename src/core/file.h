/* file.h — reading a whole regular file into an arena, bounded. */
#ifndef OPENSEAT_FILE_H
#define OPENSEAT_FILE_H
#include <stddef.h>
#include "core/arena.h"
#include "core/error.h"

/* NUL-terminated contents (arena-owned) and their length. OS_ERR_NOT_FOUND when the path
 * is missing or not a regular file, OS_ERR_TOO_LARGE past max bytes, OS_ERR_IO otherwise. */
os_err file_read(arena *a, const char *path, size_t max, char **data, size_t *len);

#endif
