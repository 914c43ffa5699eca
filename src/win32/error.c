/* SPDX-License-Identifier: MIT */
/* GetLastError() to weft status, for the Win32 backend (the counterpart of
 * src/posix/error.c). */
#include "win32.h"

int weft__status_from_win32(DWORD err)
{
    switch (err) {
    case ERROR_SUCCESS:
        return WEFT_OK;
    case ERROR_NOT_ENOUGH_MEMORY:
    case ERROR_OUTOFMEMORY:
    case ERROR_COMMITMENT_LIMIT: /* the paging file is full: memory, for the caller */
    case ERROR_NOT_ENOUGH_QUOTA:
        return WEFT_ENOMEM;
    case ERROR_INVALID_PARAMETER:
        return WEFT_EINVAL;
    case ERROR_TIMEOUT:
    case WAIT_TIMEOUT:
        return WEFT_ETIMEDOUT;
    case ERROR_FILE_NOT_FOUND:
    case ERROR_PATH_NOT_FOUND:
        return WEFT_ENOENT;
    case ERROR_MAX_THRDS_REACHED:
    case ERROR_NO_SYSTEM_RESOURCES:
        return WEFT_EAGAIN;
    default:
        /* Win32 error codes are below 2^16 (HRESULTs are not passed here),
         * so the conversion to int keeps the value. */
        return weft__os_error((int)err);
    }
}
