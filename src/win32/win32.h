/*
 * What the Win32 backend's files share. Include this first in every file of
 * src/win32/: it fixes the Windows API level before any system header (even
 * <stdint.h>, through the CRT's _mingw.h / vcruntime.h) can pick a lower
 * default, and so the declarations of WaitOnAddress, SetThreadDescription and
 * GetSystemTimePreciseAsFileTime are visible.
 */
#ifndef WEFT_WIN32_H
#define WEFT_WIN32_H

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
/* weft supports Windows 10 and later; a build that asked for less gets
 * Windows 10 in the backend anyway (the public headers do not care). */
#if !defined(_WIN32_WINNT) || _WIN32_WINNT < 0x0A00
#undef _WIN32_WINNT
#define _WIN32_WINNT 0x0A00
#endif

#include <windows.h>

#include "../internal.h"

/* The weft status for a GetLastError() value: the errors weft has a name for
 * map to it (memory, invalid parameter, timeout, not found, out of thread
 * resources), anything else is WEFT_EOS with the error recorded for
 * weft_last_os_error(). ERROR_SUCCESS is WEFT_OK. */
int weft__status_from_win32(DWORD err);

/* Set by DllMain when the process detaches weft's DLL while exiting. */
extern bool weft__win32_process_detaching;

#endif /* WEFT_WIN32_H */
