/* SPDX-License-Identifier: MIT */
/* The immediate exit and the exit hook on Windows. */
#include "win32.h"

#include <limits.h>
#include <stdlib.h>

/* TerminateProcess rather than ExitProcess or _exit: those run DLL detach
 * handlers, and os._exit means that nothing runs. */
WEFT__NORETURN void weft_sys_exit_now(int code)
{
    TerminateProcess(GetCurrentProcess(), (UINT)code);
    /* TerminateProcess on the current process does not return; if it ever
     * failed, ending anyway is still the contract. */
    ExitProcess((UINT)code);
}

/*
 * The exit hook. exit() in the executable runs the process-wide exit table
 * of its C runtime, then ExitProcess ends every other thread, and only then
 * are DLLs detached and a DLL's own atexit table run. A hook that joins
 * threads must therefore be in the process-wide table, so it is registered
 * there directly, through the runtime's exported entry point: _crt_atexit
 * in the Universal CRT (ucrtbase.dll; what an MSVC executable's atexit
 * calls), _onexit in msvcrt.dll (what a mingw-w64 executable's atexit
 * reaches). Whichever runtimes are loaded get it; the one the executable
 * exits through runs it while the threads still run. The plain atexit is
 * kept too, for a program whose runtime is linked statically: there it is
 * the executable's own table, or else it runs at DLL detach, where
 * weft_sys_other_threads_gone() tells the exit not to wait for anybody.
 * The hook tolerates being called more than once (sys/exit.h).
 */
typedef int(__cdecl *crt_atexit_fn)(void(__cdecl *)(void));
typedef void *(__cdecl *crt_onexit_fn)(int(__cdecl *)(void));

static void(__cdecl *exit_hook)(void);

/* _onexit wants a function returning int. */
static int __cdecl onexit_trampoline(void)
{
    exit_hook();
    return 0;
}

static FARPROC crt_export(const wchar_t *module, const char *name)
{
    HMODULE m = GetModuleHandleW(module);

    return m ? GetProcAddress(m, name) : NULL;
}

int weft_sys_exit_hook(void (*hook)(void))
{
    FARPROC ucrt = crt_export(L"ucrtbase.dll", "_crt_atexit");
    FARPROC msvcrt = crt_export(L"msvcrt.dll", "_onexit");
    bool registered = false;

    exit_hook = hook;
    if (ucrt && ((crt_atexit_fn)(void (*)(void))ucrt)(hook) == 0)
        registered = true;
    if (msvcrt && ((crt_onexit_fn)(void (*)(void))msvcrt)(onexit_trampoline) != NULL)
        registered = true;
    if (atexit(hook) == 0)
        registered = true;
    return registered ? WEFT_OK : WEFT_ENOMEM;
}

void weft_sys_exit_hook_rearm(void (*hook)(void))
{
    (void)hook; /* the C runtime's exit lock keeps a second exit() out */
}

/* Set by DllMain (dllmain.c, in DLL builds only). */
bool weft__win32_process_detaching;

bool weft_sys_other_threads_gone(void)
{
    return weft__win32_process_detaching;
}

/* The names are weft's own, ASCII: a widening copy is their UTF-16. False
 * for a name too long for wname. */
static bool wide_name(const char *name, wchar_t wname[64])
{
    size_t i;

    for (i = 0; name[i] != '\0'; i++) {
        if (i + 1 >= 64)
            return false;
        wname[i] = (wchar_t)(unsigned char)name[i];
    }
    wname[i] = L'\0';
    return true;
}

bool weft_sys_env_get(const char *name, char *buf, size_t cap)
{
    wchar_t wname[64], wvalue[256];
    DWORD n;
    int len;

    if (!wide_name(name, wname))
        return false;
    n = GetEnvironmentVariableW(wname, wvalue, (DWORD)(sizeof wvalue / sizeof wvalue[0]));
    if (n == 0 || n >= sizeof wvalue / sizeof wvalue[0] || cap > INT_MAX)
        return false;
    len = WideCharToMultiByte(CP_UTF8, 0, wvalue, -1, buf, (int)cap, NULL, NULL);
    return len > 0;
}

void weft_sys_env_unset(const char *name)
{
    wchar_t wname[64];

    /* The process's block, which CreateProcessW passes on; the C
     * runtime's copy (getenv) may keep the variable. */
    if (wide_name(name, wname))
        (void)SetEnvironmentVariableW(wname, NULL);
}
