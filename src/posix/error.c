/* SPDX-License-Identifier: MIT */
/* errno to weft status, for the POSIX backend. */
#include "posix.h"

#include <errno.h>

int weft__posix_status(int err, const char *call)
{
    if (err == 0)
        return WEFT_OK;
    weft__os_error(err); /* weft_last_os_error() tells which, whatever the status */
    switch (err) {
    case EAGAIN:
        return WEFT_EAGAIN;
    case ENOMEM:
        return WEFT_ENOMEM;
    case EINVAL:
        return WEFT_EINVAL;
    case ETIMEDOUT:
        return WEFT_ETIMEDOUT;
    case ENOENT:
        return WEFT_ENOENT;
    case EMFILE:
    case ENFILE:
        return weft__fail(WEFT_EAGAIN, "%s: no file descriptor is left (%s)", call,
                          err == EMFILE ? "EMFILE: the process's limit, RLIMIT_NOFILE"
                                        : "ENFILE: the system's limit");
    default:
        return WEFT_EOS;
    }
}
