/* log.c — see log.h. */
#include "log.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "json_write.h"

static log_level min_level = LOG_INFO;

void log_set_level(log_level l) { min_level = l; }

int log_level_parse(const char *s, log_level *out) {
    static const char *names[] = {"debug", "info", "warn", "error"};
    for (int i = 0; i < 4; i++)
        if (strcmp(s, names[i]) == 0) { *out = (log_level)i; return 0; }
    return -1;
}

void log_event(log_level l, const char *msg, ...) {
    if (l < min_level) return;
    static const char *names[] = {"debug", "info", "warn", "error"};
    char stamp[40];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    size_t k = strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(stamp + k, sizeof stamp - k, ".%03ldZ", ts.tv_nsec / 1000000);

    arena a;
    arena_init(&a, 1 << 20);
    buf b;
    buf_init(&b, &a, 64 * 1024);
    jw w;
    jw_init(&w, &b);
    jw_obj(&w);
    jw_kstr(&w, "ts", stamp);
    jw_kstr(&w, "level", names[l]);
    jw_kstr(&w, "msg", msg);
    va_list ap;
    va_start(ap, msg);
    for (;;) {
        const char *key = va_arg(ap, const char *);
        if (!key) break;
        const char *val = va_arg(ap, const char *);
        jw_key(&w, key);
        if (val && utf8_valid_prefix(val, strlen(val)) == strlen(val)) jw_str(&w, val);
        else jw_str(&w, val ? "(invalid utf-8)" : NULL);
    }
    va_end(ap);
    jw_obj_end(&w);
    buf_putc(&b, '\n');
    if (b.len) {
        ssize_t r = write(STDERR_FILENO, b.data, b.len);
        (void)r;
    }
    arena_free(&a);
}
