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

void *weft__malloc(size_t size)
{
    return weft__alloc_fails() ? NULL : malloc(size);
}

void *weft__calloc(size_t count, size_t size)
{
    return weft__alloc_fails() ? NULL : calloc(count, size);
}

void *weft__realloc(void *p, size_t size)
{
    return weft__alloc_fails() ? NULL : realloc(p, size);
}

void weft__free(void *p)
{
    free(p);
}

char *weft__strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *copy = weft__malloc(n);

    if (copy)
        memcpy(copy, s, n);
    return copy;
}

void weft_free(void *buffer)
{
    weft__free(buffer);
}
