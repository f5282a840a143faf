/* maildir.c — see maildir.h. */
#include "maildir.h"
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>
#include "core/secret.h"

__attribute__((format(printf, 3, 4)))
static os_err fail(char *err, size_t errlen, const char *fmt, ...) {
    int saved = errno;
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
        if (n >= 0 && (size_t)n < errlen)
            snprintf(err + n, errlen - (size_t)n, ": %s", strerror(saved));
    }
    return OS_ERR_IO;
}

static bool ensure_dir(const char *path) {
    if (mkdir(path, 0700) == 0) return true;
    if (errno != EEXIST) return false;
    struct stat st;
    if (stat(path, &st) != 0) return false;
    if (!S_ISDIR(st.st_mode)) { errno = ENOTDIR; return false; }
    return true;
}

static bool write_all(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* The Maildir name must stay one path component without the ':' that separates flags. */
static void host_part(char *out, size_t n) {
    if (gethostname(out, n) != 0 || !out[0]) snprintf(out, n, "localhost");
    out[n - 1] = 0;
    for (char *p = out; *p; p++)
        if (*p == '/' || *p == ':' || (unsigned char)*p <= 0x20) *p = '_';
}

os_err maildir_deliver(const char *dir, const char *msg, size_t len, char *err, size_t errlen) {
    if (err && errlen) err[0] = 0;
    char tmpd[4096], newd[4096], curd[4096];
    snprintf(tmpd, sizeof tmpd, "%s/tmp", dir);
    snprintf(newd, sizeof newd, "%s/new", dir);
    int pn = snprintf(curd, sizeof curd, "%s/cur", dir);
    if (pn < 0 || (size_t)pn + 64 + 256 >= sizeof curd) {
        errno = ENAMETOOLONG;
        return fail(err, errlen, "maildir %s", dir);
    }
    if (!ensure_dir(dir)) return fail(err, errlen, "mkdir %s", dir);
    if (!ensure_dir(tmpd)) return fail(err, errlen, "mkdir %s", tmpd);
    if (!ensure_dir(newd)) return fail(err, errlen, "mkdir %s", newd);
    if (!ensure_dir(curd)) return fail(err, errlen, "mkdir %s", curd);

    char host[256], name[400], tmpf[4096 + 400], newf[4096 + 400];
    host_part(host, sizeof host);
    unsigned char rnd[8];
    secret_random(rnd, sizeof rnd);
    unsigned long long r = 0;
    for (size_t i = 0; i < sizeof rnd; i++) r = r << 8 | rnd[i];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(name, sizeof name, "%lld.%ld_%016llx.%s", (long long)ts.tv_sec, (long)getpid(), r, host);
    snprintf(tmpf, sizeof tmpf, "%s/%s", tmpd, name);
    snprintf(newf, sizeof newf, "%s/%s", newd, name);

    int fd = open(tmpf, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return fail(err, errlen, "open %s", tmpf);
    if (!write_all(fd, msg, len)) {
        os_err e = fail(err, errlen, "write %s", tmpf);
        close(fd);
        unlink(tmpf);
        return e;
    }
    if (fsync(fd) != 0) {
        os_err e = fail(err, errlen, "fsync %s", tmpf);
        close(fd);
        unlink(tmpf);
        return e;
    }
    if (close(fd) != 0) {
        os_err e = fail(err, errlen, "close %s", tmpf);
        unlink(tmpf);
        return e;
    }
    if (rename(tmpf, newf) != 0) {
        os_err e = fail(err, errlen, "rename %s", tmpf);
        unlink(tmpf);
        return e;
    }
    /* The rename is only durable once the directory entry is on disk. */
    int dfd = open(newd, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return OS_OK;
}
