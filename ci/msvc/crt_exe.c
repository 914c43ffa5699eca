/* SPDX-License-Identifier: MIT */
/*
 * weft's CI only (see crt.h): the entry point of a console program and its
 * atexit, over the Universal CRT's exported start-up functions, in the
 * order MSVC's own mainCRTStartup calls them.
 */
#include <windows.h>

#include "crt.h"

typedef void(__cdecl *crt_void_fn)(void);

__declspec(dllimport) void __cdecl _set_app_type(int);
__declspec(dllimport) int __cdecl _configure_narrow_argv(int);
__declspec(dllimport) int __cdecl _initialize_narrow_environment(void);
__declspec(dllimport) int *__cdecl __p___argc(void);
__declspec(dllimport) char ***__cdecl __p___argv(void);
__declspec(dllimport) int __cdecl _crt_atexit(crt_void_fn);
__declspec(dllimport) __declspec(noreturn) void __cdecl exit(int);

int main(int argc, char **argv);

enum {
    crt_console_app = 1,              /* _crt_app_type */
    crt_argv_unexpanded_arguments = 1 /* _crt_argv_mode: no wildcard expansion */
};

/* In a program, atexit registers with the process's table, which exit()
 * runs: the UCRT's _crt_atexit. The static CRT normally supplies atexit;
 * Wine's stdlib.h declares it dllimport, so the callers read it through
 * this pointer, which the import libraries do not define. */
static int __cdecl exe_atexit(crt_void_fn fn) { return _crt_atexit(fn); }
int(__cdecl *__imp_atexit)(crt_void_fn) = exe_atexit;

void __cdecl mainCRTStartup(void)
{
    _set_app_type(crt_console_app);
    if (_configure_narrow_argv(crt_argv_unexpanded_arguments) != 0 ||
        _initialize_narrow_environment() != 0 || weft_ci_crt_init() != 0)
        exit(255);
    exit(main(*__p___argc(), *__p___argv()));
}
