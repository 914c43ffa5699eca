/* SPDX-License-Identifier: MIT */
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
#include "../sys/child.h"
#include "../sys/exit.h"
#include "../sys/file.h"
#include "../sys/fork.h"
#include "../sys/thread.h"
#include "../sys/time.h"
#include "../sys/wait.h"

/* The weft status for a GetLastError() value: the errors weft has a name for
 * map to it (memory, invalid parameter, timeout, not found, out of thread
 * resources), anything else is WEFT_EOS with the error recorded for
 * weft_last_os_error(). ERROR_SUCCESS is WEFT_OK. */
int weft__status_from_win32(DWORD err);

/* The status for the error of a call that makes a handle (`call` names it
 * in the message): running out of handles (ERROR_TOO_MANY_OPEN_FILES,
 * ERROR_NO_SYSTEM_RESOURCES) is WEFT_EAGAIN with a message, as the headers
 * promise for descriptors; anything else as weft__status_from_win32. */
int weft__handle_status(DWORD err, const char *call);

/* The milliseconds from now to a deadline, for a Win32 wait (time.c):
 * INFINITE for WEFT__NO_DEADLINE; else rounded up, so that a wait never
 * ends before the deadline, 0 once it has passed, and at most INFINITE - 1
 * (a wait of 49.7 days that the caller's loop starts again). */
DWORD weft__win32_ms_until(int64_t deadline_ns);

/* Wait until the object h is signalled or the deadline passes (child.c):
 * WEFT_OK, WEFT_ETIMEDOUT (only once the deadline has passed by our clock),
 * or WEFT_EOS. */
int weft__win32_wait_handle(HANDLE h, int64_t deadline_ns);

/* ---- Strings for spawning (cmdline.c) ------------------------------------ */

/* A malloc'd UTF-16 copy of the UTF-8 string s. Returns WEFT_OK, WEFT_EINVAL
 * when s is not UTF-8, or WEFT_ENOMEM. */
int weft__win32_utf16(const char *s, wchar_t **out);

/* A malloc'd UTF-8 copy of the UTF-16 string w. Returns WEFT_OK, WEFT_ENOMEM,
 * or WEFT_EOS (ERROR_NO_UNICODE_TRANSLATION for an unpaired surrogate). */
int weft__win32_utf8(const wchar_t *w, char **out);

/* Whether `path` names a batch file (.bat, .cmd), which only cmd.exe runs. */
bool weft__win32_is_batch(const wchar_t *path);

/* The malloc'd command line for CreateProcessW to run `program` (the full
 * path weft__win32_find_program gave) with argv[0..argc-1]: argv[0] (which
 * must hold no '"') as the program name, the others quoted so that
 * CommandLineToArgvW and the C runtime read back exactly argv. For a batch
 * file, the line is for cmd.exe (lpApplicationName: cmd.exe) and runs
 * `program` itself. Returns WEFT_OK; WEFT_EINVAL for a batch file argument
 * that cmd.exe could misread, a batch path holding '"' or '%', or a line
 * longer than Windows takes; WEFT_ENOMEM. */
int weft__win32_command_line(const wchar_t *program, const wchar_t *const *argv, size_t argc,
                             wchar_t **out);

/* The program that `name` (argv[0]) names, as a malloc'd full path. A name
 * with '\\', '/' or ':' is a path, relative to the current directory; any
 * other is searched in the directories of `path` (a PATH value; NULL: none),
 * never in the current directory. A name whose file name has no extension
 * is tried with each of `pathext` (a PATHEXT value; NULL: the default); an
 * explicit path is tried as it is first. Only an existing file that is not
 * a directory is found. Returns WEFT_OK, WEFT_ENOENT or WEFT_ENOMEM. */
int weft__win32_find_program(const wchar_t *name, const wchar_t *path, const wchar_t *pathext,
                             wchar_t **out);

/* Set by DllMain when the process detaches weft's DLL while exiting. */
extern bool weft__win32_process_detaching;

#endif /* WEFT_WIN32_H */
