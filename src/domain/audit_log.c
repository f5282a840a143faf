/* audit_log.c — see audit_log.h. */
#include "audit_log.h"
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include "core/json_write.h"
#include "core/log.h"
#include "core/syslog_out.h"
#include "core/text.h"
#include "core/worker.h"
#include "domain/audit.h"

#define BATCH 1000
#define POLL_MS 500
/* A batch's rows and lines: 1,000 entries of bounded fields (details are small objects
 * written by audit()). */
#define BATCH_MEMORY (32u * 1024 * 1024)

struct audit_log {
    const app *app;
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop, reopen;
    bool to_syslog;
    const char *path;           /* the file; NULL for syslog */
    char cursor_path[4200];     /* config values are at most 4096 bytes */
    int fd;                     /* the file, -1 for syslog */
    int cfd;                    /* the cursor file, locked while held */
    bool held, waiting_logged, bad_cursor_logged;
    audit_pos pos;
};

static void *audit_log_main(void *p);

static int open_sink(const char *path) { return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600); }

audit_log *audit_log_start(const app *a, char *err, size_t errlen) {
    const char *target = a->cfg->audit_log;
    audit_log *l = calloc(1, sizeof *l);
    if (!l) { snprintf(err, errlen, "out of memory"); return NULL; }
    l->app = a;
    l->fd = l->cfd = -1;
    l->to_syslog = !strcmp(target, "syslog");
    size_t n = sizeof l->cursor_path;
    if (l->to_syslog) {
        snprintf(l->cursor_path, n, "%s/audit-log.syslog.cursor", a->cfg->data_dir);
    } else {
        l->path = target;
        snprintf(l->cursor_path, n, "%s.cursor", target);
        if ((l->fd = open_sink(target)) < 0) {
            snprintf(err, errlen, "--audit-log %s: %s", target, strerror(errno));
            goto fail;
        }
    }
    if ((l->cfd = open(l->cursor_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0) {
        snprintf(err, errlen, "--audit-log cursor %s: %s", l->cursor_path, strerror(errno));
        goto fail;
    }
    if (l->to_syslog) syslog_out_open("openseat-audit");
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cv, NULL);
    if (pthread_create(&l->th, NULL, audit_log_main, l)) {
        snprintf(err, errlen, "cannot start the audit log thread");
        pthread_mutex_destroy(&l->mu);
        pthread_cond_destroy(&l->cv);
        if (l->to_syslog) syslog_out_close();
        goto fail;
    }
    return l;
fail:
    if (l->fd >= 0) close(l->fd);
    if (l->cfd >= 0) close(l->cfd);
    free(l);
    return NULL;
}

void audit_log_reopen(audit_log *l) {
    if (!l) return;
    pthread_mutex_lock(&l->mu);
    l->reopen = true;
    pthread_cond_signal(&l->cv);
    pthread_mutex_unlock(&l->mu);
}

void audit_log_stop(audit_log *l) {
    if (!l) return;
    pthread_mutex_lock(&l->mu);
    l->stop = true;
    pthread_cond_signal(&l->cv);
    pthread_mutex_unlock(&l->mu);
    pthread_join(l->th, NULL);
    if (l->fd >= 0) close(l->fd);
    if (l->cfd >= 0) close(l->cfd);   /* releases the lock */
    if (l->to_syslog) syslog_out_close();
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->cv);
    free(l);
}

/* Takes the sink's lock and reads where it stopped: an empty cursor file is a new sink,
 * which starts with the trail's first entry. A cursor that cannot be read stops the sink
 * (logged once) rather than guessing a place: starting over would repeat the whole trail,
 * starting at its end would lose what was not written yet. */
static bool hold(audit_log *l) {
    if (l->held) return true;
    if (flock(l->cfd, LOCK_EX | LOCK_NB)) {
        if (!l->waiting_logged)
            log_event(LOG_WARN, "audit log held by another process; waiting for it", "cursor", l->cursor_path, NULL);
        l->waiting_logged = true;
        return false;
    }
    char text[AUDIT_CURSOR_LEN + 2] = "";
    ssize_t n = pread(l->cfd, text, sizeof text - 1, 0);
    if (n > 0 && text[n - 1] == '\n') text[--n] = 0;
    audit_pos p = {0, 0};
    if (n < 0 || (n > 0 && !audit_cursor_parse(text, &p))) {
        if (!l->bad_cursor_logged)
            log_event(LOG_ERROR, "audit log cursor unreadable; nothing is written until it is mended or removed",
                      "cursor", l->cursor_path, NULL);
        l->bad_cursor_logged = true;
        flock(l->cfd, LOCK_UN);
        return false;
    }
    if (l->waiting_logged) log_event(LOG_INFO, "audit log taken over", "cursor", l->cursor_path, NULL);
    l->pos = p;
    l->held = true;
    l->waiting_logged = l->bad_cursor_logged = false;
    return true;
}

/* The file again, by its name, when asked (SIGHUP) or when the name leads elsewhere or
 * nowhere (rotated away). A failure keeps the file held and is retried at the next batch. */
static void maybe_reopen(audit_log *l, bool asked) {
    if (l->to_syslog) return;
    struct stat by_name, held;
    bool moved = stat(l->path, &by_name) != 0 || fstat(l->fd, &held) != 0 || by_name.st_ino != held.st_ino ||
                 by_name.st_dev != held.st_dev;
    if (!asked && !moved) return;
    int fd = open_sink(l->path);
    if (fd < 0) {
        log_event(LOG_ERROR, "audit log cannot be opened again; writing on to the file held", "path", l->path,
                  "error", strerror(errno), NULL);
        return;
    }
    close(l->fd);
    l->fd = fd;
    log_event(LOG_INFO, "audit log opened again", "path", l->path, "reason", asked ? "signal" : "rotated", NULL);
}

static void entry_line(buf *b, arena *a, const audit_entry *e) {
    jw w;
    jw_init(&w, b);
    char cursor[AUDIT_CURSOR_LEN + 1];
    audit_cursor_format(e->pos, cursor);
    jw_obj(&w);
    jw_kstr(&w, "cursor", cursor);
    jw_kint(&w, "id", e->pos.id);
    jw_kstr(&w, "at", text_iso_time(a, e->r.at));
    jw_kstr(&w, "agreement", e->license_number);
    jw_kstr(&w, "actor", e->r.actor_email);
    if (e->r.actor_user_id) jw_kint(&w, "actor_id", e->r.actor_user_id);
    else jw_knull(&w, "actor_id");
    jw_kstr(&w, "action", e->r.action);
    jw_kstr(&w, "target_type", e->r.target_type);
    jw_kstr(&w, "target", e->r.target_id);
    if (e->r.relationship_id) jw_kint(&w, "relationship", e->r.relationship_id);
    else jw_knull(&w, "relationship");
    if (e->r.token_id) jw_kint(&w, "token", e->r.token_id);
    else jw_knull(&w, "token");
    jw_kstr(&w, "address", e->r.address);
    jw_kstr(&w, "request_id", e->r.request_id);
    jw_key(&w, "details");
    if (e->r.details_json) jw_raw(&w, e->r.details_json);   /* stored by audit() as a JSON object */
    else jw_null(&w);
    jw_obj_end(&w);
}

static bool write_all(int fd, const char *p, size_t n) {
    while (n) {
        ssize_t k = write(fd, p, n);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return false;
        p += k;
        n -= (size_t)k;
    }
    return true;
}

static bool save_cursor(audit_log *l, audit_pos p) {
    char text[AUDIT_CURSOR_LEN + 2];
    audit_cursor_format(p, text);
    text[AUDIT_CURSOR_LEN] = '\n';
    text[AUDIT_CURSOR_LEN + 1] = 0;
    /* Always the same length at offset 0: the file is never seen shorter or mixed. */
    return pwrite(l->cfd, text, AUDIT_CURSOR_LEN + 1, 0) == AUDIT_CURSOR_LEN + 1 && ftruncate(l->cfd, AUDIT_CURSOR_LEN + 1) == 0 &&
           fdatasync(l->cfd) == 0;
}

/* One batch: read, written (and synced), then the cursor moved past it. Returns the number of
 * entries written, -1 on a failure (logged; the batch is tried again later). */
static int run_batch(audit_log *l, store_conn *c, arena *a) {
    audit_entry *rows;
    int n;
    os_err e = st_audit_after(c, a, l->pos, BATCH, &rows, &n);
    if (e) {
        log_event(LOG_WARN, "audit log cannot read the trail; trying again", "error", os_err_name(e), NULL);
        return -1;
    }
    if (n == 0) return 0;
    buf b;
    buf_init(&b, a, BATCH_MEMORY);
    for (int i = 0; i < n; i++) {
        size_t start = b.len;
        entry_line(&b, a, &rows[i]);
        if (l->to_syslog && !b.overflow) {
            syslog_out_line(b.data + start);
            b.len = start;
        } else {
            buf_putc(&b, '\n');
        }
    }
    if (b.overflow) {
        log_event(LOG_ERROR, "audit log batch too large to write", NULL);
        return -1;
    }
    if (!l->to_syslog) {
        struct stat st;
        off_t before = fstat(l->fd, &st) == 0 ? st.st_size : -1;
        if (!write_all(l->fd, b.data, b.len) || fdatasync(l->fd) != 0) {
            int err = errno;
            /* Cut a partial batch back off, so no line stays half-written; it is written
             * whole with the next attempt. */
            if (before >= 0 && ftruncate(l->fd, before) != 0) { /* nothing more to do */ }
            log_event(LOG_ERROR, "audit log write failed; trying again", "path", l->path, "error", strerror(err), NULL);
            return -1;
        }
    }
    audit_pos last = rows[n - 1].pos;
    if (!save_cursor(l, last)) {
        /* The lines are out; the place is not kept, so a restart writes them again. */
        log_event(LOG_ERROR, "audit log cursor cannot be saved", "cursor", l->cursor_path, "error", strerror(errno),
                  NULL);
    }
    l->pos = last;
    return n;
}

static void *audit_log_main(void *p) {
    audit_log *l = p;
    arena a;
    arena_init(&a, BATCH_MEMORY * 2);
    pthread_mutex_lock(&l->mu);
    while (!l->stop) {
        bool asked = l->reopen;
        l->reopen = false;
        pthread_mutex_unlock(&l->mu);
        store_conn *c = store_conn_get(l->app->st);
        if (c && hold(l)) {
            maybe_reopen(l, asked);
            int n;
            do {
                arena_free(&a);
                n = run_batch(l, c, &a);
                pthread_mutex_lock(&l->mu);
                bool stop = l->stop;
                pthread_mutex_unlock(&l->mu);
                if (stop) break;
            } while (n == BATCH);
        }
        arena_free(&a);
        pthread_mutex_lock(&l->mu);
        if (l->stop) break;
        if (!l->reopen) worker_wait(&l->cv, &l->mu, POLL_MS);
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}
