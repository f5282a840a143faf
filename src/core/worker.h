/* worker.h — what the process's background threads (mail outbox, jobs) share.
 *
 * worker_name: a name unique to this process (host, pid and random digits), under which a
 * thread takes leases on rows, so leases of two instances never collide.
 * worker_wait: waits on cv for at most ms milliseconds; the caller holds mu.
 */
#ifndef OPENSEAT_WORKER_H
#define OPENSEAT_WORKER_H
#include <pthread.h>

#define WORKER_NAME_MAX 64

void worker_name(char out[WORKER_NAME_MAX]);
void worker_wait(pthread_cond_t *cv, pthread_mutex_t *mu, long ms);

#endif
