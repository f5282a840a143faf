/* fault.h — store fault injection per request, for the test build (--fault-injection).
 *
 * With the flag on, a request carrying `X-Openseat-Fault: stmt:N` (or `commit:N`, either
 * followed by `:busy`; see store_fault_arm) has its Nth database operation fail; every
 * request's reply then says how many operations it ran (`X-Openseat-Ops`) and, when the
 * fault fired, `X-Openseat-Fault-Fired: 1` and what failed (`X-Openseat-Fault-Op`: the
 * start of its SQL, or BEGIN / COMMIT). Off (the default) nothing is read or added.
 * A test counts a route's operations once, then fails each in turn.
 */
#ifndef OPENSEAT_HTTP_FAULT_H
#define OPENSEAT_HTTP_FAULT_H
#include <stdbool.h>
#include "http/http.h"

/* Arms this thread's store for the request; false when fault injection is off. */
bool fault_request_begin(req *r);
/* Disarms and adds the reply headers; only after fault_request_begin returned true. */
void fault_request_end(req *r);

#endif
