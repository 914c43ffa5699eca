/* SPDX-License-Identifier: MIT */
/* GetLastError() to weft status, for the Win32 backend (the counterpart of
 * src/posix/error.c). */
#include "win32.h"

#include <stdio.h>

void weft_sys_os_error_text(int err, char *buf, size_t cap)
{
    wchar_t wide[256];
    DWORD n = FormatMessageW(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, NULL,
                             (DWORD)err, 0, wide, sizeof wide / sizeof wide[0], NULL);
    int len;

    /* FormatMessage ends its text with ".\r\n": the message goes on after it. */
    while (n > 0 && (wide[n - 1] == L'\r' || wide[n - 1] == L'\n' || wide[n - 1] == L'.' ||
                     wide[n - 1] == L' '))
        n--;
    len = n ? WideCharToMultiByte(CP_UTF8, 0, wide, (int)n, buf, (int)cap - 1, NULL, NULL) : 0;
    if (len <= 0) /* no text, or more than fits */
        snprintf(buf, cap, "unknown error");
    else
        buf[len] = '\0';
}

int weft__status_from_win32(DWORD err)
{
    if (err != ERROR_SUCCESS)
        weft__os_error((int)err); /* the number for weft_last_os_error(), the words for the message */
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
         * so the conversion to int kept the value. */
        return WEFT_EOS;
    }
}
