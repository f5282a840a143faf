/* worker.c — see worker.h. */
#include "worker.h"
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include "core/secret.h"

void worker_name(char out[WORKER_NAME_MAX]) {
    char host[32] = "host", rid[17];
    gethostname(host, sizeof host - 1);
    secret_request_id(rid);
    snprintf(out, WORKER_NAME_MAX, "%.31s-%d-%.8s", host, (int)getpid(), rid);
}

void worker_wait(pthread_cond_t *cv, pthread_mutex_t *mu, long ms) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(cv, mu, &ts);
}
