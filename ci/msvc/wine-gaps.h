/* SPDX-License-Identifier: MIT */
/*
 * weft's CI only: forced into every file the msvc-wine entry compiles
 * (clang-cl /FI, see cmake/toolchain-clang-cl-wine.cmake), before any
 * header. What the Windows SDK declares and Wine 8's headers do not, as
 * the SDK declares it, so that a later declaration in a Wine header agrees
 * with it. Nothing else belongs here: code that needs more than the SDK
 * gives is a bug to fix in weft.
 */
#ifndef WEFT_CI_WINE_GAPS_H
#define WEFT_CI_WINE_GAPS_H

/* winbase.h (Windows 7 and later; kernel32 exports it, Wine's too):
 * WORD WINAPI GetActiveProcessorGroupCount(VOID). */
__declspec(dllimport) unsigned short __stdcall GetActiveProcessorGroupCount(void);

/* winbase.h (Windows Vista and later): CreateNamedPipeW's mode flag that
 * refuses clients on other machines. */
#define PIPE_REJECT_REMOTE_CLIENTS 0x00000008

/* The SDK marks the C library functions it calls unsafe as deprecated, so
 * that cl.exe's /W4 /WX (warning C4996) rejects a call to them unless
 * _CRT_SECURE_NO_WARNINGS is defined; Wine's headers do not. Deprecating
 * them here (clang keeps an attribute across redeclarations) makes this
 * build reject what cl.exe would. Wine defines some others inline in its
 * headers (sprintf, sscanf, ctime, localtime, and the POSIX names, C4996
 * too), which a declaration before the definition cannot mark: those only
 * the GitHub workflow's MSVC job checks. */
#ifndef _CRT_SECURE_NO_WARNINGS
#define WEFT_CI_UNSAFE                                                          \
    __declspec(dllimport) __declspec(deprecated(                               \
        "the Windows SDK calls this unsafe: cl.exe /W4 /WX rejects it (C4996) " \
        "unless _CRT_SECURE_NO_WARNINGS is defined"))
struct _iobuf;
WEFT_CI_UNSAFE char *__cdecl getenv(const char *);
WEFT_CI_UNSAFE __WCHAR_TYPE__ *__cdecl _wgetenv(const __WCHAR_TYPE__ *);
/* fopen is a builtin of clang's, which wants FILE from <stdio.h> for it:
 * the same type, by its tag. */
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wbuiltin-requires-header"
WEFT_CI_UNSAFE struct _iobuf *__cdecl fopen(const char *, const char *);
#pragma clang diagnostic pop
WEFT_CI_UNSAFE struct _iobuf *__cdecl _wfopen(const __WCHAR_TYPE__ *, const __WCHAR_TYPE__ *);
WEFT_CI_UNSAFE struct _iobuf *__cdecl freopen(const char *, const char *, struct _iobuf *);
WEFT_CI_UNSAFE char *__cdecl tmpnam(char *);
WEFT_CI_UNSAFE char *__cdecl strcpy(char *, const char *);
WEFT_CI_UNSAFE char *__cdecl strcat(char *, const char *);
WEFT_CI_UNSAFE char *__cdecl strncpy(char *, const char *, __SIZE_TYPE__);
WEFT_CI_UNSAFE char *__cdecl strncat(char *, const char *, __SIZE_TYPE__);
WEFT_CI_UNSAFE char *__cdecl strtok(char *, const char *);
WEFT_CI_UNSAFE char *__cdecl strerror(int);
WEFT_CI_UNSAFE __WCHAR_TYPE__ *__cdecl wcscpy(__WCHAR_TYPE__ *, const __WCHAR_TYPE__ *);
WEFT_CI_UNSAFE __WCHAR_TYPE__ *__cdecl wcscat(__WCHAR_TYPE__ *, const __WCHAR_TYPE__ *);
WEFT_CI_UNSAFE __WCHAR_TYPE__ *__cdecl wcsncpy(__WCHAR_TYPE__ *, const __WCHAR_TYPE__ *, __SIZE_TYPE__);
WEFT_CI_UNSAFE __SIZE_TYPE__ __cdecl mbstowcs(__WCHAR_TYPE__ *, const char *, __SIZE_TYPE__);
WEFT_CI_UNSAFE __SIZE_TYPE__ __cdecl wcstombs(char *, const __WCHAR_TYPE__ *, __SIZE_TYPE__);
#undef WEFT_CI_UNSAFE
#endif

#endif
