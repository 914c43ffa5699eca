/* SPDX-License-Identifier: MIT */
/*
 * weft's CI only (see crt.h): what every module built by clang-cl needs
 * from the static CRT, whatever its entry point.
 */
#include <windows.h>

#include "crt.h"

typedef void(__cdecl *crt_void_fn)(void);
typedef int(__cdecl *crt_int_fn)(void);

/* The initializer tables. An initializer's pointer goes in .CRT$XIU or
 * .CRT$XCU (weft's src/win32/thread.c has one, which records the main
 * thread); the linker sorts the .CRT$ pieces by the name after the '$', so
 * such pointers land between our A and Z markers. */
#pragma section(".CRT$XIA", read)
#pragma section(".CRT$XIZ", read)
#pragma section(".CRT$XCA", read)
#pragma section(".CRT$XCZ", read)
__declspec(allocate(".CRT$XIA")) static crt_int_fn xi_first[] = {0};
__declspec(allocate(".CRT$XIZ")) static crt_int_fn xi_last[] = {0};
__declspec(allocate(".CRT$XCA")) static crt_void_fn xc_first[] = {0};
__declspec(allocate(".CRT$XCZ")) static crt_void_fn xc_last[] = {0};

/* Implicit TLS (__declspec(thread), _Thread_local): the module's TLS
 * directory, which the linker points the PE header at when it finds
 * _tls_used. The loader copies .tls (the linker sorts the pieces of every
 * object between tls_start and tls_end) for every thread and stores the
 * module's slot in _tls_index, which compiled code reads on every
 * thread-local access. The callbacks (none here; a program may add some in
 * .CRT$XLB..XLY) run between the two null markers. The linker drops only
 * unreferenced COMDAT sections, so the markers stay although nothing names
 * __xl_z. */
#pragma section(".CRT$XLA", read)
#pragma section(".CRT$XLZ", read)
__declspec(allocate(".CRT$XLA")) PIMAGE_TLS_CALLBACK __xl_a = 0;
__declspec(allocate(".CRT$XLZ")) PIMAGE_TLS_CALLBACK __xl_z = 0;

ULONG _tls_index = 0;
#pragma section(".tls", read, write)
#pragma section(".tls$ZZZ", read, write)
__declspec(allocate(".tls")) static char tls_start = 0;
__declspec(allocate(".tls$ZZZ")) static char tls_end = 0;
#pragma section(".rdata$T", read)
__declspec(allocate(".rdata$T")) const IMAGE_TLS_DIRECTORY64 _tls_used = {
    .StartAddressOfRawData = (ULONGLONG)&tls_start,
    .EndAddressOfRawData = (ULONGLONG)&tls_end,
    .AddressOfIndex = (ULONGLONG)&_tls_index,
    .AddressOfCallBacks = (ULONGLONG)(&__xl_a + 1),
};

/* Referenced by every object that uses floating point: its presence is
 * what made the old CRTs link their floating-point support. */
int _fltused = 0x9875;

/* /GS (clang-cl's default): a function with a local array saves this
 * cookie, XORed with its frame address, and checks it before returning. It
 * is randomised once, before any such function runs. */
UINT_PTR __security_cookie = 0x00002B992DDFA232ull;

void __cdecl __security_check_cookie(UINT_PTR cookie)
{
    if (cookie != __security_cookie)
        __fastfail(FAST_FAIL_STACK_COOKIE_CHECK_FAILURE);
}

static void init_security_cookie(void)
{
    LARGE_INTEGER counter;
    FILETIME now;
    UINT_PTR cookie;

    QueryPerformanceCounter(&counter);
    GetSystemTimeAsFileTime(&now);
    cookie = (UINT_PTR)counter.QuadPart ^ ((UINT_PTR)now.dwHighDateTime << 32) ^ now.dwLowDateTime;
    cookie ^= (UINT_PTR)GetCurrentProcessId() << 16 ^ GetCurrentThreadId() ^ (UINT_PTR)&cookie;
    cookie &= 0x0000FFFFFFFFFFFFull; /* as MSVC's: the top 16 bits stay 0 */
    if (cookie == 0 || cookie == 0x00002B992DDFA232ull)
        cookie = 0x00002B992DDFA233ull;
    __security_cookie = cookie;
}

__declspec(dllimport) void __cdecl _initterm(crt_void_fn *, crt_void_fn *);
__declspec(dllimport) int __cdecl _initterm_e(crt_int_fn *, crt_int_fn *);

int weft_ci_crt_init(void)
{
    init_security_cookie();
    if (_initterm_e(xi_first, xi_last) != 0)
        return 1;
    _initterm(xc_first, xc_last);
    return 0;
}
