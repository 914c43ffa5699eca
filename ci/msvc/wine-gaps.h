/* SPDX-License-Identifier: MIT */
/*
 * weft's CI only: forced into every file the msvc-wine entry compiles
 * (clang-cl /FI, see cmake/toolchain-clang-cl-wine.cmake). Declarations the
 * Windows SDK has and Wine 8's headers lack; each matches the SDK's, so
 * the real header's declaration, where there is one, agrees with it.
 * Nothing else belongs here: code that needs more than the SDK gives is a
 * bug to fix in weft.
 */
#ifndef WEFT_CI_WINE_GAPS_H
#define WEFT_CI_WINE_GAPS_H

/* winbase.h (Windows 7 and later; kernel32 exports it, Wine included):
 * WORD WINAPI GetActiveProcessorGroupCount(VOID). */
__declspec(dllimport) unsigned short __stdcall GetActiveProcessorGroupCount(void);

#endif
