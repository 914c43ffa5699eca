/* SPDX-License-Identifier: MIT */
/* errno to weft status, for the POSIX backend. */
#include "posix.h"

#include <errno.h>

int weft__status_from_errno(int err)
{
    switch (err) {
    case 0:
        return WEFT_OK;
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
    default:
        return weft__os_error(err);
    }
}
