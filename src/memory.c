/* SPDX-License-Identifier: MIT */
/*
 * The one allocator of weft: every allocation of the library goes through
 * these, so a test build can make any one of them fail (the fault hook, see
 * internal.h) and check that each caller reports WEFT_ENOMEM and leaks
 * nothing.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

/* Where an allocation was asked for, for the fault hook's report: only in
 * its test build, and only where the compiler can tell. */
#if defined(WEFT_FAULT_INJECTION) && (defined(__GNUC__) || defined(__clang__))
#define CALLER __builtin_return_address(0)
#else
#define CALLER NULL
#endif

static void *allocate(size_t size, const void *caller)
{
    return weft__alloc_fails(caller) ? NULL : malloc(size);
}

void *weft__malloc(size_t size)
{
    return allocate(size, CALLER);
}

void *weft__calloc(size_t count, size_t size)
{
    return weft__alloc_fails(CALLER) ? NULL : calloc(count, size);
}

void *weft__realloc(void *p, size_t size)
{
    return weft__alloc_fails(CALLER) ? NULL : realloc(p, size);
}

void weft__free(void *p)
{
    free(p);
}

char *weft__strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *copy = allocate(n, CALLER);

    if (copy)
        memcpy(copy, s, n);
    return copy;
}

void weft_free(void *buffer)
{
    weft__free(buffer);
}
