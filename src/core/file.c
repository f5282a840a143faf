/* file.c — see file.h. */
#include "file.h"
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

os_err file_read(arena *a, const char *path, size_t max, char **data, size_t *len) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT || errno == ENOTDIR ? OS_ERR_NOT_FOUND : OS_ERR_IO;
    struct stat st;
    os_err e = OS_OK;
    if (fstat(fd, &st) || !S_ISREG(st.st_mode)) e = OS_ERR_NOT_FOUND;
    else if ((size_t)st.st_size > max) e = OS_ERR_TOO_LARGE;
    char *d = e ? NULL : arena_try_alloc(a, (size_t)st.st_size + 1);
    if (!e && !d) e = OS_ERR_NOMEM;
    size_t got = 0;
    while (!e && got < (size_t)st.st_size) {
        ssize_t n = read(fd, d + got, (size_t)st.st_size - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += (size_t)n;
    }
    close(fd);
    if (e) return e;
    d[got] = 0;
    *data = d;
    *len = got;
    return OS_OK;
}
