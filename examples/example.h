/* SPDX-License-Identifier: MIT */
/*
 * What every example shares: a failed weft call stops the example with a
 * message naming the call and the line (an example must fail loudly, never
 * print wrong output quietly; its test checks the output).
 */
#ifndef WEFT_EXAMPLE_H
#define WEFT_EXAMPLE_H

#include <weft.h>

#include <stdio.h>
#include <stdlib.h>

static inline void example_fail(const char *file, int line, const char *what, const char *why)
{
    fflush(stdout);
    fprintf(stderr, "%s:%d: FAILED: %s%s%s\n", file, line, what, why ? ": " : "", why ? why : "");
    _Exit(1);
}

/* Stop unless `cond` holds. */
#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond))                                                           \
            example_fail(__FILE__, __LINE__, #cond, NULL);                     \
    } while (0)

/* Stop unless the weft call returns WEFT_OK. */
#define CHECK_OK(call)                                                         \
    do {                                                                       \
        int status_ = (call);                                                  \
        if (status_ != WEFT_OK)                                                \
            example_fail(__FILE__, __LINE__, #call, weft_strerror(status_));   \
    } while (0)

#endif /* WEFT_EXAMPLE_H */
