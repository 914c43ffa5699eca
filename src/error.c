/* Status names, the per-thread OS error, and the one fatal path. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>

const char *weft_strerror(int status)
{
    switch (status) {
#define WEFT_STATUS_TEXT(name, value, text) \
    case WEFT_##name:                       \
        return "WEFT_" #name ": " text;
        WEFT_STATUS_MAP(WEFT_STATUS_TEXT)
#undef WEFT_STATUS_TEXT
    }
    return "unknown weft status";
}

/* Per thread, like errno: a WEFT_EOS from one thread must not be explained
 * by another thread's failure. */
static WEFT__THREAD_LOCAL int last_os_error;

int weft_last_os_error(void)
{
    return last_os_error;
}

int weft__os_error(int os_error)
{
    last_os_error = os_error;
    return WEFT_EOS;
}

void weft__fatal(const char *file, int line, const char *func, int os_error, const char *what)
{
    fprintf(stderr, "weft: fatal: %s failed (os error %d) in %s at %s:%d\n", what, os_error, func,
            file, line);
    fflush(stderr);
    abort();
}
