/* Allocation helpers shared by the modules. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

char *weft__strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *copy = malloc(n);

    if (copy)
        memcpy(copy, s, n);
    return copy;
}

void weft_free(void *buffer)
{
    free(buffer);
}
