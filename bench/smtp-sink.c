/* smtp-sink.c — a local SMTP sink for bench/files.sh: accepts every message and writes it
 * to a Maildir (tmp/ then new/, one file each), a thread per connection.
 *
 * The yardstick for "mail through SMTP" must cost the sender's side little: the API tests'
 * sink (aiosmtpd, Python) spends about 1.8 ms of CPU per message, which would measure the
 * sink, not openseat. This one reads in blocks and answers each command at once; it does
 * not check addresses and keeps nothing but the files.
 *
 *   cc -O2 -pthread -o smtp-sink bench/smtp-sink.c && ./smtp-sink PORT MAILDIR
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *maildir;
static atomic_long seq;

typedef struct conn {
    int fd;
    char in[65536];
    size_t start, end;
} conn;

/* One line (CRLF kept) into line, at most n - 1 bytes; false at end of stream. */
static bool get_line(conn *c, char *line, size_t n) {
    size_t o = 0;
    for (;;) {
        while (c->start < c->end) {
            char ch = c->in[c->start++];
            if (o + 1 < n) line[o++] = ch;
            if (ch == '\n') {
                line[o] = 0;
                return true;
            }
        }
        ssize_t got = read(c->fd, c->in, sizeof c->in);
        if (got <= 0) return false;
        c->start = 0;
        c->end = (size_t)got;
    }
}

static void say(conn *c, const char *s) {
    size_t n = strlen(s);
    while (n) {
        ssize_t w = write(c->fd, s, n);
        if (w <= 0) return;
        s += w;
        n -= (size_t)w;
    }
}

static bool store(const char *data, size_t len) {
    char tmp[4096], dst[4096];
    long k = atomic_fetch_add(&seq, 1);
    snprintf(tmp, sizeof tmp, "%s/tmp/%ld.%d.sink", maildir, k, (int)getpid());
    snprintf(dst, sizeof dst, "%s/new/%ld.%d.sink", maildir, k, (int)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd < 0) return false;
    bool ok = write(fd, data, len) == (ssize_t)len;
    close(fd);
    return ok && rename(tmp, dst) == 0;
}

static void *serve(void *p) {
    conn *c = p;
    char line[8192];
    size_t cap = 1 << 16, len = 0;
    char *msg = malloc(cap);
    say(c, "220 sink ESMTP\r\n");
    while (msg && get_line(c, line, sizeof line)) {
        if (!strncasecmp(line, "EHLO", 4)) say(c, "250-sink\r\n250 8BITMIME\r\n");
        else if (!strncasecmp(line, "HELO", 4)) say(c, "250 sink\r\n");
        else if (!strncasecmp(line, "DATA", 4)) {
            say(c, "354 go ahead\r\n");
            len = 0;
            while (get_line(c, line, sizeof line) && strcmp(line, ".\r\n")) {
                const char *s = line[0] == '.' ? line + 1 : line;   /* undo dot-stuffing */
                size_t l = strlen(s);
                if (len + l > cap) {
                    char *m = realloc(msg, cap = 2 * (len + l));
                    if (!m) break;
                    msg = m;
                }
                memcpy(msg + len, s, l);
                len += l;
            }
            say(c, store(msg, len) ? "250 2.0.0 queued\r\n" : "451 4.3.0 cannot store\r\n");
        } else if (!strncasecmp(line, "QUIT", 4)) {
            say(c, "221 bye\r\n");
            break;
        } else say(c, "250 ok\r\n");   /* MAIL, RCPT, RSET, NOOP */
    }
    free(msg);
    close(c->fd);
    free(c);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s PORT MAILDIR\n", argv[0]);
        return 2;
    }
    maildir = argv[2];
    char d[4096];
    mkdir(maildir, 0755);
    snprintf(d, sizeof d, "%s/tmp", maildir);
    mkdir(d, 0755);
    snprintf(d, sizeof d, "%s/new", maildir);
    mkdir(d, 0755);
    snprintf(d, sizeof d, "%s/cur", maildir);
    mkdir(d, 0755);
    int lfd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[1]))};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) || listen(lfd, 64)) {
        perror("smtp-sink");
        return 1;
    }
    for (;;) {
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR) continue;
            return 1;
        }
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        conn *c = calloc(1, sizeof *c);
        pthread_t th;
        if (!c) { close(fd); continue; }
        c->fd = fd;
        if (pthread_create(&th, NULL, serve, c)) { close(fd); free(c); continue; }
        pthread_detach(th);
    }
}
