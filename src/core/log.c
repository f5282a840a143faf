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

/* The "YYYY-MM-DDTHH:MM:SS" part changes once a second: format it once per thread. */
static void timestamp(char out[32]) {
    static _Thread_local time_t last;
    static _Thread_local char prefix[24];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (ts.tv_sec != last) {
        struct tm tm;
        gmtime_r(&ts.tv_sec, &tm);
        strftime(prefix, sizeof prefix, "%Y-%m-%dT%H:%M:%S", &tm);
        last = ts.tv_sec;
    }
    snprintf(out, 32, "%.23s.%03dZ", prefix, (int)(ts.tv_nsec / 1000000) % 1000);
}

void log_event(log_level l, const char *msg, ...) {
    if (l < min_level) return;
    static const char *names[] = {"debug", "info", "warn", "error"};
    char stamp[32];
    timestamp(stamp);
    /* One line per event, built on the stack: logging must not allocate on the hot path. */
    char mem[8192];
    buf b;
    buf_init_fixed(&b, mem, sizeof mem);
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
    if (!jw_ok(&w)) {
        /* Too long for one line: say so rather than write half a JSON object. */
        buf_init_fixed(&b, mem, sizeof mem);
        buf_printf(&b, "{\"ts\":\"%s\",\"level\":\"%s\",\"msg\":\"log line too long\"}", stamp, names[l]);
    }
    buf_putc(&b, '\n');
    if (b.len) {
        ssize_t r = write(STDERR_FILENO, b.data, b.len);
        (void)r;
    }
}
