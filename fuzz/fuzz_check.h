/* fuzz_check.h — what every fuzz target shares: the libFuzzer entry point's prototype and
 * a CHECK that aborts (so the fuzzer records the input) with the failed condition. */
#ifndef OPENSEAT_FUZZ_CHECK_H
#define OPENSEAT_FUZZ_CHECK_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (!(cond)) {                                                               \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                                 \
        }                                                                            \
    } while (0)

#endif
