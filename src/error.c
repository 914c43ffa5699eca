/* SPDX-License-Identifier: MIT */
/* Status names, the per-thread OS error, and the one fatal path. */
#include "internal.h"

#include <stdarg.h>
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

/* The calling thread's last failure, as text; SDL_GetError's lifetime. */
static WEFT__THREAD_LOCAL char last_message[256];

const char *weft_last_error_message(void)
{
    return last_message;
}

int weft__fail(int status, const char *format, ...)
{
    va_list args;

    va_start(args, format);
    vsnprintf(last_message, sizeof last_message, format, args);
    va_end(args);
    return status;
}

int weft__reserved_check(const char *call, void *const *reserved, size_t count)
{
    size_t i;

    for (i = 0; i < count; i++)
        if (reserved[i])
            return weft__fail(WEFT_EINVAL,
                              "%s: opts->reserved[%zu] is not zero (a field of a newer weft?)",
                              call, i);
    return WEFT_OK;
}

void weft__fatal(const char *file, int line, const char *func, int os_error, const char *what)
{
    fprintf(stderr, "weft: fatal: %s failed (os error %d) in %s at %s:%d\n", what, os_error, func,
            file, line);
    fflush(stderr);
    abort();
}
