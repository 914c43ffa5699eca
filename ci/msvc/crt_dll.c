/* SPDX-License-Identifier: MIT */
/*
 * weft's CI only (see crt.h): the entry point of a DLL and its atexit. As
 * with MSVC's static CRT, a DLL's atexit registers with a table of the DLL
 * itself, run when the DLL is detached (FreeLibrary, or ExitProcess after
 * every other thread has ended), after DllMain has seen the detach.
 */
#include <windows.h>

#include "crt.h"

typedef void(__cdecl *crt_void_fn)(void);
typedef int(__cdecl *crt_onexit_fn)(void);
typedef struct {
    crt_void_fn *first, *last, *end;
} crt_onexit_table;

__declspec(dllimport) int __cdecl _initialize_onexit_table(crt_onexit_table *);
__declspec(dllimport) int __cdecl _register_onexit_function(crt_onexit_table *, crt_onexit_fn);
__declspec(dllimport) int __cdecl _execute_onexit_table(crt_onexit_table *);

BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, LPVOID reserved);

static crt_onexit_table dll_onexit;

static int __cdecl dll_atexit(crt_void_fn fn) { return _register_onexit_function(&dll_onexit, (crt_onexit_fn)fn); }
/* Wine's stdlib.h declares atexit dllimport (see crt_exe.c). */
int(__cdecl *__imp_atexit)(crt_void_fn) = dll_atexit;

BOOL WINAPI _DllMainCRTStartup(HINSTANCE instance, DWORD reason, LPVOID reserved)
{
    BOOL ok;

    if (reason == DLL_PROCESS_ATTACH &&
        (_initialize_onexit_table(&dll_onexit) != 0 || weft_ci_crt_init() != 0))
        return FALSE;
    ok = DllMain(instance, reason, reserved);
    if (reason == DLL_PROCESS_DETACH)
        _execute_onexit_table(&dll_onexit);
    return ok;
}
