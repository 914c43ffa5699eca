/* SPDX-License-Identifier: MIT */
/* Status names, the per-thread OS error, and the one fatal path. */
#include "internal.h"
#include "sys/base.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *weft_strerror(int status)
{
    switch (status) {
#define WEFT_STATUS_TEXT(name, value, text) \
    case WEFT_##name:                       \
        return "WEFT_" #name ": " text;
        WEFT_STATUS_MAP(WEFT_STATUS_TEXT)
#undef WEFT_STATUS_TEXT
    }
    if (status <= WEFT_EUSER)
        return "WEFT_EUSER or below: a status code of the application's own";
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
    char text[160];

    last_os_error = os_error;
    weft_sys_os_error_text(os_error, text, sizeof text);
    return weft__fail(WEFT_EOS, "%s (os error %d)", text, os_error);
}

/* The calling thread's last failure, as text; SDL_GetError's lifetime. */
/* The message is either formatted into the thread's buffer or, on paths
 * that must stay cheap (a timeout, an empty queue), a constant text the
 * pointer names: one store, no formatting. */
static WEFT__THREAD_LOCAL char message_buffer[512];
static WEFT__THREAD_LOCAL const char *message;

const char *weft_last_error_message(void)
{
    return message ? message : "";
}

int weft__fail(int status, const char *format, ...)
{
    va_list args;

    va_start(args, format);
    vsnprintf(message_buffer, sizeof message_buffer, format, args);
    va_end(args);
    message = message_buffer;
    return status;
}

int weft__fail_text(int status, const char *text)
{
    message = text;
    return status;
}

const char *weft__call_name(const char *call)
{
    return strncmp(call, "weft_", 5) == 0 ? call + 5 : call;
}

int weft__fail_null(const char *call)
{
    return weft__fail(WEFT_EINVAL, "%s: an object or argument is NULL", weft__call_name(call));
}

int weft__fail_wrap(int status, const char *format, ...)
{
    char outer[sizeof message_buffer];
    char inner[sizeof message_buffer];
    va_list args;

    snprintf(inner, sizeof inner, "%s", weft_last_error_message());
    va_start(args, format);
    vsnprintf(outer, sizeof outer, format, args);
    va_end(args);
    if (inner[0])
        return weft__fail(status, "%s: %s", outer, inner);
    return weft__fail(status, "%s", outer);
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
