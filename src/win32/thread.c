/* SPDX-License-Identifier: MIT */
/*
 * OS threads and the thread-local slot on Windows (the counterpart of
 * src/posix/thread.c). A weft_sys_thread holds the thread's HANDLE.
 */
#include "win32.h"

#include <errno.h>
#include <limits.h>
#include <process.h>
#include <stdlib.h>

_Static_assert(sizeof(HANDLE) <= sizeof(weft_sys_thread), "a HANDLE must fit a weft_sys_thread");

/* ---- Starting and reaping ------------------------------------------------- */

/* _beginthreadex wants a __stdcall function returning the exit code; the
 * common code's trampoline has its own result, so the exit code is 0. */
static unsigned __stdcall thread_main(void *p)
{
    const weft_sys_start *start = p;

    start->fn(start->arg);
    return 0;
}

/* The weft status for a failed _beginthreadex. The CRT sets errno and, when
 * CreateThread itself failed, _doserrno to its GetLastError(). errno alone
 * is too coarse: the CRT maps most Win32 errors it has no entry for to
 * EINVAL, such as ERROR_COMMITMENT_LIMIT (no room for the stack). So the
 * Win32 error decides when there is one, errno when the CRT refused the call
 * itself (_doserrno left 0). */
static int start_failure(int err, unsigned long oserr)
{
    if (oserr != 0)
        return weft__fail_wrap(weft__status_from_win32((DWORD)oserr), "_beginthreadex");
    switch (err) {
    case EAGAIN:
        return weft__fail_text(WEFT_EAGAIN, "_beginthreadex: too many threads");
    case EINVAL:
        return weft__fail_text(WEFT_EINVAL, "_beginthreadex: an invalid argument or stack size");
    case ENOMEM:
        return weft__fail_text(WEFT_ENOMEM, "_beginthreadex: out of memory");
    case EACCES: /* "insufficient resources (such as memory)" */
        return weft__fail_text(WEFT_EAGAIN, "_beginthreadex: insufficient resources");
    default:
        return weft__fail_wrap(weft__os_error((int)GetLastError()), "_beginthreadex");
    }
}

int weft_sys_thread_start(weft_sys_thread *out, const weft_sys_start *start, size_t stack_size)
{
    unsigned flags = 0;
    uintptr_t handle;

    if (stack_size != 0) {
        /* The size is the stack's reservation (its whole size, as
         * pthread_attr_setstacksize means it): without
         * STACK_SIZE_PARAM_IS_A_RESERVATION it would be the initial commit,
         * which charges all of it to the commit limit up front and cannot
         * make a stack smaller than the executable's default reserve
         * (usually 1 MiB). Windows rounds a reservation up to the allocation
         * granularity (64 KiB); do it here so that the limit check below
         * sees the size actually used. The commit stays the executable's
         * default, and Windows enlarges a reservation that is smaller. */
        SYSTEM_INFO si;
        size_t step;

        GetSystemInfo(&si);
        step = si.dwAllocationGranularity ? si.dwAllocationGranularity : 0x10000;
        /* _beginthreadex takes an unsigned */
        if (stack_size > SIZE_MAX - (step - 1) || (stack_size + step - 1) / step * step > UINT_MAX)
            return weft__fail(WEFT_EINVAL, "thread_start: stack_size %zu is more than Windows takes",
                              stack_size);
        stack_size = (stack_size + step - 1) / step * step;
        flags = STACK_SIZE_PARAM_IS_A_RESERVATION;
    }
    /* _beginthreadex rather than CreateThread: the thread will call the C
     * runtime (malloc, stdio), and with a statically linked or older CRT
     * only _beginthreadex sets up and tears down its per-thread data. */
    errno = 0;
    _doserrno = 0;
    handle = _beginthreadex(NULL, (unsigned)stack_size, thread_main, (void *)start, flags, NULL);
    if (handle == 0)
        return start_failure(errno, _doserrno);
    *out = (weft_sys_thread)handle;
    return WEFT_OK;
}

void weft_sys_thread_join(weft_sys_thread thread)
{
    HANDLE h = (HANDLE)thread;

    if (WaitForSingleObject(h, INFINITE) != WAIT_OBJECT_0)
        WEFT__FATAL((int)GetLastError(), "WaitForSingleObject on a thread handle");
    if (!CloseHandle(h))
        WEFT__FATAL((int)GetLastError(), "CloseHandle on a joined thread");
}

/* A Windows thread needs no detaching: closing the last handle lets the
 * system free the thread object when the thread ends (or now, if it has). */
void weft_sys_thread_detach(weft_sys_thread thread)
{
    if (!CloseHandle((HANDLE)thread))
        WEFT__FATAL((int)GetLastError(), "CloseHandle on a detached thread");
}

/* SwitchToThread is Windows' sched_yield: it gives the rest of the time
 * slice to a thread ready to run on this processor, and returns at once
 * when there is none. */
void weft_sys_thread_yield(void)
{
    SwitchToThread();
}

/* Thread ids are never 0 (that is the idle process's). */
uint64_t weft_sys_thread_native_id(void)
{
    return (uint64_t)GetCurrentThreadId();
}

/* ---- The main thread ---------------------------------------------------------- */

/*
 * Windows has no "is this the main thread" call, so the id of the thread
 * that initialises the C runtime is recorded, by an initializer in the
 * .CRT$XCU section, which both MSVC's and mingw-w64's CRT run (_initterm
 * over .CRT$XCA .. .CRT$XCZ) before main(), in executables and DLLs alike:
 * - linked into an executable, or into a DLL the executable imports, it
 *   runs on the thread that will call main();
 * - in a DLL loaded later with LoadLibrary it runs on the loading thread
 *   (DLL_PROCESS_ATTACH time), so a program that loads weft from another
 *   thread sees that thread as its main thread. That is the one case where
 *   this answer is wrong; it is documented rather than worked around
 *   (finding the process's first thread needs a Toolhelp snapshot, and the
 *   first thread may be gone anyway).
 * The variable is written once before any other thread can use weft, and
 * thread creation orders that write before every read.
 */
static DWORD main_thread_id;

static void __cdecl record_main_thread(void)
{
    main_thread_id = GetCurrentThreadId();
}

#if defined(_MSC_VER)
/* MSVC and clang-cl. The pointer has external linkage and a /include
 * directive so that neither whole-program optimisation nor /OPT:REF drops
 * it: nothing refers to it but the CRT's section walk. */
#pragma section(".CRT$XCU", read)
__declspec(allocate(".CRT$XCU")) void(__cdecl *const weft__win32_main_thread_init)(void) =
    record_main_thread;
#if defined(_M_IX86)
#pragma comment(linker, "/include:_weft__win32_main_thread_init")
#else
#pragma comment(linker, "/include:weft__win32_main_thread_init")
#endif
#elif defined(__GNUC__)
/* gcc and clang for mingw-w64. GNU ld's PE script KEEPs and sorts .CRT$XC*,
 * and `used` stops the compiler dropping an unreferenced static. */
__attribute__((used, section(".CRT$XCU"))) static void(__cdecl *const main_thread_init)(void) =
    record_main_thread;
#else
#error "weft: no way to place a CRT initializer with this compiler"
#endif

uint64_t weft_sys_thread_main_id(void)
{
    return (uint64_t)main_thread_id;
}

/* _endthreadex, not ExitThread: it also frees the C runtime's data for the
 * thread, and is correct for threads the CRT did not start too. */
WEFT__NORETURN void weft_sys_thread_exit(void)
{
    _endthreadex(0);
#if defined(__GNUC__)
    __builtin_unreachable();
#endif
}

/* ---- The thread name --------------------------------------------------------- */

typedef HRESULT(WINAPI *set_description_fn)(HANDLE thread, PCWSTR description);

/* The longest description Windows stores: a UNICODE_STRING counts bytes in
 * a USHORT. */
#define MAX_DESCRIPTION 32767

/*
 * SetThreadDescription appeared in Windows 10 1607 and is missing from
 * older systems and some Wine versions, so it is looked up at run time
 * rather than imported (an import would stop weft from loading at all). On
 * 1607 and Server 2016 only KernelBase.dll exports it; later kernel32 does.
 * The lookup is repeated on each call instead of being cached: it is called
 * once per thread, costs far less than starting the thread, and needs no
 * synchronisation that way. The name is UTF-8; the description is UTF-16.
 */
static FARPROC find_set_description(void)
{
    static const wchar_t *const modules[] = {L"kernel32.dll", L"kernelbase.dll"};
    size_t i;

    for (i = 0; i < sizeof modules / sizeof modules[0]; i++) {
        /* Both are loaded in every process: no LoadLibrary needed. */
        HMODULE m = GetModuleHandleW(modules[i]);
        FARPROC proc = m ? GetProcAddress(m, "SetThreadDescription") : NULL;

        if (proc)
            return proc;
    }
    return NULL;
}

void weft_sys_thread_set_name(const weft_sys_thread *thread, const char *name)
{
    HANDLE target = thread ? (HANDLE)*thread : GetCurrentThread();
    set_description_fn set_description;
    FARPROC proc;
    WCHAR small[64];
    WCHAR *wide = small;
    int n;

    if (!name || !(proc = find_set_description()))
        return;
    /* Through void (*)(void), the generic function pointer type, so that
     * compilers do not warn about the signature change from FARPROC. */
    set_description = (set_description_fn)(void (*)(void))proc;
    /* Length in UTF-16 units, including the terminating NUL. Invalid UTF-8
     * becomes U+FFFD (flags 0): a diagnostic name is better mangled than
     * missing. */
    n = MultiByteToWideChar(CP_UTF8, 0, name, -1, NULL, 0);
    if (n <= 0)
        return;
    if (n > (int)(sizeof small / sizeof small[0])) {
        wide = weft__malloc((size_t)n * sizeof *wide);
        if (!wide)
            return;
    }
    if (MultiByteToWideChar(CP_UTF8, 0, name, -1, wide, n) == n) {
        if (n - 1 > MAX_DESCRIPTION) {
            /* Truncate at a character boundary: never keep the first half
             * of a surrogate pair. */
            int len = MAX_DESCRIPTION;

            if (wide[len - 1] >= 0xD800 && wide[len - 1] <= 0xDBFF)
                len--;
            wide[len] = L'\0';
        }
        set_description(target, wide); /* failure ignored: best effort */
    }
    if (wide != small)
        weft__free(wide);
}

/* ---- The thread-local slot -------------------------------------------------- */

/*
 * Fiber-local storage rather than TlsAlloc, because only FLS has a
 * destructor: Windows calls the FlsAlloc callback with the slot's value
 * when a thread ends, for every thread (weft's, the main thread, threads
 * started with CreateThread by anyone), in static and DLL builds alike,
 * which is what sys/thread.h asks. Differences from a pthread key that common code
 * must allow for:
 * - The callback also runs when a fiber is deleted (each fiber has its own
 *   value, so a thread that switches fibers sees one value per fiber), and
 *   when the index is freed with FlsFree, then on the freeing thread for
 *   every thread's value. weft never frees its index.
 * - It may run during process teardown (ExitProcess), on the exiting
 *   thread, after atexit handlers and after every other thread was
 *   terminated wherever it stood: the destructor must not wait for another
 *   thread or take a lock another thread could have held.
 * - The slot is not cleared before the callback runs: the destructor must
 *   not read or set the slot.
 * The callback is code in the module holding weft; were that a DLL later
 * unloaded by FreeLibrary, a thread ending afterwards would call into
 * unmapped memory. So weft pins its module when it creates the slot.
 */
static DWORD fls_index = FLS_OUT_OF_INDEXES;
static void (*tls_destructor)(void *value);

/* The callback has the system's calling convention (stdcall on x86), the
 * destructor the C one: hence this wrapper. */
static void NTAPI fls_callback(PVOID value)
{
    if (value)
        tls_destructor(value);
}

int weft_sys_tls_create(void (*destructor)(void *value))
{
    HMODULE self;
    DWORD index;

    /* Pin the module holding weft (any address inside it names it).
     * Best effort: if it fails, weft works unless its DLL is unloaded. */
    GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS | GET_MODULE_HANDLE_EX_FLAG_PIN,
                       (LPCWSTR)(const void *)&fls_index, &self);
    tls_destructor = destructor;
    index = FlsAlloc(fls_callback);
    if (index == FLS_OUT_OF_INDEXES) {
        DWORD err = GetLastError();

        /* No free index, or no memory for one: "no free slot". */
        if (err == ERROR_NO_MORE_ITEMS || err == ERROR_NOT_ENOUGH_MEMORY ||
            err == ERROR_OUTOFMEMORY || err == ERROR_SUCCESS)
            return weft__fail_text(WEFT_EAGAIN, "FlsAlloc: no fiber-local slot is left");
        return weft__fail_wrap(weft__status_from_win32(err), "FlsAlloc");
    }
    fls_index = index;
    return WEFT_OK;
}

void *weft_sys_tls_get(void)
{
    return FlsGetValue(fls_index);
}

int weft_sys_tls_set(void *value)
{
    DWORD err;

    /* The first value a thread stores allocates its FLS block: memory is
     * the one expected failure. */
    if (FlsSetValue(fls_index, value))
        return WEFT_OK;
    err = GetLastError();
    if (err == ERROR_NOT_ENOUGH_MEMORY || err == ERROR_OUTOFMEMORY || err == ERROR_SUCCESS)
        return weft__fail_text(WEFT_ENOMEM, "FlsSetValue: no memory for the thread's slots");
    WEFT__FATAL((int)err, "FlsSetValue");
}
