/* SPDX-License-Identifier: MIT */
/* errno to weft status, for the POSIX backend. */
#define _POSIX_C_SOURCE 200809L /* the XSI strerror_r, which returns an int */
#include "posix.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

void weft_sys_os_error_text(int err, char *buf, size_t cap)
{
    if (strerror_r(err, buf, cap) != 0) /* strerror is not thread-safe */
        snprintf(buf, cap, "unknown error");
}

int weft__posix_status(int err, const char *call)
{
    if (err == 0)
        return WEFT_OK;
    /* weft_last_os_error() tells which, whatever the status, and the
     * message quotes the C library's words for it. */
    weft__os_error(err);
    switch (err) {
    case EAGAIN:
        return weft__fail_wrap(WEFT_EAGAIN, "%s", call);
    case ENOMEM:
        return weft__fail_wrap(WEFT_ENOMEM, "%s", call);
    case EINVAL:
        return weft__fail_wrap(WEFT_EINVAL, "%s", call);
    case ETIMEDOUT:
        return weft__fail_wrap(WEFT_ETIMEDOUT, "%s", call);
    case ENOENT:
        return weft__fail_wrap(WEFT_ENOENT, "%s", call);
    case EMFILE:
    case ENFILE:
        return weft__fail_wrap(WEFT_EAGAIN, "%s: no file descriptor is left (%s)", call,
                               err == EMFILE ? "the process's limit, RLIMIT_NOFILE"
                                             : "the system's limit");
    default:
        return weft__fail_wrap(WEFT_EOS, "%s", call);
    }
}
